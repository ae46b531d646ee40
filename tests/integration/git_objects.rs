//! Git histories git itself would not write: commits whose author line or date cannot be
//! parsed (hand-written objects), a parent missing from the object database, and shallow
//! clones. A bad commit is named and skipped; a history that cannot be read whole is refused
//! with a message that names the commit, or says how to fetch the rest.

use std::path::Path;

use super::git::git;
use super::robustness::{
    commit, git_object, head, hits, index, json, kinds, palimpsest, warned, write,
};

const DOC: &str = "Acme/Terms of Service.md";
const CHANGE: &str = "Record new changes of Acme Terms of Service";

fn text(word: &str) -> String {
    format!("# Terms\n\n{word} clause.\n")
}

/// Writes `word` as the document, stages it and returns the tree git would commit.
fn tree_with(repo: &Path, word: &str) -> String {
    write(&repo.join(DOC), text(word));
    git(repo, &["add", "-A"], None);
    git_object(repo, &["write-tree"], "", "2024-01-01T00:00:00Z")
}

/// A commit object written by hand with `author_line`, and HEAD's branch moved to it.
fn crafted_commit(repo: &Path, tree: &str, parent: &str, author_line: &str) -> String {
    let object = format!(
        "tree {tree}\nparent {parent}\n{author_line}\ncommitter t <t@e> 1704067200 +0000\n\n\
         {CHANGE}\n"
    );
    let args = [
        "hash-object",
        "-t",
        "commit",
        "--literally",
        "-w",
        "--stdin",
    ];
    let id = git_object(repo, &args, &object, "2024-01-01T00:00:00Z");
    git(repo, &["update-ref", "refs/heads/main", &id], None);
    id
}

fn repository_with_first_record(repo: &Path) {
    git(repo, &["init", "-q", "-b", "main"], None);
    write(&repo.join(DOC), text("firstword"));
    commit(
        repo,
        "First record of Acme Terms of Service",
        "2024-01-01T00:00:00Z",
    );
}

#[test]
fn commits_with_an_unparsable_author_date_or_signature_are_named_and_skipped() {
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    repository_with_first_record(repo);
    let mut parent = head(repo);
    let mut skipped = Vec::new();
    for (author_line, word) in [
        ("author t <t@e> notadate +0000", "baddateword"),
        // Past i64: gix's lenient reading gave 0, recorded as 1970-01-01.
        ("author t <t@e> 99999999999999999999 +0000", "hugedateword"),
        ("author t t@e 1704153600 +0000", "badsignatureword"),
    ] {
        let tree = tree_with(repo, word);
        parent = crafted_commit(repo, &tree, &parent, author_line);
        skipped.push(parent.clone());
    }
    write(&repo.join(DOC), text("lastword"));
    commit(repo, CHANGE, "2024-05-01T00:00:00Z");

    let idx = tempfile::tempdir().unwrap();
    let stderr = index(idx.path(), repo, &[]);
    for id in &skipped {
        warned(
            &stderr,
            &[&format!("commit {id}: skipped: its author"), "not recorded"],
        );
    }
    warned(
        &stderr,
        &[
            &skipped[1],
            "its author date `99999999999999999999 +0000` cannot be parsed",
        ],
    );
    let idx = idx.path();
    assert_eq!(
        kinds(idx, "Acme", "Terms of Service").unwrap(),
        ["first_record", "change"]
    );
    let versions = json(idx, &["versions", "Acme", "Terms of Service"]).unwrap();
    let dates: Vec<_> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["recorded_at"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates, ["2024-01-01T00:00:00Z", "2024-05-01T00:00:00Z"]);
    for word in ["baddateword", "hugedateword", "badsignatureword"] {
        assert_eq!(hits(idx, word), 0, "{word}");
    }
    assert_eq!(hits(idx, "lastword"), 1);
}

#[test]
fn a_missing_parent_commit_is_named_with_the_commit_that_points_to_it() {
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    repository_with_first_record(repo);
    let missing = "1111111111111111111111111111111111111111";
    let tree = tree_with(repo, "orphanword");
    let child = crafted_commit(repo, &tree, missing, "author t <t@e> 1704153600 +0000");
    let idx = tempfile::tempdir().unwrap();
    let out = palimpsest(
        idx.path(),
        &["index", repo.to_str().unwrap(), "--collection", "c"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "commit {missing}: it is the first parent of {child}, and cannot be read"
        )),
        "{stderr}"
    );
}

#[test]
fn a_shallow_clone_is_refused_with_how_to_fetch_its_whole_history() {
    let repo = tempfile::tempdir().unwrap();
    let origin = repo.path();
    repository_with_first_record(origin);
    for (i, word) in ["secondword", "thirdword", "fourthword"].iter().enumerate() {
        write(&origin.join(DOC), text(word));
        commit(origin, CHANGE, &format!("2024-0{}-01T00:00:00Z", i + 2));
    }
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.display());
    git(
        clones.path(),
        &["clone", "-q", "--depth", "2", &url, "shallow"],
        None,
    );
    let shallow = clones.path().join("shallow");
    let idx = tempfile::tempdir().unwrap();
    let args = ["index", shallow.to_str().unwrap(), "--collection", "c"];
    let out = palimpsest(idx.path(), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("is a shallow clone") && stderr.contains("fetch --unshallow"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    git(&shallow, &["fetch", "-q", "--unshallow"], None);
    index(idx.path(), &shallow, &[]);
    assert_eq!(
        kinds(idx.path(), "Acme", "Terms of Service").unwrap().len(),
        4
    );
}
