//! Indexing runs that must lose or corrupt nothing: runs started at once on one index, a git
//! history rewritten under an indexed collection, another archive under a collection's name,
//! a document of too many sections, and failed runs.

use std::path::Path;
use std::process::{Command, Output};

use palimpsest_indexer::{Indexer, IndexerOptions};

use super::git::{git, sample_repository};
use super::robustness::palimpsest;
use super::sample_versions;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON a successful command prints.
fn json(index: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "--quiet"];
    all.extend_from_slice(args);
    let out = palimpsest(index, &all);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Everything a user sees of an index, as JSON, for comparing two builds.
fn observe(index: &Path) -> Vec<serde_json::Value> {
    let services = json(index, &["services"]);
    let mut seen = vec![services.clone()];
    for service in services["services"].as_array().unwrap() {
        for document in service["documents"].as_array().unwrap() {
            let name = service["service"].as_str().unwrap();
            let terms = document["terms_type"].as_str().unwrap();
            seen.push(json(index, &["versions", name, terms]));
            // A document the archive removed has no version in force: its message counts.
            let shown = palimpsest(index, &["--json", "show", name, terms]);
            // It names the index it looked in, which is another folder for each build.
            let text =
                String::from_utf8_lossy(&shown.stdout) + String::from_utf8_lossy(&shown.stderr);
            let text = text.replace(&index.display().to_string(), "INDEX");
            seen.push(serde_json::Value::String(text));
        }
    }
    let mut stats = json(index, &["stats"]);
    for layout in ["index_bytes", "segments"] {
        stats.as_object_mut().unwrap().remove(layout);
    }
    seen.push(stats);
    for query in ["*", "owls", "arbitration", "desert"] {
        seen.push(json(
            index,
            &["search", query, "--history", "--limit", "100"],
        ));
        seen.push(json(index, &["search", query]));
    }
    seen.push(json(
        index,
        &[
            "changes",
            "--first-records",
            "--technical-upgrades",
            "--limit",
            "100",
        ],
    ));
    seen
}

/// Two observations are the same but for scores (which deleted documents still weigh on)
/// and the order of hits of equal score.
fn assert_same(got: &[serde_json::Value], expected: &[serde_json::Value]) {
    fn unscored(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => map
                .iter()
                .filter(|(k, _)| *k != "score")
                .map(|(k, v)| {
                    let mut v = unscored(v);
                    if let (true, Some(hits)) = (k == "hits", v.as_array_mut()) {
                        hits.sort_by_key(|h| h.to_string());
                    }
                    (k.clone(), v)
                })
                .collect(),
            serde_json::Value::Array(items) => items.iter().map(unscored).collect(),
            other => other.clone(),
        }
    }
    assert_eq!(got.len(), expected.len());
    for (got, expected) in got.iter().zip(expected) {
        assert_eq!(unscored(got), unscored(expected));
    }
}

/// Indexes the sample into a rebuild held by this process, as a run still going on.
fn held_rebuild(index: &Path) -> Indexer {
    let mut indexer = Indexer::rebuild(index, &IndexerOptions::default()).unwrap();
    for version in sample_versions() {
        indexer.add(version).unwrap();
    }
    indexer
}

#[test]
fn two_rebuilds_at_once_leave_an_openable_index() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    let sample = palimpsest_corpus::sample_path();
    let sample = sample.to_str().unwrap();
    let built = json(&index, &["index", sample]);
    let versions = json(&index, &["stats"])["versions"].clone();

    // A second run while a rebuild is going on, rebuilding or updating, is refused and
    // changes nothing; the rebuild then completes.
    let running = held_rebuild(&index);
    for args in [&["index", sample, "--rebuild"][..], &["index", sample]] {
        let out = palimpsest(&index, args);
        assert!(!out.status.success(), "{args:?} ran beside a rebuild");
        let message = stderr(&out);
        assert!(
            message.contains("another indexing run is writing the index"),
            "{args:?}: {message}"
        );
        assert!(!message.contains("FileDoesNotExist"), "{message}");
    }
    running.commit().unwrap();
    let after = json(&index, &["stats", "--verify"]);
    assert_eq!(after["versions"], versions);

    // Rebuilds and updates started together: each completes or is refused, and the index
    // opens, verifies and holds the versions of a completed run.
    for _ in 0..3 {
        let children: Vec<_> = [
            &["index", sample, "--rebuild"][..],
            &["index", sample, "--rebuild"],
            &["index", sample],
        ]
        .iter()
        .map(|args| {
            Command::new(env!("CARGO_BIN_EXE_palimpsest"))
                .arg("--index")
                .arg(&index)
                .arg("--quiet")
                .args(*args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            let message = stderr(&out);
            assert!(
                out.status.success() || message.contains("another indexing run"),
                "{message}"
            );
        }
        let stats = json(&index, &["stats", "--verify"]);
        assert_eq!(stats["versions"], versions);
    }
    assert!(built["versions"].as_u64().unwrap() > 0);
    assert!(!dir.path().join("index.rebuilding").exists());
    assert!(!dir.path().join("index.lock").exists());
}

/// The commit HEAD names in `repo`.
fn head(repo: &Path) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Commits a new text of one sample document.
fn commit_owls(repo: &Path, date: &str) {
    std::fs::write(
        repo.join("Birdsong/Privacy Policy.md"),
        format!("# New\n\nAll new text about owls, {date}.\n"),
    )
    .unwrap();
    git(
        repo,
        &[
            "commit",
            "-qam",
            "Record new changes of Birdsong Privacy Policy",
        ],
        Some(date),
    );
}

/// Indexes `repo` incrementally into `index` and a clean build; both must look the same.
/// Returns the incremental run's report of the collection.
fn index_and_compare(repo: &Path, index: &Path, clean: &Path) -> serde_json::Value {
    let repo = repo.to_str().unwrap();
    let report = json(index, &["index", repo, "--collection", "demo"]);
    json(clean, &["index", repo, "--collection", "demo", "--rebuild"]);
    assert_same(&observe(index), &observe(clean));
    report["collections"][0].clone()
}

#[test]
fn a_rewritten_git_history_ends_equal_to_a_clean_build() {
    let repo = tempfile::tempdir().unwrap();
    sample_repository(repo.path());
    let dir = tempfile::tempdir().unwrap();
    let (index, clean) = (dir.path().join("index"), dir.path().join("clean"));
    let first = index_and_compare(repo.path(), &index, &clean);
    assert!(first.get("rewritten").is_none());

    // Five commits dropped (the deletion of a document among them), one new.
    git(repo.path(), &["reset", "-q", "--hard", "HEAD~5"], None);
    let common = head(repo.path());
    commit_owls(repo.path(), "2024-12-01T00:00:00Z");
    let report = index_and_compare(repo.path(), &index, &clean);
    let rewritten = &report["rewritten"];
    assert_eq!(rewritten["cursor_found"], true, "{report}");
    assert_eq!(rewritten["last_common_commit"], common.as_str());
    assert_eq!(rewritten["versions_dropped"], 5, "{report}");
    assert!(rewritten["documents_replayed"].as_u64().unwrap() >= 2);
    let text = palimpsest(
        &index,
        &[
            "index",
            repo.path().to_str().unwrap(),
            "--collection",
            "demo",
        ],
    );
    assert!(text.status.success());

    // The commit indexed last no longer exists at all.
    git(repo.path(), &["reset", "-q", "--hard", "HEAD~2"], None);
    commit_owls(repo.path(), "2024-12-02T00:00:00Z");
    git(
        repo.path(),
        &["reflog", "expire", "--expire=now", "--all"],
        None,
    );
    git(repo.path(), &["gc", "-q", "--prune=now"], None);
    let report = index_and_compare(repo.path(), &index, &clean);
    assert_eq!(report["rewritten"]["cursor_found"], false, "{report}");
    assert_eq!(
        report["rewritten"]["last_common_commit"],
        serde_json::Value::Null
    );

    // The human report says so too.
    git(repo.path(), &["reset", "-q", "--hard", "HEAD~1"], None);
    let out = palimpsest(
        &index,
        &[
            "index",
            repo.path().to_str().unwrap(),
            "--collection",
            "demo",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout.contains("was rewritten"), "{stdout}");
    assert!(
        stdout.contains("1 version no longer in the history dropped"),
        "{stdout}"
    );
}

#[test]
fn another_archive_under_an_indexed_collection_is_refused() {
    let repo = tempfile::tempdir().unwrap();
    sample_repository(repo.path());
    let repo = repo.path().to_str().unwrap();
    let sample = palimpsest_corpus::sample_path();
    let sample = sample.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    json(&index, &["index", sample, "--collection", "demo"]);
    let before = observe(&index);
    let out = palimpsest(&index, &["index", repo, "--collection", "demo"]);
    assert!(!out.status.success());
    let message = stderr(&out);
    let sample_real = std::fs::canonicalize(sample).unwrap();
    assert!(
        message.contains(sample_real.to_str().unwrap()) && message.contains("--rebuild"),
        "{message}"
    );
    let repo_real = std::fs::canonicalize(repo).unwrap();
    assert!(message.contains(repo_real.to_str().unwrap()), "{message}");
    assert!(
        message.contains("(dataset)") && message.contains("(git)"),
        "{message}"
    );
    assert_same(&observe(&index), &before);
    json(
        &index,
        &["index", repo, "--collection", "demo", "--rebuild"],
    );
    json(&index, &["index", repo, "--collection", "demo"]);
}

#[test]
fn a_document_of_too_many_sections_is_split_at_the_cap_with_a_warning() {
    let archive = tempfile::tempdir().unwrap();
    std::fs::create_dir(archive.path().join("Big")).unwrap();
    let sections = palimpsest_indexer::split::MAX_SECTIONS + 1_000;
    let text = "# a\n".repeat(sections);
    std::fs::write(archive.path().join("Big/Terms.md"), &text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = palimpsest(
        dir.path(),
        &[
            "index",
            archive.path().to_str().unwrap(),
            "--recorded-at",
            "2024-01-01",
        ],
    );
    let message = stderr(&out);
    assert!(out.status.success(), "{message}");
    assert!(
        message.contains("Big/Terms") && message.contains(&format!("{sections} sections")),
        "{message}"
    );
    let stats = json(dir.path(), &["stats"]);
    assert_eq!(stats["spans"], palimpsest_indexer::split::MAX_SECTIONS);
    assert_eq!(json(dir.path(), &["show", "Big", "Terms"])["content"], text);
}

#[test]
fn a_failed_run_leaves_nothing_behind_and_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-archive");
    let missing = missing.to_str().unwrap();
    for args in [
        &["index", missing][..],
        &["index", missing, "--rebuild"],
        &["index", missing, "--collection", "gone"],
    ] {
        let index = dir.path().join("new").join("index");
        let out = palimpsest(&index, args);
        assert!(!out.status.success());
        let message = stderr(&out);
        assert_eq!(
            message.matches("No such file or directory").count(),
            1,
            "{message}"
        );
        assert!(message.contains(missing), "{message}");
        assert!(
            !dir.path().join("new").exists(),
            "{args:?} left a folder behind"
        );
    }

    // A failed run on an index prints its error only, whatever the output mode.
    let index = dir.path().join("index");
    let sample = palimpsest_corpus::sample_path();
    json(&index, &["index", sample.to_str().unwrap()]);
    for mode in [&["--json"][..], &["--quiet"], &[]] {
        let mut args = mode.to_vec();
        args.extend(["index", missing, "--collection", "gone"]);
        let out = palimpsest(&index, &args);
        assert!(!out.status.success());
        let message = stderr(&out);
        assert!(!message.contains("DEBUG"), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }
    assert!(index.join("meta.json").exists());
    assert!(!dir.path().join("index.lock").exists());
}

/// Copies a folder with everything in it (a repository with its `.git`).
fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Breaks a clone in one of the ways that once read as a history rewritten to nothing.
fn break_repository(repo: &Path, way: &str) {
    match way {
        "objects moved away" => {
            git(repo, &["gc", "-q"], None);
            let aside = repo.parent().unwrap().join("aside");
            std::fs::rename(repo.join(".git/objects/pack"), aside).unwrap();
        }
        "orphan branch" => {
            git(repo, &["checkout", "-q", "--orphan", "fresh"], None);
            git(repo, &["rm", "-rq", "--cached", "."], None);
        }
        "mistyped branch" => git(repo, &["symbolic-ref", "HEAD", "refs/heads/mian"], None),
        "branch naming no object" => std::fs::write(
            repo.join(".git/refs/heads/main"),
            "0123456789abcdef0123456789abcdef01234567\n",
        )
        .unwrap(),
        "re-initialised" => {
            std::fs::remove_dir_all(repo.join(".git")).unwrap();
            git(repo, &["init", "-q", "-b", "main"], None);
        }
        "re-initialised with one commit" => {
            std::fs::remove_dir_all(repo.join(".git")).unwrap();
            git(repo, &["init", "-q", "-b", "main"], None);
            git(repo, &["add", "-A"], None);
            git(repo, &["commit", "-qm", "Start tracking"], None);
        }
        other => panic!("no way {other}"),
    }
}

#[test]
fn an_unresolvable_head_drops_nothing_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, pristine) = (dir.path().join("repo"), dir.path().join("pristine"));
    std::fs::create_dir(&repo).unwrap();
    sample_repository(&repo);
    copy_tree(&repo, &pristine);
    let index = dir.path().join("index");
    let path = repo.to_str().unwrap();
    json(&index, &["index", path, "--collection", "demo"]);
    let before = observe(&index);
    let meta = std::fs::read(index.join("meta.json")).unwrap();
    for way in [
        "objects moved away",
        "orphan branch",
        "mistyped branch",
        "branch naming no object",
        "re-initialised",
        "re-initialised with one commit",
    ] {
        break_repository(&repo, way);
        let out = palimpsest(&index, &["index", path, "--collection", "demo"]);
        let message = stderr(&out);
        assert!(!out.status.success(), "{way}: {message}");
        let told = message.contains("does not resolve to a commit")
            || (message.contains("--allow-drop") && message.contains("holds 13 versions"));
        assert!(told, "{way}: {message}");
        assert_eq!(
            std::fs::read(index.join("meta.json")).unwrap(),
            meta,
            "{way}"
        );
        std::fs::remove_dir_all(&repo).unwrap();
        let _ = std::fs::remove_dir_all(dir.path().join("aside"));
        copy_tree(&pristine, &repo);
    }
    assert_same(&observe(&index), &before);

    // Said on purpose, the same history is dropped.
    break_repository(&repo, "mistyped branch");
    let out = palimpsest(
        &index,
        &["index", path, "--collection", "demo", "--allow-drop"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&index, &["stats"])["versions"], 0);
}

#[test]
fn index_rebuild_never_removes_a_folder_of_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let mydata = dir.path().join("mydata");
    std::fs::create_dir_all(mydata.join("sub")).unwrap();
    std::fs::write(mydata.join("thesis.txt"), "three years of work").unwrap();
    std::fs::write(mydata.join("sub/data.csv"), "a,b\n").unwrap();
    let sample = palimpsest_corpus::sample_path();
    let sample = sample.to_str().unwrap();
    let commands = [
        &["index", "--rebuild", sample][..],
        &["index", sample],
        &["search", "owls"],
    ];
    for args in commands {
        let out = palimpsest(&mydata, args);
        let message = stderr(&out);
        assert!(!out.status.success(), "{args:?}: {message}");
        if args[0] == "index" {
            assert!(
                message.contains("is not an index folder")
                    && message.contains("sub/, thesis.txt")
                    && message.contains("--index"),
                "{args:?}: {message}"
            );
        }
        let mut left: Vec<_> = std::fs::read_dir(&mydata)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["sub", "thesis.txt"], "{args:?}");
        assert_eq!(
            std::fs::read_to_string(mydata.join("thesis.txt")).unwrap(),
            "three years of work"
        );
        assert!(!dir.path().join("mydata.lock").exists());
        assert!(!dir.path().join("mydata.rebuilding").exists());
    }

    // An empty folder, and an index, are written as before.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    json(&empty, &["index", sample]);
    json(&empty, &["index", "--rebuild", sample]);
    assert!(json(&empty, &["stats"])["versions"].as_u64().unwrap() > 0);
}

/// A run killed while Tantivy renamed a new `meta.json` into place leaves the temporary file
/// of that write (`.tmp` and six letters) in the index folder: the index is still one, the
/// next run updates it and removes the file, and a rebuild replaces it.
#[test]
fn a_run_killed_during_an_atomic_write_leaves_an_index_the_next_run_takes() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    let sample = palimpsest_corpus::sample_path();
    let sample = sample.to_str().unwrap();
    json(&index, &["index", sample]);
    let leftover = index.join(".tmpH5z5uU");
    std::fs::write(&leftover, "{\"half\": ").unwrap();
    assert!(json(&index, &["stats"])["versions"].as_u64().unwrap() > 0);
    json(&index, &["index", sample]);
    assert!(!leftover.exists(), "the next run removes the leftover");
    std::fs::write(&leftover, "").unwrap();
    json(&index, &["index", "--rebuild", sample]);
    assert!(json(&index, &["stats"])["versions"].as_u64().unwrap() > 0);
}

#[test]
fn a_dataset_file_corrected_in_place_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = dir.path().join("dataset");
    let terms = dataset.join("Svc/Terms of Service");
    std::fs::create_dir_all(&terms).unwrap();
    let first = terms.join("2024-01-01T00-00-00Z.md");
    let second = terms.join("2024-02-01T00-00-00Z.md");
    std::fs::write(&first, "# Terms\n\nWe keep your data.\n").unwrap();
    std::fs::write(&second, "# Terms\n\nWe keep your data for a yaer.\n").unwrap();
    let (index, clean) = (dir.path().join("index"), dir.path().join("clean"));
    let path = dataset.to_str().unwrap();
    json(&index, &["index", path]);

    std::fs::write(
        &second,
        "# Terms\n\nWe keep your data for a year, corrected.\n",
    )
    .unwrap();
    let report = json(&index, &["index", path]);
    assert_eq!(
        report["collections"][0]["replayed_changed_files"], 1,
        "{report}"
    );
    json(&clean, &["index", path, "--rebuild"]);
    assert_same(&observe(&index), &observe(&clean));
    let shown = json(&index, &["show", "Svc", "Terms of Service"]);
    assert!(
        shown["content"].as_str().unwrap().contains("corrected"),
        "{shown}"
    );

    // Nothing changed: nothing replayed.
    let again = json(&index, &["index", path]);
    assert!(
        again["collections"][0]
            .get("replayed_changed_files")
            .is_none()
    );
}
