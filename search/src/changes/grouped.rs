//! Change lists grouped by version: one entry per version that changed something, with the
//! sections it changed (best first, in the list's order) and how many words it inserted and
//! deleted.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::Hash;

use palimpsest_schema::{Timestamp, VersionKind};
use serde::Serialize;

use super::change::Change;
use crate::compare::{ChangeKind, DiffOp};
use crate::error::Result;

/// How a change list is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangeGrouping {
    /// One entry per changed section.
    #[default]
    Section,
    /// One entry per version.
    Version,
}

/// One section a version changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionTouched {
    /// The change's id (as in the ungrouped list).
    pub id: String,
    /// `added`, `removed`, `modified` or `moved`.
    pub kind: ChangeKind,
    /// Heading path (after the change; before it when removed).
    pub section: Vec<String>,
    /// Heading path before the change, for `moved`.
    pub previous_section: Option<Vec<String>>,
    /// Only dates, punctuation, quote marks, whitespace or link targets changed.
    pub minor: bool,
    /// Words inserted in this section.
    pub words_inserted: usize,
    /// Words deleted from it.
    pub words_deleted: usize,
    /// Relevance to the query (0 without one).
    pub score: f32,
}

/// One version and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionChanges {
    /// When the version was recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub date: Timestamp,
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// Source id of the version.
    pub version: String,
    /// How that version was recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "change"))]
    pub version_kind: VersionKind,
    /// Source id of the version before it.
    pub previous_version: Option<String>,
    /// The sections it changed, in the list's order (best match first by relevance).
    pub sections: Vec<SectionTouched>,
    /// Words inserted, over all its sections.
    pub words_inserted: usize,
    /// Words deleted, over all its sections.
    pub words_deleted: usize,
    /// Every section change of the version is minor.
    pub minor: bool,
    /// Its best section's relevance.
    pub score: f32,
}

impl VersionChanges {
    /// The entry of one version from its changes, all of one version, each made into its
    /// section's entry as it comes (so no more than one change's texts are held); `None`
    /// when there are none.
    pub(crate) fn from_changes(
        mut changes: impl Iterator<Item = Result<Change>>,
    ) -> Result<Option<VersionChanges>> {
        let Some(mut first) = changes.next().transpose()? else {
            return Ok(None);
        };
        let texts = (first.before.take(), first.after.take(), first.diff.take());
        let head = first.clone();
        (first.before, first.after, first.diff) = texts;
        let sections: Vec<SectionTouched> = std::iter::once(Ok(first))
            .chain(changes)
            .map(|change| change.map(touched))
            .collect::<Result<_>>()?;
        let first = head;
        Ok(Some(VersionChanges {
            date: first.date,
            service: first.service,
            terms_type: first.terms_type,
            collection: first.collection,
            version: first.version,
            version_kind: first.version_kind,
            previous_version: first.previous_version,
            words_inserted: sections.iter().map(|s| s.words_inserted).sum(),
            words_deleted: sections.iter().map(|s| s.words_deleted).sum(),
            minor: sections.iter().all(|s| s.minor),
            score: sections.iter().map(|s| s.score).fold(0.0, f32::max),
            sections,
        }))
    }
}

/// Words of a diff's part: what whitespace separates, but punctuation alone (a comma the
/// diff inserted beside a word) is no word.
fn words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

fn touched(change: Change) -> SectionTouched {
    let (inserted, deleted) = match (&change.diff, change.kind) {
        (Some(parts), _) => parts.iter().fold((0, 0), |(i, d), part| match part.op {
            DiffOp::Insert => (i + words(&part.text), d),
            DiffOp::Delete => (i, d + words(&part.text)),
            DiffOp::Equal => (i, d),
        }),
        (None, ChangeKind::Added) => (change.after.as_deref().map_or(0, words), 0),
        (None, _) => (0, change.before.as_deref().map_or(0, words)),
    };
    SectionTouched {
        id: change.id,
        kind: change.kind,
        section: change.section,
        previous_section: change.previous_section,
        minor: change.minor,
        words_inserted: inserted,
        words_deleted: deleted,
        score: change.score,
    }
}

/// Sorts `order` and splits it by version (`group` of each key), the groups in the order of
/// their first member; each group lists event indexes in order.
pub(crate) fn by_version<K, G: Eq + Hash>(
    order: &mut [(K, u32)],
    compare: impl Fn(&(K, u32), &(K, u32)) -> Ordering,
    group: impl Fn(&K) -> G,
) -> Vec<Vec<u32>> {
    order.sort_unstable_by(compare);
    let mut slots: HashMap<G, usize> = HashMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for (key, event) in order.iter() {
        let slot = *slots.entry(group(key)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(*event);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::by_version;

    #[test]
    fn groups_follow_their_best_member_and_keep_the_order_within() {
        // (version, score) keys, best score first.
        let mut order = vec![((1, 5), 0), ((2, 9), 1), ((1, 7), 2), ((3, 1), 3)];
        let groups = by_version(&mut order, |a, b| b.0.1.cmp(&a.0.1), |k| k.0);
        assert_eq!(groups, vec![vec![1], vec![2, 0], vec![3]]);
    }
}
