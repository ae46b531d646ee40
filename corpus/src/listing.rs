//! What listing an archive gives, whatever its layout: the versions found ([`VersionRef`],
//! [`Listing`]), the options they were read with, the warnings, and the document keys built
//! from archive names. The layout readers (`git`, `dataset`, `folder`) build these; the
//! [`crate::Archive`] dispatcher hands them out.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palimpsest_schema::{CollectionName, DocKey, Timestamp, VersionKind};
use unicode_normalization::UnicodeNormalization;

use crate::declarations::Declarations;
use crate::warning::Warning;

/// What a version's file holds, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.md`: the version's text as recorded.
    Markdown,
    /// `.html`: a snapshot page; its text is extracted (see [`ReadOptions::declarations`]).
    Html,
    /// `.pdf`: a snapshot document; skipped with a warning (no text extraction).
    Pdf,
}

impl Format {
    /// The format of a file name, with the name without its extension.
    pub(crate) fn of(name: &str) -> Option<(&str, Format)> {
        if let Some(stem) = name.strip_suffix(".md") {
            return Some((stem, Format::Markdown));
        }
        if let Some(stem) = name
            .strip_suffix(".html")
            .or_else(|| name.strip_suffix(".htm"))
        {
            return Some((stem, Format::Html));
        }
        name.strip_suffix(".pdf").map(|stem| (stem, Format::Pdf))
    }

    /// Whether versions of this format are snapshots (pages as fetched) rather than texts.
    pub fn is_snapshot(self) -> bool {
        self != Format::Markdown
    }
}

/// How to read an archive.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The collection the archive's documents belong to.
    pub collection: CollectionName,
    /// Plain folders: the instant every file was recorded at, instead of its modification time.
    pub recorded_at: Option<Timestamp>,
    /// Files larger than this are skipped with a warning.
    pub max_file_bytes: u64,
    /// Open Terms Archive declarations for HTML snapshots; without one (or without it), a
    /// snapshot is extracted with the fallback.
    pub declarations: Option<Arc<Declarations>>,
}

impl ReadOptions {
    /// Default limits for `collection`: files up to 10 MiB.
    pub fn new(collection: CollectionName) -> ReadOptions {
        ReadOptions {
            collection,
            recorded_at: None,
            max_file_bytes: 10 << 20,
            declarations: None,
        }
    }
}

/// Where a version's content lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    Blob(gix::ObjectId),
    File(PathBuf),
    /// A deletion has no content.
    Nothing,
}

/// A version found in an archive, before its content is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRef {
    /// The document.
    pub key: DocKey,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Commit id, or path within the archive.
    pub source_id: String,
    /// How it came to be recorded.
    pub kind: VersionKind,
    /// Position in the archive's own order (commit order, or file order); breaks ties
    /// between equal instants.
    pub seq: u64,
    /// What the file holds.
    pub format: Format,
    /// Dataset files: size and modification time when listed, which tell a file corrected
    /// in place under the same name.
    pub stamp: Option<FileStamp>,
    pub(crate) location: Location,
}

/// A file's size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    /// Size in bytes.
    pub bytes: u64,
    /// Modification time, in nanoseconds since 1970 (0 where the system does not say).
    pub modified_nanos: i128,
}

impl FileStamp {
    /// The stamp of the file at `path`, or `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        let modified_nanos = metadata
            .modified()
            .ok()
            .and_then(|t| match t.duration_since(std::time::UNIX_EPOCH) {
                Ok(after) => i128::try_from(after.as_nanos()).ok(),
                Err(before) => i128::try_from(before.duration().as_nanos())
                    .ok()
                    .map(|n| -n),
            })
            .unwrap_or(0);
        Some(FileStamp {
            bytes: metadata.len(),
            modified_nanos,
        })
    }
}

/// The versions of an archive, sorted by recorded instant then archive order.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The versions.
    pub versions: Vec<VersionRef>,
    /// Entries skipped while listing.
    pub warnings: Vec<Warning>,
    /// Git: the commit the listing reaches (the branch head).
    pub head: Option<String>,
    /// Git: whether the `since` commit was found in the history (if one was given). When it
    /// was not, the listing holds the whole history.
    pub since_found: bool,
    /// Git: the branch HEAD names when it has no commit yet (the listing is then empty).
    pub unborn: Option<String>,
}

impl Listing {
    pub(crate) fn sort(&mut self) {
        self.versions.sort_by_key(|v| (v.recorded_at, v.seq));
    }
}

/// Where a git history parted from the commit an earlier run indexed last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parting {
    /// Whether the commit is still in the repository.
    pub found: bool,
    /// The newest commit of HEAD's first-parent history that the commit's first-parent
    /// history also holds; `None` when the commit is gone or they share none.
    pub last_common: Option<String>,
}

/// Builds a document key from archive names, or says why they cannot name a document.
pub(crate) fn doc_key(
    options: &ReadOptions,
    service: &str,
    terms_type: &str,
) -> std::result::Result<DocKey, String> {
    let service = archive_name(service)?;
    let terms_type = archive_name(terms_type)?;
    DocKey::new(options.collection.as_str(), &service, &terms_type).map_err(|e| e.to_string())
}

/// A service or terms type name as an archive's file name gives it, in Unicode's composed
/// form (NFC): `Café` written with a combining accent (as macOS file systems store names) is
/// the same service as `Café` with a precomposed `é`. A name holding bidirectional controls
/// or invisible characters is refused: it would look like another service's name.
fn archive_name(name: &str) -> std::result::Result<Cow<'_, str>, String> {
    if let Some(c) = name
        .chars()
        .find(|&c| palimpsest_schema::is_invisible_format(c))
    {
        return Err(format!(
            "the name holds the invisible or bidirectional character U+{:04X}, which would make \
             it look like another name",
            c as u32
        ));
    }
    if unicode_normalization::is_nfc(name) {
        Ok(Cow::Borrowed(name))
    } else {
        Ok(Cow::Owned(name.nfc().collect()))
    }
}
