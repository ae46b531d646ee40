//! What a change list leaves out by default, counted while the list is made: changes of
//! first records and deletions (whole documents appearing or leaving), of technical upgrades
//! (re-extractions), and, when asked to hide them, minor changes. A list says how many it
//! left out so that nothing is missing without a word.

use rustc_hash::FxHashSet;
use serde::Serialize;

use palimpsest_schema::VersionKind;

use super::ChangesRequest;
use super::grouped::ChangeGrouping;
use crate::compare::ChangeKind;
use crate::facts::VersionFact;

/// How many more entries (changes, or versions when grouped by version) a change list would
/// list with each of its switches turned on alone: `first_records` (first records and
/// deletions are shown by the same switch, counted apart), `technical_upgrades`, `minor`.
/// An entry hidden for two reasons (a minor change of a technical upgrade, with minor
/// changes hidden) is in neither count: no one switch shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HiddenChanges {
    /// Entries of first records (a document's first version), shown with `first_records`.
    pub first_records: u64,
    /// Entries of deletions (a document leaving the archive), shown with `first_records`.
    pub deletions: u64,
    /// Entries of technical upgrades (re-extractions, not changes at the source), shown
    /// with `technical_upgrades`.
    pub technical_upgrades: u64,
    /// Minor changes (or versions that made only minor changes), shown with `minor=true`.
    pub minor: u64,
}

impl HiddenChanges {
    /// Whether the list left nothing out.
    pub fn is_empty(&self) -> bool {
        *self == HiddenChanges::default()
    }

    fn add(&mut self, reason: Reason, n: u64) {
        let count = match reason {
            Reason::FirstRecord => &mut self.first_records,
            Reason::Deletion => &mut self.deletions,
            Reason::TechnicalUpgrade => &mut self.technical_upgrades,
            Reason::Minor => &mut self.minor,
        };
        *count += n;
    }
}

/// Why a list leaves an entry out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Reason {
    FirstRecord,
    Deletion,
    TechnicalUpgrade,
    Minor,
}

/// Whether the request lists a version's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hiding {
    Shown,
    /// Left out for one reason: its switch shows them.
    By(Reason),
    /// Left out for two (a first record that is also a technical upgrade): no one switch
    /// shows them.
    Twice,
}

/// Whether and why the request leaves out every change of this version.
pub(super) fn hiding(version: &VersionFact, request: &ChangesRequest) -> Hiding {
    let whole_document = version.ordinal == 0
        || matches!(
            version.kind,
            VersionKind::FirstRecord | VersionKind::Deleted
        );
    let by_document = (whole_document && !request.first_records).then_some(match version.kind {
        VersionKind::Deleted => Reason::Deletion,
        _ => Reason::FirstRecord,
    });
    let by_upgrade = (version.kind == VersionKind::TechnicalUpgrade && !request.technical_upgrades)
        .then_some(Reason::TechnicalUpgrade);
    match (by_document, by_upgrade) {
        (None, None) => Hiding::Shown,
        (Some(reason), None) | (None, Some(reason)) => Hiding::By(reason),
        (Some(_), Some(_)) => Hiding::Twice,
    }
}

/// The changes of the request's kinds a version made; with `minor` false, without the
/// minor ones.
fn version_changes(version: &VersionFact, request: &ChangesRequest, minor: bool) -> u64 {
    ChangeKind::ALL
        .into_iter()
        .filter(|kind| request.wants(*kind))
        .map(|kind| version.steps.count(kind, minor))
        .sum()
}

/// What one version adds to the hidden counts of a list without a query or a section
/// filter, from its record's step counts (the indexer counted them with the pairing a list
/// uses, so they agree with the changes listed).
pub(super) fn count_version(
    hidden: &mut HiddenChanges,
    version: &VersionFact,
    request: &ChangesRequest,
) {
    let listed = version_changes(version, request, request.minor);
    let by_version = request.group == ChangeGrouping::Version;
    match hiding(version, request) {
        Hiding::Twice => {}
        Hiding::By(reason) if by_version => hidden.add(reason, u64::from(listed > 0)),
        Hiding::By(reason) => hidden.add(reason, listed),
        Hiding::Shown if request.minor => {}
        Hiding::Shown => {
            let minor = version_changes(version, request, true) - listed;
            let entries = match by_version {
                true => u64::from(minor > 0 && listed == 0),
                false => minor,
            };
            hidden.add(Reason::Minor, entries);
        }
    }
}

/// Counts the entries a filtered list leaves out as it goes over its changes: each change
/// counts, or for a list grouped by version each version that lists nothing.
pub(super) struct HiddenTally {
    by_version: bool,
    changes: HiddenChanges,
    /// Grouped by version: the versions with a hidden change, and why.
    versions: FxHashSet<(u64, u64, Reason)>,
    /// Grouped by version: the versions with a change listed.
    listed: FxHashSet<(u64, u64)>,
}

impl HiddenTally {
    pub(super) fn new(request: &ChangesRequest) -> HiddenTally {
        HiddenTally {
            by_version: request.group == ChangeGrouping::Version,
            changes: HiddenChanges::default(),
            versions: FxHashSet::default(),
            listed: FxHashSet::default(),
        }
    }

    /// A change of `version` left out for `reason`.
    pub(super) fn hidden(&mut self, version: &VersionFact, reason: Reason) {
        match self.by_version {
            true => {
                self.versions
                    .insert((version.doc_hash, version.ordinal, reason));
            }
            false => self.changes.add(reason, 1),
        }
    }

    /// A change of `version` listed.
    pub(super) fn listed(&mut self, version: &VersionFact) {
        if self.by_version {
            self.listed.insert((version.doc_hash, version.ordinal));
        }
    }

    pub(super) fn finish(self) -> HiddenChanges {
        let mut hidden = self.changes;
        for (doc, ordinal, reason) in self.versions {
            if !self.listed.contains(&(doc, ordinal)) {
                hidden.add(reason, 1);
            }
        }
        hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palimpsest_schema::StepCounts;

    fn version(ordinal: u64, kind: VersionKind, steps: [u64; 5]) -> VersionFact {
        VersionFact {
            address: tantivy::DocAddress::new(0, 0),
            doc_hash: 1,
            ordinal,
            recorded_at: 0,
            kind,
            steps: StepCounts::from_array(steps),
        }
    }

    #[test]
    fn each_switch_counts_what_it_alone_would_show() {
        let versions = [
            version(0, VersionKind::FirstRecord, [5, 0, 0, 0, 0]),
            version(1, VersionKind::Change, [1, 0, 3, 2, 0]),
            version(2, VersionKind::TechnicalUpgrade, [0, 0, 4, 1, 0]),
            version(3, VersionKind::Deleted, [0, 6, 0, 0, 0]),
            // A first record that is a technical upgrade: hidden twice over.
            version(0, VersionKind::TechnicalUpgrade, [7, 0, 0, 0, 0]),
        ];
        let count = |request: &ChangesRequest| {
            let mut hidden = HiddenChanges::default();
            for v in &versions {
                count_version(&mut hidden, v, request);
            }
            hidden
        };
        let default = ChangesRequest::default();
        assert_eq!(
            count(&default),
            HiddenChanges {
                first_records: 5,
                deletions: 6,
                technical_upgrades: 4,
                minor: 0,
            }
        );
        let no_minor = ChangesRequest {
            minor: false,
            ..ChangesRequest::default()
        };
        // The technical upgrade's minor change is hidden twice over: in neither count.
        assert_eq!(
            count(&no_minor),
            HiddenChanges {
                first_records: 5,
                deletions: 6,
                technical_upgrades: 3,
                minor: 2,
            }
        );
        let everything = ChangesRequest {
            first_records: true,
            technical_upgrades: true,
            ..ChangesRequest::default()
        };
        assert!(count(&everything).is_empty());
        let by_version = ChangesRequest {
            group: ChangeGrouping::Version,
            ..ChangesRequest::default()
        };
        assert_eq!(
            count(&by_version),
            HiddenChanges {
                first_records: 1,
                deletions: 1,
                technical_upgrades: 1,
                minor: 0,
            }
        );
    }
}
