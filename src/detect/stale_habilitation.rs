//! `stale_habilitation`: grants still active at the end of the audit window that were not
//! reviewed within `--review-days` (default 365) or never, and grants never used in the window
//! (seed 002: permissions to be removed when no longer justified, a global review held
//! regularly). One finding per grant; severity medium when both, low otherwise.

use std::collections::{BTreeMap, HashSet};

use polars::prelude::*;
use serde_json::json;

use super::chunk::{Chunk, NULL};
use super::{Context, Detector, Scanner};
use crate::error::Result;
use crate::finding::{Finding, FindingDraft, Severity};
use crate::ingest::timestamp::format_us;

pub struct StaleHabilitation;

const DAY_US: i64 = 86_400_000_000;
const LEGAL_REF: &str =
    "CNIL: permissions removed for users no longer entitled; regular global review of habilitations";

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
    last_event: Option<i64>,
}

impl Scanner for UseScanner {
    fn scan(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        if context.habilitations.is_none() {
            return Ok(());
        }
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        for (&actor, &role) in codes.actor.iter().zip(&codes.role) {
            if actor != NULL && role != NULL && self.used_codes.insert((actor, role)) {
                self.used
                    .insert((dictionaries.actor.name(actor).to_string(), dictionaries.role.name(role).to_string()));
            }
        }
        self.last_event = self.last_event.max(codes.ts.iter().copied().max());
        Ok(())
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        let Some(habilitations) = context.habilitations else { return Ok(Vec::new()) };
        let Some(window_end) = context.settings.window_end.or(self.last_event) else { return Ok(Vec::new()) };
        let review_limit = window_end - i64::from(context.settings.review_days) * DAY_US;
        let mut findings = Vec::new();
        for grant in &habilitations.grants {
            let active = grant.granted_at <= window_end && grant.revoked_at.is_none_or(|r| r > window_end);
            if !active {
                continue;
            }
            let not_reviewed = grant.reviewed_at.is_none_or(|reviewed| reviewed < review_limit);
            let unused = !self.used.contains(&(grant.actor_id.clone(), grant.role.clone()));
            if !not_reviewed && !unused {
                continue;
            }
            let reason = match (not_reviewed, unused) {
                (true, true) => "not_reviewed+unused",
                (true, false) => "not_reviewed",
                _ => "unused",
            };
            let mut details = BTreeMap::new();
            details.insert("reason".to_string(), json!(reason));
            details.insert("role".to_string(), json!(grant.role));
            details.insert("scope".to_string(), json!(grant.scope));
            details.insert("granted_at".to_string(), json!(format_us(grant.granted_at)));
            details.insert("reviewed_at".to_string(), json!(grant.reviewed_at.map(format_us)));
            let mut said = Vec::new();
            if not_reviewed {
                said.push(match grant.reviewed_at {
                    Some(reviewed) => format!("last reviewed {}", &format_us(reviewed)[..10]),
                    None => "never reviewed".to_string(),
                });
            }
            if unused {
                said.push("never used in the audit window".to_string());
            }
            let severity = if not_reviewed && unused { Severity::Medium } else { Severity::Low };
            findings.push(
                FindingDraft {
                    summary: format!(
                        "{}'s habilitation as {} on {} is still active and {}",
                        grant.actor_id,
                        grant.role,
                        grant.scope,
                        said.join(" and ")
                    ),
                    actor: Some(grant.actor_id.clone()),
                    first_seen: Some(grant.granted_at),
                    last_seen: Some(window_end),
                    score: 1.0,
                    rule: format!(
                        "review habilitations at least every {} days; revoke unused ones",
                        context.settings.review_days
                    ),
                    legal_ref: LEGAL_REF.to_string(),
                    details,
                    ..Default::default()
                }
                .finish(
                    StaleHabilitation.name(),
                    severity,
                    &[&grant.role, &grant.scope, &grant.granted_at.to_string()],
                ),
            );
        }
        Ok(findings)
    }
}
