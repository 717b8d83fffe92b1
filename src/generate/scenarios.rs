//! The scenarios, one per seed document. Each produces its day's events (signal + background
//! noise + hard negatives) and counts, in [`Truth`], the findings they must give.

use chrono::{Datelike, NaiveDate, Weekday};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::registers;
use super::{ExpectedKey, GeneratedEvent, GrantRow, Truth};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Seed 000: weekly extractions of follow-ups to the work-permit platforms
    WikitTransfers,
    /// Seed 001: supervisors' per-agent activity reports and rankings
    WikitMonitoring,
    /// Seed 002: the declared daily SIPSI→SI-CIP flow, retention, a register gap
    SipsiCip,
    /// Seed 003: social-security numbers and appraisals in social files, all-staff access
    SocialFiles,
    /// Seed 004: ID document numbers recorded in youth files
    ImiloIdNumbers,
    /// All five together
    All,
}

impl Scenario {
    pub fn parts(self) -> Vec<Scenario> {
        match self {
            Scenario::All => vec![
                Scenario::WikitTransfers,
                Scenario::WikitMonitoring,
                Scenario::SipsiCip,
                Scenario::SocialFiles,
                Scenario::ImiloIdNumbers,
            ],
            one => vec![one],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::WikitTransfers => "wikit-transfers",
            Scenario::WikitMonitoring => "wikit-monitoring",
            Scenario::SipsiCip => "sipsi-cip",
            Scenario::SocialFiles => "social-files",
            Scenario::ImiloIdNumbers => "imilo-id-numbers",
            Scenario::All => "all",
        }
    }

    pub fn id_prefix(self) -> &'static str {
        match self {
            Scenario::WikitTransfers => "wkt",
            Scenario::WikitMonitoring => "wkm",
            Scenario::SipsiCip => "sip",
            Scenario::SocialFiles => "soc",
            Scenario::ImiloIdNumbers => "iml",
            Scenario::All => "all",
        }
    }

    pub fn generator(self) -> Box<dyn ScenarioGenerator> {
        match self {
            Scenario::WikitTransfers => Box::new(WikitTransfers),
            Scenario::WikitMonitoring => Box::new(WikitMonitoring),
            Scenario::SipsiCip => Box::new(SipsiCip),
            Scenario::SocialFiles => Box::new(SocialFiles),
            Scenario::ImiloIdNumbers => Box::new(ImiloIdNumbers),
            Scenario::All => unreachable!("`all` is expanded by parts()"),
        }
    }
}

pub trait ScenarioGenerator {
    fn register_files(&self) -> Vec<(&'static str, String)>;
    fn grants(&self) -> Vec<GrantRow>;
    /// Roughly how many signal events the whole window holds (the rest is background).
    fn signal_estimate(&self) -> u64;
    /// The day's events: its signal, and `background` ordinary events.
    fn day(&mut self, date: NaiveDate, background: u64, rng: &mut ChaCha8Rng, truth: &mut Truth)
    -> Vec<GeneratedEvent>;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

fn at(date: NaiveDate, hour: u32, minute: u32, second: u32) -> i64 {
    // Cannot fail: hours, minutes and seconds drawn below 24, 60 and 60.
    date.and_hms_opt(hour, minute, second).expect("valid time").and_utc().timestamp_micros()
}

/// A time in office hours (06:30–17:00 UTC, i.e. 07:30–19:00 in Paris).
fn office_time(date: NaiveDate, rng: &mut ChaCha8Rng) -> i64 {
    at(date, 6, 30, 0) + rng.gen_range(0..(10 * 3600 + 1800)) * 1_000_000
}

fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// 1 to `max` distinct categories from `pool`, in pool order.
fn some_of(pool: &[&'static str], max: usize, rng: &mut ChaCha8Rng) -> Vec<&'static str> {
    let count = rng.gen_range(1..=max.min(pool.len()));
    let mut chosen: Vec<&'static str> = pool.choose_multiple(rng, count).copied().collect();
    chosen.sort_by_key(|c| pool.iter().position(|p| p == c));
    chosen
}

/// What activity reports are judged against in Wiki'T (aggregate only, cells ≥ 5).
const ACTIVITY_STATISTICS: &str = "activity_statistics";

fn monitoring_key(detector: &'static str, actor: &str) -> ExpectedKey {
    ExpectedKey {
        detector,
        dataset: Some("activity_reports".to_string()),
        recipient: None,
        purpose: Some(ACTIVITY_STATISTICS.to_string()),
        actor: Some(actor.to_string()),
        reason: None,
    }
}

fn key(detector: &'static str, dataset: &str) -> ExpectedKey {
    ExpectedKey {
        detector,
        dataset: Some(dataset.to_string()),
        recipient: None,
        purpose: None,
        actor: None,
        reason: None,
    }
}

/// The expected finding of an actor's events outside their habilitations.
fn habilitation_key(dataset: &str, actor: &str, reason: &str) -> ExpectedKey {
    ExpectedKey {
        actor: Some(actor.to_string()),
        reason: Some(reason.to_string()),
        ..key("outside_habilitation", dataset)
    }
}

fn people(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("{prefix}-{i:04}")).collect()
}

fn grant(
    actor: &str,
    role: &'static str,
    scope: &str,
    granted: &str,
    revoked: Option<&str>,
    reviewed: Option<&str>,
) -> GrantRow {
    (
        actor.to_string(),
        role,
        scope.to_string(),
        granted.to_string(),
        revoked.map(str::to_string),
        reviewed.map(str::to_string),
    )
}

const WIKIT_UNITS: [&str; 8] = ["GE-51", "GE-67", "ARA-69", "ARA-38", "IDF-75", "IDF-93", "OCC-31", "BRE-35"];
const WIKIT_AGENTS: usize = 160;

fn wikit_agent(index: usize) -> (String, &'static str) {
    (format!("wk-ag-{:04}", index + 1), WIKIT_UNITS[index % WIKIT_UNITS.len()])
}

fn wikit_unit_head(unit: usize) -> String {
    format!("wk-uh-{}", WIKIT_UNITS[unit])
}

/// Categories of an inspector's everyday work, some as sub-categories (covered by a parent).
const INSPECTION_CATEGORIES: [&str; 8] = [
    "identity.name",
    "employer",
    "employer.siret",
    "worksite",
    "penal_follow_up",
    "administrative_sanction",
    "observation_letter",
    "work_stoppage",
];

fn wikit_registers() -> Vec<(&'static str, String)> {
    vec![("wikit-2015-10-06.toml", registers::WIKIT_V1.to_string()), ("wikit-2022-03-01.toml", registers::wikit_v2())]
}

fn wikit_grants() -> Vec<GrantRow> {
    let mut grants: Vec<GrantRow> = (0..WIKIT_AGENTS)
        .map(|i| {
            let (agent, unit) = wikit_agent(i);
            grant(&agent, "agent", unit, "2019-01-07", None, Some("2022-06-30"))
        })
        .collect();
    for (unit_index, unit) in WIKIT_UNITS.iter().enumerate() {
        grants.push(grant(&wikit_unit_head(unit_index), "unit_head", unit, "2018-09-01", None, Some("2022-06-30")));
    }
    grants.push(grant("wk-rd-GE", "regional_director", "*", "2018-09-01", None, None));
    for staff in people("wk-cs", 6) {
        grants.push(grant(&staff, "central_staff", "*", "2019-03-01", None, Some("2022-06-30")));
    }
    grants.push(grant("svc-wikit-extract", "batch", "*", "2020-11-02", None, None));
    grants
}

/// An inspector's ordinary read, search, update or local export on Wiki'T.
fn wikit_background(date: NaiveDate, rng: &mut ChaCha8Rng) -> GeneratedEvent {
    let (actor, unit) = wikit_agent(rng.gen_range(0..WIKIT_AGENTS));
    let action = ["read", "read", "read", "search", "update", "export"][rng.gen_range(0..6)];
    GeneratedEvent {
        ts: office_time(date, rng),
        actor_id: actor,
        actor_role: "agent",
        actor_unit: unit.to_string(),
        action,
        dataset: if rng.gen_bool(0.6) { "follow_ups" } else { "inspections" },
        categories: some_of(&INSPECTION_CATEGORIES, 3, rng),
        purpose: rng.gen_bool(0.5).then_some("inspection"),
        record_count: Some(rng.gen_range(1..20)),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Seed 000

/// Weekly Tuesday extractions of follow-ups to the MOE platforms (undeclared until 2022-03-01,
/// then declared for penal follow-ups and sanctions only), and on-request prefecture transfers.
struct WikitTransfers;

const MOE_DECLARED_FROM: (i32, u32, u32) = (2022, 3, 1);
const EXTRACTED: [&str; 5] =
    ["identity", "penal_follow_up", "administrative_sanction", "observation_letter", "work_stoppage"];

impl ScenarioGenerator for WikitTransfers {
    fn register_files(&self) -> Vec<(&'static str, String)> {
        wikit_registers()
    }

    fn grants(&self) -> Vec<GrantRow> {
        wikit_grants()
    }

    fn signal_estimate(&self) -> u64 {
        52 * 2 + 260 / 3
    }

    fn day(
        &mut self,
        date: NaiveDate,
        background: u64,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
    ) -> Vec<GeneratedEvent> {
        let mut events: Vec<GeneratedEvent> = (0..background).map(|_| wikit_background(date, rng)).collect();
        let (y, m, d) = MOE_DECLARED_FROM;
        // Cannot fail: a constant date.
        let moe_declared = date >= NaiveDate::from_ymd_opt(y, m, d).expect("date");
        if date.weekday() == Weekday::Tue && rng.gen_bool(0.9) {
            // One run: 1–3 pages a few seconds apart, around 06:00 in Paris (a local cron job).
            let paris = crate::calendar::TimeBase::Local(chrono_tz::Europe::Paris);
            // Cannot fail: hours, minutes and seconds drawn below 24, 60 and 60.
            let six = date.and_hms_opt(6, 0, 0).expect("valid time");
            let start = paris.instant(six) + rng.gen_range(-300..300) * 1_000_000;
            for page in 0..rng.gen_range(1..=3) {
                events.push(GeneratedEvent {
                    ts: start + page * 7_000_000,
                    actor_id: "svc-wikit-extract".into(),
                    actor_role: "batch",
                    actor_unit: "DGT".into(),
                    action: "transfer",
                    dataset: "follow_ups",
                    categories: EXTRACTED.to_vec(),
                    recipient: Some("moe_platforms"),
                    record_count: Some(rng.gen_range(50..200)),
                    ..Default::default()
                });
                // Undeclared, then declared on request only: either way a weekly feed is unlawful.
                let mut periodic = key("periodic_transfer", "follow_ups");
                periodic.recipient = Some("moe_platforms".into());
                truth.expect(periodic, &[]);
                if moe_declared {
                    let mut expected = key("category_creep", "follow_ups");
                    expected.recipient = Some("moe_platforms".into());
                    truth.expect(expected, &["observation_letter", "work_stoppage"]);
                } else {
                    let mut expected = key("undeclared_recipient", "follow_ups");
                    expected.recipient = Some("moe_platforms".into());
                    truth.expect(expected, &[]);
                }
            }
        }
        if is_business_day(date) && rng.gen_bool(0.3) {
            // A punctual, referenced request from the prefecture: lawful when it carries only the
            // declared activity, category creep when observation letters are attached.
            let with_letters = rng.gen_bool(0.2);
            let staff = format!("wk-cs-{:04}", rng.gen_range(1..=6));
            let mut categories = vec!["declared_activity"];
            if with_letters {
                categories.push("observation_letter");
                let mut expected = key("category_creep", "follow_ups");
                expected.recipient = Some("prefecture_work_permits".into());
                truth.expect(expected, &["observation_letter"]);
            }
            events.push(GeneratedEvent {
                ts: office_time(date, rng),
                actor_id: staff,
                actor_role: "central_staff",
                actor_unit: "DGT".into(),
                action: "transfer",
                dataset: "follow_ups",
                categories,
                recipient: Some("prefecture_work_permits"),
                purpose: Some("inspection"),
                request_ref: Some(format!("PREF-{}-{:03}", date.format("%Y%m%d"), rng.gen_range(1..999))),
                record_count: Some(1),
                ..Default::default()
            });
        }
        events
    }
}

// ---------------------------------------------------------------------------------------------
// Seed 001

/// Unit heads of Grand Est and Auvergne-Rhône-Alpes demand per-agent reports (CREMA) every
/// Monday; a regional director ranks units monthly; one unit head publishes cells of 2–4
/// agents; another makes a single lookup. Agents viewing their own activity are lawful.
struct WikitMonitoring;

/// Units whose head watches agents one by one, every Monday.
const WATCHING_UNITS: [usize; 3] = [0, 1, 2];
const SMALL_CELL_UNIT: usize = 3;
const ONE_OFF_UNIT: usize = 4;

fn activity_report(
    date: NaiveDate,
    actor: String,
    role: &'static str,
    unit: &str,
    rng: &mut ChaCha8Rng,
) -> GeneratedEvent {
    GeneratedEvent {
        ts: office_time(date, rng),
        actor_id: actor,
        actor_role: role,
        actor_unit: unit.to_string(),
        action: "report",
        dataset: "activity_reports",
        categories: vec!["activity_counts"],
        purpose: Some("activity_statistics"),
        ..Default::default()
    }
}

impl ScenarioGenerator for WikitMonitoring {
    fn register_files(&self) -> Vec<(&'static str, String)> {
        wikit_registers()
    }

    fn grants(&self) -> Vec<GrantRow> {
        wikit_grants()
    }

    fn signal_estimate(&self) -> u64 {
        52 * 3 * 4 + 12 + 12 + 1
    }

    fn day(
        &mut self,
        date: NaiveDate,
        background: u64,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
    ) -> Vec<GeneratedEvent> {
        let mut events = Vec::new();
        for _ in 0..background {
            if rng.gen_bool(0.7) {
                events.push(wikit_background(date, rng));
                continue;
            }
            let (agent, unit) = wikit_agent(rng.gen_range(0..WIKIT_AGENTS));
            if rng.gen_bool(0.6) {
                // An agent's own activity report (CREMA) at their initiative: lawful.
                let mut event = activity_report(date, agent.clone(), "agent", unit, rng);
                event.target_agent = Some(agent);
                event.report_kind = Some("per_agent");
                events.push(event);
            } else {
                // A unit head's aggregated statistics over enough agents: lawful.
                // Cannot fail: the unit was drawn from WIKIT_UNITS.
                let unit_index = WIKIT_UNITS.iter().position(|u| *u == unit).expect("unit");
                let mut event = activity_report(date, wikit_unit_head(unit_index), "unit_head", unit, rng);
                event.group_size = Some(rng.gen_range(5..30));
                event.report_kind = Some("aggregate");
                events.push(event);
            }
        }
        if date.weekday() == Weekday::Mon {
            for &unit_index in &WATCHING_UNITS {
                let head = wikit_unit_head(unit_index);
                let unit = WIKIT_UNITS[unit_index];
                let agents: Vec<String> = (0..WIKIT_AGENTS)
                    .filter(|i| i % WIKIT_UNITS.len() == unit_index)
                    .map(|i| wikit_agent(i).0)
                    .collect();
                let count = rng.gen_range(3..=5);
                let watched: Vec<String> = agents.choose_multiple(rng, count).cloned().collect();
                for agent in &watched {
                    let mut event = activity_report(date, head.clone(), "unit_head", unit, rng);
                    event.target_agent = Some(agent.clone());
                    event.report_kind = Some("per_agent");
                    events.push(event);
                    truth.watched(monitoring_key("individual_monitoring", &head), agent);
                }
            }
        }
        if date.day() == 3 {
            let mut ranking = activity_report(date, "wk-rd-GE".into(), "regional_director", "GE", rng);
            ranking.report_kind = Some("ranking");
            events.push(ranking);
            truth.expect(monitoring_key("individual_monitoring", "wk-rd-GE"), &[]);

            let head = wikit_unit_head(SMALL_CELL_UNIT);
            let mut small = activity_report(date, head.clone(), "unit_head", WIKIT_UNITS[SMALL_CELL_UNIT], rng);
            let size = rng.gen_range(2..5);
            small.group_size = Some(size);
            small.report_kind = Some("aggregate");
            events.push(small);
            truth.small_cell(monitoring_key("small_cell", &head), size);
        }
        // Cannot fail: a constant date.
        if date == NaiveDate::from_ymd_opt(2022, 5, 17).expect("date") {
            let head = wikit_unit_head(ONE_OFF_UNIT);
            let target = wikit_agent(ONE_OFF_UNIT).0;
            let mut lookup = activity_report(date, head.clone(), "unit_head", WIKIT_UNITS[ONE_OFF_UNIT], rng);
            lookup.target_agent = Some(target.clone());
            lookup.report_kind = Some("per_agent");
            events.push(lookup);
            truth.watched(monitoring_key("individual_monitoring", &head), &target);
        }
        events
    }
}

// ---------------------------------------------------------------------------------------------
// Seed 002

/// The declared daily SIPSI → SI-CIP flow (lawful), instructors' reads (1 % of them on records
/// past the 5-year retention), and January 2022, when no register version was in force.
struct SipsiCip;

const SIPSI_SENT: [&str; 6] = ["identity", "birth", "nationality", "employer", "service_address", "service_dates"];
const SIPSI_READ: [&str; 7] =
    ["identity.name", "birth", "nationality", "employer", "service_address", "service_dates", "posting_details"];

const SIPSI_REVOKED: &str = "sp-in-0040";
const SIPSI_CONTRACTOR: &str = "sp-ext-0001";

fn sipsi_uncovered(date: NaiveDate) -> bool {
    // Cannot fail: a constant date.
    date >= NaiveDate::from_ymd_opt(2022, 1, 1).expect("date")
        // Cannot fail: a constant date.
        && date < NaiveDate::from_ymd_opt(2022, 2, 1).expect("date")
}

impl ScenarioGenerator for SipsiCip {
    fn register_files(&self) -> Vec<(&'static str, String)> {
        vec![("sipsi-2017-05-19.toml", registers::sipsi_v1()), ("sipsi-2022-02-01.toml", registers::sipsi_v2())]
    }

    fn grants(&self) -> Vec<GrantRow> {
        let mut grants: Vec<GrantRow> = people("sp-in", 40)
            .iter()
            .map(|a| {
                // sp-in-0040 left the service on 2022-04-01 but kept using the account.
                let revoked = (a == SIPSI_REVOKED).then_some("2022-04-01");
                grant(a, "instructor", "*", "2019-02-01", revoked, Some("2022-03-01"))
            })
            .collect();
        grants.push(grant("svc-sipsi-cip", "batch", "*", "2018-06-01", None, Some("2021-01-15")));
        grants
    }

    fn signal_estimate(&self) -> u64 {
        365
    }

    fn day(
        &mut self,
        date: NaiveDate,
        background: u64,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
    ) -> Vec<GeneratedEvent> {
        let mut events = Vec::new();
        for _ in 0..background {
            let overrun = rng.gen_bool(0.01);
            let record_date = if overrun {
                // Cannot fail: a constant date.
                NaiveDate::from_ymd_opt(2015, 1, 1).expect("date") + chrono::Days::new(rng.gen_range(0..300))
            } else {
                date - chrono::Days::new(rng.gen_range(1..1400))
            };
            events.push(GeneratedEvent {
                ts: office_time(date, rng),
                actor_id: format!("sp-in-{:04}", rng.gen_range(1..=40)),
                actor_role: "instructor",
                actor_unit: "DGT-SIPSI".into(),
                action: if rng.gen_bool(0.8) { "read" } else { "search" },
                dataset: "posting_declarations",
                categories: some_of(&SIPSI_READ, 4, rng),
                purpose: Some("posting_control"),
                record_count: Some(1),
                record_date: Some(record_date),
                ..Default::default()
            });
            // Cannot fail: an event was pushed on the line above.
            let event = events.last().expect("just pushed");
            if overrun && !sipsi_uncovered(date) {
                let reason = Some(event.action.to_string());
                truth.expect(ExpectedKey { reason, ..key("retention_overrun", "posting_declarations") }, &[]);
            }
            if event.actor_id == SIPSI_REVOKED
                // Cannot fail: a constant date.
                && date >= NaiveDate::from_ymd_opt(2022, 4, 1).expect("date")
                && !sipsi_uncovered(date)
            {
                truth.expect(habilitation_key("posting_declarations", SIPSI_REVOKED, "revoked"), &[]);
            }
        }
        // A contractor's account that was never granted anything, used on the 1st of each month.
        if date.day() == 1 && !sipsi_uncovered(date) {
            events.push(GeneratedEvent {
                ts: office_time(date, rng),
                actor_id: SIPSI_CONTRACTOR.into(),
                actor_role: "instructor",
                actor_unit: "DGT-SIPSI".into(),
                action: "read",
                dataset: "posting_declarations",
                categories: vec!["identity.name", "employer"],
                purpose: Some("posting_control"),
                record_count: Some(1),
                record_date: Some(date - chrono::Days::new(30)),
                ..Default::default()
            });
            truth.expect(habilitation_key("posting_declarations", SIPSI_CONTRACTOR, "never_granted"), &[]);
        }
        // The declared daily flow, 01:30 UTC.
        events.push(GeneratedEvent {
            ts: at(date, 1, 30, 0) + rng.gen_range(-120..120) * 1_000_000,
            actor_id: "svc-sipsi-cip".into(),
            actor_role: "batch",
            actor_unit: "DGT-SIPSI".into(),
            action: "transfer",
            dataset: "posting_declarations",
            categories: SIPSI_SENT.to_vec(),
            recipient: Some("ucf_ci_btp"),
            record_count: Some(rng.gen_range(300..3000)),
            record_date: Some(date - chrono::Days::new(1)),
            ..Default::default()
        });
        if sipsi_uncovered(date) {
            for _ in 0..events.len() {
                truth.expect(key("register_gap", "posting_declarations"), &[]);
            }
        }
        events
    }
}

// ---------------------------------------------------------------------------------------------
// Seed 003

/// Social workers record social-security numbers (NIR) and subjective appraisals in the DIS;
/// secretaries read every file although only social workers are allowed.
struct SocialFiles;

const SOCIAL_CATEGORIES: [&str; 5] = ["identity", "contact", "household", "social_situation", "support_plan"];

impl ScenarioGenerator for SocialFiles {
    fn register_files(&self) -> Vec<(&'static str, String)> {
        vec![("social-service-2009-05-01.toml", registers::SOCIAL.to_string())]
    }

    fn grants(&self) -> Vec<GrantRow> {
        let mut grants: Vec<GrantRow> = people("so-sw", 30)
            .iter()
            .map(|a| grant(a, "social_worker", "MDS-91", "2019-09-01", None, Some("2022-05-01")))
            .collect();
        grants.extend(people("so-sec", 8).iter().map(|a| grant(a, "secretary", "MDS-91", "2019-09-01", None, None)));
        grants
    }

    fn signal_estimate(&self) -> u64 {
        0
    }

    fn day(
        &mut self,
        date: NaiveDate,
        background: u64,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
    ) -> Vec<GeneratedEvent> {
        (0..background)
            .map(|_| {
                let secretary = rng.gen_bool(0.2);
                let action = if secretary { "read" } else { ["read", "read", "update"][rng.gen_range(0..3)] };
                let mut categories = some_of(&SOCIAL_CATEGORIES, 3, rng);
                let mut undeclared = Vec::new();
                if action == "update" && rng.gen_bool(0.25) {
                    undeclared.push("nir");
                }
                if action == "update" && rng.gen_bool(0.08) {
                    undeclared.push("subjective_appraisal");
                }
                let actor_id = if secretary {
                    format!("so-sec-{:04}", rng.gen_range(1..=8))
                } else {
                    format!("so-sw-{:04}", rng.gen_range(1..=30))
                };
                if secretary {
                    // Only social workers may open the files: habilitations by profession.
                    truth.expect(habilitation_key("social_files", &actor_id, "role_not_allowed"), &[]);
                }
                if !undeclared.is_empty() {
                    categories.extend(&undeclared);
                    let mut expected = key("category_creep", "social_files");
                    expected.purpose = Some("social_support".into());
                    truth.expect(expected, &undeclared);
                }
                GeneratedEvent {
                    ts: office_time(date, rng),
                    actor_id,
                    actor_role: if secretary { "secretary" } else { "social_worker" },
                    actor_unit: "MDS-91".into(),
                    action,
                    dataset: "social_files",
                    categories,
                    purpose: Some("social_support"),
                    record_count: Some(1),
                    ..Default::default()
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Seed 004

/// From the switch to I-Milo (2022-01-10), counsellors record the young person's ID document
/// number when they create or update a file — a category no purpose declares.
struct ImiloIdNumbers;

const IMILO_CATEGORIES: [&str; 6] =
    ["identity", "identity.birth_date", "contact", "education", "employment_path", "support_actions"];

impl ScenarioGenerator for ImiloIdNumbers {
    fn register_files(&self) -> Vec<(&'static str, String)> {
        vec![("imilo-2015-01-01.toml", registers::IMILO.to_string())]
    }

    fn grants(&self) -> Vec<GrantRow> {
        people("im-cl", 50)
            .iter()
            .map(|a| grant(a, "counsellor", "ML-93", "2020-01-06", None, Some("2021-12-01")))
            .collect()
    }

    fn signal_estimate(&self) -> u64 {
        0
    }

    fn day(
        &mut self,
        date: NaiveDate,
        background: u64,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
    ) -> Vec<GeneratedEvent> {
        // Cannot fail: a constant date.
        let new_system = date >= NaiveDate::from_ymd_opt(2022, 1, 10).expect("date");
        (0..background)
            .map(|_| {
                let action = ["read", "read", "update", "search"][rng.gen_range(0..4)];
                let mut categories = some_of(&IMILO_CATEGORIES, 3, rng);
                if new_system && action == "update" && rng.gen_bool(0.7) {
                    categories.push("id_document_number");
                    truth.expect(key("category_creep", "youth_files"), &["id_document_number"]);
                }
                GeneratedEvent {
                    ts: office_time(date, rng),
                    actor_id: format!("im-cl-{:04}", rng.gen_range(1..=50)),
                    actor_role: "counsellor",
                    actor_unit: "ML-93".into(),
                    action,
                    dataset: "youth_files",
                    categories,
                    record_count: Some(1),
                    ..Default::default()
                }
            })
            .collect()
    }
}
