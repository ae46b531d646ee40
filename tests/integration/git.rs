//! Indexing git archives: the helpers that write them, and runs over their histories.

use super::*;

pub(super) fn git(dir: &Path, args: &[&str], date: Option<&str>) {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@e")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@e");
    if let Some(date) = date {
        cmd.env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
    }
    let status = cmd.output().unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// Writes the sample as an OTA versions repository, one commit per version, then deletes
/// one document.
pub(super) fn sample_repository(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"], None);
    std::fs::write(dir.join("README.md"), "not a document").unwrap();
    git(dir, &["add", "."], None);
    git(
        dir,
        &["commit", "-qm", "Initial commit"],
        Some("2020-01-01T00:00:00Z"),
    );
    let mut seen = std::collections::HashSet::new();
    for v in sample_versions() {
        let folder = dir.join(v.key.service.as_str());
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("{}.md", v.key.terms_type)), &v.content).unwrap();
        let subject = if seen.insert(v.key.clone()) {
            format!("First record of {} {}", v.key.service, v.key.terms_type)
        } else if v.kind == palimpsest_schema::VersionKind::TechnicalUpgrade {
            format!(
                "Apply technical or declaration upgrade on {} {}",
                v.key.service, v.key.terms_type
            )
        } else {
            format!(
                "Record new changes of {} {}",
                v.key.service, v.key.terms_type
            )
        };
        git(dir, &["add", "-A"], None);
        git(
            dir,
            &["commit", "-q", "--allow-empty", "-m", &subject],
            Some(&v.recorded_at.to_string()),
        );
    }
    git(dir, &["rm", "-q", "-r", "Dune Maps"], None);
    git(
        dir,
        &["commit", "-qm", "Delete Dune Maps"],
        Some("2024-10-01T00:00:00Z"),
    );
}

#[test]
fn git_archive_gives_the_same_versions_and_deletions_end_documents() {
    let repo = tempfile::tempdir().unwrap();
    sample_repository(repo.path());
    let options = ReadOptions::new(CollectionName::new("sample").unwrap());
    let archive = Archive::open(repo.path(), &options).unwrap();
    assert_eq!(archive.kind(), palimpsest_corpus::ArchiveKind::Git);
    let listing = archive.list(None).unwrap();
    // 13 versions minus the identical re-record (no tree change), plus one deletion.
    assert_eq!(listing.versions.len(), 13);
    let dir = tempfile::tempdir().unwrap();
    let report = ingest(dir.path(), repo.path(), "sample");
    assert_eq!((report.versions, report.deletions), (12, 1));
    let engine = Engine::open(dir.path()).unwrap();
    for v in sample_versions()
        .iter()
        .filter(|v| v.key.service.as_str() != "Dune Maps")
    {
        assert_eq!(show_at(&engine, v).content, v.content);
    }
    let kinds: Vec<_> = engine
        .versions("Acme Cloud", "Terms of Service", None)
        .unwrap()
        .versions
        .iter()
        .map(|v| v.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["first_record", "change", "technical_upgrade", "change"]
    );
    let dune = engine.show(&ShowRequest {
        service: "Dune Maps".into(),
        terms_type: "Privacy Policy".into(),
        collection: None,
        at: None,
        version: None,
    });
    assert_eq!(dune.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        engine
            .search(&request("desert", TimeMode::Current))
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        engine
            .search(&request("desert", TimeMode::AsOf(at("2024-06-01"))))
            .unwrap()
            .total,
        1
    );
}

#[test]
fn cli_indexes_git_incrementally() {
    let repo = tempfile::tempdir().unwrap();
    sample_repository(repo.path());
    let index_dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
            .arg("--index")
            .arg(index_dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let repo_path = repo.path().to_str().unwrap();
    let first = run(&["--json", "index", repo_path, "--collection", "demo"]);
    // Versions counted as `stats` counts them; the deleted document's record apart.
    assert_eq!(first["versions"], 12);
    assert_eq!(first["deletions"], 1);
    assert_eq!(first["collections"][0]["new_versions"], 12);
    assert_eq!(first["collections"][0]["deletions"], 1);
    assert_eq!(run(&["--json", "stats"])["versions"], first["versions"]);
    let again = run(&["--json", "index", repo_path, "--collection", "demo"]);
    assert_eq!(again["versions"], 0);
    std::fs::write(
        repo.path().join("Birdsong/Privacy Policy.md"),
        "# New\n\nAll new text about owls.\n",
    )
    .unwrap();
    git(
        repo.path(),
        &[
            "commit",
            "-qam",
            "Record new changes of Birdsong Privacy Policy",
        ],
        Some("2025-01-01T00:00:00Z"),
    );
    let update = run(&["--json", "index", repo_path, "--collection", "demo"]);
    assert_eq!(update["versions"], 1);
    let hits = run(&["--json", "search", "owls"]);
    assert_eq!(hits["total"], 1);
    assert_eq!(hits["hits"][0]["section"][0], "New");
    assert_eq!(hits["hits"][0]["valid_to"], serde_json::Value::Null);
    let stats = run(&["--json", "stats"]);
    assert_eq!(
        stats["versions"], 13,
        "12 recorded, 1 new; the deletion is not a version"
    );
}
