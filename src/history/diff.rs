//! `driftwatch diff A B`: two audits' findings, compared by id — new in B, resolved since A,
//! and changed (severity, number of events, period).

use std::collections::BTreeMap;

use serde::Serialize;

use super::baseline::{Baseline, Previous};
use crate::finding::Severity;

#[derive(Debug, Serialize, PartialEq)]
pub struct Diff {
    /// In B only.
    pub new: Vec<Previous>,
    /// In A only.
    pub resolved: Vec<Previous>,
    /// In both, with another severity, number of events or period.
    pub changed: Vec<Changed>,
    /// In both, unchanged.
    pub unchanged: usize,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Changed {
    pub id: String,
    pub detector: String,
    pub severity: Change<Severity>,
    pub events: Change<u64>,
    pub first_seen: Change<Option<String>>,
    pub last_seen: Change<Option<String>>,
    /// B's summary.
    pub summary: String,
}

/// A field in A and in B (`changed` false when they are equal).
#[derive(Debug, Serialize, PartialEq)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
    pub changed: bool,
}

fn change<T: PartialEq + Clone>(from: &T, to: &T) -> Change<T> {
    Change { from: from.clone(), to: to.clone(), changed: from != to }
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.resolved.is_empty() && self.changed.is_empty()
    }

    /// One line per difference, then the counts.
    pub fn text(&self) -> String {
        let mut lines = Vec::new();
        let line = |word: &str, p: &Previous| {
            format!("{word:<9}{} {:<6} {}: {}", p.id, p.severity.as_str(), p.detector, p.summary)
        };
        lines.extend(self.new.iter().map(|p| line("new", p)));
        lines.extend(self.resolved.iter().map(|p| line("resolved", p)));
        for changed in &self.changed {
            let mut what = Vec::new();
            if changed.severity.changed {
                what.push(format!("severity {} -> {}", changed.severity.from.as_str(), changed.severity.to.as_str()));
            }
            if changed.events.changed {
                what.push(format!("events {} -> {}", changed.events.from, changed.events.to));
            }
            let day = |value: &Option<String>| {
                value.as_deref().map(|v| v[..10.min(v.len())].to_string()).unwrap_or("-".into())
            };
            if changed.first_seen.changed || changed.last_seen.changed {
                what.push(format!(
                    "period {}..{} -> {}..{}",
                    day(&changed.first_seen.from),
                    day(&changed.last_seen.from),
                    day(&changed.first_seen.to),
                    day(&changed.last_seen.to)
                ));
            }
            lines.push(format!("{:<9}{} {}: {}", "changed", changed.id, changed.detector, what.join("; ")));
        }
        lines.push(format!(
            "{} new, {} resolved, {} changed, {} unchanged",
            self.new.len(),
            self.resolved.len(),
            self.changed.len(),
            self.unchanged
        ));
        lines.join("\n")
    }
}

/// The differences from `a` to `b`, each list most severe first.
pub fn diff(a: &Baseline, b: &Baseline) -> Diff {
    let before: BTreeMap<&str, &Previous> = a.findings.iter().map(|p| (p.id.as_str(), p)).collect();
    let after: BTreeMap<&str, &Previous> = b.findings.iter().map(|p| (p.id.as_str(), p)).collect();
    let order = |list: &mut Vec<Previous>| {
        list.sort_by(|x, y| (x.severity, &x.detector, &x.id).cmp(&(y.severity, &y.detector, &y.id)))
    };
    let mut new: Vec<Previous> = b.findings.iter().filter(|p| !before.contains_key(p.id.as_str())).cloned().collect();
    let mut resolved: Vec<Previous> =
        a.findings.iter().filter(|p| !after.contains_key(p.id.as_str())).cloned().collect();
    order(&mut new);
    order(&mut resolved);
    let mut changed = Vec::new();
    let mut unchanged = 0;
    for (id, to) in &after {
        let Some(from) = before.get(id) else { continue };
        let entry = Changed {
            id: id.to_string(),
            detector: to.detector.clone(),
            severity: change(&from.severity, &to.severity),
            events: change(&from.events, &to.events),
            first_seen: change(&from.first_seen, &to.first_seen),
            last_seen: change(&from.last_seen, &to.last_seen),
            summary: to.summary.clone(),
        };
        if entry.severity.changed || entry.events.changed || entry.first_seen.changed || entry.last_seen.changed {
            changed.push(entry);
        } else {
            unchanged += 1;
        }
    }
    changed.sort_by(|x, y| (x.severity.to, &x.detector, &x.id).cmp(&(y.severity.to, &y.detector, &y.id)));
    Diff { new, resolved, changed, unchanged }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previous(id: &str, severity: Severity, events: u64) -> Previous {
        Previous {
            id: id.into(),
            detector: "retention_overrun".into(),
            severity,
            dataset: None,
            recipient: None,
            actor: None,
            target: None,
            purpose: None,
            first_seen: Some("2022-01-01T00:00:00Z".into()),
            last_seen: Some("2022-01-31T00:00:00Z".into()),
            events,
            summary: format!("{id} summary"),
        }
    }

    fn audit(findings: Vec<Previous>) -> Baseline {
        Baseline {
            findings_file: "x/findings.json".into(),
            findings_sha256: String::new(),
            manifest_sha256: None,
            key_id: None,
            revealed: None,
            findings,
        }
    }

    #[test]
    fn new_resolved_and_changed_findings() {
        let a = audit(vec![
            previous("DW-a", Severity::Medium, 3),
            previous("DW-b", Severity::Low, 1),
            previous("DW-c", Severity::Low, 2),
        ]);
        let b = audit(vec![
            previous("DW-a", Severity::High, 5),
            previous("DW-c", Severity::Low, 2),
            previous("DW-d", Severity::High, 1),
        ]);
        let diff = diff(&a, &b);
        assert_eq!(diff.new.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["DW-d"]);
        assert_eq!(diff.resolved.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["DW-b"]);
        assert_eq!(diff.changed.len(), 1);
        assert!(
            diff.changed[0].severity.changed && diff.changed[0].events.changed && !diff.changed[0].last_seen.changed
        );
        assert_eq!(diff.unchanged, 1);
        let text = diff.text();
        assert!(text.contains("changed  DW-a retention_overrun: severity medium -> high; events 3 -> 5"), "{text}");
        assert!(text.ends_with("1 new, 1 resolved, 1 changed, 1 unchanged"), "{text}");
        assert!(super::diff(&a, &a).is_empty());
    }
}
