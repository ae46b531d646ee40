//! The archive abstraction: detect a layout, list its versions, read their contents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palimpsest_schema::PolicyVersion;

use crate::declarations::{Declarations, Lookup};
use crate::error::{CorpusError, Result};
use crate::listing::{Format, Listing, Location, Parting, ReadOptions, VersionRef};
use crate::warning::Warning;
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
