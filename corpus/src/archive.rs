//! The archive abstraction: detect a layout, list its versions, read their contents.

use std::path::{Path, PathBuf};

use palimpsest_schema::{CollectionName, DocKey, PolicyVersion, Timestamp, VersionKind};

use crate::error::{CorpusError, Result};
use crate::{dataset, folder, git, text};

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

/// How to read an archive.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The collection the archive's documents belong to.
    pub collection: CollectionName,
    /// Plain folders: the instant every file was recorded at, instead of its modification time.
    pub recorded_at: Option<Timestamp>,
    /// Files larger than this are skipped with a warning.
    pub max_file_bytes: u64,
}

impl ReadOptions {
    /// Default limits for `collection`: files up to 10 MiB.
    pub fn new(collection: CollectionName) -> ReadOptions {
        ReadOptions {
            collection,
            recorded_at: None,
            max_file_bytes: 10 << 20,
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
    pub(crate) location: Location,
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
}

impl Listing {
    pub(crate) fn sort(&mut self) {
        self.versions.sort_by_key(|v| (v.recorded_at, v.seq));
    }
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
        let meta = std::fs::metadata(path).map_err(|source| CorpusError::Io {
            path: path.to_owned(),
            source,
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
            reason: "expected a git repository of <service>/<terms type>.md, the dataset layout \
                     <service>/<terms type>/<YYYY-MM-DDTHH-MM-SSZ>.md, or a folder of \
                     <service>/<terms type>.md"
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

    /// A reader of version contents; create one per thread.
    pub fn reader(&self) -> Result<VersionReader> {
        let repo = match self.kind {
            ArchiveKind::Git => Some(git::open(&self.path)?),
            _ => None,
        };
        Ok(VersionReader {
            repo,
            root: self.path.clone(),
            max_file_bytes: self.options.max_file_bytes,
        })
    }
}

/// What reading one version gave.
#[derive(Debug)]
pub struct ReadOutcome {
    /// The version, unless it had to be skipped.
    pub version: Option<PolicyVersion>,
    /// Why it was skipped, or what was imperfect in it (invalid UTF-8 replaced).
    pub warning: Option<Warning>,
}

/// Reads the contents of listed versions.
pub struct VersionReader {
    repo: Option<gix::Repository>,
    root: PathBuf,
    max_file_bytes: u64,
}

impl VersionReader {
    /// Reads one version's content.
    pub fn read(&mut self, version: &VersionRef) -> Result<PolicyVersion> {
        let outcome = self.read_checked(version)?;
        match outcome.version {
            Some(v) => Ok(v),
            None => Err(CorpusError::NotAnArchive {
                path: self.root.join(&version.source_id),
                reason: outcome.warning.map(|w| w.reason).unwrap_or_default(),
            }),
        }
    }

    /// Reads one version's content; a file that cannot be a version is skipped with a warning.
    pub fn read_checked(&mut self, version: &VersionRef) -> Result<ReadOutcome> {
        let bytes = match &version.location {
            Location::Nothing => Vec::new(),
            Location::Blob(id) => {
                let repo = self.repo.as_ref().ok_or_else(|| CorpusError::Git {
                    path: self.root.clone(),
                    message: "blob without repository".into(),
                })?;
                git::read_blob(repo, &self.root, *id)?
            }
            Location::File(path) => std::fs::read(path).map_err(|source| CorpusError::Io {
                path: path.clone(),
                source,
            })?,
        };
        let describe = || {
            format!(
                "{} ({} / {})",
                version.source_id, version.key.service, version.key.terms_type
            )
        };
        if let Some(reason) = text::reject_reason(&bytes, self.max_file_bytes) {
            return Ok(ReadOutcome {
                version: None,
                warning: Some(Warning {
                    path: describe(),
                    reason: format!("skipped: {reason}"),
                }),
            });
        }
        let (content, lossy) = text::decode(bytes);
        Ok(ReadOutcome {
            version: Some(PolicyVersion {
                key: version.key.clone(),
                recorded_at: version.recorded_at,
                source_id: version.source_id.clone(),
                kind: version.kind,
                content,
            }),
            warning: lossy.then(|| Warning {
                path: describe(),
                reason: "invalid UTF-8 replaced with U+FFFD".into(),
            }),
        })
    }
}

/// Builds a document key from archive names, or says why they cannot name a document.
pub(crate) fn doc_key(
    options: &ReadOptions,
    service: &str,
    terms_type: &str,
) -> std::result::Result<DocKey, String> {
    DocKey::new(options.collection.as_str(), service, terms_type).map_err(|e| e.to_string())
}
