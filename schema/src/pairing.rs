//! Pairing sections: what one version closed with what the next one opened. The indexer
//! counts each version's changes with it ([`StepCounts`], stored in the version record) and
//! the search crate lists them with it, so counts and lists agree by construction.

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::{SpanRecord, content_hash, path_hash, substance_hash};

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

/// What pairing needs to know of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionKey {
    /// Hash of the heading path.
    pub path: u64,
    /// Hash of the content without the heading line; 0 when there is none.
    pub content: u64,
    /// Identity of the exact text and path: equal means unchanged.
    pub exact: u64,
}

/// How one section of the earlier side relates to one of the later side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pairing {
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
pub fn pair_sections(before: &[SectionKey], after: &[SectionKey]) -> Vec<Pairing> {
    // Most versions change a section or two: a scan beats building maps.
    pair(before, after, 64, &RULES)
}

/// The pairing rules in the order they apply: what each compares, and the kind of change a
/// pair it makes is.
const RULES: [(KeyOf, Option<ChangeKind>); 4] = [
    (exact_key, None),
    // Same heading and same words: only whitespace or heading markup changed.
    (same_words_key, None),
    (content_key, Some(ChangeKind::Moved)),
    (path_key, Some(ChangeKind::Modified)),
];

fn exact_key(key: &SectionKey) -> Option<u64> {
    Some(key.exact)
}

fn same_words_key(key: &SectionKey) -> Option<u64> {
    Some(same_words(key))
}

fn content_key(key: &SectionKey) -> Option<u64> {
    (key.content != 0).then_some(key.content)
}

fn path_key(key: &SectionKey) -> Option<u64> {
    Some(key.path)
}

/// [`pair_sections`] by the given rules, scanning instead of hashing when `before × after`
/// is at most `scan_limit` (both ways give the same pairs).
fn pair(
    before: &[SectionKey],
    after: &[SectionKey],
    scan_limit: usize,
    rules: &[(KeyOf, Option<ChangeKind>)],
) -> Vec<Pairing> {
    let mut before_left: Vec<bool> = vec![true; before.len()];
    let mut after_left: Vec<bool> = vec![true; after.len()];
    let mut pairings = Vec::new();
    let small = before.len() * after.len() <= scan_limit;
    for &(key_of, kind) in rules {
        // Before-side indexes by key, first first; none when a scan is cheaper.
        let mut waiting: Option<FxHashMap<u64, Vec<usize>>> = (!small).then(|| {
            let mut waiting: FxHashMap<u64, Vec<usize>> = FxHashMap::default();
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

/// A span one version closed or opened, as its step is paired: the hashes pairing and the
/// minor-change test compare. The derived order (path, content, first instant, id) is the
/// order each side of a step is paired in, wherever it is paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StepSpan {
    /// [`crate::path_hash`] of its heading path.
    pub path_hash: u64,
    /// [`crate::content_hash`] of its section.
    pub content_hash: u64,
    /// Unix seconds of the first version that has it.
    pub valid_from: i64,
    /// Its [`crate::SpanId`].
    pub span_id: u64,
    /// [`crate::substance_hash`] of its section: equal on both sides of a minor change.
    pub substance_hash: u64,
}

impl StepSpan {
    /// The step facts of a span.
    pub fn of(span: &SpanRecord) -> StepSpan {
        StepSpan {
            path_hash: path_hash(&span.section.path),
            content_hash: content_hash(&span.section),
            valid_from: span.valid_from.as_unix(),
            span_id: span.id.0,
            substance_hash: substance_hash(&span.section),
        }
    }
}

/// Pairs what one version closed with what it opened, each side in [`StepSpan`] order.
pub fn pair_step(closed: &[StepSpan], opened: &[StepSpan]) -> Vec<Pairing> {
    debug_assert!(closed.is_sorted() && opened.is_sorted());
    let key = |s: &StepSpan| SectionKey {
        path: s.path_hash,
        content: s.content_hash,
        exact: 0,
    };
    let before: Vec<SectionKey> = closed.iter().map(key).collect();
    let after: Vec<SectionKey> = opened.iter().map(key).collect();
    // Spans a version closes and opens are never identical (the timeline would have kept
    // them open): the rule for identical sections is left out, so none is dropped as
    // unchanged.
    pair(&before, &after, 64, &RULES[1..])
}

/// Whether a change pairs two sides with one substance (only dates, punctuation, quote marks,
/// whitespace or link targets changed): a minor change.
pub fn is_minor(kind: ChangeKind, before: Option<&StepSpan>, after: Option<&StepSpan>) -> bool {
    kind == ChangeKind::Modified
        && before
            .zip(after)
            .is_some_and(|(b, a)| b.substance_hash == a.substance_hash)
}

/// How many changes of each kind one version made, as [`pair_step`] pairs its step: stored
/// with the version record, so that a change list counts and pages whole history from
/// version records and pairs only the versions it shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepCounts {
    /// Sections added.
    pub added: u64,
    /// Sections removed.
    pub removed: u64,
    /// Sections modified, minor ones included.
    pub modified: u64,
    /// Of the modified sections, those changed in a minor way ([`is_minor`]).
    pub minor: u64,
    /// Sections moved.
    pub moved: u64,
}

impl StepCounts {
    /// Counts the changes of a step; the sides in any order.
    pub fn of(closed: &mut [StepSpan], opened: &mut [StepSpan]) -> StepCounts {
        closed.sort_unstable();
        opened.sort_unstable();
        let mut counts = StepCounts::default();
        for pairing in pair_step(closed, opened) {
            let Some(kind) = pairing.kind else { continue };
            let before = pairing.before.map(|i| &closed[i]);
            let after = pairing.after.map(|j| &opened[j]);
            match kind {
                ChangeKind::Added => counts.added += 1,
                ChangeKind::Removed => counts.removed += 1,
                ChangeKind::Moved => counts.moved += 1,
                ChangeKind::Modified => {
                    counts.modified += 1;
                    counts.minor += u64::from(is_minor(kind, before, after));
                }
            }
        }
        counts
    }

    /// The counts in order of [`crate::IndexFields::steps`] (added, removed, modified, minor, moved).
    pub fn to_array(self) -> [u64; 5] {
        [
            self.added,
            self.removed,
            self.modified,
            self.minor,
            self.moved,
        ]
    }

    /// Counts from order of [`crate::IndexFields::steps`] (added, removed, modified, minor, moved).
    pub fn from_array([added, removed, modified, minor, moved]: [u64; 5]) -> StepCounts {
        StepCounts {
            added,
            removed,
            modified,
            minor,
            moved,
        }
    }

    /// The changes of this kind; with `minor` false, modified ones without the minor ones.
    pub fn count(&self, kind: ChangeKind, minor: bool) -> u64 {
        match kind {
            ChangeKind::Added => self.added,
            ChangeKind::Removed => self.removed,
            ChangeKind::Moved => self.moved,
            ChangeKind::Modified if minor => self.modified,
            ChangeKind::Modified => self.modified - self.minor.min(self.modified),
        }
    }
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
    fn step_counts_follow_the_pairing_and_tell_minor_changes() {
        let span = |path, content, substance, id| StepSpan {
            path_hash: path,
            content_hash: content,
            valid_from: 0,
            span_id: id,
            substance_hash: substance,
        };
        let mut closed = [
            span(1, 10, 1, 1),
            span(2, 20, 2, 2),
            span(3, 30, 3, 3),
            span(4, 40, 4, 4),
        ];
        let mut opened = [
            span(5, 20, 2, 5),
            span(3, 31, 3, 6),
            span(4, 41, 9, 7),
            span(6, 60, 6, 8),
        ];
        let counts = StepCounts::of(&mut closed, &mut opened);
        assert_eq!(
            counts,
            StepCounts {
                added: 1,
                removed: 1,
                modified: 2,
                minor: 1,
                moved: 1
            }
        );
        assert_eq!(counts.count(ChangeKind::Modified, true), 2);
        assert_eq!(counts.count(ChangeKind::Modified, false), 1);
    }

    proptest! {
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
            let mut scanned = pair(&b, &a, usize::MAX, &RULES);
            let mut hashed = pair(&b, &a, 0, &RULES);
            scanned.sort_by_key(|p| (p.before, p.after));
            hashed.sort_by_key(|p| (p.before, p.after));
            prop_assert_eq!(scanned, hashed);
        }
    }
}
