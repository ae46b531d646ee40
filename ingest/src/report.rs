use serde::Serialize;

/// What an ingestion run did.
#[derive(Debug, Clone, Serialize)]
pub struct IndexReport {
    /// One report per archive, in the order of the run's paths.
    pub collections: Vec<CollectionReport>,
    /// Versions with text, as `stats` counts them.
    pub versions: u64,
    /// Documents whose file the archive deleted: a record each, not a version.
    pub deletions: u64,
    /// Spans opened.
    pub spans_opened: u64,
    /// Spans closed.
    pub spans_closed: u64,
    /// Documents that received versions.
    pub documents: u64,
    /// Documents whose history was replayed because a version arrived out of order.
    pub replayed: u64,
    /// Warnings: files skipped or read imperfectly, versions indexed imperfectly.
    pub warnings: usize,
    /// How long the run took.
    pub seconds: f64,
    /// Size of the index folder after the commit, in bytes.
    pub index_bytes: u64,
}

/// What a run read from one archive.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionReport {
    /// The collection the archive is indexed as.
    pub collection: String,
    /// The archive's canonical path.
    pub path: String,
    /// Its layout: `git`, `dataset` or `folder`.
    pub kind: &'static str,
    /// Versions with text that were new to the index.
    pub new_versions: usize,
    /// Deletions that were new to the index.
    pub deletions: usize,
    /// Present when the history indexed before is no longer the archive's (git).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewritten: Option<RewriteReport>,
    /// Present when the archive held snapshots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<SnapshotReport>,
    /// Dataset documents replayed because a file already indexed was changed in place (or
    /// removed, or another slipped in among the files indexed); absent when none was.
    #[serde(skip_serializing_if = "is_zero")]
    pub replayed_changed_files: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A git history rewritten under an indexed collection (a reset, a rebase, a force push):
/// the commit indexed last is no longer in the first-parent history of HEAD. The documents
/// holding versions that are no longer in the history are replayed from the archive, so the
/// index ends as a clean build of it would.
#[derive(Debug, Clone, Serialize)]
pub struct RewriteReport {
    /// The commit the previous run indexed last.
    pub cursor: String,
    /// Whether that commit is still in the repository.
    pub cursor_found: bool,
    /// The newest commit both histories hold, if any.
    pub last_common_commit: Option<String>,
    /// Documents whose whole history was replayed.
    pub documents_replayed: usize,
    /// Versions indexed before that the history no longer holds, now dropped.
    pub versions_dropped: usize,
}

/// How snapshots became versions in one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotReport {
    /// Snapshot files read (one per commit in an OTA snapshots repository).
    pub read: u64,
    /// Distinct commits (or files) they came from.
    pub commits: u64,
    /// Versions kept: snapshots whose extracted text differs from the previous one.
    pub versions: u64,
    /// Snapshots whose text equals the previous one of their document.
    pub unchanged: u64,
    /// Snapshots skipped (PDF, unreadable, a declaration selecting nothing).
    pub skipped: u64,
    /// Versions extracted from HTML without declaration rules (fallback).
    pub without_rules: u64,
    /// PDF snapshots skipped.
    pub pdf_skipped: u64,
}
