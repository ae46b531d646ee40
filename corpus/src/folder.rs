//! A plain folder of `<service>/<terms type>.md` (or `.html`, `.pdf` snapshots): one version per file, recorded at the file's
//! modification time unless an instant is given. Symbolic links are never followed.

use std::path::{Path, PathBuf};

use palimpsest_schema::{Timestamp, VersionKind};

use crate::archive::{Format, Listing, Location, ReadOptions, VersionRef, Warning, doc_key};
use crate::dataset::relative;
use crate::error::{CorpusError, Result};

/// A directory entry, described without following symbolic links.
pub(crate) struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub is_dir: bool,
    pub is_file: bool,
    pub is_symlink: bool,
    pub modified: Option<std::time::SystemTime>,
}

/// The entries of a folder, sorted by name; names that are not UTF-8 are left out.
pub(crate) fn entries(dir: &Path) -> Result<Vec<Entry>> {
    let io = |source| CorpusError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let meta = std::fs::symlink_metadata(entry.path()).map_err(io)?;
        out.push(Entry {
            name,
            path: entry.path(),
            is_dir: meta.is_dir(),
            is_file: meta.is_file(),
            is_symlink: meta.file_type().is_symlink(),
            modified: meta.modified().ok(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub(crate) fn looks_like(root: &Path) -> bool {
    let Ok(services) = entries(root) else {
        return false;
    };
    services.iter().filter(|e| e.is_dir).any(|service| {
        entries(&service.path).is_ok_and(|files| {
            files
                .iter()
                .any(|f| f.is_file && Format::of(&f.name).is_some())
        })
    })
}

pub(crate) fn list(root: &Path, options: &ReadOptions) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut seq = 0;
    for service in entries(root)?
        .into_iter()
        .filter(|e| e.is_dir && !e.name.starts_with('.'))
    {
        for file in entries(&service.path)? {
            let Some((terms_type, format)) = Format::of(&file.name) else {
                continue;
            };
            let path = relative(root, &file.path);
            if !file.is_file {
                listing.warnings.push(Warning {
                    path,
                    reason: if file.is_symlink {
                        "skipped: symbolic links are not followed".into()
                    } else {
                        "skipped: not a regular file".into()
                    },
                });
                continue;
            }
            let key = match doc_key(options, &service.name, terms_type) {
                Ok(key) => key,
                Err(reason) => {
                    listing.warnings.push(Warning {
                        path,
                        reason: format!("skipped: {reason}"),
                    });
                    continue;
                }
            };
            let recorded_at = match options.recorded_at {
                Some(at) => at,
                None => match file
                    .modified
                    .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                    .and_then(|d| Timestamp::from_unix(d.as_secs() as i64))
                {
                    Some(at) => at,
                    None => {
                        listing.warnings.push(Warning {
                            path,
                            reason: "skipped: no usable modification time; pass --recorded-at"
                                .into(),
                        });
                        continue;
                    }
                },
            };
            listing.versions.push(VersionRef {
                key,
                recorded_at,
                source_id: format!("{path}@{recorded_at}"),
                kind: VersionKind::FirstRecord,
                seq,
                format,
                location: Location::File(file.path),
            });
            seq += 1;
        }
    }
    Ok(listing)
}
