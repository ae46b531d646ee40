//! Entry points for the fuzz targets in `fuzz/`: the crate-private parsers they exercise,
//! reachable without making them part of the API. Not stable; not for other uses.

use serde_json::Value;

use crate::declarations::{Lookup, Rule, targets};
use crate::html;
use crate::listing::Format;

pub use crate::dataset::parse_file_name;

/// The text of an HTML snapshot, as the archive reader gets it.
#[derive(Debug)]
pub struct HtmlText {
    /// Markdown-like text; empty when the rule selected nothing.
    pub text: String,
    /// Whether the fallback chose the text.
    pub without_rules: bool,
    /// Whether the rule's `select` matched nothing.
    pub nothing_selected: bool,
    /// What was imperfect (decoding, nesting).
    pub warnings: Vec<String>,
}

/// Extracts `bytes` under a declaration rule given as JSON (`{"select": …, "remove": …}`, as
/// in a declaration file), or with the fallback when `rule` is `None`. A rule that does not
/// parse falls back, as a declaration with an invalid selector does.
pub fn extract_html(bytes: &[u8], rule: Option<&Value>) -> HtmlText {
    let parsed = rule.map(|json| -> Result<Rule, String> {
        let select = targets(json.get("select").ok_or("no `select`")?)?;
        if select.is_empty() {
            return Err("`select` is empty".into());
        }
        let remove = match json.get("remove") {
            Some(value) => targets(value)?,
            None => Vec::new(),
        };
        Ok(Rule { select, remove })
    });
    let lookup = match &parsed {
        None => Lookup::Undeclared,
        Some(Err(_)) => Lookup::Invalid,
        Some(Ok(rule)) => Lookup::Rule(rule),
    };
    let out = html::extract(bytes, lookup);
    HtmlText {
        text: out.text,
        without_rules: out.without_rules,
        nothing_selected: out.nothing_selected,
        warnings: out.warnings,
    }
}

/// The terms type a file name of the versions or folder layout names, and its format
/// (`md`, `html` or `pdf`).
pub fn format_of(name: &str) -> Option<(&str, &'static str)> {
    Format::of(name).map(|(stem, format)| {
        let format = match format {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Pdf => "pdf",
        };
        (stem, format)
    })
}
