//! Ingestion: reads archives into the index, incrementally. This crate owns the policy of a
//! run between `corpus`, which reads archives, and `indexer`, which writes the index:
//!
//! - what is new since the last run: a git repository is listed from the commit indexed last
//!   (a rewritten history replays the documents it changed), other archives whole, less the
//!   versions the index holds; a collection holds one archive ([`IngestSettings::rebuild`]
//!   starts over);
//! - the snapshot collapse: an HTML snapshot whose extracted text equals the previous one of
//!   its document is not a new version;
//! - the reader thread: contents are read on a second thread while this one indexes.
//!
//! It never prints: progress and warnings go to a [`Progress`], and the run ends with an
//! [`IndexReport`].
//!
//! ```
//! use palimpsest_ingest::{IngestSettings, NoProgress, ingest};
//!
//! let index = tempfile::tempdir().unwrap();
//! let sample = [palimpsest_corpus::sample_path()];
//! let settings = IngestSettings::sample(false);
//! let first = ingest(index.path(), &sample, &settings, &mut NoProgress).unwrap();
//! assert_eq!(first.versions, 13);
//! let again = ingest(index.path(), &sample, &settings, &mut NoProgress).unwrap();
//! assert_eq!(again.versions, 0);
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod collapse;
mod error;
mod feed;
mod in_place;
mod ingest;
mod plan;
mod progress;
mod read_ahead;
mod replay;
mod report;
mod settings;
mod source;

pub use error::{IngestError, Result};
pub use ingest::ingest;
pub use plan::MAX_DROPPED_SHARE;
pub use progress::{NoProgress, Progress, SHOWN_WARNINGS, Stage, Warning};
pub use report::{CollectionReport, IndexReport, RewriteReport, SnapshotReport};
pub use settings::{IngestSettings, SAMPLE_COLLECTION};
