//! A plain folder of `<service>/<terms type>.md` (or `.html`, `.pdf` snapshots): one version
//! per file, recorded at the file's modification time unless an instant is given. Symbolic
//! links are never followed, and files are read only below the archive's folder.

use std::path::Path;

use palimpsest_schema::{Timestamp, VersionKind};

use crate::error::Result;
use crate::listing::{Format, Listing, Location, ReadOptions, VersionRef, doc_key};
use crate::text;
use crate::walk::{Entry, entries, relative, skip_reason};
use crate::warning::Warning;

pub(crate) fn looks_like(root: &Path) -> bool {
    let Ok(services) = entries(root) else {
        return false;
    };
    services.iter().filter(|e| e.is_dir).any(|service| {
        entries(&service.path).is_ok_and(|files| {
            files
                .iter()
                .any(|f| f.is_file && f.utf8 && Format::of(&f.name).is_some())
        })
    })
}

/// The bytes of a listed file, or why they are not read: the file is read only if it is
/// still a regular file below `root` (not a symbolic link put in its place since listing),
/// and only if it is within `max_bytes`.
pub(crate) fn read_file(
    root: &Path,
    path: &Path,
    max_bytes: u64,
) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read as _;
    let cannot = |e: std::io::Error| format!("cannot read: {e}");
    let listed = std::fs::symlink_metadata(path).map_err(cannot)?;
    if listed.file_type().is_symlink() {
        return Err("symbolic links are not followed".into());
    }
    if !listed.is_file() {
        return Err("not a regular file".into());
    }
    let folder = path
        .parent()
        .unwrap_or(path)
        .canonicalize()
        .map_err(cannot)?;
    if !folder.starts_with(root) {
        return Err(format!(
            "its folder now leads outside the archive, to {}",
            folder.display()
        ));
    }
    if let Some(reason) = text::size_reason(listed.len(), max_bytes) {
        return Err(reason);
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let opened = file.metadata().map_err(cannot)?;
        if (opened.dev(), opened.ino()) != (listed.dev(), listed.ino()) {
            return Err("replaced while being read".into());
        }
    }
    let mut bytes = Vec::with_capacity(listed.len() as usize);
    // The file may grow after its size was read: one byte over the limit is enough to say so.
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    Ok(bytes)
}

/// A file's modification time, to the second (rounded down), or why it cannot be a
/// version's instant.
fn modified_at(file: &Entry) -> std::result::Result<Timestamp, String> {
    let modified = file
        .modified
        .ok_or("its modification time cannot be read")?;
    let seconds = match modified.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            (-whole).saturating_sub(i64::from(before.subsec_nanos() > 0))
        }
    };
    Timestamp::from_unix(seconds).ok_or_else(|| {
        format!(
            "its modification time ({seconds} s since 1970) is outside years 1 to 9999 \
             ({} to {})",
            Timestamp::MIN,
            Timestamp::MAX
        )
    })
}

pub(crate) fn list(root: &Path, options: &ReadOptions) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut seq = 0;
    for service in entries(root)? {
        if service.name.starts_with('.') {
            continue;
        }
        if let Some(reason) = skip_reason(&service) {
            listing.warnings.push(Warning {
                path: relative(root, &service.path),
                reason: reason.into(),
            });
            continue;
        }
        if !service.is_dir {
            continue;
        }
        for file in entries(&service.path)? {
            let Some((terms_type, format)) = Format::of(&file.name) else {
                continue;
            };
            let path = relative(root, &file.path);
            if let Some(reason) = skip_reason(&file) {
                listing.warnings.push(Warning {
                    path,
                    reason: reason.into(),
                });
                continue;
            }
            if !file.is_file {
                listing.warnings.push(Warning {
                    path,
                    reason: "skipped: not a regular file".into(),
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
            let recorded_at = match options.recorded_at.map_or_else(|| modified_at(&file), Ok) {
                Ok(at) => at,
                Err(reason) => {
                    listing.warnings.push(Warning {
                        path,
                        reason: format!("skipped: {reason}; pass --recorded-at"),
                    });
                    continue;
                }
            };
            listing.versions.push(VersionRef {
                key,
                recorded_at,
                source_id: format!("{path}@{recorded_at}"),
                kind: VersionKind::FirstRecord,
                seq,
                format,
                stamp: None,
                location: Location::File(file.path),
            });
            seq += 1;
        }
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use palimpsest_schema::CollectionName;

    use crate::{Archive, ReadOptions};

    fn listed(dir: &std::path::Path) -> (Archive, crate::Listing) {
        let mut options = ReadOptions::new(CollectionName::new("t").unwrap());
        options.recorded_at = Some(palimpsest_schema::Timestamp::from_unix(0).unwrap());
        options.max_file_bytes = 10;
        let archive = Archive::open(dir, &options).unwrap();
        let listing = archive.list(None).unwrap();
        (archive, listing)
    }

    #[test]
    fn a_file_swapped_for_a_link_after_listing_is_not_read() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Acme/Terms.md");
        std::fs::create_dir(dir.path().join("Acme")).unwrap();
        std::fs::write(&file, "terms").unwrap();
        let (archive, listing) = listed(dir.path());
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), &file).unwrap();
        let outcome = archive
            .reader()
            .unwrap()
            .read_checked(&listing.versions[0])
            .unwrap();
        assert!(outcome.version.is_none());
        assert!(
            outcome.warnings[0]
                .reason
                .contains("symbolic links are not followed")
        );
    }

    #[test]
    fn a_folder_swapped_for_a_link_after_listing_is_not_read() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("Terms.md"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("Acme")).unwrap();
        std::fs::write(dir.path().join("Acme/Terms.md"), "terms").unwrap();
        let (archive, listing) = listed(dir.path());
        std::fs::remove_dir_all(dir.path().join("Acme")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("Acme")).unwrap();
        let outcome = archive
            .reader()
            .unwrap()
            .read_checked(&listing.versions[0])
            .unwrap();
        assert!(outcome.version.is_none());
        assert!(
            outcome.warnings[0]
                .reason
                .contains("leads outside the archive")
        );
    }

    #[test]
    fn a_file_gone_after_listing_is_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("Acme")).unwrap();
        std::fs::write(dir.path().join("Acme/Terms.md"), "terms").unwrap();
        let (archive, listing) = listed(dir.path());
        std::fs::remove_file(dir.path().join("Acme/Terms.md")).unwrap();
        let outcome = archive
            .reader()
            .unwrap()
            .read_checked(&listing.versions[0])
            .unwrap();
        assert!(outcome.version.is_none());
        assert!(
            outcome.warnings[0]
                .reason
                .starts_with("skipped: cannot read")
        );
    }

    #[test]
    fn a_file_grown_past_the_limit_after_listing_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("Acme")).unwrap();
        std::fs::write(dir.path().join("Acme/Terms.md"), "terms").unwrap();
        let (archive, listing) = listed(dir.path());
        std::fs::write(dir.path().join("Acme/Terms.md"), "x".repeat(64)).unwrap();
        let outcome = archive
            .reader()
            .unwrap()
            .read_checked(&listing.versions[0])
            .unwrap();
        assert!(outcome.version.is_none());
        assert!(
            outcome.warnings[0]
                .reason
                .contains("larger than the 10 byte limit")
        );
    }
}
