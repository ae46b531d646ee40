//! Comparing sections: pairing what one version removed with what the next one added, and
//! word-level diffs of a section's text.

use serde::Serialize;
use similar::{Algorithm, ChangeTag, DiffTag, TextDiff};

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

/// Most characters (before and after together) of a changed run of lines that is diffed word
/// by word; a longer run is shown as deleted and inserted whole. This bounds the work of a
/// diff without a clock, so the same texts always give the same diff.
const WORD_DIFF_CHARS: usize = 16_000;

/// A word-level diff of two texts: runs of equal, deleted and inserted words. Lines are
/// compared first; each run of changed lines is then compared word by word.
pub fn word_diff(before: &str, after: &str) -> Vec<DiffPart> {
    let lines = TextDiff::from_lines(before, after);
    let (old, new) = (lines.old_slices(), lines.new_slices());
    let mut parts: Vec<DiffPart> = Vec::new();
    let mut push = |op: DiffOp, text: &str| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.op == op => last.text.push_str(text),
            _ => parts.push(DiffPart {
                op,
                text: text.to_owned(),
            }),
        }
    };
    for group in lines.ops() {
        let (tag, old_range, new_range) = group.as_tag_tuple();
        let removed = old[old_range].concat();
        let added = new[new_range].concat();
        match tag {
            DiffTag::Equal => push(DiffOp::Equal, &removed),
            DiffTag::Delete => push(DiffOp::Delete, &removed),
            DiffTag::Insert => push(DiffOp::Insert, &added),
            DiffTag::Replace if removed.len() + added.len() > WORD_DIFF_CHARS => {
                push(DiffOp::Delete, &removed);
                push(DiffOp::Insert, &added);
            }
            DiffTag::Replace => {
                // Patience anchors on the words found once on each side and diffs only the
                // gaps between them: fewer, longer parts that read like the edit made (it
                // costs more than Myers on a few long rewrites), and the same texts still
                // always give the same diff.
                let words = TextDiff::configure()
                    .algorithm(Algorithm::Patience)
                    .diff_words(removed.as_str(), added.as_str());
                for change in words.iter_all_changes() {
                    let op = match change.tag() {
                        ChangeTag::Equal => DiffOp::Equal,
                        ChangeTag::Insert => DiffOp::Insert,
                        ChangeTag::Delete => DiffOp::Delete,
                    };
                    push(op, change.value());
                }
            }
        }
    }
    parts
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

    proptest! {
        #[test]
        fn word_diffs_give_back_both_texts(before in "[a-c ,\\n]{0,60}", after in "[a-c ,\\n]{0,60}") {
            let parts = word_diff(&before, &after);
            prop_assert_eq!(side(&parts, DiffOp::Delete), before);
            prop_assert_eq!(side(&parts, DiffOp::Insert), after);
        }
    }
}
