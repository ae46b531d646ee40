//! Comparing sections: pairing what one version removed with what the next one added, and
//! word-level diffs of a section's text.

use std::time::Instant;

use palimpsest_schema::paragraphs;
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices_deadline};

use crate::deadline::Deadline;
use crate::error::Result;

pub use palimpsest_schema::{ChangeKind, Pairing, SectionKey, pair_sections};

/// What a word-level diff part does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiffOp {
    /// Text in both.
    Equal,
    /// Text only in the later version.
    Insert,
    /// Text only in the earlier version.
    Delete,
}

/// One run of a word-level diff. The `equal` and `delete` parts, in order, give the text
/// before; the `equal` and `insert` parts give the text after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffPart {
    /// `equal`, `insert` or `delete`.
    pub op: DiffOp,
    /// The text, whitespace included.
    pub text: String,
}

/// Most lines, before and after together, of the changed middle of two texts (what lies
/// between their common first and last lines) that are diffed line by line. Myers' diff
/// costs the lines times the lines that differ, so 80,000 rewritten lines took 33 s: a middle
/// over the cap is diffed paragraph by paragraph instead (paragraphs as the text store cuts
/// them, after blank lines), each changed run of paragraphs line by line if it is under the
/// cap, and shown as deleted and inserted whole if not.
pub const DIFF_LINES: usize = 4_000;

/// Most paragraphs, before and after together, of a changed middle over [`DIFF_LINES`] that
/// are diffed paragraph by paragraph; past it the middle is shown as deleted and inserted
/// whole.
pub const DIFF_PARAGRAPHS: usize = 4_000;

/// Most lines diffed line by line in one diff, in all (a middle diffed by paragraphs may hold
/// many changed runs each under [`DIFF_LINES`]); the runs past it are shown as deleted and
/// inserted whole.
pub const DIFF_LINES_TOTAL: usize = 4 * DIFF_LINES;

/// Most characters (before and after together) of a changed run of lines that is diffed word
/// by word; a longer run is shown as deleted and inserted whole.
pub const WORD_DIFF_CHARS: usize = 16_000;

/// Most characters of changed runs diffed word by word in one diff, in all; the runs past it
/// are shown as deleted and inserted whole.
pub const WORD_DIFF_TOTAL_CHARS: usize = 64_000;

/// A word-level diff of two texts: runs of equal, deleted and inserted words. Lines are
/// compared first; each run of changed lines is then compared word by word.
///
/// Every step is capped ([`DIFF_LINES`], [`DIFF_LINES_TOTAL`], [`DIFF_PARAGRAPHS`],
/// [`WORD_DIFF_CHARS`], [`WORD_DIFF_TOTAL_CHARS`]): past a cap the diff is coarser (paragraphs, or a run deleted
/// and inserted whole) but still gives back both texts, so the same texts always give the
/// same diff and its cost is bounded without a clock.
pub fn word_diff(before: &str, after: &str) -> Vec<DiffPart> {
    Differ::new(None).diff(before, after)
}

/// [`word_diff`] within an operation's deadline: the diff's own loops look at the clock, and
/// once the deadline has passed the diff is abandoned with [`SearchError::Timeout`].
pub(crate) fn timed_word_diff(
    before: &str,
    after: &str,
    deadline: Deadline,
) -> Result<Vec<DiffPart>> {
    deadline.check()?;
    let parts = Differ::new(deadline.instant()).diff(before, after);
    // Past the deadline the diff's loops gave up and answered something coarser: never shown.
    deadline.check()?;
    Ok(parts)
}

/// One diff's stages and what it has left of its caps.
struct Differ {
    deadline: Option<Instant>,
    lines_left: usize,
    word_chars_left: usize,
    parts: Vec<DiffPart>,
}

impl Differ {
    fn new(deadline: Option<Instant>) -> Differ {
        Differ {
            deadline,
            lines_left: DIFF_LINES_TOTAL,
            word_chars_left: WORD_DIFF_TOTAL_CHARS,
            parts: Vec::new(),
        }
    }

    /// The whole diff: the common first and last lines, and the changed middle between.
    fn diff(mut self, before: &str, after: &str) -> Vec<DiffPart> {
        let ends = CommonLines::of(before, after);
        self.push(DiffOp::Equal, &before[..ends.prefix]);
        let middle = (
            &before[ends.prefix..before.len() - ends.suffix],
            &after[ends.prefix..after.len() - ends.suffix],
        );
        self.middle(middle.0, middle.1);
        self.push(DiffOp::Equal, &before[before.len() - ends.suffix..]);
        self.parts
    }

    /// A changed middle: by lines under the cap, else by paragraphs, else replaced whole.
    fn middle(&mut self, before: &str, after: &str) {
        if self.lines_fit(before, after) {
            return self.by_lines(before, after);
        }
        let (old, new): (Vec<&str>, Vec<&str>) =
            (paragraphs(before).collect(), paragraphs(after).collect());
        if old.len() + new.len() > DIFF_PARAGRAPHS {
            return self.replaced(before, after);
        }
        let ops = capture_diff_slices_deadline(Algorithm::Myers, &old, &new, self.deadline);
        for op in ops {
            let (tag, removed, added) = runs(&op, &old, &new);
            match tag {
                DiffTag::Equal => self.push(DiffOp::Equal, &removed),
                _ if self.lines_fit(&removed, &added) => self.by_lines(&removed, &added),
                _ => self.replaced(&removed, &added),
            }
        }
    }

    /// Whether a changed run is within the line caps; if so, its lines are counted as diffed.
    fn lines_fit(&mut self, before: &str, after: &str) -> bool {
        let lines = line_count(before) + line_count(after);
        let fits = lines <= DIFF_LINES && lines <= self.lines_left;
        if fits {
            self.lines_left -= lines;
        }
        fits
    }

    /// A line diff, each changed run of lines then diffed word by word.
    fn by_lines(&mut self, before: &str, after: &str) {
        let old: Vec<&str> = before.split_inclusive('\n').collect();
        let new: Vec<&str> = after.split_inclusive('\n').collect();
        let ops = capture_diff_slices_deadline(Algorithm::Myers, &old, &new, self.deadline);
        for op in ops {
            let (tag, removed, added) = runs(&op, &old, &new);
            match tag {
                DiffTag::Equal => self.push(DiffOp::Equal, &removed),
                DiffTag::Delete => self.push(DiffOp::Delete, &removed),
                DiffTag::Insert => self.push(DiffOp::Insert, &added),
                DiffTag::Replace => self.by_words(&removed, &added),
            }
        }
    }

    /// A changed run of lines diffed word by word, or replaced whole past the caps or when
    /// the two sides have too little in common to read as an edit ([`REWRITE_OVERLAP`]).
    fn by_words(&mut self, removed: &str, added: &str) {
        let size = removed.len() + added.len();
        if size > WORD_DIFF_CHARS || size > self.word_chars_left {
            return self.replaced(removed, added);
        }
        self.word_chars_left -= size;
        let (old, new) = (tokens(removed), tokens(added));
        if word_overlap(&old, &new) < REWRITE_OVERLAP {
            return self.replaced(removed, added);
        }
        // Patience anchors on the tokens found once on each side and diffs only the gaps
        // between them: fewer, longer parts that read like the edit made (it costs more than
        // Myers on a few long rewrites), and the same texts still always give the same diff.
        let ops = capture_diff_slices_deadline(Algorithm::Patience, &old, &new, self.deadline);
        for op in ops {
            let (tag, removed, added) = runs(&op, &old, &new);
            match tag {
                DiffTag::Equal => self.push(DiffOp::Equal, &removed),
                _ => {
                    self.push(DiffOp::Delete, &removed);
                    self.push(DiffOp::Insert, &added);
                }
            }
        }
    }

    /// The coarse fallback: `removed` deleted and `added` inserted whole.
    fn replaced(&mut self, removed: &str, added: &str) {
        self.push(DiffOp::Delete, removed);
        self.push(DiffOp::Insert, added);
    }

    /// Appends `text`, merged into the last part when it has the same op.
    fn push(&mut self, op: DiffOp, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.parts.last_mut() {
            Some(last) if last.op == op => last.text.push_str(text),
            _ => self.parts.push(DiffPart {
                op,
                text: text.to_owned(),
            }),
        }
    }
}

/// Below this share of words in common, a changed run of lines is shown deleted and inserted
/// whole rather than word by word: the words the two sides share, counted with their
/// repeats, over the words of the shorter side (words as read: letters and digits, case
/// folded, link addresses left out). A paragraph rewritten or translated keeps a few words
/// ("the", a name, a number) that a word diff would interleave with everything else
/// ("~~Requests~~ Wniosek ~~for~~ o …"); one edited, grown or cut keeps most of the shorter
/// side's. On the 25,312 changed runs of pga's modified sections, 6.9 % share less than half
/// (3.7 % less than 0.3); read at random, runs under 0.45 were rewrites and runs over 0.55
/// edits.
pub const REWRITE_OVERLAP: f64 = 0.5;

/// A text cut into the pieces a word diff compares: runs of letters and digits, runs of
/// whitespace, and each other character alone, so Markdown's syntax (`**`, `[`, `](`, a link's
/// address) is never part of a word and a word keeps its place when the syntax around it
/// changes.
fn tokens(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Class {
        Word,
        Space,
        Other,
    }
    let class = |c: char| match c {
        c if c.is_alphanumeric() => Class::Word,
        c if c.is_whitespace() => Class::Space,
        _ => Class::Other,
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut last: Option<Class> = None;
    for (at, c) in text.char_indices() {
        let now = class(c);
        let joins = last
            .as_ref()
            .is_some_and(|l| *l == now && now != Class::Other);
        if !joins && at > start {
            out.push(&text[start..at]);
            start = at;
        }
        last = Some(now);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The share of words two token lists have in common ([`REWRITE_OVERLAP`]): 1 when either
/// side has no words.
fn word_overlap(old: &[&str], new: &[&str]) -> f64 {
    let (old, new) = (read_words(old), read_words(new));
    if old.is_empty() || new.is_empty() {
        return 1.0;
    }
    let mut counts: rustc_hash::FxHashMap<&str, i64> = rustc_hash::FxHashMap::default();
    for word in &old {
        *counts.entry(word.as_ref()).or_default() += 1;
    }
    let mut common = 0usize;
    for word in &new {
        if let Some(left) = counts.get_mut(word.as_ref())
            && *left > 0
        {
            *left -= 1;
            common += 1;
        }
    }
    common as f64 / old.len().min(new.len()) as f64
}

/// The words of a token list as a reader reads them: case folded, without the tokens of
/// link addresses (from `](` to the next `)`).
fn read_words<'t>(tokens: &[&'t str]) -> Vec<std::borrow::Cow<'t, str>> {
    let mut words = Vec::new();
    let mut in_address = false;
    for (i, token) in tokens.iter().enumerate() {
        if in_address {
            in_address = *token != ")" && !token.contains(char::is_whitespace);
        } else if *token == "(" && i > 0 && tokens[i - 1] == "]" {
            in_address = true;
        } else if token.starts_with(char::is_alphanumeric) {
            words.push(match token.chars().any(char::is_uppercase) {
                true => token.to_lowercase().into(),
                false => (*token).into(),
            });
        }
    }
    words
}

/// An op of a diff of pieces (lines or paragraphs): its tag and the text it removed and added.
fn runs(op: &similar::DiffOp, old: &[&str], new: &[&str]) -> (DiffTag, String, String) {
    let (tag, old_range, new_range) = op.as_tag_tuple();
    (tag, old[old_range].concat(), new[new_range].concat())
}

/// Lines of a text, the last one counted when it has no line feed.
fn line_count(text: &str) -> usize {
    text.split_inclusive('\n').count()
}

/// How many items `a` and `b` share at their end, leaving their first `prefix` items (a
/// common start already counted) out, so the two runs never overlap.
pub(crate) fn common_suffix<T: PartialEq>(a: &[T], b: &[T], prefix: usize) -> usize {
    let room = a.len().min(b.len()) - prefix;
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count()
}

/// The bytes of two texts' longest common runs of whole lines at their start and end (not
/// overlapping): what a line diff would find equal at both ends before doing any work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CommonLines {
    prefix: usize,
    suffix: usize,
}

impl CommonLines {
    fn of(before: &str, after: &str) -> CommonLines {
        let (a, b) = (before.as_bytes(), after.as_bytes());
        let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let prefix = if same == a.len() && same == b.len() {
            same
        } else {
            a[..same]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |at| at + 1)
        };
        let same_end = common_suffix(a, b, prefix);
        // Back to the nearest point where both texts start a line.
        let starts_line = |text: &[u8], at: usize| at == prefix || text[at - 1] == b'\n';
        let suffix = (0..=same_end)
            .rev()
            .find(|&n| starts_line(a, a.len() - n) && starts_line(b, b.len() - n))
            .unwrap_or(0);
        CommonLines { prefix, suffix }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn word_diff_marks_words() {
        let parts = word_diff("Users must be 16 or older.", "Users must be 18 or older.");
        let marked: Vec<(DiffOp, &str)> = parts.iter().map(|p| (p.op, p.text.as_str())).collect();
        assert_eq!(
            marked,
            vec![
                (DiffOp::Equal, "Users must be "),
                (DiffOp::Delete, "16"),
                (DiffOp::Insert, "18"),
                (DiffOp::Equal, " or older."),
            ]
        );
    }

    fn side(parts: &[DiffPart], keep: DiffOp) -> String {
        parts
            .iter()
            .filter(|p| p.op == DiffOp::Equal || p.op == keep)
            .map(|p| p.text.as_str())
            .collect()
    }

    /// A link's address changing made `version](https://…/1)` one word, deleted and
    /// inserted whole with the word `version` that did not change.
    #[test]
    fn a_link_whose_address_changed_keeps_its_words_equal() {
        let parts = word_diff(
            "[View printable version](https://example.com/v/25862970/)\n",
            "[View printable version](https://example.com/v/26776488/)\n",
        );
        let marked: Vec<(DiffOp, &str)> = parts.iter().map(|p| (p.op, p.text.as_str())).collect();
        assert_eq!(
            marked,
            vec![
                (
                    DiffOp::Equal,
                    "[View printable version](https://example.com/v/"
                ),
                (DiffOp::Delete, "25862970"),
                (DiffOp::Insert, "26776488"),
                (DiffOp::Equal, "/)\n"),
            ]
        );
    }

    /// Instagram's Law Enforcement Guidelines switching from English to Polish read
    /// "~~Requests~~ Wniosek ~~for~~ o …": a paragraph sharing less than half its words is
    /// replaced whole; one edited keeps its word diff.
    #[test]
    fn a_paragraph_rewritten_with_little_in_common_is_deleted_and_inserted_whole() {
        let before = "Intro.\n\nRequests for Instagram user information, 2024.\n\nEnd.\n";
        let after = "Intro.\n\nWniosek o dane użytkownika Instagram, 2024.\n\nEnd.\n";
        let parts = word_diff(before, after);
        let marked: Vec<(DiffOp, &str)> = parts.iter().map(|p| (p.op, p.text.as_str())).collect();
        assert_eq!(
            marked,
            vec![
                (DiffOp::Equal, "Intro.\n\n"),
                (
                    DiffOp::Delete,
                    "Requests for Instagram user information, 2024.\n"
                ),
                (
                    DiffOp::Insert,
                    "Wniosek o dane użytkownika Instagram, 2024.\n"
                ),
                (DiffOp::Equal, "\nEnd.\n"),
            ]
        );
        let tokens = |t| tokens(t);
        let overlap = word_overlap(
            &tokens("Requests for Instagram user information, 2024."),
            &tokens("Wniosek o dane użytkownika Instagram, 2024."),
        );
        assert!((overlap - 2.0 / 6.0).abs() < 1e-9, "{overlap}");
        // Half the words kept: still an edit, diffed word by word.
        let edited = word_diff(
            "We keep your data for a year.\n",
            "We keep your data for two years.\n",
        );
        assert_eq!(edited[0].text, "We keep your data for ");
        // Link addresses are not words a reader reads.
        let linked = word_overlap(
            &tokens("[Your settings](https://help.example.com/313609505054371/?ref=related)"),
            &tokens(
                "[When we block servers](https://help.example.com/914046486923176/?ref=related)",
            ),
        );
        assert_eq!(linked, 0.0);
    }

    #[test]
    fn long_changed_runs_are_replaced_whole_and_diffs_are_repeatable() {
        let before = "word ".repeat(4_000);
        let after = "other ".repeat(4_000);
        let parts = word_diff(&before, &after);
        assert_eq!(parts.len(), 2);
        assert_eq!(side(&parts, DiffOp::Delete), before);
        assert_eq!(side(&parts, DiffOp::Insert), after);
        let a = "Intro.\n\nWe keep data.\n\nContact us.\n";
        let b = "Intro.\n\nWe keep your data for a year.\n\nContact us.\n";
        assert_eq!(word_diff(a, b), word_diff(a, b));
        assert_eq!(word_diff(a, b)[0].text, "Intro.\n\nWe keep ");
    }

    #[test]
    fn eighty_thousand_rewritten_lines_are_replaced_whole_not_diffed_line_by_line() {
        // A section of 80,000 changed lines took 33 s to diff (Myers over the lines).
        let before = "x\n".repeat(80_000);
        let after = "y\n".repeat(80_000);
        let parts = word_diff(&before, &after);
        assert_eq!(
            parts,
            vec![
                DiffPart {
                    op: DiffOp::Delete,
                    text: before.clone()
                },
                DiffPart {
                    op: DiffOp::Insert,
                    text: after.clone()
                },
            ]
        );
        let framed = |body: &str| format!("Intro.\n\n{body}\nContact us.\n");
        let parts = word_diff(&framed(&before), &framed(&after));
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].text, "Intro.\n\n");
        assert_eq!(parts[3].text, "\nContact us.\n");
    }

    #[test]
    fn a_long_section_over_the_line_cap_is_diffed_by_paragraphs() {
        let paragraph = |i: usize| format!("{}\n", format!("line {i}\n").repeat(30));
        let body: Vec<String> = (0..200).map(paragraph).collect();
        let mut edited = body.clone();
        edited[0] = "A new first paragraph.\n\n".into();
        edited[199] = "A new last paragraph.\n".into();
        let (before, after) = (body.concat(), edited.concat());
        assert!(line_count(&before) + line_count(&after) > DIFF_LINES);
        let parts = word_diff(&before, &after);
        assert_eq!(side(&parts, DiffOp::Delete), before);
        assert_eq!(side(&parts, DiffOp::Insert), after);
        let kept: String = body[1..199].concat();
        assert!(
            parts
                .iter()
                .any(|p| p.op == DiffOp::Equal && p.text.contains(&kept))
        );
    }

    #[test]
    fn changed_runs_past_the_total_line_cap_are_replaced_whole() {
        // Twelve runs of 2,000 lines, each under the cap, would be diffed for 12 times the
        // work of one: those past the total are replaced whole.
        let run = |i: usize, edited: bool| -> String {
            (0..1_000)
                .map(|l| match edited && l % 2 == 0 {
                    true => format!("changed {i} {l}\n"),
                    false => format!("line {i} {l}\n"),
                })
                .collect::<String>()
                + "\n"
        };
        let text = |edited: bool| -> String {
            (0..12)
                .map(|i| format!("{}kept {i}\n\n", run(i, edited)))
                .collect()
        };
        let (before, after) = (text(false), text(true));
        let parts = word_diff(&before, &after);
        assert_eq!(side(&parts, DiffOp::Delete), before);
        assert_eq!(side(&parts, DiffOp::Insert), after);
        // A run replaced whole deletes its unchanged lines too.
        let whole = |i: usize| {
            let unchanged = format!("line {i} 1\n");
            parts
                .iter()
                .any(|p| p.op == DiffOp::Delete && p.text.contains(&unchanged))
        };
        assert!(!whole(0));
        assert!(whole(11));
    }

    #[test]
    fn a_passed_deadline_stops_a_diff_with_the_timeout_error() {
        let before = "word other\n".repeat(1_000);
        let after = "other word\n".repeat(1_000);
        let passed = Deadline::at(Instant::now());
        assert!(matches!(
            timed_word_diff(&before, &after, passed),
            Err(crate::SearchError::Timeout)
        ));
        let parts = timed_word_diff(&before, &after, Deadline::default());
        assert_eq!(parts.ok(), Some(word_diff(&before, &after)));
    }

    #[test]
    fn common_lines_stop_at_line_starts() {
        let ends = CommonLines::of("a\nb\nc\n", "a\nbx\nc\n");
        assert_eq!(
            ends,
            CommonLines {
                prefix: 2,
                suffix: 2
            }
        );
        let ends = CommonLines::of("a\nend", "b\nend");
        assert_eq!(
            ends,
            CommonLines {
                prefix: 0,
                suffix: 3
            }
        );
        let ends = CommonLines::of("same", "same");
        assert_eq!(
            ends,
            CommonLines {
                prefix: 4,
                suffix: 0
            }
        );
        let ends = CommonLines::of("abc", "xbc");
        assert_eq!(
            ends,
            CommonLines {
                prefix: 0,
                suffix: 0
            }
        );
    }

    proptest! {
        #[test]
        fn diffs_trimmed_to_their_changed_lines_are_those_of_the_whole_texts(
            before in "[a-c\n]{0,60}", after in "[a-c\n]{0,60}"
        ) {
            let whole: Vec<DiffPart> = {
                let mut d = Differ::new(None);
                d.by_lines(&before, &after);
                d.parts
            };
            let sides = |parts: &[DiffPart]| (side(parts, DiffOp::Delete), side(parts, DiffOp::Insert));
            prop_assert_eq!(sides(&word_diff(&before, &after)), sides(&whole));
        }

        #[test]
        fn word_diffs_give_back_both_texts(before in "[a-c ,\\n]{0,60}", after in "[a-c ,\\n]{0,60}") {
            let parts = word_diff(&before, &after);
            prop_assert_eq!(side(&parts, DiffOp::Delete), before);
            prop_assert_eq!(side(&parts, DiffOp::Insert), after);
        }
    }
}
