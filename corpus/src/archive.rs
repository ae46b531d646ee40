//! The archive abstraction: detect a layout, list its versions, read their contents.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palimpsest_schema::{CollectionName, DocKey, PolicyVersion, Timestamp, VersionKind};
use unicode_normalization::UnicodeNormalization;

use crate::declarations::{Declarations, Lookup};
use crate::error::{CorpusError, Result};
use crate::{dataset, folder, git, html, text};

/// The layouts an archive can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// An Open Terms Archive versions git repository.
    Git,
    /// `<service>/<terms type>/<YYYY-MM-DDTHH-MM-SSZ>.md`.
    Dataset,
    /// `<service>/<terms type>.md`, one version each.
    Folder,
}

impl ArchiveKind {
    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveKind::Git => "git",
            ArchiveKind::Dataset => "dataset",
            ArchiveKind::Folder => "folder",
        }
    }
}

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

/// Something in the archive that was skipped or read imperfectly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file, commit or entry concerned.
    pub path: String,
    /// What happened to it.
    pub reason: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
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

/// An archive on disk, opened for listing and reading.
#[derive(Debug)]
pub struct Archive {
    path: PathBuf,
    kind: ArchiveKind,
    options: ReadOptions,
}

impl Archive {
    /// Recognises the layout at `path`.
    pub fn detect(path: &Path) -> Result<ArchiveKind> {
        let meta = std::fs::metadata(path).map_err(|error| CorpusError::Io {
            path: path.to_owned(),
            error,
        })?;
        if !meta.is_dir() {
            return Err(CorpusError::NotAnArchive {
                path: path.to_owned(),
                reason: "it is a file; give the archive's folder".into(),
            });
        }
        if path.join(".git").exists()
            || (path.join("HEAD").is_file() && path.join("objects").is_dir())
        {
            return Ok(ArchiveKind::Git);
        }
        if dataset::looks_like(path) {
            return Ok(ArchiveKind::Dataset);
        }
        if folder::looks_like(path) {
            return Ok(ArchiveKind::Folder);
        }
        Err(CorpusError::NotAnArchive {
            path: path.to_owned(),
            reason: "expected a git repository of <service>/<terms type>.md (or .html, .pdf \
                     snapshots), the dataset layout \
                     <service>/<terms type>/<YYYY-MM-DDTHH-MM-SSZ>.md, or a folder of \
                     <service>/<terms type>.md (or .html, .pdf)"
                .into(),
        })
    }

    /// Opens the archive at `path`, detecting its layout.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Archive> {
        let kind = Archive::detect(path)?;
        Ok(Archive {
            path: path.to_owned(),
            kind,
            options: options.clone(),
        })
    }

    /// The archive's layout.
    pub fn kind(&self) -> ArchiveKind {
        self.kind
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lists versions, sorted by recorded instant. For git, `since` names the last commit
    /// already indexed: only later commits are listed if it is found in the history.
    pub fn list(&self, since: Option<&str>) -> Result<Listing> {
        let mut listing = match self.kind {
            ArchiveKind::Git => git::list(&self.path, &self.options, since)?,
            ArchiveKind::Dataset => dataset::list(&self.path, &self.options)?,
            ArchiveKind::Folder => folder::list(&self.path, &self.options)?,
        };
        listing.sort();
        Ok(listing)
    }

    /// Git: where HEAD's first-parent history parted from `commit`'s, for a commit a listing
    /// did not find in it (a rewritten history). Other layouts have no history to part.
    pub fn parting(&self, commit: &str) -> Result<Parting> {
        match self.kind {
            ArchiveKind::Git => git::parting(&self.path, commit),
            _ => Ok(Parting {
                found: false,
                last_common: None,
            }),
        }
    }

    /// A reader of version contents; create one per thread.
    pub fn reader(&self) -> Result<VersionReader> {
        let repo = match self.kind {
            ArchiveKind::Git => Some(git::open(&self.path)?),
            _ => None,
        };
        // Files are read only below the archive's real path, whatever links lead there.
        let root = self.path.canonicalize().map_err(|error| CorpusError::Io {
            path: self.path.clone(),
            error,
        })?;
        Ok(VersionReader {
            repo,
            root,
            max_file_bytes: self.options.max_file_bytes,
            declarations: self.options.declarations.clone(),
        })
    }
}

/// What reading one version gave.
#[derive(Debug)]
pub struct ReadOutcome {
    /// The version, unless it had to be skipped.
    pub version: Option<PolicyVersion>,
    /// Why it was skipped, or what was imperfect in it (invalid UTF-8 replaced, nesting
    /// flattened).
    pub warnings: Vec<Warning>,
    /// What the file held.
    pub format: Format,
    /// HTML: the text was chosen by the fallback, without a declaration's rules.
    pub without_rules: bool,
}

/// Reads the contents of listed versions.
pub struct VersionReader {
    repo: Option<gix::Repository>,
    root: PathBuf,
    max_file_bytes: u64,
    declarations: Option<Arc<Declarations>>,
}

impl VersionReader {
    /// Reads one version's content.
    pub fn read(&mut self, version: &VersionRef) -> Result<PolicyVersion> {
        let outcome = self.read_checked(version)?;
        match outcome.version {
            Some(v) => Ok(v),
            None => Err(CorpusError::NotAnArchive {
                path: self.root.join(&version.source_id),
                reason: outcome
                    .warnings
                    .into_iter()
                    .map(|w| w.reason)
                    .collect::<Vec<_>>()
                    .join("; "),
            }),
        }
    }

    /// Reads one version's content; a file that cannot be a version is skipped with a warning.
    /// HTML is extracted under the declaration in force at the version's instant.
    pub fn read_checked(&mut self, version: &VersionRef) -> Result<ReadOutcome> {
        let describe = || {
            format!(
                "{} ({} / {})",
                version.source_id, version.key.service, version.key.terms_type
            )
        };
        let warning = |reason: String| Warning {
            path: describe(),
            reason,
        };
        let mut outcome = ReadOutcome {
            version: None,
            warnings: Vec::new(),
            format: version.format,
            without_rules: false,
        };
        if version.format == Format::Pdf && version.location != Location::Nothing {
            outcome.warnings.push(warning(
                "skipped: PDF snapshot (text extraction from PDF is not supported)".into(),
            ));
            return Ok(outcome);
        }
        // Size first, from the object header or the file's metadata: a file over the limit
        // is never read into memory.
        let read = match &version.location {
            Location::Nothing => Ok(Vec::new()),
            Location::Blob(id) => {
                let repo = self.repo.as_ref().ok_or_else(|| CorpusError::Git {
                    path: self.root.clone(),
                    message: "blob without repository".into(),
                })?;
                git::read_blob(repo, &self.root, *id, self.max_file_bytes)?
            }
            Location::File(path) => folder::read_file(&self.root, path, self.max_file_bytes),
        };
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(reason) => {
                outcome.warnings.push(warning(format!("skipped: {reason}")));
                return Ok(outcome);
            }
        };
        if let Some(reason) = text::reject_reason(&bytes, self.max_file_bytes) {
            outcome.warnings.push(warning(format!("skipped: {reason}")));
            return Ok(outcome);
        }
        let content = if version.format == Format::Html && version.location != Location::Nothing {
            let lookup = match &self.declarations {
                Some(declarations) => declarations.rule(
                    version.key.service.as_str(),
                    version.key.terms_type.as_str(),
                    version.recorded_at,
                ),
                None => Lookup::Undeclared,
            };
            let extracted = html::extract(&bytes, lookup);
            outcome
                .warnings
                .extend(extracted.warnings.into_iter().map(warning));
            if extracted.nothing_selected {
                outcome.warnings.push(warning(
                    "skipped: the declaration's `select` matches nothing in this snapshot".into(),
                ));
                return Ok(outcome);
            }
            outcome.without_rules = extracted.without_rules;
            extracted.text
        } else {
            let (content, imperfect) = text::decode(bytes);
            outcome.warnings.extend(imperfect.map(warning));
            content
        };
        outcome.version = Some(PolicyVersion {
            key: version.key.clone(),
            recorded_at: version.recorded_at,
            source_id: version.source_id.clone(),
            kind: version.kind,
            content,
        });
        Ok(outcome)
    }
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
