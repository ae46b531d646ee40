//! Open Terms Archive versions repositories, read with gix from the object database.
//!
//! The first-parent history of HEAD is walked; each commit is compared with its first parent
//! two levels deep (`<service>/<terms type>.md`, or `.html` / `.pdf` in a snapshots
//! repository). An added or modified file is a version recorded at the commit's author date;
//! a deleted file ends its document, and so does a symbolic link, submodule or folder put in
//! its place. Nothing is checked out: a symbolic link is a blob holding its target's name and
//! is skipped with a warning, as are names that are not UTF-8 or cannot name a document.

use std::cmp::Ordering;
use std::path::Path;

use gix::bstr::ByteSlice;
use gix::objs::TreeRefIter;
use gix::objs::tree::EntryRef;
use palimpsest_schema::{Timestamp, VersionKind};

use crate::error::{CorpusError, Result};
use crate::listing::{Format, Listing, Location, Parting, ReadOptions, VersionRef, doc_key};
use crate::text;
use crate::warning::Warning;

fn git_error(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> CorpusError + '_ {
    move |e| CorpusError::Git {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

pub(crate) fn open(path: &Path) -> Result<gix::Repository> {
    let mut repo = gix::open(path).map_err(|e| git_error(path)(&e))?;
    repo.object_cache_size_if_unset(32 << 20);
    Ok(repo)
}

/// A blob's bytes, or why it is not read: one over `max_bytes` is refused from its header,
/// without inflating it.
pub(crate) fn read_blob(
    repo: &gix::Repository,
    path: &Path,
    id: gix::ObjectId,
    max_bytes: u64,
) -> Result<std::result::Result<Vec<u8>, String>> {
    let header = repo.find_header(id).map_err(|e| git_error(path)(&e))?;
    if let Some(reason) = text::size_reason(header.size(), max_bytes) {
        return Ok(Err(reason));
    }
    let mut blob = repo.find_blob(id).map_err(|e| git_error(path)(&e))?;
    Ok(Ok(blob.take_data()))
}

/// The kind of version a commit records, from its subject.
pub(crate) fn kind_of(subject: &str, added: bool) -> VersionKind {
    const FIRST: [&str; 2] = ["First record of", "Start tracking"];
    const CHANGE: [&str; 2] = ["Record new changes of", "Update"];
    const UPGRADE: [&str; 2] = ["Apply technical or declaration upgrade on", "Refilter"];
    if FIRST.iter().any(|p| subject.starts_with(p)) {
        VersionKind::FirstRecord
    } else if UPGRADE.iter().any(|p| subject.starts_with(p)) {
        VersionKind::TechnicalUpgrade
    } else if CHANGE.iter().any(|p| subject.starts_with(p)) || !added {
        VersionKind::Change
    } else {
        VersionKind::FirstRecord
    }
}

struct CommitInfo {
    id: gix::ObjectId,
    tree: gix::ObjectId,
    /// The author date in seconds, or why it cannot be read.
    author_seconds: std::result::Result<i64, String>,
    subject: String,
}

pub(crate) fn list(path: &Path, options: &ReadOptions, since: Option<&str>) -> Result<Listing> {
    let repo = open(path)?;
    let mut listing = Listing::default();
    let head = match resolve_head(&repo, path)? {
        Head::Commit(id) => id,
        // A branch without commits has no versions; the caller decides what that means for
        // a collection indexed from this repository before.
        Head::Unborn(branch) => {
            listing.unborn = Some(branch);
            return Ok(listing);
        }
    };
    refuse_shallow(&repo, path)?;
    listing.head = Some(head.to_string());
    let since = since.and_then(|s| gix::ObjectId::from_hex(s.as_bytes()).ok());
    let (commits, base_tree) = first_parent_history(&repo, path, head, since)?;
    listing.since_found = base_tree.is_some();
    diff_history(&repo, path, options, &commits, base_tree, &mut listing)?;
    Ok(listing)
}

/// What HEAD names.
enum Head {
    /// A commit (HEAD peeled through its branch and tags).
    Commit(gix::ObjectId),
    /// A branch that has no commit yet (a new repository, an orphan branch, a mistyped
    /// `git symbolic-ref`), by its short name.
    Unborn(String),
}

/// HEAD as a commit or an unborn branch. A branch or HEAD naming an object the repository
/// lacks (a damaged or incomplete repository) is an error, never an empty history.
fn resolve_head(repo: &gix::Repository, path: &Path) -> Result<Head> {
    let head = repo.head().map_err(|e| CorpusError::Git {
        path: path.to_owned(),
        message: format!("HEAD cannot be read: {e}"),
    })?;
    if let gix::head::Kind::Unborn(branch) = &head.kind {
        return Ok(Head::Unborn(branch.shorten().to_string()));
    }
    let name = head
        .referent_name()
        .map(|n| n.shorten().to_string())
        .unwrap_or_else(|| "HEAD".into());
    let id = head.into_peeled_id().map_err(|e| CorpusError::Git {
        path: path.to_owned(),
        message: format!(
            "{name} does not resolve to a commit ({e}): the repository is damaged or \
             incomplete (objects moved or lost?); repair it or clone it again"
        ),
    })?;
    Ok(Head::Commit(id.detach()))
}

/// A shallow clone's history stops at commits whose parents it does not hold: listing it
/// would fail on a missing object, or index a history with its beginning cut off.
fn refuse_shallow(repo: &gix::Repository, path: &Path) -> Result<()> {
    let shallow = repo.is_shallow().map_err(|e| git_error(path)(&e))?;
    if shallow {
        return Err(CorpusError::ShallowClone {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// The commits from `since` (excluded) or the root to `head`, oldest first, following first
/// parents, with the tree of `since` when it was found.
fn first_parent_history(
    repo: &gix::Repository,
    path: &Path,
    head: gix::ObjectId,
    since: Option<gix::ObjectId>,
) -> Result<(Vec<CommitInfo>, Option<gix::ObjectId>)> {
    let mut commits = Vec::new();
    let mut next = Some((head, None));
    while let Some((id, child)) = next {
        let commit = find_commit(repo, path, id, child)?;
        let tree = commit
            .tree_id()
            .map_err(|e| commit_error(path, id, &format!("its tree cannot be read: {e}")))?
            .detach();
        if Some(id) == since {
            commits.reverse();
            return Ok((commits, Some(tree)));
        }
        let subject = commit
            .message()
            .map(|m| m.summary().to_str_lossy().into_owned())
            .unwrap_or_default();
        commits.push(CommitInfo {
            id,
            tree,
            author_seconds: author_seconds(&commit),
            subject,
        });
        next = commit.parent_ids().next().map(|p| (p.detach(), Some(id)));
    }
    commits.reverse();
    Ok((commits, None))
}

/// A commit of the first-parent history; one missing is named with the commit that
/// points to it.
fn find_commit<'r>(
    repo: &'r gix::Repository,
    path: &Path,
    id: gix::ObjectId,
    child: Option<gix::ObjectId>,
) -> Result<gix::Commit<'r>> {
    repo.find_commit(id).map_err(|e| {
        let what = match child {
            Some(child) => format!("it is the first parent of {child}, and cannot be read: {e}"),
            None => format!("it is HEAD, and cannot be read: {e}"),
        };
        commit_error(path, id, &what)
    })
}

fn commit_error(path: &Path, id: gix::ObjectId, message: &str) -> CorpusError {
    CorpusError::Git {
        path: path.to_owned(),
        message: format!("commit {id}: {message}"),
    }
}

/// The author date of a commit in seconds since the epoch, or why it cannot be read. gix's
/// `seconds()` reads an unparsable date (or one past `i64`) as 0, 1970-01-01: the strict
/// parse tells them apart.
fn author_seconds(commit: &gix::Commit<'_>) -> std::result::Result<i64, String> {
    let author = commit
        .author()
        .map_err(|e| format!("its author line cannot be parsed ({e})"))?;
    let time = author.time().map_err(|_| {
        let raw: String = author.time.chars().take(40).collect();
        format!("its author date `{raw}` cannot be parsed")
    })?;
    Ok(time.seconds)
}

/// Pushes the versions of each commit: what changed between its tree and its first
/// parent's. A commit whose date cannot be used is skipped with a warning: the changes it
/// made are not recorded, the next commit is compared with its tree.
fn diff_history(
    repo: &gix::Repository,
    path: &Path,
    options: &ReadOptions,
    commits: &[CommitInfo],
    base_tree: Option<gix::ObjectId>,
    listing: &mut Listing,
) -> Result<()> {
    let mut parent_tree = base_tree;
    let mut old_buf = Vec::new();
    let mut new_buf = Vec::new();
    for (seq, commit) in commits.iter().enumerate() {
        if parent_tree == Some(commit.tree) {
            continue;
        }
        let recorded_at = match recorded_at(&commit.author_seconds) {
            Ok(at) => at,
            Err(reason) => {
                listing.warnings.push(Warning {
                    path: format!("commit {}", commit.id),
                    reason: format!("skipped: {reason}; the changes it made are not recorded"),
                });
                parent_tree = Some(commit.tree);
                continue;
            }
        };
        let mut changes = Vec::new();
        diff_trees(
            repo,
            path,
            parent_tree,
            Some(commit.tree),
            0,
            &mut Vec::new(),
            &mut changes,
            &mut old_buf,
            &mut new_buf,
        )?;
        for change in changes {
            let display = format!("{} at {}", change.path.join("/"), commit.id);
            if let Some(reason) = change.warning {
                listing.warnings.push(Warning {
                    path: display.clone(),
                    reason,
                });
            }
            let (Some(what), [service, terms_file]) = (change.what, &change.path[..]) else {
                continue;
            };
            let Some((terms_type, format)) = Format::of(terms_file) else {
                continue;
            };
            let key = match doc_key(options, service, terms_type) {
                Ok(key) => key,
                Err(reason) => {
                    listing.warnings.push(Warning {
                        path: display,
                        reason: format!("skipped: {reason}"),
                    });
                    continue;
                }
            };
            let (kind, location) = match what {
                What::Written { id, added } => {
                    (kind_of(&commit.subject, added), Location::Blob(id))
                }
                What::Deleted => (VersionKind::Deleted, Location::Nothing),
            };
            listing.versions.push(VersionRef {
                key,
                recorded_at,
                source_id: commit.id.to_string(),
                kind,
                seq: seq as u64,
                format,
                stamp: None,
                location,
            });
        }
        parent_tree = Some(commit.tree);
    }
    Ok(())
}

/// The instant of an author date, or why it cannot be one.
fn recorded_at(
    seconds: &std::result::Result<i64, String>,
) -> std::result::Result<Timestamp, String> {
    let seconds = seconds.clone()?;
    Timestamp::from_unix(seconds).ok_or_else(|| {
        format!(
            "its author date ({seconds} s since 1970) is outside years 1 to 9999 ({} to {})",
            Timestamp::MIN,
            Timestamp::MAX
        )
    })
}

const SYMLINK: &str = "skipped: a symbolic link has no content to index (its target is not read)";

enum What {
    Written { id: gix::ObjectId, added: bool },
    Deleted,
}

/// An entry of `<service>/<terms type>` that differs between two trees.
struct Change {
    /// The path's names (a service folder alone when its name is not UTF-8).
    path: Vec<String>,
    /// What the commit did to the document, if it recorded anything.
    what: Option<What>,
    /// Why the entry is skipped, or why its document ends.
    warning: Option<String>,
}

/// Git's tree order: names compared as bytes, a tree's name followed by `/`.
fn git_order(a: &EntryRef<'_>, b: &EntryRef<'_>) -> Ordering {
    let slash = |e: &EntryRef<'_>| e.mode.is_tree().then_some(b'/');
    a.filename
        .iter()
        .copied()
        .chain(slash(a))
        .cmp(b.filename.iter().copied().chain(slash(b)))
}

fn load_tree(
    repo: &gix::Repository,
    path: &Path,
    id: Option<gix::ObjectId>,
    buf: &mut Vec<u8>,
) -> Result<()> {
    buf.clear();
    if let Some(id) = id {
        let tree = repo.find_tree(id).map_err(|e| git_error(path)(&e))?;
        buf.extend_from_slice(&tree.data);
    }
    Ok(())
}

fn entries<'a>(path: &Path, data: &'a [u8]) -> Result<Vec<EntryRef<'a>>> {
    TreeRefIter::from_bytes(data, gix::hash::Kind::Sha1)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| git_error(path)(&e))
}

/// Compares two trees down to depth 2 (`service/terms.md`), pushing what changed.
#[allow(clippy::too_many_arguments)]
fn diff_trees(
    repo: &gix::Repository,
    path: &Path,
    old: Option<gix::ObjectId>,
    new: Option<gix::ObjectId>,
    depth: usize,
    prefix: &mut Vec<String>,
    out: &mut Vec<Change>,
    old_buf: &mut Vec<u8>,
    new_buf: &mut Vec<u8>,
) -> Result<()> {
    load_tree(repo, path, old, old_buf)?;
    load_tree(repo, path, new, new_buf)?;
    let old_entries = entries(path, old_buf)?;
    let new_entries = entries(path, new_buf)?;
    // Collect pairs first: recursion reuses the buffers.
    let mut pairs: Vec<(Option<Owned>, Option<Owned>)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old_entries.len() || j < new_entries.len() {
        let order = match (old_entries.get(i), new_entries.get(j)) {
            (Some(a), Some(b)) => git_order(a, b),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                pairs.push((Some(Owned::from(&old_entries[i])), None));
                i += 1;
            }
            Ordering::Greater => {
                pairs.push((None, Some(Owned::from(&new_entries[j]))));
                j += 1;
            }
            Ordering::Equal => {
                if old_entries[i].oid != new_entries[j].oid
                    || old_entries[i].mode != new_entries[j].mode
                {
                    pairs.push((
                        Some(Owned::from(&old_entries[i])),
                        Some(Owned::from(&new_entries[j])),
                    ));
                }
                i += 1;
                j += 1;
            }
        }
    }
    for (old, new) in pairs {
        let (old_kind, new_kind) = (old.as_ref().map(|e| e.kind), new.as_ref().map(|e| e.kind));
        let name = &new.as_ref().or(old.as_ref()).expect("one side").name;
        let name = match String::from_utf8(name.clone()) {
            Ok(name) => name,
            Err(e) => {
                // Only what could hold a document, as it appears or changes, is worth a word:
                // a service folder, or a file with a document's extension.
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let could_hold = match depth {
                    0 => new_kind == Some(Kind::Tree),
                    _ => new_kind.is_some() && Format::of(&lossy).is_some(),
                };
                if could_hold {
                    out.push(Change {
                        path: prefix.iter().cloned().chain([lossy]).collect(),
                        what: None,
                        warning: Some("skipped: file name is not UTF-8".into()),
                    });
                }
                continue;
            }
        };
        if depth == 0 {
            if new_kind == Some(Kind::Link) {
                out.push(Change {
                    path: vec![name.clone()],
                    what: None,
                    warning: Some(SYMLINK.into()),
                });
            }
            let old_tree = old.filter(|e| e.kind == Kind::Tree).map(|e| e.id);
            let new_tree = new.filter(|e| e.kind == Kind::Tree).map(|e| e.id);
            if old_tree.is_some() || new_tree.is_some() {
                prefix.push(name);
                diff_trees(
                    repo, path, old_tree, new_tree, 1, prefix, out, old_buf, new_buf,
                )?;
                prefix.pop();
            }
            continue;
        }
        if Format::of(&name).is_none() {
            continue;
        }
        let was_written = old_kind == Some(Kind::Blob);
        // Anything but a file in a document's place ends the document (if it had one): its
        // text is no longer in the archive.
        let not_a_file = |reason: &str| Change {
            path: prefix.iter().cloned().chain([name.clone()]).collect(),
            what: was_written.then_some(What::Deleted),
            warning: Some(reason.into()),
        };
        let change = match (new_kind, &new) {
            (Some(Kind::Blob), Some(e)) => Change {
                path: prefix.iter().cloned().chain([name.clone()]).collect(),
                what: Some(What::Written {
                    id: e.id,
                    added: !was_written,
                }),
                warning: None,
            },
            (Some(Kind::Link), _) => not_a_file(SYMLINK),
            (Some(Kind::Submodule), _) => {
                not_a_file("skipped: a submodule entry (gitlink) has no content to index")
            }
            (Some(Kind::Tree), _) => not_a_file("skipped: a folder, not a file"),
            (None, _) if was_written => Change {
                path: prefix.iter().cloned().chain([name.clone()]).collect(),
                what: Some(What::Deleted),
                warning: None,
            },
            _ => continue,
        };
        out.push(change);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tree,
    Blob,
    Link,
    Submodule,
}

struct Owned {
    name: Vec<u8>,
    id: gix::ObjectId,
    kind: Kind,
}

impl From<&EntryRef<'_>> for Owned {
    fn from(e: &EntryRef<'_>) -> Self {
        let kind = if e.mode.is_tree() {
            Kind::Tree
        } else if e.mode.is_link() {
            Kind::Link
        } else if e.mode.is_commit() {
            Kind::Submodule
        } else {
            Kind::Blob
        };
        Owned {
            name: e.filename.to_vec(),
            id: e.oid.to_owned(),
            kind,
        }
    }
}

/// Where HEAD's first-parent history parted from `commit`'s: the newest commit both hold.
pub(crate) fn parting(path: &Path, commit: &str) -> Result<Parting> {
    let err = git_error(path);
    let repo = open(path)?;
    let gone = Parting {
        found: false,
        last_common: None,
    };
    let Ok(start) = gix::ObjectId::from_hex(commit.as_bytes()) else {
        return Ok(gone);
    };
    if repo.find_commit(start).is_err() {
        return Ok(gone);
    }
    let Ok(head) = repo.head_id() else {
        return Ok(Parting {
            found: true,
            ..gone
        });
    };
    let first_parent = |id: gix::ObjectId| -> Result<Option<gix::ObjectId>> {
        let commit = repo.find_commit(id).map_err(|e| err(&e))?;
        Ok(commit.parent_ids().next().map(|p| p.detach()))
    };
    let mut ours = std::collections::HashSet::new();
    let mut next = Some(head.detach());
    while let Some(id) = next {
        ours.insert(id);
        next = first_parent(id)?;
    }
    let mut next = Some(start);
    while let Some(id) = next {
        if ours.contains(&id) {
            return Ok(Parting {
                found: true,
                last_common: Some(id.to_string()),
            });
        }
        next = first_parent(id)?;
    }
    Ok(Parting {
        found: true,
        ..gone
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_subjects() {
        assert_eq!(
            kind_of("First record of X Terms", true),
            VersionKind::FirstRecord
        );
        assert_eq!(kind_of("Start tracking X", true), VersionKind::FirstRecord);
        assert_eq!(
            kind_of("Record new changes of X", false),
            VersionKind::Change
        );
        assert_eq!(kind_of("Update X", false), VersionKind::Change);
        assert_eq!(
            kind_of("Apply technical or declaration upgrade on X", false),
            VersionKind::TechnicalUpgrade
        );
        assert_eq!(kind_of("Refilter X", false), VersionKind::TechnicalUpgrade);
        assert_eq!(
            kind_of("Merge pull request #1", true),
            VersionKind::FirstRecord
        );
        assert_eq!(kind_of("Merge pull request #1", false), VersionKind::Change);
    }
}

/// The `versionUrlTemplate` of an Open Terms Archive versions repository, from the fetch
/// URL of its `origin` remote: `https://github.com/OpenTermsArchive/NAME-versions/blob/%VERSION/
/// %SERVICE/%TERMS_TYPE.md`. `None` for any other repository or remote.
pub fn version_url_template(path: &Path) -> Option<String> {
    let repo = gix::open(path).ok()?;
    let remote = repo.find_remote("origin").ok()?;
    let url = remote.url(gix::remote::Direction::Fetch)?.to_bstring();
    template_for_remote(&String::from_utf8_lossy(&url))
}

/// [`version_url_template`] from a remote's URL (`https://`, `git@github.com:` or `ssh://`).
pub(crate) fn template_for_remote(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("github.com")?;
    let rest = rest.trim_start_matches([':', '/']);
    let (owner, name) = rest.split_once('/')?;
    let name = name.trim_end_matches('/').trim_end_matches(".git");
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let ota = owner.eq_ignore_ascii_case("OpenTermsArchive");
    (ota && valid(name) && name.ends_with("-versions")).then(|| {
        format!("https://github.com/OpenTermsArchive/{name}/blob/%VERSION/%SERVICE/%TERMS_TYPE.md")
    })
}

#[cfg(test)]
mod remote_tests {
    use super::template_for_remote;

    #[test]
    fn an_open_terms_archive_versions_remote_gives_its_version_url_template() {
        let expected = "https://github.com/OpenTermsArchive/pga-versions/blob/%VERSION/\
                        %SERVICE/%TERMS_TYPE.md";
        for url in [
            "https://github.com/OpenTermsArchive/pga-versions.git",
            "https://github.com/OpenTermsArchive/pga-versions",
            "git@github.com:OpenTermsArchive/pga-versions.git",
            "ssh://git@github.com/OpenTermsArchive/pga-versions.git",
        ] {
            assert_eq!(template_for_remote(url).as_deref(), Some(expected), "{url}");
        }
        for url in [
            "https://github.com/someone/pga-versions.git",
            "https://github.com/OpenTermsArchive/pga-snapshots.git",
            "/data/pga-versions.bundle",
            "https://github.com/OpenTermsArchive/a b-versions",
        ] {
            assert_eq!(template_for_remote(url), None, "{url}");
        }
    }
}
