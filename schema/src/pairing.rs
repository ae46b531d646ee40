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

/// The change a span takes part in at one end of its life (the change that opened it, the
/// change that closed it), as the indexer paired its step: stored with the span, so that a
/// change list with a filter finds the changes of the spans that pass without pairing the
/// steps they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepLink {
    /// What the change is.
    pub kind: ChangeKind,
    /// Its place among its step's changes, in the order [`pair_step`] lists them.
    pub position: u32,
    /// The span id of the other side of a modified or moved section.
    pub partner: Option<u64>,
}

impl StepLink {
    /// The two stored numbers: kind and position, then the partner's span id (0 when none);
    /// `[0, 0]` when there is no link.
    pub fn encode(link: Option<StepLink>) -> [u64; 2] {
        let Some(link) = link else { return [0, 0] };
        let code = match link.kind {
            ChangeKind::Added => 1,
            ChangeKind::Removed => 2,
            ChangeKind::Modified => 3,
            ChangeKind::Moved => 4,
        };
        [
            (u64::from(link.position) << 3) | code,
            link.partner.unwrap_or(0),
        ]
    }

    /// Reads [`StepLink::encode`]'s numbers back.
    pub fn decode([head, partner]: [u64; 2]) -> Option<StepLink> {
        let kind = match head & 0b111 {
            1 => ChangeKind::Added,
            2 => ChangeKind::Removed,
            3 => ChangeKind::Modified,
            4 => ChangeKind::Moved,
            _ => return None,
        };
        let paired = matches!(kind, ChangeKind::Modified | ChangeKind::Moved);
        Some(StepLink {
            kind,
            position: u32::try_from(head >> 3).ok()?,
            partner: paired.then_some(partner),
        })
    }
}

/// One version's step paired: its counts, and the link of each side, in the order the sides
/// were given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedStep {
    /// How many changes of each kind.
    pub counts: StepCounts,
    /// The change each closed span ends in.
    pub closed: Vec<Option<StepLink>>,
    /// The change each opened span starts in.
    pub opened: Vec<Option<StepLink>>,
}

impl PairedStep {
    /// Pairs a step whose sides come in any order (each is paired in [`StepSpan`] order).
    pub fn of(closed: &[StepSpan], opened: &[StepSpan]) -> PairedStep {
        let sorted = |side: &[StepSpan]| {
            let mut order: Vec<usize> = (0..side.len()).collect();
            order.sort_unstable_by_key(|&i| side[i]);
            let spans: Vec<StepSpan> = order.iter().map(|&i| side[i]).collect();
            (order, spans)
        };
        let (closed_order, before) = sorted(closed);
        let (opened_order, after) = sorted(opened);
        let mut step = PairedStep {
            counts: StepCounts::default(),
            closed: vec![None; closed.len()],
            opened: vec![None; opened.len()],
        };
        for (position, pairing) in pair_step(&before, &after).into_iter().enumerate() {
            let Some(kind) = pairing.kind else { continue };
            let (b, a) = (pairing.before, pairing.after);
            step.counts.add(
                kind,
                is_minor(kind, b.map(|i| &before[i]), a.map(|j| &after[j])),
            );
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            let link = |partner: Option<usize>, side: &[StepSpan]| StepLink {
                kind,
                position,
                partner: partner.map(|k| side[k].span_id),
            };
            if let Some(i) = b {
                step.closed[closed_order[i]] = Some(link(a, &after));
            }
            if let Some(j) = a {
                step.opened[opened_order[j]] = Some(link(b, &before));
            }
        }
        step
    }
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
    fn add(&mut self, kind: ChangeKind, minor: bool) {
        match kind {
            ChangeKind::Added => self.added += 1,
            ChangeKind::Removed => self.removed += 1,
            ChangeKind::Moved => self.moved += 1,
            ChangeKind::Modified => {
                self.modified += 1;
                self.minor += u64::from(minor);
            }
        }
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
        let closed = [
            span(1, 10, 1, 1),
            span(2, 20, 2, 2),
            span(3, 30, 3, 3),
            span(4, 40, 4, 4),
        ];
        let opened = [
            span(5, 20, 2, 5),
            span(3, 31, 3, 6),
            span(4, 41, 9, 7),
            span(6, 60, 6, 8),
        ];
        let counts = PairedStep::of(&closed, &opened).counts;
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

    #[test]
    fn each_side_of_a_step_links_to_its_change_and_partner_in_the_order_given() {
        let span = |path, content, id| StepSpan {
            path_hash: path,
            content_hash: content,
            valid_from: 0,
            span_id: id,
            substance_hash: id,
        };
        // Given out of order: links come back in the order given.
        let closed = [span(4, 40, 4), span(1, 10, 1), span(2, 20, 2)];
        let opened = [span(6, 60, 8), span(4, 41, 7), span(5, 20, 5)];
        let step = PairedStep::of(&closed, &opened);
        let kind_and_partner = |link: Option<StepLink>| link.map(|l| (l.kind, l.partner));
        let closed_links: Vec<_> = step.closed.iter().map(|l| kind_and_partner(*l)).collect();
        let opened_links: Vec<_> = step.opened.iter().map(|l| kind_and_partner(*l)).collect();
        assert_eq!(
            closed_links,
            [
                Some((ChangeKind::Modified, Some(7))),
                Some((ChangeKind::Removed, None)),
                Some((ChangeKind::Moved, Some(5))),
            ]
        );
        assert_eq!(
            opened_links,
            [
                Some((ChangeKind::Added, None)),
                Some((ChangeKind::Modified, Some(4))),
                Some((ChangeKind::Moved, Some(2))),
            ]
        );
        // Both sides of a change name the same place in the step, and every place is one
        // change.
        assert_eq!(
            step.closed[0].unwrap().position,
            step.opened[1].unwrap().position
        );
        let mut places: Vec<u32> = step
            .closed
            .iter()
            .chain(&step.opened)
            .flatten()
            .map(|l| l.position)
            .collect();
        places.sort_unstable();
        places.dedup();
        assert_eq!(places.len(), 4);
        for link in step.closed.iter().chain(&step.opened) {
            assert_eq!(StepLink::decode(StepLink::encode(*link)), *link);
        }
        assert_eq!(StepLink::decode(StepLink::encode(None)), None);
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
