//! The Open Terms Archive dataset layout: `<service>/<terms type>/<YYYY-MM-DDTHH-MM-SSZ>.md`.
//!
//! The first file of a document is its first record; later ones are changes. As an extension,
//! a file named `<stamp>.technical-upgrade.md` is a technical upgrade (the dataset export
//! itself does not say which versions are).

use std::path::Path;

use palimpsest_schema::{Timestamp, VersionKind};

use crate::error::Result;
use crate::listing::{FileStamp, Format, Listing, Location, ReadOptions, VersionRef, doc_key};
use crate::walk::{Entry, entries, relative, skip_reason};
use crate::warning::Warning;

const UPGRADE_SUFFIX: &str = ".technical-upgrade";

/// Parses a dataset file name into its instant and whether it marks a technical upgrade.
pub fn parse_file_name(name: &str) -> Option<(Timestamp, bool)> {
    let (stamp, upgrade) = parse_stamp(name)?;
    Timestamp::from_civil(stamp).map(|at| (at, upgrade))
}

/// The civil date and time (UTC) a dataset file name spells, in or out of the range of
/// [`Timestamp`]. A leap second (`23-59-60`) reads as `23:59:59`, as jiff reads RFC 3339:
/// Unix time, and so every git date an export comes from, has no leap seconds.
fn parse_stamp(name: &str) -> Option<(jiff::civil::DateTime, bool)> {
    let stem = name.strip_suffix(".md")?;
    let (stamp, upgrade) = match stem.strip_suffix(UPGRADE_SUFFIX) {
        Some(stamp) => (stamp, true),
        None => (stem, false),
    };
    let (date, time) = stamp.split_once('T')?;
    let time = time.strip_suffix('Z')?;
    let mut parts = time.split('-');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || [h, m, s]
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    if date.len() != 10 {
        return None;
    }
    format!("{date}T{h}:{m}:{s}")
        .parse()
        .ok()
        .map(|at| (at, upgrade))
}

/// Why a file is not a version of the dataset layout.
fn not_a_version(file: &Entry) -> String {
    if let Some(reason) = skip_reason(file) {
        return reason.into();
    }
    match parse_stamp(&file.name) {
        Some((at, _)) if file.is_file => format!(
            "skipped: its date {at} is outside years 1 to 9999 ({} to {})",
            Timestamp::MIN,
            Timestamp::MAX
        ),
        _ => "skipped: not a <YYYY-MM-DDTHH-MM-SSZ>.md version file".into(),
    }
}

pub(crate) fn looks_like(root: &Path) -> bool {
    let Ok(services) = entries(root) else {
        return false;
    };
    services
        .iter()
        .filter(|e| e.is_dir)
        .take(20)
        .any(|service| {
            entries(&service.path).is_ok_and(|types| {
                types.iter().filter(|t| t.is_dir).any(|t| {
                    entries(&t.path)
                        .is_ok_and(|files| files.iter().any(|f| parse_file_name(&f.name).is_some()))
                })
            })
        })
}

pub(crate) fn list(root: &Path, options: &ReadOptions) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut seq = 0;
    for service in entries(root)? {
        // Hidden folders (`.git`, `.github`) are not services.
        if service.is_dir && service.name.starts_with('.') {
            continue;
        }
        if !service.is_dir || !service.utf8 {
            skip_non_dir(&mut listing, &service, root);
            continue;
        }
        for terms in entries(&service.path)? {
            if !terms.is_dir || !terms.utf8 {
                skip_non_dir(&mut listing, &terms, root);
                continue;
            }
            let key = match doc_key(options, &service.name, &terms.name) {
                Ok(key) => key,
                Err(reason) => {
                    listing.warnings.push(Warning {
                        path: relative(root, &terms.path),
                        reason: format!("skipped: {reason}"),
                    });
                    continue;
                }
            };
            let mut files: Vec<(Timestamp, bool, Entry)> = Vec::new();
            for file in entries(&terms.path)? {
                let parsed = parse_file_name(&file.name).filter(|_| file.utf8);
                match (parsed, file.is_file) {
                    (Some((at, upgrade)), true) => files.push((at, upgrade, file)),
                    _ => listing.warnings.push(Warning {
                        path: relative(root, &file.path),
                        reason: not_a_version(&file),
                    }),
                }
            }
            files.sort_by(|a, b| (a.0, &a.2.name).cmp(&(b.0, &b.2.name)));
            for (i, (recorded_at, upgrade, file)) in files.into_iter().enumerate() {
                let kind = if i == 0 {
                    VersionKind::FirstRecord
                } else if upgrade {
                    VersionKind::TechnicalUpgrade
                } else {
                    VersionKind::Change
                };
                listing.versions.push(VersionRef {
                    key: key.clone(),
                    recorded_at,
                    source_id: relative(root, &file.path),
                    kind,
                    seq,
                    format: Format::Markdown,
                    stamp: FileStamp::of(&file.path),
                    location: Location::File(file.path),
                });
                seq += 1;
            }
        }
    }
    Ok(listing)
}

fn skip_non_dir(listing: &mut Listing, entry: &Entry, root: &Path) {
    if entry.name.starts_with('.')
        || ["README.md", "LICENSE", "LICENSE.md"].contains(&entry.name.as_str())
    {
        return;
    }
    listing.warnings.push(Warning {
        path: relative(root, &entry.path),
        reason: skip_reason(entry)
            .unwrap_or("skipped: not a folder of the dataset layout")
            .into(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dataset_file_names() {
        let (at, upgrade) = parse_file_name("2024-03-01T10-20-30Z.md").unwrap();
        assert_eq!(at.to_string(), "2024-03-01T10:20:30Z");
        assert!(!upgrade);
        assert!(
            parse_file_name("2024-03-01T10-20-30Z.technical-upgrade.md")
                .unwrap()
                .1
        );
        // A leap second reads as the second before it, as RFC 3339 instants do.
        let (leap, _) = parse_file_name("2016-12-31T23-59-60Z.md").unwrap();
        assert_eq!(leap.to_string(), "2016-12-31T23:59:59Z");
        let (last, _) = parse_file_name("9999-12-31T23-59-59Z.md").unwrap();
        assert_eq!(last, Timestamp::MAX);
        assert!(parse_stamp("0000-06-01T00-00-00Z.md").is_some());
        for bad in [
            "2024-03-01.md",
            "2024-02-30T00-00-00Z.md",
            "x.md",
            "2024-03-01T10-20-30Z.txt",
            "2024-03-01T10:20:30Z.md",
            "0000-06-01T00-00-00Z.md",
            "2024-03-01T23-59-61Z.md",
        ] {
            assert!(parse_file_name(bad).is_none(), "{bad}");
        }
    }
}
