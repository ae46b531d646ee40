//! Names from an archive or a request, made safe to print on a terminal or in a log: a file
//! name holding a newline could otherwise add a line that looks like the program's own
//! output, and bidirectional marks could reorder what a reader sees.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with control characters, bidirectional marks and invisible format characters
/// written as escapes (`\n`, `\t`, `\u{202e}`); other text is unchanged (and not copied).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether a character must not reach a terminal as it is.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Bidirectional controls and marks, zero-width characters and other invisible format
/// characters: they change how a name reads, or make two names look the same.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newline_in_a_name_cannot_forge_a_line_of_output() {
        let forged = "a.md\nindexed 999 new versions of 999 documents in 0.1 s: all good";
        let shown = printable(forged);
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.starts_with("a.md\\nindexed 999"), "{shown}");
    }

    #[test]
    fn bidirectional_marks_and_other_controls_are_escaped() {
        assert_eq!(printable("evil\u{202e}txt.md"), "evil\\u{202e}txt.md");
        assert_eq!(printable("a\u{1b}[31mb\u{7f}"), "a\\u{1b}[31mb\\u{7f}");
        assert_eq!(printable("zero\u{200b}width"), "zero\\u{200b}width");
        assert!(matches!(printable("Café — Terms"), Cow::Borrowed(_)));
    }
}
