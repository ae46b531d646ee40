use std::collections::{BTreeMap, BTreeSet};

use palimpsest_corpus::{ArchiveKind, VersionRef};
use palimpsest_indexer::{Indexer, KnownVersions};
use palimpsest_schema::{DocKey, VersionKind};

use crate::error::{IngestError, Result};
use crate::in_place;
use crate::report::RewriteReport;
use crate::source::Source;

/// What a run reads from an archive: what is new since the last run.
pub(crate) struct Plan {
    /// Versions to feed, in archive order.
    pub(crate) versions: Vec<VersionRef>,
    /// Documents whose whole history is replayed (a rewritten git history).
    pub(crate) replay: BTreeSet<DocKey>,
    pub(crate) rewritten: Option<RewriteReport>,
    /// The archive's cursor for the next run (git: HEAD).
    pub(crate) head: Option<String>,
    pub(crate) warnings: Vec<palimpsest_corpus::Warning>,
    /// Git: the branch HEAD names when it has no commit yet.
    unborn: Option<String>,
    /// Dataset: the files of each document as this run lists them, for the next run.
    pub(crate) files: in_place::Seen,
    /// Dataset: documents replayed because a file the index held changed in place.
    pub(crate) corrected: usize,
}

/// The largest share of a collection's versions a rewritten history may remove without
/// `--allow-drop`: a reset, rebase or force push removes a few commits, while a HEAD on an
/// empty or mistyped branch, a re-initialised repository or a history that shares nothing
/// with the indexed one would remove all of them.
pub const MAX_DROPPED_SHARE: f64 = 0.5;

/// How many versions a collection holds, and would hold after replaying the documents whose
/// indexed versions the history lacks.
struct Loss {
    held: usize,
    kept: usize,
}

impl Loss {
    fn of(known: &KnownVersions, stale: &BTreeMap<DocKey, usize>, listed: &[VersionRef]) -> Loss {
        let replayed_held: usize = stale.keys().map(|key| known.versions_of(key)).sum();
        let replayed_listed = listed.iter().filter(|v| stale.contains_key(&v.key)).count();
        let held = known.len();
        Loss {
            held,
            kept: held - replayed_held + replayed_listed,
        }
    }

    fn too_large(&self) -> bool {
        let dropped = self.held.saturating_sub(self.kept);
        dropped > 0 && (self.kept == 0 || dropped as f64 > self.held as f64 * MAX_DROPPED_SHARE)
    }
}

impl Plan {
    /// Lists the archive: a git repository from the cursor of the last run when HEAD still
    /// descends from it, anything else whole, less the versions the index holds.
    pub(crate) fn list(source: &Source, indexer: &Indexer) -> Result<Plan> {
        let since = source.cursor();
        let listing = source
            .archive
            .list(since)
            .map_err(|error| IngestError::List {
                path: source.archive.path().to_owned(),
                source: error,
            })?;
        let mut plan = Plan {
            versions: listing.versions,
            replay: BTreeSet::new(),
            rewritten: None,
            head: listing.head,
            warnings: listing.warnings,
            unborn: listing.unborn,
            files: in_place::Seen::new(),
            corrected: 0,
        };
        if since.is_some() && listing.since_found {
            return Ok(plan);
        }
        let known = indexer.known_versions(&source.collection)?;
        if let Some(cursor) = since {
            plan.rewritten(source, &known, cursor)?;
        }
        if source.archive.kind() == ArchiveKind::Dataset {
            plan.files_changed_in_place(source);
        }
        plan.drop_known(&known);
        if source.archive.kind() == ArchiveKind::Folder {
            plan.changes_of_known_documents(&known);
        }
        Ok(plan)
    }

    /// The cursor is no longer in HEAD's history: the documents holding versions the
    /// history lacks are replayed whole. Refused, before anything is written, when that would
    /// remove more than [`MAX_DROPPED_SHARE`] of the collection's versions and the run does
    /// not allow it: a broken or mistyped HEAD looks like a history rewritten to nothing.
    fn rewritten(&mut self, source: &Source, known: &KnownVersions, cursor: &str) -> Result<()> {
        let listed = self.versions.iter().map(|v| (&v.key, &*v.source_id));
        let stale = known.not_listed(listed)?;
        let loss = Loss::of(known, &stale, &self.versions);
        if loss.too_large() && !source.allow_drop {
            return Err(IngestError::WouldDrop {
                collection: source.collection.clone(),
                path: source.path.clone(),
                why: self.why_dropped(),
                held: loss.held,
                kept: loss.kept,
            });
        }
        let parting = source.archive.parting(cursor)?;
        self.rewritten = Some(RewriteReport {
            cursor: cursor.to_owned(),
            cursor_found: parting.found,
            last_common_commit: parting.last_common,
            documents_replayed: stale.len(),
            versions_dropped: stale.values().sum(),
        });
        self.replay.extend(stale.into_keys());
        Ok(())
    }

    /// Dataset documents with a file changed in place since the last run are replayed whole.
    fn files_changed_in_place(&mut self, source: &Source) {
        let seen = in_place::seen(&self.versions);
        if let Some(previous) = &source.previous {
            let changed = in_place::changed(&previous.files, &self.versions);
            self.corrected = changed.len();
            self.replay.extend(changed);
        }
        self.files = seen;
    }

    /// Why the history no longer holds the indexed versions, as the refusal says it.
    fn why_dropped(&self) -> String {
        match &self.unborn {
            Some(branch) => format!("its HEAD is the branch `{branch}`, which has no commit"),
            None => "its history no longer holds the commits indexed before".into(),
        }
    }

    fn drop_known(&mut self, known: &KnownVersions) {
        let replay = &self.replay;
        self.versions
            .retain(|v| !replay.contains(&v.key) && !known.contains(&v.key, &v.source_id));
    }

    /// A folder's file of a document already indexed is a change, not its first record.
    fn changes_of_known_documents(&mut self, known: &KnownVersions) {
        for v in &mut self.versions {
            if known.has_document(&v.key) {
                v.kind = VersionKind::Change;
            }
        }
    }

    /// Versions with text and deletions planned.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let deletions = self
            .versions
            .iter()
            .filter(|v| v.kind == VersionKind::Deleted)
            .count();
        (self.versions.len() - deletions, deletions)
    }
}

#[cfg(test)]
mod tests {
    use super::Loss;

    #[test]
    fn a_rewrite_may_remove_up_to_half_of_a_collection_and_never_all() {
        let loss = |held, kept| Loss { held, kept }.too_large();
        assert!(!loss(10, 5), "half removed");
        assert!(loss(10, 4), "more than half removed");
        assert!(loss(1, 0), "the only version removed");
        assert!(!loss(10, 12), "a rewrite that adds versions");
        assert!(!loss(0, 0), "an empty collection");
    }
}
