//! Reads policy archives into a time-ordered stream of [`PolicyVersion`]s.
//!
//! Three layouts are recognised by [`Archive::open`]:
//! - an Open Terms Archive versions **git repository** (`<service>/<terms type>.md`, one commit
//!   per recorded version), read from the object database with gix, never checked out;
//! - the Open Terms Archive **dataset** layout (`<service>/<terms type>/<YYYY-MM-DDTHH-MM-SSZ>.md`);
//! - a plain **folder** of `<service>/<terms type>.md`, one version each.
//!
//! Git repositories and folders may hold snapshots instead (`.html`, `.pdf`): an Open Terms
//! Archive snapshots repository has the versions layout. HTML is extracted into Markdown-like
//! text under the [`Declarations`] in force at each snapshot's date (`select`/`remove` CSS
//! rules), or without a declaration by a fallback (`main`, `article`, `[role=main]`, else the
//! largest block of text). PDF snapshots are skipped with a warning.
//!
//! Listing is cheap (metadata only); contents are read afterwards with a [`VersionReader`],
//! which may live on another thread. Files that cannot be versions (too large, binary,
//! symbolic links, names that cannot be services) are skipped with a [`Warning`].
//!
//! ```
//! use palimpsest_corpus::{Archive, ReadOptions};
//! use palimpsest_schema::CollectionName;
//!
//! let options = ReadOptions::new(CollectionName::new("sample").unwrap());
//! let archive = Archive::open(&palimpsest_corpus::sample_path(), &options).unwrap();
//! let listing = archive.list(None).unwrap();
//! let mut reader = archive.reader().unwrap();
//! let first = reader.read(&listing.versions[0]).unwrap();
//! assert!(!first.content.is_empty());
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod archive;
mod dataset;
mod declarations;
mod error;
mod folder;
#[doc(hidden)]
pub mod fuzzing;
mod git;
mod html;
mod listing;
mod text;
mod walk;
mod warning;

pub use archive::{Archive, ArchiveKind, ReadOutcome, VersionReader};
pub use declarations::Declarations;
pub use error::{CorpusError, Result};
pub use git::version_url_template;
pub use listing::{FileStamp, Format, Listing, Parting, ReadOptions, VersionRef};
pub use palimpsest_schema::PolicyVersion;
pub use warning::Warning;

/// The built-in sample archive (OTA dataset layout), written by the project.
pub fn sample_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample")
}
