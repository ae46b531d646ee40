//! The write side of Palimpsest: splits versions into sections, keeps each document's section
//! timeline, and writes spans and version records into the Tantivy index.
//!
//! The indexer never reads archives: it is fed [`PolicyVersion`]s in recorded order (the
//! `ingest` crate connects it to `corpus`). Runs are incremental: documents already in the
//! index are resumed from their latest version record, and one Tantivy commit publishes a run
//! atomically, together with the per-collection state that tells the next run where to start.
//!
//! ```
//! use palimpsest_indexer::{Indexer, IndexerOptions};
//! use palimpsest_schema::{DocKey, PolicyVersion, Timestamp, VersionKind};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut indexer = Indexer::open(dir.path(), &IndexerOptions::default()).unwrap();
//! indexer
//!     .add(PolicyVersion {
//!         key: DocKey::new("demo", "Acme", "Terms of Service").unwrap(),
//!         recorded_at: Timestamp::parse("2024-01-01").unwrap(),
//!         source_id: "v1".into(),
//!         kind: VersionKind::FirstRecord,
//!         content: "# Terms\n\nBe nice.\n".into(),
//!     })
//!     .unwrap();
//! let summary = indexer.commit().unwrap();
//! assert_eq!(summary.versions, 1);
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod folder;
mod indexer;
mod lock;
mod metered;
pub mod split;
mod state;
pub mod text_pool;
pub mod timeline;

pub use error::{IndexerError, Result};
pub use indexer::{Added, IndexSummary, IndexWarning, Indexer, IndexerOptions, KnownVersions};
pub use palimpsest_schema::PolicyVersion;
pub use state::{CollectionState, SnapshotFacts, SourceKind};
