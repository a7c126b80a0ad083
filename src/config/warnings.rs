//! What a configuration allows but an admin probably did not mean: a value that looks like an
//! environment variable that was not expanded (only a whole value `${VAR}` is), a rule that
//! matches every ticket, a rule that an earlier rule on the same connection shadows, a
//! deprecated key. `check` prints these; `serve` logs them.

use super::{load::ConfigError, Config, MatchConfig};

/// Strings of the file as written (before `${VAR}` and `file:` are resolved) that look like a
/// variable meant to be replaced: `$NAME`, or `${NAME}` inside a longer value.
pub(super) fn unexpanded(raw: &toml::Value, file: &str) -> Vec<ConfigError> {
    let mut out = vec![];
    walk(raw, &mut String::new(), &mut |path, s| {
        let whole = s.starts_with("${") && s.ends_with('}') && s.matches("${").count() == 1;
        if !whole && (s.contains("${") || bare_variable(s)) {
            out.push(ConfigError::new(
                file,
                path,
                "looks like an environment variable, but only a whole value written as \
                 \"${NAME}\" is replaced: this one is taken literally",
            ));
        }
    });
    out
}

/// `$NAME` with NAME in capitals, digits and `_` (at least two characters).
fn bare_variable(s: &str) -> bool {
    s.match_indices('$').any(|(i, _)| {
        let name: String = s[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        name.len() >= 2 && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
    })
}

fn walk(v: &toml::Value, path: &mut String, f: &mut dyn FnMut(&str, &str)) {
    match v {
        toml::Value::String(s) => f(path, s),
        toml::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, f);
                path.truncate(len);
            }
        }
        toml::Value::Table(t) => {
            for (k, item) in t {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(item, path, f);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Each condition of a rule by name, with its values.
pub fn conditions(m: &MatchConfig) -> [(&'static str, &Vec<String>); 11] {
    [
        ("queue", &m.queue),
        ("priority", &m.priority),
        ("tags_any", &m.tags_any),
        ("tags_all", &m.tags_all),
        ("category", &m.category),
        ("requester_domain", &m.requester_domain),
        ("project", &m.project),
        ("brand", &m.brand),
        ("workspace", &m.workspace),
        ("service_desk", &m.service_desk),
        ("request_type", &m.request_type),
    ]
}

/// Whether the rule has no condition: it takes every ticket of its connection.
pub fn matches_everything(m: &MatchConfig) -> bool {
    conditions(m).iter().all(|(_, v)| v.is_empty())
}

fn subset(a: &[String], of: &[String]) -> bool {
    a.iter()
        .all(|x| of.iter().any(|y| x.trim().eq_ignore_ascii_case(y.trim())))
}

/// Whether every ticket `later` matches, `earlier` matches too: each condition of `earlier`
/// is implied by `later`'s (a list of values within `earlier`'s list; for `tags_all`,
/// `earlier`'s tags are among `later`'s).
fn shadows(earlier: &MatchConfig, later: &MatchConfig) -> bool {
    conditions(earlier)
        .into_iter()
        .zip(conditions(later))
        .all(|((name, e), (_, l))| match name {
            _ if e.is_empty() => true,
            "tags_all" => subset(e, &later.tags_all),
            "tags_any" => {
                (!l.is_empty() && subset(l, e))
                    || later
                        .tags_all
                        .iter()
                        .any(|t| subset(std::slice::from_ref(t), e))
            }
            _ => !l.is_empty() && subset(l, e),
        })
}

/// Rules that match every ticket, and rules an earlier rule on the same connection shadows
/// (first match wins, so they never match).
pub(super) fn of_rules(cfg: &Config, file: &str) -> Vec<ConfigError> {
    let mut out = vec![];
    for (i, r) in cfg.rules.iter().enumerate() {
        let at = format!("rule[{i}] ({:?}).match", r.name);
        if matches_everything(&r.matches) {
            out.push(ConfigError::new(
                file,
                &at,
                format!(
                    "has no condition: it matches every ticket of connection {:?}",
                    r.connection.as_str()
                ),
            ));
        }
        let earlier = cfg.rules[..i]
            .iter()
            .find(|e| e.connection == r.connection && shadows(&e.matches, &r.matches));
        if let Some(e) = earlier {
            out.push(ConfigError::new(file, &at, format!(
                "never matches: the earlier rule {:?} on the same connection takes every ticket it would (first match wins)",
                e.name
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(queue: &[&str], priority: &[&str]) -> MatchConfig {
        MatchConfig {
            queue: queue.iter().map(|s| s.to_string()).collect(),
            priority: priority.iter().map(|s| s.to_string()).collect(),
            ..MatchConfig::default()
        }
    }

    #[test]
    fn a_narrower_later_rule_is_shadowed_and_a_wider_or_other_one_is_not() {
        assert!(shadows(
            &m(&["Service Desk"], &[]),
            &m(&["service desk"], &["1"])
        ));
        assert!(shadows(&m(&[], &[]), &m(&["x"], &[])));
        assert!(!shadows(&m(&["A"], &[]), &m(&["A", "B"], &[])));
        assert!(!shadows(&m(&["A"], &["1"]), &m(&["A"], &[])));
    }

    #[test]
    fn only_whole_variables_are_replaced_and_the_others_are_warned_of() {
        let raw: toml::Value = toml::from_str(
            "a = \"$SPLASHTOP_API_TOKEN\"\nb = \"Bearer ${T}\"\nc = \"${T}\"\nd = \"pa$$word\"\n",
        )
        .unwrap();
        let fields: Vec<String> = unexpanded(&raw, "x").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["a", "b"]);
    }
}

/// Keys that still load but no longer do anything.
pub(super) fn deprecated(cfg: &Config, file: &str) -> Vec<ConfigError> {
    let mut out = vec![];
    if let Some(n) = cfg.worker.retry.attempts {
        out.push(ConfigError::new(
            file,
            "worker.retry.attempts",
            format!(
                "{n} is ignored (deprecated): transient failures are retried until the phase's \
                 budget runs out (worker.retry.link_budget, worker.retry.artifacts_budget); \
                 remove the key"
            ),
        ));
    }
    out
}
