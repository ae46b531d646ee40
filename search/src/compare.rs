//! Comparing sections: pairing what one version removed with what the next one added, and
//! word-level diffs of a section's text.

use std::collections::HashMap;

use serde::Serialize;
use similar::{ChangeTag, DiffTag, TextDiff};

/// What happened to a section between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A section appeared.
    Added,
    /// A section disappeared.
    Removed,
    /// A section kept its heading path and its text changed.
    Modified,
    /// A section kept its content under another heading path (renamed or moved).
    Moved,
}

impl ChangeKind {
    /// Every kind.
    pub const ALL: [ChangeKind; 4] = [
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Modified,
        ChangeKind::Moved,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Modified => "modified",
            ChangeKind::Moved => "moved",
        }
    }
}

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
                let words = TextDiff::from_words(removed.as_str(), added.as_str());
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

/// What pairing needs to know of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SectionKey {
    /// Hash of the heading path.
    pub path: u64,
    /// Hash of the content without the heading line; 0 when there is none.
    pub content: u64,
    /// Identity of the exact text and path: equal means unchanged.
    pub exact: u64,
}

/// How one section of the earlier side relates to one of the later side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pairing {
    /// What happened; `None` when the section is unchanged.
    pub kind: Option<ChangeKind>,
    /// Index into the earlier side (none when added).
    pub before: Option<usize>,
    /// Index into the later side (none when removed).
    pub after: Option<usize>,
}

/// What a pairing rule compares: none when the rule does not apply to a section.
type KeyOf = fn(&SectionKey) -> Option<u64>;

fn same_words(key: &SectionKey) -> u64 {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&key.path.to_le_bytes());
    bytes[8..].copy_from_slice(&key.content.to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// Pairs the sections of an earlier side with those of a later side: identical ones are
/// unchanged (kind `None`), and so are those with the same heading path and the same words
/// (whitespace or heading markup changed); the same content under another path is `moved`;
/// the same path with other content is `modified`; what is left is `removed` or `added`. Within each
/// rule, sections pair in the order given, so repeated headings pair first with first.
pub(crate) fn pair_sections(before: &[SectionKey], after: &[SectionKey]) -> Vec<Pairing> {
    // Most versions change a section or two: a scan beats building maps.
    pair(before, after, 64)
}

/// [`pair_sections`], scanning instead of hashing when `before × after` is at most
/// `scan_limit` (both ways give the same pairs).
fn pair(before: &[SectionKey], after: &[SectionKey], scan_limit: usize) -> Vec<Pairing> {
    let mut before_left: Vec<bool> = vec![true; before.len()];
    let mut after_left: Vec<bool> = vec![true; after.len()];
    let mut pairings = Vec::new();
    let rules: [(KeyOf, Option<ChangeKind>); 4] = [
        (|k| Some(k.exact), None),
        // Same heading and same words: only whitespace or heading markup changed.
        (|k| Some(same_words(k)), None),
        (
            |k| (k.content != 0).then_some(k.content),
            Some(ChangeKind::Moved),
        ),
        (|k| Some(k.path), Some(ChangeKind::Modified)),
    ];
    let small = before.len() * after.len() <= scan_limit;
    for (key_of, kind) in rules {
        // Before-side indexes by key, first first; none when a scan is cheaper.
        let mut waiting: Option<HashMap<u64, Vec<usize>>> = (!small).then(|| {
            let mut waiting: HashMap<u64, Vec<usize>> = HashMap::new();
            for (i, key) in before.iter().enumerate().rev() {
                if before_left[i]
                    && let Some(k) = key_of(key)
                {
                    waiting.entry(k).or_default().push(i);
                }
            }
            waiting
        });
        for (j, key) in after.iter().enumerate() {
            let Some(k) = key_of(key).filter(|_| after_left[j]) else {
                continue;
            };
            let found = match &mut waiting {
                Some(waiting) => waiting.get_mut(&k).and_then(Vec::pop),
                None => {
                    (0..before.len()).find(|&i| before_left[i] && key_of(&before[i]) == Some(k))
                }
            };
            let Some(i) = found else { continue };
            before_left[i] = false;
            after_left[j] = false;
            pairings.push(Pairing {
                kind,
                before: Some(i),
                after: Some(j),
            });
        }
    }
    pairings.extend(
        (0..before.len())
            .filter(|&i| before_left[i])
            .map(|i| Pairing {
                kind: Some(ChangeKind::Removed),
                before: Some(i),
                after: None,
            }),
    );
    pairings.extend(
        (0..after.len())
            .filter(|&j| after_left[j])
            .map(|j| Pairing {
                kind: Some(ChangeKind::Added),
                before: None,
                after: Some(j),
            }),
    );
    pairings
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(path: u64, content: u64, exact: u64) -> SectionKey {
        SectionKey {
            path,
            content,
            exact,
        }
    }

    #[test]
    fn pairs_unchanged_moved_modified_then_the_rest() {
        let before = [
            key(1, 10, 100),
            key(2, 20, 200),
            key(3, 30, 300),
            key(4, 0, 400),
        ];
        let after = [
            key(1, 10, 100),
            key(5, 20, 500),
            key(3, 31, 301),
            key(6, 60, 600),
        ];
        let mut pairs = pair_sections(&before, &after);
        pairs.sort_by_key(|p| (p.before, p.after));
        let kinds: Vec<_> = pairs.iter().map(|p| (p.kind, p.before, p.after)).collect();
        assert_eq!(
            kinds,
            vec![
                (Some(ChangeKind::Added), None, Some(3)),
                (None, Some(0), Some(0)),
                (Some(ChangeKind::Moved), Some(1), Some(1)),
                (Some(ChangeKind::Modified), Some(2), Some(2)),
                (Some(ChangeKind::Removed), Some(3), None),
            ]
        );
    }

    #[test]
    fn whitespace_changes_under_the_same_path_are_not_changes() {
        let pairs = pair_sections(
            &[key(1, 10, 100), key(2, 0, 200)],
            &[key(1, 10, 101), key(2, 0, 201)],
        );
        assert_eq!(pairs.len(), 2);
        assert!(pairs.iter().all(|p| p.kind.is_none()));
    }

    #[test]
    fn empty_content_never_pairs_as_moved() {
        let pairs = pair_sections(&[key(1, 0, 100)], &[key(2, 0, 200)]);
        let mut kinds: Vec<_> = pairs.iter().map(|p| p.kind).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            vec![Some(ChangeKind::Added), Some(ChangeKind::Removed)]
        );
    }

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

        #[test]
        fn every_section_is_paired_exactly_once(
            before in proptest::collection::vec((0u64..4, 0u64..4, 0u64..6), 0..8),
            after in proptest::collection::vec((0u64..4, 0u64..4, 0u64..6), 0..8),
        ) {
            let b: Vec<_> = before.iter().map(|&(p, c, e)| key(p, c, e)).collect();
            let a: Vec<_> = after.iter().map(|&(p, c, e)| key(p, c, e)).collect();
            let pairs = pair_sections(&b, &a);
            let mut seen_b = vec![0; b.len()];
            let mut seen_a = vec![0; a.len()];
            for p in &pairs {
                if let Some(i) = p.before { seen_b[i] += 1; }
                if let Some(j) = p.after { seen_a[j] += 1; }
            }
            prop_assert!(seen_b.iter().all(|&n| n == 1));
            prop_assert!(seen_a.iter().all(|&n| n == 1));
            let mut scanned = pair(&b, &a, usize::MAX);
            let mut hashed = pair(&b, &a, 0);
            scanned.sort_by_key(|p| (p.before, p.after));
            hashed.sort_by_key(|p| (p.before, p.after));
            prop_assert_eq!(scanned, hashed);
        }
    }
}
