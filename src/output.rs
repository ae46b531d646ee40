//! Printing: JSON for machines, readable text for people.

use std::io::{IsTerminal, Write};

use palimpsest_search::{DiffOp, DiffPart, FacetCount, Snippet};
use serde::Serialize;

/// `println!` for command output: when stdout is closed (`palimpsest search x | head`) the
/// process ends quietly with success instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

/// Writes one line to stdout; see [`outln!`].
pub fn write_line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {error}");
        std::process::exit(1);
    }
}

/// Whether an error is a closed stdout (`palimpsest search x | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints a value as pretty JSON followed by a newline.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints a list answer in `format`: JSON pretty-printed, JSON Lines or CSV as
/// [`palimpsest_export`] writes them.
pub fn listing<T: palimpsest_export::Listing>(
    value: &T,
    format: palimpsest_export::Format,
) -> anyhow::Result<()> {
    if format == palimpsest_export::Format::Json {
        return json(value);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    palimpsest_export::write(value, format, &mut out)?;
    out.flush()?;
    Ok(())
}

/// Styles for text output; plain when stdout is not a terminal.
pub struct Style {
    color: bool,
}

impl Style {
    /// Detects whether stdout is a terminal.
    pub fn detect() -> Style {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Styled text; a name from an archive or the index gets its control characters and
    /// bidirectional marks escaped, so it cannot move the cursor or reorder the line.
    fn wrap(&self, code: &str, text: &str) -> String {
        let text = palimpsest_schema::printable(text);
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.into_owned()
        }
    }

    /// Bold text.
    pub fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// Dimmed text.
    pub fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }

    /// A snippet with its matches in bold yellow on a terminal, otherwise between `**`.
    pub fn snippet(&self, snippet: &Snippet) -> String {
        let (open, close) = if self.color {
            ("\x1b[1;33m", "\x1b[0m")
        } else {
            ("**", "**")
        };
        let chars: Vec<char> = snippet.text.chars().collect();
        let mut out = String::with_capacity(snippet.text.len() + 16);
        let mut at = 0;
        for &[start, end] in &snippet.highlights {
            let (start, end) = (start.clamp(at, chars.len()), end.min(chars.len()));
            if start >= end {
                continue;
            }
            out.extend(&chars[at..start]);
            out.push_str(open);
            out.extend(&chars[start..end]);
            out.push_str(close);
            at = end;
        }
        out.extend(&chars[at..]);
        out
    }
}

impl Style {
    /// A word diff: deletions in red and insertions in green on a terminal, otherwise
    /// `[-deleted-]{+inserted+}` as `git diff --word-diff` prints them.
    pub fn diff(&self, parts: &[DiffPart]) -> String {
        let mut out = String::new();
        for part in parts {
            match (part.op, self.color) {
                (DiffOp::Equal, _) => out.push_str(&part.text),
                (DiffOp::Delete, true) => out.push_str(&self.wrap("9;31", &part.text)),
                (DiffOp::Insert, true) => out.push_str(&self.wrap("32", &part.text)),
                (DiffOp::Delete, false) => out.push_str(&format!("[-{}-]", part.text)),
                (DiffOp::Insert, false) => out.push_str(&format!("{{+{}+}}", part.text)),
            }
        }
        out
    }

    /// After a page: how many more there are and the `--offset` that shows them.
    pub fn more(&self, shown: usize, total: u64) {
        if (shown as u64) < total {
            outln!(
                "\n{}",
                self.dim(&format!(
                    "… {} more: --offset {shown}",
                    total - shown as u64
                ))
            );
        }
    }

    /// One facet as a dimmed line (`services: A (3), B (1)`), when it has several values:
    /// the first [`FACET_VALUES`], and how many more the line leaves out.
    pub fn facet(&self, name: &str, values: &[FacetCount]) {
        if values.len() > 1 {
            outln!("{}", self.dim(&facet_line(name, values.iter())));
        }
    }

    /// A facet of periods (months, years), given oldest first, as a dimmed line of the
    /// newest first: a line that stops keeps the latest periods.
    pub fn facet_by_time(&self, name: &str, values: &[FacetCount]) {
        if values.len() > 1 {
            outln!("{}", self.dim(&facet_line(name, values.iter().rev())));
        }
    }
}

/// Most values a facet line shows.
pub const FACET_VALUES: usize = 8;

/// `name: A (3), B (1), … and K more`.
fn facet_line<'a>(name: &str, values: impl ExactSizeIterator<Item = &'a FacetCount>) -> String {
    let total = values.len();
    let mut list: Vec<String> = values
        .take(FACET_VALUES)
        .map(|f| {
            format!(
                "{} ({})",
                if f.value.is_empty() { "—" } else { &f.value },
                f.count
            )
        })
        .collect();
    if total > list.len() {
        list.push(format!("… and {} more", total - list.len()));
    }
    format!("{name}: {}", list.join(", "))
}

/// A heading path for people.
pub fn section(path: &[String]) -> String {
    if path.is_empty() {
        "(before the first heading)".to_owned()
    } else {
        palimpsest_schema::printable(&path.join(" › ")).into_owned()
    }
}

/// Indents every line of a text block.
pub fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.trim_end()
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The noun for a count: the singular for one, else the plural.
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// A count with its noun: "1 version", "2 versions".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

/// A byte count for people.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A day, `YYYY-MM-DD`.
pub fn day(t: palimpsest_schema::Timestamp) -> String {
    t.to_string()[..10].to_owned()
}

/// An interval for people: its days, and its times too when it starts and ends on one day
/// (`2025-05-26 00:31 → 12:31 UTC`), so that two equal dates never stand for two instants.
pub fn interval(
    from: palimpsest_schema::Timestamp,
    to: Option<palimpsest_schema::Timestamp>,
) -> String {
    // Times to the minute, or to the second when both fall in one minute.
    let clock = |t: palimpsest_schema::Timestamp, end: usize| t.to_string()[11..end].to_owned();
    match to {
        None => format!("{} → now", day(from)),
        Some(to) if day(from) == day(to) => {
            let end = if clock(from, 16) == clock(to, 16) {
                19
            } else {
                16
            };
            format!(
                "{} {} → {} UTC",
                day(from),
                clock(from, end),
                clock(to, end)
            )
        }
        Some(to) => format!("{} → {}", day(from), day(to)),
    }
}

/// The "did you mean" line of a search whose misspelt words were matched by their nearest
/// indexed words.
pub fn did_you_mean(style: &Style, suggestion: Option<&str>) {
    if let Some(suggestion) = suggestion {
        outln!("{} {}", style.dim("did you mean:"), style.bold(suggestion));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_facet_line_that_stops_says_how_many_more_and_keeps_the_newest_periods() {
        let values: Vec<FacetCount> = (1..=10)
            .map(|m| FacetCount {
                value: format!("2025-{m:02}"),
                count: m,
            })
            .collect();
        let line = facet_line("months", values.iter().rev());
        assert!(
            line.starts_with("months: 2025-10 (10), 2025-09 (9)"),
            "{line}"
        );
        assert!(line.ends_with("2025-03 (3), … and 2 more"), "{line}");
        assert_eq!(
            facet_line("kinds", values[..2].iter()),
            "kinds: 2025-01 (1), 2025-02 (2)"
        );
    }

    #[test]
    fn equal_dates_showed_no_times() {
        let at = |s: &str| palimpsest_schema::Timestamp::parse(s).unwrap();
        assert_eq!(
            interval(at("2025-05-26T00:31:32Z"), Some(at("2025-05-26T12:31:30Z"))),
            "2025-05-26 00:31 → 12:31 UTC"
        );
        assert_eq!(
            interval(at("2025-05-21T12:31:31Z"), Some(at("2025-05-25T12:31:32Z"))),
            "2025-05-21 → 2025-05-25"
        );
        assert_eq!(
            interval(at("2025-07-11T10:11:03Z"), Some(at("2025-07-11T10:11:17Z"))),
            "2025-07-11 10:11:03 → 10:11:17 UTC"
        );
        assert_eq!(
            interval(at("2025-05-21T12:31:31Z"), None),
            "2025-05-21 → now"
        );
    }

    #[test]
    fn snippets_print_apostrophes_as_typed_with_matches_between_stars() {
        let style = Style { color: false };
        let snippet = Snippet {
            text: "Birdsong's <b> & data".to_owned(),
            highlights: vec![[17, 21], [30, 40]],
        };
        assert_eq!(style.snippet(&snippet), "Birdsong's <b> & **data**");
    }
}
