//! Result lists for analysis tools: every list answer (search hits, changes, documents of a
//! history, trend points, versions, services) as JSON (the answer as it is), JSON Lines (one
//! item per line) or CSV (a header row, one row per item). The CLI's `--format` and the
//! API's `format=` both write through [`write`], so the two give the same bytes.
//!
//! CSV flattens nested values into text, with these rules: a heading path is joined with
//! ` > `, lists of words or collections with `; `, intervals as `from/to` pairs joined with
//! `; ` (`to` empty while in force), a change's diff as its inserted and its deleted text
//! (pieces joined with ` … `). A cell starting with `=`, `+`, `-`, `@` (or their fullwidth
//! forms `＝`, `＋`, `－`, `＠`), a tab or a carriage return gets a leading `'`, so that a
//! spreadsheet reads it as text, not as a formula (OWASP's advice on CSV injection).
//!
//! ```
//! use palimpsest_export::{Format, write};
//! use palimpsest_search::{TrendBucket, TrendResponse};
//!
//! let trend = TrendResponse { by: TrendBucket::Year, points: Vec::new() };
//! let mut csv = Vec::new();
//! write(&trend, Format::Csv, &mut csv).unwrap();
//! assert_eq!(String::from_utf8(csv).unwrap(), "period,start,documents,tracked,share\n");
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod listings;
mod stream;

pub use listings::{
    CHANGE_COLUMNS, DOCUMENT_COLUMNS, HIT_COLUMNS, VERSION_CHANGE_COLUMNS, change_columns,
};
pub use stream::ItemStream;

use std::io::Write;
use std::str::FromStr;

use serde::Serialize;

/// How a list answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The answer as one JSON document (totals and facets included).
    #[default]
    Json,
    /// One JSON object per line, one per item.
    Jsonl,
    /// A header row, then one row per item.
    Csv,
}

impl Format {
    /// Every format's name, as parameters spell it.
    pub const NAMES: [&'static str; 3] = ["json", "jsonl", "csv"];

    /// The format's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }

    /// The HTTP media type of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Jsonl => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// A format name that is not one of [`Format::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`: use json, jsonl or csv")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Format, UnknownFormat> {
        match name {
            "json" => Ok(Format::Json),
            "jsonl" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

/// A list answer as rows and as items.
pub trait Listing: Serialize {
    /// The CSV header.
    fn columns(&self) -> &'static [&'static str];
    /// One row of cells per item, in [`Listing::columns`] order.
    fn rows(&self) -> Vec<Vec<String>>;
    /// Writes one JSON object per item and line (JSON Lines), fields in their JSON order.
    fn write_lines(&self, out: &mut dyn Write) -> Result<(), ExportError>;
}

/// One item of a list as a CSV row.
pub trait Record: Serialize {
    /// Its cells, in the order of its list's columns.
    fn row(&self) -> Vec<String>;
}

/// Writes each item as one line of JSON.
pub(crate) fn lines<T: Serialize>(items: &[T], out: &mut dyn Write) -> Result<(), ExportError> {
    for item in items {
        serde_json::to_writer(&mut *out, item)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writing failed: the output went away or a value could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
    /// A value could not be written as JSON.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A row could not be written as CSV.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Writes `answer` in `format` to `out` (JSON compact; the CLI pretty-prints on its own).
pub fn write<T: Listing>(
    answer: &T,
    format: Format,
    mut out: impl Write,
) -> Result<(), ExportError> {
    match format {
        Format::Json => serde_json::to_writer(&mut out, answer)?,
        Format::Jsonl => answer.write_lines(&mut out)?,
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(answer.columns())?;
            for row in answer.rows() {
                csv.write_record(row.iter().map(|cell| safe_cell(cell).into_owned()))?;
            }
            csv.flush()?;
        }
    }
    Ok(())
}

/// A cell a spreadsheet reads as text: one that would start a formula gets a leading `'`.
/// The fullwidth forms count too: spreadsheets set up for East Asian input read `＝1+1` as
/// `=1+1`.
pub fn safe_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠') => {
            format!("'{cell}").into()
        }
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("-1+2"), "'-1+2");
        assert_eq!(safe_cell("Privacy Policy"), "Privacy Policy");
        assert_eq!(safe_cell(""), "");
    }

    #[test]
    fn fullwidth_formula_starters_are_written_as_text() {
        assert_eq!(safe_cell("＝HYPERLINK(\"x\")"), "'＝HYPERLINK(\"x\")");
        assert_eq!(safe_cell("＋1"), "'＋1");
        assert_eq!(safe_cell("－1+2"), "'－1+2");
        assert_eq!(safe_cell("＠SUM(A1)"), "'＠SUM(A1)");
        assert_eq!(safe_cell("Ｐrivacy"), "Ｐrivacy");
    }

    #[test]
    fn format_names_round_trip() {
        for name in Format::NAMES {
            assert_eq!(name.parse::<Format>().unwrap().as_str(), name);
        }
        assert!("xml".parse::<Format>().is_err());
    }
}
