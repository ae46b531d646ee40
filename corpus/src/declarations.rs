//! Open Terms Archive declarations: which part of a snapshot page is the document.
//!
//! A folder holds `<service id>.json` (`{"name", "terms": {"<terms type>": {"fetch",
//! "select", "remove", "filter", …}}}`) and optionally `<service id>.history.json`
//! (`{"<terms type>": [{"select", "remove", "validUntil"}, …]}`): the rules in force before
//! each `validUntil`. `select` and `remove` are a CSS selector, a range object
//! (`{"startBefore" | "startAfter": selector, "endBefore" | "endAfter": selector}`) or an
//! array of both.
//!
//! Every selector is parsed when the folder is loaded. A rule with an invalid selector is kept
//! as invalid, with a warning naming the service, the terms type and the selector: the
//! snapshots it governs are extracted with the fallback instead. `filter` names JavaScript
//! functions, which cannot run here: they are ignored, with one warning for the whole folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use palimpsest_schema::Timestamp;
use scraper::Selector;
use serde_json::Value;

use crate::error::Result;
use crate::walk::entries;
use crate::warning::Warning;

/// What selects (or removes) part of a page.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// Every element matching a selector, in document order.
    Css(Selector),
    /// The content between two elements (the first match of each), in document order.
    Range {
        start: Selector,
        /// Whether the range starts before the start element (it is included) or after it.
        start_before: bool,
        end: Selector,
        /// Whether the range ends before the end element (it is excluded) or after it.
        end_before: bool,
    },
}

/// The extraction rule of one document, as in force at some date.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// What to keep, in order; the union of the matches.
    pub select: Vec<Target>,
    /// What to drop from the page before selecting.
    pub remove: Vec<Target>,
}

/// A rule, or why it cannot be applied.
#[derive(Debug, Clone)]
pub(crate) enum RuleEntry {
    Valid(Rule),
    /// A selector did not parse; the warning was given when loading.
    Invalid,
}

/// The rule governing a snapshot.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'a> {
    /// No declaration for the document: extract with the fallback.
    Undeclared,
    /// The declaration in force has an invalid selector: extract with the fallback.
    Invalid,
    /// Extract with this rule.
    Rule(&'a Rule),
}

#[derive(Debug, Clone, Default)]
struct Document {
    current: Option<RuleEntry>,
    /// Earlier rules, sorted by the instant they stopped being in force.
    history: Vec<(Timestamp, RuleEntry)>,
}

/// The declarations of a folder, parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct Declarations {
    /// By service id, then terms type.
    documents: HashMap<String, HashMap<String, Document>>,
    path: PathBuf,
}

impl Declarations {
    /// Loads `<service>.json` and `<service>.history.json` from `dir` (or from its
    /// `declarations/` subfolder, as in a declarations repository). Problems with single
    /// files or rules are returned as warnings; only an unreadable folder is an error.
    pub fn load(dir: &Path) -> Result<(Declarations, Vec<Warning>)> {
        let nested = dir.join("declarations");
        let dir = if nested.is_dir() {
            nested
        } else {
            dir.to_owned()
        };
        let mut declarations = Declarations {
            documents: HashMap::new(),
            path: dir.clone(),
        };
        let mut warnings = Vec::new();
        let mut filtered = Vec::new();
        let mut files = 0;
        for entry in entries(&dir)? {
            if !entry.is_file {
                continue;
            }
            let (service, history) = if let Some(s) = entry.name.strip_suffix(".history.json") {
                (s, true)
            } else if let Some(s) = entry.name.strip_suffix(".json") {
                (s, false)
            } else {
                continue;
            };
            files += 1;
            let warn = |reason: String| Warning {
                path: entry.path.display().to_string(),
                reason,
            };
            let json = match std::fs::read(&entry.path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()))
            {
                Ok(json) => json,
                Err(e) => {
                    warnings.push(warn(format!("declaration skipped: {e}")));
                    continue;
                }
            };
            let documents = declarations
                .documents
                .entry(service.to_owned())
                .or_default();
            let mut context = Context {
                service,
                warnings: &mut warnings,
                file: &entry.path,
                filtered: &mut filtered,
            };
            if history {
                let Some(terms) = json.as_object() else {
                    context.warn("declaration skipped: expected an object of terms types".into());
                    continue;
                };
                for (terms_type, entries) in terms {
                    let Some(entries) = entries.as_array() else {
                        context.warn(format!(
                            "{terms_type}: history skipped: expected an array of rules"
                        ));
                        continue;
                    };
                    let document = documents.entry(terms_type.clone()).or_default();
                    for rule in entries {
                        let until = rule
                            .get("validUntil")
                            .and_then(Value::as_str)
                            .and_then(|s| Timestamp::parse(s).ok());
                        let Some(until) = until else {
                            context.warn(format!(
                                "{terms_type}: history rule skipped: no valid `validUntil`"
                            ));
                            continue;
                        };
                        let entry = context.rule(terms_type, rule);
                        document.history.push((until, entry));
                    }
                    document.history.sort_by_key(|(until, _)| *until);
                }
            } else {
                let Some(terms) = json.get("terms").and_then(Value::as_object) else {
                    context.warn("declaration skipped: no `terms` object".into());
                    continue;
                };
                for (terms_type, rule) in terms {
                    let entry = context.rule(terms_type, rule);
                    documents.entry(terms_type.clone()).or_default().current = Some(entry);
                }
            }
        }
        if files == 0 {
            warnings.push(Warning {
                path: dir.display().to_string(),
                reason: "no declaration (<service>.json) found".into(),
            });
        }
        if !filtered.is_empty() {
            warnings.push(Warning {
                path: dir.display().to_string(),
                reason: format!(
                    "`filter` ignored in {} rules ({}…): declaration filters are JavaScript \
                     functions, which are not run",
                    filtered.len(),
                    filtered[0]
                ),
            });
        }
        Ok((declarations, warnings))
    }

    /// The folder the declarations were read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many documents have a declaration.
    pub fn len(&self) -> usize {
        self.documents.values().map(HashMap::len).sum()
    }

    /// Whether no document has a declaration.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rule in force for a document at `at`: the first history entry (by `validUntil`)
    /// still valid after `at`, else the current declaration.
    pub(crate) fn rule(&self, service: &str, terms_type: &str, at: Timestamp) -> Lookup<'_> {
        let Some(document) = self
            .documents
            .get(service)
            .and_then(|terms| terms.get(terms_type))
        else {
            return Lookup::Undeclared;
        };
        let entry = document
            .history
            .iter()
            .find(|(until, _)| *until > at)
            .map(|(_, entry)| entry)
            .or(document.current.as_ref());
        match entry {
            None => Lookup::Undeclared,
            Some(RuleEntry::Invalid) => Lookup::Invalid,
            Some(RuleEntry::Valid(rule)) => Lookup::Rule(rule),
        }
    }
}

struct Context<'a> {
    service: &'a str,
    file: &'a Path,
    warnings: &'a mut Vec<Warning>,
    filtered: &'a mut Vec<String>,
}

impl Context<'_> {
    fn warn(&mut self, reason: String) {
        self.warnings.push(Warning {
            path: self.file.display().to_string(),
            reason,
        });
    }

    fn rule(&mut self, terms_type: &str, json: &Value) -> RuleEntry {
        if json.get("filter").is_some() {
            self.filtered
                .push(format!("{} / {terms_type}", self.service));
        }
        let parsed = (|| -> std::result::Result<Rule, String> {
            let select = match json.get("select") {
                Some(value) => targets(value)?,
                None => return Err("no `select`".into()),
            };
            if select.is_empty() {
                return Err("`select` is empty".into());
            }
            let remove = match json.get("remove") {
                Some(value) => targets(value)?,
                None => Vec::new(),
            };
            Ok(Rule { select, remove })
        })();
        match parsed {
            Ok(rule) => RuleEntry::Valid(rule),
            Err(reason) => {
                self.warn(format!(
                    "{} / {terms_type}: {reason}; its snapshots are extracted without rules",
                    self.service
                ));
                RuleEntry::Invalid
            }
        }
    }
}

fn selector(text: &str) -> std::result::Result<Selector, String> {
    Selector::parse(text).map_err(|e| format!("invalid selector `{text}` ({e})"))
}

pub(crate) fn targets(value: &Value) -> std::result::Result<Vec<Target>, String> {
    match value {
        Value::Array(items) => items.iter().map(target).collect(),
        other => Ok(vec![target(other)?]),
    }
}

fn target(value: &Value) -> std::result::Result<Target, String> {
    match value {
        Value::String(text) => Ok(Target::Css(selector(text)?)),
        Value::Object(range) => {
            let side = |before: &str,
                        after: &str|
             -> std::result::Result<(Selector, bool), String> {
                match (range.get(before), range.get(after)) {
                    (Some(Value::String(s)), None) => Ok((selector(s)?, true)),
                    (None, Some(Value::String(s))) => Ok((selector(s)?, false)),
                    _ => Err(format!(
                        "invalid range `{value}`: give one of `{before}` or `{after}` as a selector"
                    )),
                }
            };
            let (start, start_before) = side("startBefore", "startAfter")?;
            let (end, end_before) = side("endBefore", "endAfter")?;
            Ok(Target::Range {
                start,
                start_before,
                end,
                end_before,
            })
        }
        other => Err(format!(
            "invalid selector `{other}`: expected a string or a range"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn select_count(lookup: Lookup<'_>) -> Option<usize> {
        match lookup {
            Lookup::Rule(rule) => Some(rule.select.len()),
            _ => None,
        }
    }

    #[test]
    fn strings_arrays_and_ranges_parse() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "Acme.json",
            r##"{"name": "Acme", "terms": {
                "Terms of Service": {"fetch": "https://a", "select": "main", "remove": ".ad"},
                "Privacy Policy": {"fetch": "https://a", "select": ["#a", "#b"],
                                   "remove": [".x", {"startBefore": "h2", "endAfter": "#end"}]},
                "Imprint": {"fetch": "https://a", "select": {"startAfter": "h1", "endBefore": "footer"}}
            }}"##,
        );
        let (declarations, warnings) = Declarations::load(dir.path()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(declarations.len(), 3);
        let now = at("2025-01-01");
        assert_eq!(
            select_count(declarations.rule("Acme", "Terms of Service", now)),
            Some(1)
        );
        let Lookup::Rule(privacy) = declarations.rule("Acme", "Privacy Policy", now) else {
            panic!("privacy rule");
        };
        assert_eq!(privacy.select.len(), 2);
        assert!(matches!(
            privacy.remove[1],
            Target::Range {
                start_before: true,
                end_before: false,
                ..
            }
        ));
        let Lookup::Rule(imprint) = declarations.rule("Acme", "Imprint", now) else {
            panic!("imprint rule");
        };
        assert!(matches!(
            imprint.select[0],
            Target::Range {
                start_before: false,
                end_before: true,
                ..
            }
        ));
        assert!(matches!(
            declarations.rule("Acme", "Cookies", now),
            Lookup::Undeclared
        ));
        assert!(matches!(
            declarations.rule("Nobody", "Terms of Service", now),
            Lookup::Undeclared
        ));
    }

    #[test]
    fn history_rule_in_force_at_a_date() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("declarations")).unwrap();
        let decl = dir.path().join("declarations");
        write(
            &decl,
            "Acme.json",
            r#"{"name": "Acme", "terms": {"Terms of Service": {"fetch": "x", "select": "main"}}}"#,
        );
        // Out of order on purpose: entries are sorted by validUntil.
        write(
            &decl,
            "Acme.history.json",
            r##"{"Terms of Service": [
                {"fetch": "x", "select": ["#b1", "#b2", "#b3"], "validUntil": "2024-06-01T00:00:00Z"},
                {"fetch": "x", "select": ["#a1", "#a2"], "validUntil": "2024-01-01T00:00:00Z"}
            ]}"##,
        );
        let (declarations, warnings) = Declarations::load(dir.path()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let rule = |t| select_count(declarations.rule("Acme", "Terms of Service", at(t)));
        assert_eq!(rule("2023-05-01"), Some(2));
        assert_eq!(
            rule("2024-01-01T00:00:00Z"),
            Some(3),
            "validUntil is exclusive"
        );
        assert_eq!(rule("2024-03-01"), Some(3));
        assert_eq!(rule("2024-06-01"), Some(1));
        assert_eq!(rule("2026-01-01"), Some(1));
    }

    #[test]
    fn invalid_selectors_and_filters_are_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "Acme.json",
            r#"{"name": "Acme", "terms": {
                "Terms of Service": {"fetch": "x", "select": "main >> ::oops("},
                "Privacy Policy": {"fetch": "x", "select": "main", "filter": ["removeAds"]},
                "Imprint": {"fetch": "x", "select": {"startBefore": "h1"}}
            }}"#,
        );
        write(dir.path(), "Broken.json", "{ not json");
        let (declarations, warnings) = Declarations::load(dir.path()).unwrap();
        let text: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        let all = text.join("\n");
        assert!(
            all.contains("Acme / Terms of Service: invalid selector `main >> ::oops(`"),
            "{all}"
        );
        assert!(all.contains("Acme / Imprint: invalid range"), "{all}");
        assert!(all.contains("Broken.json: declaration skipped"), "{all}");
        assert!(all.contains("`filter` ignored in 1 rules"), "{all}");
        let now = at("2025-01-01");
        assert!(matches!(
            declarations.rule("Acme", "Terms of Service", now),
            Lookup::Invalid
        ));
        assert!(matches!(
            declarations.rule("Acme", "Privacy Policy", now),
            Lookup::Rule(_)
        ));
    }
}
