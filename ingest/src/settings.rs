use std::path::PathBuf;

use palimpsest_schema::Timestamp;

/// The collection the built-in sample is indexed as.
pub const SAMPLE_COLLECTION: &str = "sample";

/// Settings of an ingestion run.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Collection name for what is indexed from the one path of the run (default: the
    /// folder's name without a `-versions` suffix).
    pub collection: Option<String>,
    /// Start the index over instead of updating it (the old index serves until the new one
    /// is committed).
    pub rebuild: bool,
    /// Let a rewritten git history remove more than [`crate::MAX_DROPPED_SHARE`] of a
    /// collection's versions (all of them included); without it such a run is refused.
    pub allow_drop: bool,
    /// Plain folders: the instant every file was recorded at (default: its modification time).
    pub recorded_at: Option<Timestamp>,
    /// Files larger than this many bytes are skipped with a warning.
    pub max_file_size: u64,
    /// Memory for the index writer, in MiB.
    pub memory: usize,
    /// Open Terms Archive declarations for HTML snapshots: a folder of `<service>.json` and
    /// `<service>.history.json` (or a declarations repository holding one in `declarations/`).
    pub declarations: Option<PathBuf>,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            collection: None,
            rebuild: false,
            allow_drop: false,
            recorded_at: None,
            max_file_size: 10 << 20,
            memory: 256,
            declarations: None,
        }
    }
}

impl IngestSettings {
    /// Settings used to index the built-in sample; `rebuild` starts the index over.
    pub fn sample(rebuild: bool) -> IngestSettings {
        IngestSettings {
            collection: Some(SAMPLE_COLLECTION.into()),
            rebuild,
            memory: 64,
            ..IngestSettings::default()
        }
    }
}
