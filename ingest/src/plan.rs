use std::collections::BTreeSet;

use palimpsest_corpus::{ArchiveKind, VersionRef};
use palimpsest_indexer::{Indexer, KnownVersions};
use palimpsest_schema::{DocKey, VersionKind};

use crate::error::{IngestError, Result};
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
        };
        if since.is_some() && listing.since_found {
            return Ok(plan);
        }
        let known = indexer.known_versions(&source.collection)?;
        if let Some(cursor) = since {
            plan.rewritten(source, &known, cursor)?;
        }
        plan.drop_known(&known);
        if source.archive.kind() == ArchiveKind::Folder {
            plan.changes_of_known_documents(&known);
        }
        Ok(plan)
    }

    /// The cursor is no longer in HEAD's history: the documents holding versions the
    /// history lacks are replayed whole.
    fn rewritten(&mut self, source: &Source, known: &KnownVersions, cursor: &str) -> Result<()> {
        let listed = self.versions.iter().map(|v| (&v.key, &*v.source_id));
        let stale = known.not_listed(listed)?;
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
