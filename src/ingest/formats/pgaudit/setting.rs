//! The end user a pooled application names in a custom setting (a GUC such as `app.end_user`).
//!
//! Behind a connection pool every statement comes from the pool's account; applications that
//! want the database to know who acts set a custom parameter per request:
//! `SET app.end_user = 'ag01'`, `SET LOCAL app.end_user TO 'ag01'` or
//! `SELECT set_config('app.end_user', $1, true)`. pgAudit logs those statements (`SET` in the
//! `misc` class, `set_config` as a `read` of a function), so the log itself says, per session,
//! whom the following statements act for. `RESET app.end_user`, `RESET ALL` and `DISCARD ALL`
//! (what poolers send when a connection goes back to the pool) forget it.

use regex::Regex;

/// What a statement does to the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(String),
    Reset,
}

/// Recognises the statements that set or reset one custom parameter.
pub struct SettingWatcher {
    set: Regex,
    reset: Regex,
    set_config: Regex,
}

/// Whether a name is a custom parameter PostgreSQL accepts from an application: `prefix.name`.
pub fn is_custom_parameter(name: &str) -> bool {
    let mut parts = name.split('.');
    let word = |part: Option<&str>| {
        part.is_some_and(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    word(parts.next()) && word(parts.next()) && parts.next().is_none()
}

impl SettingWatcher {
    /// A watcher of `name` (already checked by [`is_custom_parameter`]).
    pub fn new(name: &str) -> SettingWatcher {
        let name = regex::escape(&name.to_lowercase());
        let value = r#"(?:'(?P<quoted>(?:[^']|'')*)'|"(?P<ident>[^"]*)"|(?P<bare>[^\s;']+))"#;
        // Cannot fail: constant patterns, compiled by every test that reads a pgAudit log.
        let compile = |pattern: String| Regex::new(&pattern).expect("the setting patterns are valid");
        SettingWatcher {
            set: compile(format!(r"(?is)^\s*set\s+(?:session\s+|local\s+)?{name}\s*(?:=|\bto\b)\s*{value}\s*;?\s*$")),
            reset: compile(format!(r"(?is)^\s*(?:reset\s+{name}|reset\s+all|discard\s+all)\s*;?\s*$")),
            set_config: compile(format!(
                r"(?is)\bset_config\s*\(\s*'{name}'\s*,\s*(?:'(?P<quoted>(?:[^']|'')*)'|(?P<parameter>\$\d+))"
            )),
        }
    }

    /// What `sql` (with pgAudit's logged `parameters`) does to the setting, if anything.
    pub fn change(&self, sql: &str, parameters: &str) -> Option<Change> {
        // Cheap refusal first: most statements mention neither keyword.
        let lower = sql.get(..sql.len().min(64)).unwrap_or(sql).to_ascii_lowercase();
        let might_set = lower.trim_start().starts_with("set") || lower.trim_start().starts_with("reset");
        let might_discard = lower.trim_start().starts_with("discard");
        if might_set || might_discard {
            if self.reset.is_match(sql) {
                return Some(Change::Reset);
            }
            if let Some(captures) = self.set.captures(sql) {
                let value = ["quoted", "ident", "bare"].iter().find_map(|g| captures.name(g)).map(|m| m.as_str());
                let value = value.unwrap_or_default();
                if value.eq_ignore_ascii_case("default") && captures.name("quoted").is_none() {
                    return Some(Change::Reset);
                }
                return Some(Change::Set(value.replace("''", "'")));
            }
        }
        let captures = self.set_config.captures(sql)?;
        let value = match (captures.name("quoted"), captures.name("parameter")) {
            (Some(quoted), _) => quoted.as_str().replace("''", "'"),
            (None, Some(parameter)) => {
                let value = super::parameter_value(parameter.as_str(), parameters);
                if value == parameter.as_str() {
                    return None; // parameters not logged: the value is unknown
                }
                value
            }
            (None, None) => return None,
        };
        Some(if value.is_empty() { Change::Reset } else { Change::Set(value) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_parameter_names() {
        assert!(is_custom_parameter("app.end_user") && is_custom_parameter("myapp._user1"));
        for bad in ["user_name", "app.", ".user", "a.b.c", "app.end-user", "1app.user"] {
            assert!(!is_custom_parameter(bad), "{bad}");
        }
    }

    #[test]
    fn set_reset_and_set_config() {
        let watcher = SettingWatcher::new("app.end_user");
        let set = |v: &str| Some(Change::Set(v.to_string()));
        assert_eq!(watcher.change("SET app.end_user = 'ag01'", "<none>"), set("ag01"));
        assert_eq!(watcher.change("set local app.end_user to ag02;", "<none>"), set("ag02"));
        assert_eq!(watcher.change("SET SESSION app.end_user = 'o''neil'", "<none>"), set("o'neil"));
        assert_eq!(watcher.change("SET app.end_user TO DEFAULT", "<none>"), Some(Change::Reset));
        assert_eq!(watcher.change("RESET app.end_user", "<none>"), Some(Change::Reset));
        assert_eq!(watcher.change("DISCARD ALL", "<none>"), Some(Change::Reset));
        assert_eq!(watcher.change("reset all;", "<none>"), Some(Change::Reset));
        assert_eq!(watcher.change("select set_config('app.end_user', 'ag03', false)", "<none>"), set("ag03"));
        assert_eq!(watcher.change("SELECT set_config('app.end_user', $1, true)", "ag04"), set("ag04"));
        assert_eq!(watcher.change("SELECT set_config('app.end_user', $1, true)", "<not logged>"), None);
        assert_eq!(watcher.change("SET app.other = 'x'", "<none>"), None);
        assert_eq!(watcher.change("SET search_path = public", "<none>"), None);
        assert_eq!(watcher.change("select * from suites where agent_id = 'ag01'", "<none>"), None);
    }
}
