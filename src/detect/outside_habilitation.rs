//! `outside_habilitation`: events by an actor holding no habilitation for that role and scope at
//! that instant — never granted, not yet granted, after `revoked_at` (exclusive), or for another
//! unit — and events by a role the purpose in force does not allow for that dataset (seed 003:
//! all staff reading every social file instead of habilitations by profession).
//!
//! An interval (as-of) join of events against grants, done as one hash lookup per event into the
//! grants of its (actor, role): linear in events, so 100M events × 100k grants is not quadratic.
//! An event without `actor_unit` cannot be checked against a scope and is not flagged for it.
//! One finding per (actor, reason); severity high, medium for "not yet granted" and "scope".

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::chunk::{Chunk, Dictionaries, NULL};
use super::{Context, Detector, EventColumns, Scanner, Tally};
use crate::error::Result;
use crate::finding::{Finding, FindingDraft, Severity, facts};
use crate::register::habilitations::{Grant, Habilitations};

pub struct OutsideHabilitation;

/// Why an event was outside the actor's habilitations (a fact of the finding).
pub use crate::finding::facts::HabilitationReason as Reason;

/// High, medium for an event before the grant or outside its unit (a late paper, a neighbouring unit).
fn severity(reason: Reason) -> Severity {
    match reason {
        Reason::NotYetGranted | Reason::OutOfScope => Severity::Medium,
        _ => Severity::High,
    }
}

/// Judges one event against the grants of its (actor, role), in no particular order: the rule
/// as written, one grant at a time — the reference [`GrantWindows`] is tested against.
#[cfg(test)]
fn grant_verdict(grants: &[&Grant], ts: i64, unit: Option<&str>) -> Option<Reason> {
    if grants.is_empty() {
        return Some(Reason::NeverGranted);
    }
    // Called for every event: no allocation, one pass over the actor's grants for the role.
    let mut any_active = false;
    for grant in grants {
        if grant.granted_at <= ts && grant.revoked_at.is_none_or(|revoked| ts < revoked) {
            any_active = true;
            if grant.scope == "*" || unit.is_none_or(|u| grant.scope == u) {
                return None;
            }
        }
    }
    if any_active {
        return Some(Reason::OutOfScope);
    }
    let first = grants.iter().map(|g| g.granted_at).min().unwrap_or(i64::MIN);
    Some(if ts < first { Reason::NotYetGranted } else { Reason::Revoked })
}

/// The grants of one (actor, role) as seen from one unit: [`grant_verdict`] with the scopes
/// already compared, so an event costs one lookup and a few integer comparisons.
struct GrantWindows {
    /// [granted_at, revoked_at) of the grants whose scope covers the unit.
    covering: Vec<(i64, i64)>,
    /// Those of the other grants (another unit).
    elsewhere: Vec<(i64, i64)>,
    /// The earliest grant, if any.
    first_granted: Option<i64>,
}

impl GrantWindows {
    fn of(grants: &[&Grant], unit: Option<&str>) -> GrantWindows {
        let window = |g: &&Grant| (g.granted_at, g.revoked_at.unwrap_or(i64::MAX));
        let covers = |g: &&&Grant| g.scope == "*" || unit.is_none_or(|u| g.scope == u);
        GrantWindows {
            covering: grants.iter().filter(covers).map(window).collect(),
            elsewhere: grants.iter().filter(|g| !covers(g)).map(window).collect(),
            first_granted: grants.iter().map(|g| g.granted_at).min(),
        }
    }

    /// What [`grant_verdict`] says of an event at `ts`.
    fn verdict(&self, ts: i64) -> Option<Reason> {
        let active = |windows: &[(i64, i64)]| windows.iter().any(|&(from, until)| from <= ts && ts < until);
        let Some(first) = self.first_granted else { return Some(Reason::NeverGranted) };
        if active(&self.covering) {
            None
        } else if active(&self.elsewhere) {
            Some(Reason::OutOfScope)
        } else if ts < first {
            Some(Reason::NotYetGranted)
        } else {
            Some(Reason::Revoked)
        }
    }
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Offence {
    tally: Tally,
    datasets: BTreeSet<String>,
    roles: BTreeSet<String>,
}

impl Detector for OutsideHabilitation {
    fn name(&self) -> &'static str {
        "outside_habilitation"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(HabilitationScanner::default())
    }
}

#[derive(Default)]
struct HabilitationScanner {
    offences: BTreeMap<(String, Reason), Offence>,
    /// By situation code: whether its events are judged, and if so whether a purpose in force
    /// allows the role on the dataset ([`Judged`]). Extended as situations appear.
    judged: Vec<Judged>,
    /// (actor, role, unit) codes → that actor's grants for that role, seen from that unit.
    grants: PlHashMap<(u32, u32, u32), GrantWindows>,
    /// By actor code: the one covering window of the last (role, unit) looked up for it.
    usual: Vec<UsualWindow>,
}

/// The single grant window covering an actor's (role, unit), kept by actor code: an actor's
/// events mostly share one role and unit and fall inside that window, so they are judged from a
/// vector small enough to stay in cache; the hash map of every (actor, role, unit), whose
/// windows live apart on the heap, is read only for the other events (the profile's two cache
/// misses per event).
#[derive(Clone, Copy, Default)]
struct UsualWindow {
    /// [`NULL`] while the actor has none (an event with a null role is never judged).
    role: u32,
    unit: u32,
    from: i64,
    until: i64,
}

impl UsualWindow {
    fn covers(&self, role: u32, unit: u32, ts: i64) -> bool {
        self.role == role && self.unit == unit && self.from <= ts && ts < self.until
    }
}

impl HabilitationScanner {
    /// The verdict on an event of (actor, role, unit) codes at `ts`, from all its grants; the
    /// grants' covering window becomes the actor's usual one when there is exactly one.
    fn verdict_from_grants(
        &mut self,
        habilitations: &Habilitations,
        dictionaries: &Dictionaries,
        key: (u32, u32, u32),
        ts: i64,
    ) -> Option<Reason> {
        let (actor, role, unit) = key;
        let windows = self.grants.entry(key).or_insert_with(|| {
            let (actor, role) = (dictionaries.actor.text(actor), dictionaries.role.text(role));
            let of_pair = |g: &&Grant| Some(g.actor_id.as_str()) == actor && Some(g.role.as_str()) == role;
            let granted: Vec<&Grant> = habilitations.grants.iter().filter(of_pair).collect();
            GrantWindows::of(&granted, dictionaries.unit.text(unit))
        });
        if let [(from, until)] = windows.covering[..] {
            if self.usual.len() <= actor as usize {
                self.usual.resize(actor as usize + 1, UsualWindow::default());
            }
            self.usual[actor as usize] = UsualWindow { role, unit, from, until };
        }
        windows.verdict(ts)
    }
}

impl Scanner for HabilitationScanner {
    fn scan(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        let columns = EventColumns::of(chunk.events)?;
        let new_situations = dictionaries.situations.since(self.judged.len());
        self.judged.extend(new_situations.iter().map(|situation| Judged::of(context, dictionaries, situation)));
        for row in 0..codes.len() {
            let judged = self.judged[codes.situation[row] as usize];
            let actor = codes.actor[row];
            if judged == Judged::Not || actor == NULL {
                continue;
            }
            let (role, dataset) = (codes.role[row], codes.dataset[row]);
            let reason = if judged == Judged::RoleNotAllowed {
                Some(Reason::RoleNotAllowed)
            } else if let Some(habilitations) = context.habilitations {
                let (unit, ts) = (codes.unit[row], codes.ts[row]);
                match self.usual.get(actor as usize) {
                    Some(usual) if usual.covers(role, unit, ts) => None,
                    _ => self.verdict_from_grants(habilitations, dictionaries, (actor, role, unit), ts),
                }
            } else {
                None
            };
            if let Some(reason) = reason {
                let text = |d: &super::chunk::Dictionary, code| d.name(code).to_string();
                let offence = self.offences.entry((text(&dictionaries.actor, actor), reason)).or_default();
                columns.add_to(&mut offence.tally, row);
                offence.datasets.insert(text(&dictionaries.dataset, dataset));
                offence.roles.insert(text(&dictionaries.role, role));
            }
        }
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        super::state::save_map(&self.offences)
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        super::state::absorb_map(OutsideHabilitation.name(), "offences", state, &mut self.offences, |mine, theirs| {
            mine.tally.merge(theirs.tally);
            mine.datasets.extend(theirs.datasets);
            mine.roles.extend(theirs.roles);
        })
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self
            .offences
            .into_iter()
            .map(|((actor, reason), offence)| OutsideHabilitation.finding(context, actor, reason, offence))
            .collect())
    }
}

/// What a situation says of its events before their actor's grants are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judged {
    /// No register version in force, or no role or dataset: not judged here.
    Not,
    RoleNotAllowed,
    /// A purpose in force allows the role: the actor's grants decide.
    RoleAllowed,
}

impl Judged {
    fn of(context: &Context, dictionaries: &Dictionaries, situation: &super::chunk::Situation) -> Judged {
        let super::chunk::Situation { version, dataset, role, purpose, .. } = *situation;
        if version < 0 || role == NULL || dataset == NULL {
            return Judged::Not;
        }
        match role_allowed(context, dictionaries, version, dataset, role, purpose) {
            true => Judged::RoleAllowed,
            false => Judged::RoleNotAllowed,
        }
    }
}

/// Whether a purpose in force allows `role` on `dataset`: the purpose the event names if it
/// covers the dataset, else any purpose covering it.
fn role_allowed(
    context: &Context,
    dictionaries: &Dictionaries,
    version: i32,
    dataset: u32,
    role: u32,
    purpose: u32,
) -> bool {
    let register = context.register.get(version as usize);
    let dataset = dictionaries.dataset.name(dataset);
    let role = dictionaries.role.name(role);
    let named = dictionaries
        .purpose
        .text(purpose)
        .and_then(|p| register.purpose(p))
        .filter(|p| p.datasets.iter().any(|d| d == dataset));
    let candidates: Vec<_> = match named {
        Some(p) => vec![p],
        None => register.purposes_for_dataset(dataset).collect(),
    };
    candidates.iter().any(|p| p.roles.is_empty() || p.roles.iter().any(|r| r == role))
}

impl OutsideHabilitation {
    fn finding(&self, context: &Context, actor: String, reason: Reason, offence: Offence) -> Finding {
        let group = offence.tally.into_summary();
        let datasets: Vec<String> = offence.datasets.into_iter().collect();
        let roles: Vec<String> = offence.roles.into_iter().collect();
        // Cannot fail: a group is created by an event, and only judged events (with a register version) are grouped.
        let latest = context.register.get(*group.versions.last().expect("judged events"));
        let facts = facts::OutsideHabilitation {
            reason,
            datasets,
            roles,
            // Which habilitations file the grant was looked for in (the legal reference cites it).
            habilitations_sha256: context
                .habilitations
                .filter(|_| reason != Reason::RoleNotAllowed)
                .map(|h| h.sha256[..16].to_string()),
            processing: latest.processing().to_string(),
            legal_ref: latest.legal_ref(),
        };
        let one_dataset = (facts.datasets.len() == 1).then(|| facts.datasets[0].clone());
        FindingDraft {
            named_dataset: one_dataset,
            actor: Some(actor),
            first_seen: Some(group.first_seen),
            last_seen: Some(group.last_seen),
            events: group.events,
            score: 1.0,
            register_versions: context.version_ids(&group.versions),
            evidence: group.evidence,
            ..Default::default()
        }
        .finish(facts, severity(reason), &[reason.name()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(granted: i64, revoked: Option<i64>, scope: &str) -> Grant {
        Grant {
            actor_id: "a".into(),
            role: "agent".into(),
            scope: scope.into(),
            granted_at: granted,
            revoked_at: revoked,
            reviewed_at: None,
        }
    }

    #[test]
    fn revocation_is_exclusive_to_the_second() {
        let second = 1_000_000;
        let g = grant(0, Some(100 * second), "*");
        assert_eq!(grant_verdict(&[&g], 100 * second - second, None), None);
        assert_eq!(grant_verdict(&[&g], 100 * second, None), Some(Reason::Revoked));
        assert_eq!(grant_verdict(&[&g], 100 * second + second, None), Some(Reason::Revoked));
        assert_eq!(grant_verdict(&[&g], -second, None), Some(Reason::NotYetGranted));
        assert_eq!(grant_verdict(&[], 0, None), Some(Reason::NeverGranted));
    }

    /// The windows give what grant_verdict gives, for every instant around every edge.
    #[test]
    fn grant_windows_judge_as_grant_verdict() {
        let sets = [
            vec![],
            vec![grant(10, Some(20), "*")],
            vec![grant(10, Some(20), "UC-75"), grant(15, None, "UC-93")],
            vec![grant(30, None, "UC-75"), grant(5, Some(12), "*"), grant(8, Some(9), "UC-93")],
        ];
        for grants in &sets {
            let grants: Vec<&Grant> = grants.iter().collect();
            for unit in [None, Some("UC-75"), Some("UC-93"), Some("UC-01")] {
                let windows = GrantWindows::of(&grants, unit);
                for ts in 0..40 {
                    assert_eq!(windows.verdict(ts), grant_verdict(&grants, ts, unit), "{unit:?} at {ts}");
                }
            }
        }
    }

    /// The scanner, with its per-actor usual window, judges every event as [`grant_verdict`]
    /// does: one actor switching between units and roles (each switch replaces the usual
    /// window), a unit with two windows (never usual), instants on every edge.
    #[test]
    fn the_usual_window_shortcut_judges_as_the_grants() {
        let register = crate::detect::testing::register(&[ROLES_REGISTER]);
        let day = 86_400 * 1_000_000i64;
        let start = crate::register::versions::day_start_us(chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap());
        let at = |days: i64| start + days * day;
        let grant = |role: &str, scope: &str, from: i64, until: Option<i64>| Grant {
            actor_id: "a".into(),
            role: role.into(),
            scope: scope.into(),
            granted_at: at(from),
            revoked_at: until.map(at),
            reviewed_at: None,
        };
        let grants = vec![
            grant("agent", "UC-75", 10, Some(20)),
            grant("agent", "UC-93", 5, Some(8)),
            grant("agent", "UC-93", 12, None),
            grant("chief", "*", 15, Some(30)),
        ];
        let habilitations = Habilitations { file: "h".into(), sha256: "0".repeat(64), grants: grants.clone() };
        let mut rows = Vec::new();
        let mut expected: BTreeMap<Reason, u64> = BTreeMap::new();
        for (i, days) in [0, 5, 7, 8, 10, 12, 15, 19, 20, 29, 30, 40].iter().cycle().take(60).enumerate() {
            let (role, unit) = [("agent", "UC-75"), ("agent", "UC-93"), ("chief", "UC-01"), ("agent", "UC-75")][i % 4];
            // Repeats of one (role, unit) on neighbouring rows: the shortcut's common case.
            for repeat in 0..2 {
                let ts = at(*days) - repeat;
                let of_pair: Vec<&Grant> = grants.iter().filter(|g| g.role == role).collect();
                if let Some(reason) = grant_verdict(&of_pair, ts, Some(unit)) {
                    *expected.entry(reason).or_default() += 1;
                }
                let stamp = chrono::DateTime::from_timestamp_micros(ts).unwrap().to_rfc3339();
                rows.push(format!("e{i}-{repeat},{stamp},a,{role},{unit},read,follow_ups"));
            }
        }
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let events = crate::detect::testing::judged_events_with(
            &register,
            "event_id,ts,actor_id,actor_role,actor_unit,action,dataset",
            &rows,
        );
        let context = Context {
            register: &register,
            habilitations: Some(&habilitations),
            settings: Default::default(),
            input_files: &[],
        };
        let mut dictionaries = Dictionaries::default();
        let codes = crate::detect::chunk::code(&events, &mut dictionaries).unwrap();
        let mut scanner = HabilitationScanner::default();
        scanner.scan(&context, &Chunk { events: &events, codes: &codes, dictionaries: &dictionaries }).unwrap();
        let found: BTreeMap<Reason, u64> = scanner
            .offences
            .into_iter()
            .map(|((_, reason), offence)| (reason, offence.tally.into_summary().events))
            .collect();
        assert!(expected.len() >= 3, "the cases cover several reasons: {expected:?}");
        assert_eq!(found, expected);
    }

    const ROLES_REGISTER: &str = r#"
processing = "p"
in_force_from = "2000-01-01"
legal_ref = "l"
[[dataset]]
id = "follow_ups"
[[role]]
id = "agent"
[[role]]
id = "chief"
[[purpose]]
id = "inspection"
datasets = ["follow_ups"]
roles = ["agent", "chief"]
"#;

    #[test]
    fn scope_must_cover_the_unit() {
        let unit = grant(0, None, "UC-75");
        let everywhere = grant(0, None, "*");
        assert_eq!(grant_verdict(&[&unit], 5, Some("UC-75")), None);
        assert_eq!(grant_verdict(&[&unit], 5, Some("UC-93")), Some(Reason::OutOfScope));
        assert_eq!(grant_verdict(&[&unit, &everywhere], 5, Some("UC-93")), None);
        assert_eq!(grant_verdict(&[&unit], 5, None), None, "no unit logged: nothing to check the scope against");
    }
}
