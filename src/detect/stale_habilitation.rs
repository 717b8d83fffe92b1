//! `stale_habilitation`: grants still active at the end of the audit window that were not
//! reviewed within `--review-days` (default 365) or never, and grants never used in the window
//! (seed 002: permissions to be removed when no longer justified, a global review held
//! regularly). One finding per grant; severity medium when both, low otherwise. When no active
//! grant records any review date, that one fact (no review is documented at all) is one finding
//! with the count and the roles, not a copy per grant: the grants left as findings of their own
//! are the unused ones.

use std::collections::{BTreeMap, HashSet};

use polars::prelude::*;

use super::chunk::{Chunk, NULL};
use super::{Context, Detector, Scanner};
use crate::error::Result;
use crate::finding::facts::{self, StaleGrant};
use crate::finding::{Finding, FindingDraft, Severity};
use crate::ingest::timestamp::format_us;
use crate::register::habilitations::Grant;

pub struct StaleHabilitation;

const DAY_US: i64 = 86_400_000_000;

impl Detector for StaleHabilitation {
    fn name(&self) -> &'static str {
        "stale_habilitation"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(UseScanner::default())
    }
}

/// Who used which role, and the last event's time.
#[derive(Default)]
struct UseScanner {
    used: HashSet<(String, String)>,
    /// The (actor, role) codes of `used`.
    used_codes: PlHashSet<(u32, u32)>,
    /// By actor code: the role of its last event counted in `used_codes` ([`NULL`] for none).
    /// An actor's events mostly share a role, so most rows are skipped without hashing.
    last_role: Vec<u32>,
    last_event: Option<i64>,
}

impl Scanner for UseScanner {
    fn scan(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        if context.habilitations.is_none() {
            return Ok(());
        }
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        self.last_role.resize(dictionaries.actor.len(), NULL);
        for (&actor, &role) in codes.actor.iter().zip(&codes.role) {
            if actor == NULL || role == NULL || self.last_role[actor as usize] == role {
                continue;
            }
            self.last_role[actor as usize] = role;
            if self.used_codes.insert((actor, role)) {
                self.used
                    .insert((dictionaries.actor.name(actor).to_string(), dictionaries.role.name(role).to_string()));
            }
        }
        self.last_event = self.last_event.max(codes.ts.iter().copied().max());
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        let used: std::collections::BTreeSet<&(String, String)> = self.used.iter().collect();
        #[derive(serde::Serialize)]
        struct Saved<'a> {
            used: std::collections::BTreeSet<&'a (String, String)>,
            last_event: Option<i64>,
        }
        super::state::save(&Saved { used, last_event: self.last_event })
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Saved {
            used: Vec<(String, String)>,
            last_event: Option<i64>,
        }
        let saved: Saved = super::state::load(StaleHabilitation.name(), "uses", state)?;
        self.used.extend(saved.used);
        self.last_event = self.last_event.max(saved.last_event);
        Ok(())
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        let Some(habilitations) = context.habilitations else { return Ok(Vec::new()) };
        let Some(window_end) = context.settings.window_end.or(self.last_event) else { return Ok(Vec::new()) };
        let review_limit = window_end - i64::from(context.settings.review_days) * DAY_US;
        let active: Vec<&Grant> = habilitations
            .grants
            .iter()
            .filter(|grant| grant.granted_at <= window_end && grant.revoked_at.is_none_or(|r| r > window_end))
            .collect();
        let no_review_recorded = !active.is_empty() && active.iter().all(|grant| grant.reviewed_at.is_none());
        let mut findings = Vec::new();
        if no_review_recorded {
            findings.push(no_review_recorded_finding(context, &active, window_end));
        }
        for grant in active {
            let not_reviewed = grant.reviewed_at.is_none_or(|reviewed| reviewed < review_limit);
            let unused = !self.used.contains(&(grant.actor_id.clone(), grant.role.clone()));
            // Never reviewed, like every grant: already said once above.
            let only_unreviewed = not_reviewed && !unused;
            if (!not_reviewed && !unused) || (no_review_recorded && only_unreviewed) {
                continue;
            }
            findings.push(grant_finding(context, grant, window_end, not_reviewed, unused));
        }
        Ok(findings)
    }
}

/// What every stale finding shares: the period from the grant to the window's end.
fn draft((granted, window_end): (i64, i64)) -> FindingDraft {
    FindingDraft { first_seen: Some(granted), last_seen: Some(window_end), score: 1.0, ..Default::default() }
}

/// One grant not reviewed within `--review-days`, or unused in the window, or both.
fn grant_finding(context: &Context, grant: &Grant, window_end: i64, not_reviewed: bool, unused: bool) -> Finding {
    let facts = StaleGrant {
        role: grant.role.clone(),
        scope: grant.scope.clone(),
        granted_at: format_us(grant.granted_at),
        reviewed_at: grant.reviewed_at.map(format_us),
        review_days: context.settings.review_days,
    };
    let (facts, severity) = match (not_reviewed, unused) {
        (true, true) => (facts::StaleHabilitation::NotReviewedAndUnused(facts), Severity::Medium),
        (true, false) => (facts::StaleHabilitation::NotReviewed(facts), Severity::Low),
        _ => (facts::StaleHabilitation::Unused(facts), Severity::Low),
    };
    FindingDraft { actor: Some(grant.actor_id.clone()), ..draft((grant.granted_at, window_end)) }.finish(
        facts,
        severity,
        &[&grant.role, &grant.scope, &grant.granted_at.to_string()],
    )
}

/// No active grant records a review date: the review itself is undocumented. One finding (medium:
/// it concerns every grant) with the number of grants and how many per role.
fn no_review_recorded_finding(context: &Context, active: &[&Grant], window_end: i64) -> Finding {
    let mut roles: BTreeMap<String, u64> = BTreeMap::new();
    for grant in active {
        *roles.entry(grant.role.clone()).or_default() += 1;
    }
    let facts = facts::StaleHabilitation::NoReviewRecorded {
        grants: active.len(),
        roles,
        review_days: context.settings.review_days,
    };
    let first_granted = active.iter().map(|grant| grant.granted_at).min().unwrap_or(window_end);
    draft((first_granted, window_end)).finish(facts, Severity::Medium, &["no_review_recorded"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{WIKIT_V2, judged_events, register};
    use crate::register::habilitations::Habilitations;

    const DAY: i64 = DAY_US;

    fn grant(actor: &str, reviewed_at: Option<i64>) -> Grant {
        Grant {
            actor_id: actor.into(),
            role: "agent".into(),
            scope: "*".into(),
            granted_at: 0,
            revoked_at: None,
            reviewed_at,
        }
    }

    /// (reason, actor) of each finding, with the severity, for grants given.
    fn stale(grants: Vec<Grant>) -> Vec<(String, String, Severity)> {
        let register = register(&[WIKIT_V2]);
        let events = judged_events(
            &register,
            &[
                "e1,2022-06-01T10:00:00Z,w1,agent,read,follow_ups,identity,,inspection,",
                "e2,2022-06-02T10:00:00Z,s1,agent,read,follow_ups,identity,,inspection,",
            ],
        );
        let habilitations = Habilitations { file: "grants.csv".into(), sha256: String::new(), grants };
        let context = Context {
            register: &register,
            habilitations: Some(&habilitations),
            settings: Default::default(),
            input_files: &[],
        };
        crate::detect::run_one(&StaleHabilitation, &context, &events)
            .unwrap()
            .into_iter()
            .map(|f| (f.details()["reason"].as_str().unwrap().to_string(), f.actor.unwrap_or_default(), f.severity))
            .collect()
    }

    /// No grant records a review: said once, with the count and roles; the unused grant stays a
    /// finding of its own (both causes hold: medium); the used ones add nothing more.
    /// An actor alternating between two roles, chunk after chunk: both roles count as used
    /// (the last-role shortcut skips only repeats of the role already counted).
    #[test]
    fn every_role_an_actor_alternates_between_counts_as_used() {
        let register = register(&[WIKIT_V2]);
        let mut dictionaries = crate::detect::chunk::Dictionaries::default();
        let habilitations = Habilitations { file: "h".into(), sha256: "0".repeat(64), grants: vec![grant("a", None)] };
        let context = Context {
            register: &register,
            habilitations: Some(&habilitations),
            settings: Default::default(),
            input_files: &[],
        };
        let mut scanner = UseScanner::default();
        for rows in [
            [
                "e1,2023-01-02T10:00:00Z,a,agent,read,follow_ups,,,,",
                "e2,2023-01-02T11:00:00Z,a,chief,read,follow_ups,,,,",
            ],
            [
                "e3,2023-01-02T12:00:00Z,a,agent,read,follow_ups,,,,",
                "e4,2023-01-02T13:00:00Z,b,chief,read,follow_ups,,,,",
            ],
        ] {
            let events = judged_events(&register, &rows);
            let codes = crate::detect::chunk::code(&events, &mut dictionaries).unwrap();
            let chunk = Chunk { events: &events, codes: &codes, dictionaries: &dictionaries };
            scanner.scan(&context, &chunk).unwrap();
        }
        let used: std::collections::BTreeSet<(String, String)> = scanner.used.into_iter().collect();
        let pair = |actor: &str, role: &str| (actor.to_string(), role.to_string());
        assert_eq!(used, [pair("a", "agent"), pair("a", "chief"), pair("b", "chief")].into_iter().collect());
    }

    #[test]
    fn a_register_without_reviews_is_one_finding_not_one_per_grant() {
        let mut found = stale(vec![grant("w1", None), grant("w2", None), grant("s1", None)]);
        found.sort();
        assert_eq!(
            found,
            vec![
                ("no_review_recorded".into(), String::new(), Severity::Medium),
                ("not_reviewed+unused".into(), "w2".into(), Severity::Medium),
            ]
        );
    }

    /// Where reviews are recorded, each lapse is the grant's own: one finding per grant.
    #[test]
    fn with_some_reviews_recorded_each_lapsed_grant_is_named() {
        let recent = Some(1_654_000_000_000_000 - 30 * DAY); // a month before the events
        let mut found = stale(vec![grant("w1", None), grant("w2", None), grant("s1", recent)]);
        found.sort();
        assert_eq!(
            found,
            vec![
                ("not_reviewed".into(), "w1".into(), Severity::Low),
                ("not_reviewed+unused".into(), "w2".into(), Severity::Medium),
            ]
        );
    }
}
