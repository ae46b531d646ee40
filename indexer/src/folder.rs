//! Which folders a run may write, replace or remove: only an index of this program, an empty
//! folder, or none. `--index` names a folder a person typed; one holding anything else (a
//! mistyped path, a project folder) is refused before the run creates, locks or moves anything.

use std::path::{Path, PathBuf};

use palimpsest_schema::IndexFields;

use crate::error::{IndexerError, Result};

/// Names shown when a folder is refused for holding other files.
const SHOWN_FOREIGN: usize = 3;

/// What a folder holds, as a run sees it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FolderState {
    /// No folder (or an empty one): a run creates the index there.
    Free,
    /// An index this program wrote, of any format: a run may update, replace or remove it.
    Index,
}

/// Whether `dir` may be written as an index; refuses a file, or a folder holding anything that
/// is not an index of this program, naming what it found.
pub(crate) fn check(dir: &Path) -> Result<FolderState> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FolderState::Free),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory || dir.is_file() => {
            return Err(refused(dir, "it is a file, not a folder".into()));
        }
        Err(error) => {
            return Err(IndexerError::Io {
                action: "cannot read index folder",
                path: dir.to_owned(),
                error,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(IndexerError::io("cannot read index folder", dir))?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let mut name = entry.file_name().to_string_lossy().into_owned();
        if is_dir {
            name.push('/');
        }
        names.push(name);
    }
    if names.is_empty() {
        return Ok(FolderState::Free);
    }
    let foreign = foreign_names(&names);
    if !foreign.is_empty() {
        return Err(refused(dir, holds(&foreign)));
    }
    if !written_by_us(dir) {
        return Err(refused(
            dir,
            "it holds a Tantivy index that this program did not write".into(),
        ));
    }
    Ok(FolderState::Index)
}

fn refused(dir: &Path, reason: String) -> IndexerError {
    IndexerError::NotIndexFolder {
        path: dir.to_owned(),
        reason,
    }
}

/// "it holds thesis.txt, sub/ and 3 more files that are not part of an index".
fn holds(foreign: &[&str]) -> String {
    let mut shown: Vec<String> = foreign
        .iter()
        .take(SHOWN_FOREIGN)
        .map(|n| palimpsest_schema::printable(n).into_owned())
        .collect();
    shown.sort();
    let more = foreign.len().saturating_sub(SHOWN_FOREIGN);
    let list = shown.join(", ");
    match more {
        0 => format!("it holds {list}, which no index holds"),
        n => format!("it holds {list} and {n} more entries, which no index holds"),
    }
}

/// Entries that are not files Tantivy writes into an index folder.
fn foreign_names(names: &[String]) -> Vec<&str> {
    names
        .iter()
        .map(String::as_str)
        .filter(|n| !is_index_file(n))
        .collect()
}

/// Tantivy's files: `meta.json`, `.managed.json`, its lock files, segment files named by a
/// 32-digit hexadecimal segment id (`<id>.idx`, `<id>.<opstamp>.del`, …), and the temporary
/// file of an atomic write that a run killed at that moment leaves.
fn is_index_file(name: &str) -> bool {
    if matches!(
        name,
        "meta.json" | ".managed.json" | ".tantivy-meta.lock" | ".tantivy-writer.lock"
    ) || is_atomic_write_leftover(name)
    {
        return true;
    }
    let Some((id, rest)) = name.split_once('.') else {
        return false;
    };
    id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && !rest.is_empty()
        && !rest.ends_with('/')
}

/// Tantivy writes `meta.json` and `.managed.json` through a temporary file in the index
/// folder (`tempfile`'s default name: `.tmp` and six letters or digits), renamed into place; a
/// run killed in between leaves it behind.
fn is_atomic_write_leftover(name: &str) -> bool {
    name.strip_prefix(".tmp").is_some_and(|random| {
        (3..=16).contains(&random.len()) && random.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Removes what atomic writes of killed runs left in the index folder `dir`. Only a run that
/// holds the index's lock calls it: no other writer is writing there.
pub(crate) fn remove_atomic_write_leftovers(dir: &Path) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(IndexerError::io("cannot read index folder", dir))?;
    for entry in entries {
        let entry = entry.map_err(IndexerError::io("cannot read index folder", dir))?;
        let name = entry.file_name();
        if name.to_str().is_some_and(is_atomic_write_leftover) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(IndexerError::io(
                "cannot remove the leftover of a killed run",
                &path,
            ))?;
        }
    }
    Ok(())
}

/// Whether the folder's `meta.json` describes an index with this program's document kinds
/// (the `doc_type` field every format of it has had). Segment files without a `meta.json`
/// are what a run killed before its first commit leaves.
fn written_by_us(dir: &Path) -> bool {
    let text = match std::fs::read_to_string(dir.join("meta.json")) {
        Ok(text) => text,
        Err(e) => return e.kind() == std::io::ErrorKind::NotFound,
    };
    let Ok(meta) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let fields = IndexFields::new();
    let doc_type = fields.schema.get_field_name(fields.doc_type);
    meta["schema"]
        .as_array()
        .is_some_and(|schema| schema.iter().any(|f| f["name"] == doc_type))
}

/// The folder beside `dir` named `dir.suffix`: the lock file, the rebuild's staging folder
/// and the replaced index's.
pub(crate) fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tantivy_file_names_are_told_from_a_users_files() {
        for name in [
            "meta.json",
            ".managed.json",
            ".tantivy-writer.lock",
            "0123456789abcdef0123456789abcdef.idx",
            "0123456789abcdef0123456789abcdef.12.del",
            ".tmpH5z5uU",
        ] {
            assert!(is_index_file(name), "{name}");
        }
        for name in [
            "thesis.txt",
            "sub/",
            "0123456789abcdef0123456789abcdef/",
            "0123456789abcdef.idx",
            "meta.json.bak",
            ".tmp",
            ".tmpnotes.txt",
            ".tmpH5z5uU/",
        ] {
            assert!(!is_index_file(name), "{name}");
        }
    }

    #[test]
    fn a_folder_of_a_users_files_is_refused_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("thesis.txt"), "mine").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let error = check(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("sub/, thesis.txt") && error.contains("--index"),
            "{error}"
        );
        assert_eq!(
            check(&dir.path().join("absent")).unwrap(),
            FolderState::Free
        );
        let empty = dir.path().join("sub");
        assert_eq!(check(&empty).unwrap(), FolderState::Free);
        let file = dir.path().join("thesis.txt");
        assert!(check(&file).unwrap_err().to_string().contains("a file"));
    }

    #[test]
    fn a_tantivy_index_of_another_program_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut schema = tantivy::schema::Schema::builder();
        schema.add_text_field("title", tantivy::schema::TEXT);
        tantivy::Index::create_in_dir(dir.path(), schema.build()).unwrap();
        let error = check(dir.path()).unwrap_err().to_string();
        assert!(error.contains("did not write"), "{error}");
    }
}
