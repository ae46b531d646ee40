use std::path::Path;
use std::sync::Arc;

use palimpsest_corpus::{Archive, ArchiveKind, Declarations, ReadOptions};
use palimpsest_indexer::{CollectionState, Indexer, SourceKind};
use palimpsest_schema::CollectionName;

use crate::error::{IngestError, Result};
use crate::settings::IngestSettings;

/// An archive opened as a collection, with what the index knows of that collection.
pub(crate) struct Source {
    pub(crate) collection: CollectionName,
    pub(crate) archive: Archive,
    /// The archive's canonical path, as the collection state records it.
    pub(crate) path: String,
    pub(crate) kind: SourceKind,
    /// The collection's state after the last run, if it was indexed before.
    pub(crate) previous: Option<CollectionState>,
    /// Whether a rewritten history may remove most of the collection's versions.
    pub(crate) allow_drop: bool,
}

impl Source {
    /// Opens the archive at `path`; refuses one that is not the archive its collection was
    /// indexed from.
    pub(crate) fn open(
        path: &Path,
        settings: &IngestSettings,
        declarations: Option<&Arc<Declarations>>,
        indexer: &Indexer,
    ) -> Result<Source> {
        let collection = collection_name(path, settings.collection.as_deref())?;
        let mut read = ReadOptions::new(collection.clone());
        read.recorded_at = settings.recorded_at;
        read.max_file_bytes = settings.max_file_size;
        read.declarations = declarations.cloned();
        let archive = Archive::open(path, &read).map_err(|source| IngestError::OpenArchive {
            path: path.to_owned(),
            source,
        })?;
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_owned());
        let source = Source {
            previous: indexer.collection(&collection).cloned(),
            collection,
            path: canonical.display().to_string(),
            kind: source_kind(archive.kind()),
            archive,
            allow_drop: settings.allow_drop,
        };
        source.check_same_archive()?;
        Ok(source)
    }

    /// The commit the last run indexed last, when both that run and this one read git.
    pub(crate) fn cursor(&self) -> Option<&str> {
        self.previous
            .as_ref()
            .filter(|p| p.kind == SourceKind::Git && self.kind == SourceKind::Git)
            .and_then(|p| p.head.as_deref())
    }

    /// Refuses to index this archive under a collection that another archive filled: their
    /// versions would be mixed, and the other archive's would never end.
    fn check_same_archive(&self) -> Result<()> {
        let Some(previous) = &self.previous else {
            return Ok(());
        };
        if previous.path == self.path && previous.kind == self.kind {
            return Ok(());
        }
        Err(IngestError::OtherArchive {
            collection: self.collection.clone(),
            indexed_path: previous.path.clone(),
            indexed_kind: kind_name(previous.kind),
            path: self.path.clone(),
            kind: kind_name(self.kind),
        })
    }
}

fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Git => "git",
        SourceKind::Dataset => "dataset",
        SourceKind::Folder => "folder",
    }
}

fn source_kind(kind: ArchiveKind) -> SourceKind {
    match kind {
        ArchiveKind::Git => SourceKind::Git,
        ArchiveKind::Dataset => SourceKind::Dataset,
        ArchiveKind::Folder => SourceKind::Folder,
    }
}

/// The name given, or the archive folder's name without a `-versions` suffix.
fn collection_name(path: &Path, given: Option<&str>) -> Result<CollectionName> {
    let name = match given {
        Some(name) => name.to_owned(),
        None => folder_name(path)?,
    };
    CollectionName::new(name).map_err(IngestError::CollectionName)
}

fn folder_name(path: &Path) -> Result<String> {
    let canonical = path.canonicalize().map_err(|source| IngestError::Path {
        path: path.to_owned(),
        source,
    })?;
    let folder = canonical
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("archive");
    Ok(folder
        .strip_suffix("-versions")
        .unwrap_or(folder)
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versions_repository_is_named_without_its_suffix() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("pga-versions");
        std::fs::create_dir(&repo).unwrap();
        assert_eq!(collection_name(&repo, None).unwrap().as_str(), "pga");
        assert_eq!(
            collection_name(&repo, Some("mine")).unwrap().as_str(),
            "mine"
        );
        let missing = collection_name(&dir.path().join("missing"), None).unwrap_err();
        assert!(missing.to_string().starts_with("cannot read "), "{missing}");
    }
}
