//! The command line: each command's output, formats, exit statuses and messages.

use super::*;

/// A folder holding the sample archive, indexed by the CLI.
fn sample_index() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = palimpsest_corpus::sample_path();
    let indexed = palimpsest(dir.path(), &["index", sample.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&indexed.stderr);
    assert!(indexed.status.success(), "{stderr}");
    dir
}

fn palimpsest(index: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .arg("--index")
        .arg(index)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn filters_resolve_names_in_any_case_and_refuse_unknown_ones_with_status_2() {
    let dir = sample_index();
    let found = palimpsest(dir.path(), &["search", "data", "--service", "birdsong"]);
    assert!(found.status.success());
    let out = String::from_utf8_lossy(&found.stdout);
    assert!(out.contains("Birdsong"), "{out}");
    let refused = palimpsest(dir.path(), &["changes", "--service", "birdsonk"]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("unknown service `birdsonk`; did you mean `Birdsong`?"),
        "{err}"
    );
}

#[test]
fn list_commands_write_json_lines_and_csv_with_the_json_items() {
    let dir = sample_index();
    let stdout = |args: &[&str]| {
        let out = palimpsest(dir.path(), args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["--json", "changes", "--limit", "100"])).unwrap();
    let changes = json["changes"].as_array().unwrap();
    let lines = stdout(&["--format", "jsonl", "changes", "--limit", "100"]);
    assert_eq!(lines.lines().count(), changes.len());
    for (line, change) in lines.lines().zip(changes) {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(&item, change);
    }
    let csv = stdout(&["--format", "csv", "search", "data", "--limit", "100"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "service");
    let hits: serde_json::Value =
        serde_json::from_str(&stdout(&["--json", "search", "data", "--limit", "100"])).unwrap();
    assert_eq!(
        reader.records().count(),
        hits["hits"].as_array().unwrap().len()
    );
    let refused = palimpsest(dir.path(), &["--format", "csv", "stats"]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn all_streams_every_page_of_a_list_in_each_format() {
    let dir = sample_index();
    let stdout = |args: &[&str]| {
        let out = palimpsest(dir.path(), args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for list in [
        &["changes", "--first-records"][..],
        &["search", "data", "--history"],
        &["history", "data"],
    ] {
        let page: serde_json::Value =
            serde_json::from_str(&stdout(&[&["--json"], list, &["--limit", "100"]].concat()))
                .unwrap();
        let key = ["changes", "hits", "documents"]
            .into_iter()
            .find(|k| page.get(k).is_some())
            .unwrap();
        let items = page[key].as_array().unwrap();
        assert_eq!(
            page["total"],
            items.len(),
            "{list:?}: one page holds them all"
        );
        let lines = stdout(&[&["--format", "jsonl"], list, &["--all"]].concat());
        let exported: Vec<serde_json::Value> = lines
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(&exported, items, "{list:?}");
        let array = stdout(&[&["--json"], list, &["--all"]].concat());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&array).unwrap(),
            serde_json::Value::from(items.clone())
        );
        let csv = stdout(&[&["--format", "csv"], list, &["--all"]].concat());
        assert_eq!(
            csv::Reader::from_reader(csv.as_bytes()).records().count(),
            items.len()
        );
        let text = stdout(&[list, &["--all"]].concat());
        assert!(
            text.starts_with(&format!("{} ", items.len())),
            "{list:?}: {text}"
        );
    }
    let refused = palimpsest(dir.path(), &["changes", "--all", "--limit", "5"]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn changes_filter_by_kind_and_refuse_an_unknown_kind_with_status_2() {
    let dir = sample_index();
    let kinds = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--json", "changes", "--first-records", "--limit", "100"];
        all.extend_from_slice(args);
        let out = palimpsest(dir.path(), &all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let every = kinds(&[]);
    let chosen = kinds(&["--kind", "added", "--kind", "moved"]);
    assert!(!chosen.is_empty());
    assert!(
        chosen.iter().all(|k| k == "added" || k == "moved"),
        "{chosen:?}"
    );
    let expected = every.iter().filter(|k| *k == "added" || *k == "moved");
    assert_eq!(chosen.len(), expected.count());
    let atom = palimpsest(dir.path(), &["changes", "--kind", "removed", "--atom"]);
    assert!(atom.status.success());
    let feed = String::from_utf8_lossy(&atom.stdout);
    let removed = every.iter().filter(|k| *k == "removed").count();
    assert_eq!(feed.matches("<entry>").count(), removed.min(20), "{feed}");

    let refused = palimpsest(dir.path(), &["changes", "--kind", "renamed"]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("renamed") && err.contains("modified"), "{err}");
}

#[test]
fn serve_refuses_a_source_url_template_without_the_version_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let refused = palimpsest(
        dir.path(),
        &[
            "serve",
            "--source-url-template",
            "https://example.org/main/%SERVICE.md",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("must hold %VERSION"), "{err}");
}

/// The CLI printed `Quill&#x27;s` when snippets were HTML.
#[test]
fn snippets_print_apostrophes_and_markup_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::create_dir_all(archive.join("Quill")).unwrap();
    std::fs::write(
        archive.join("Quill/Terms.md"),
        "# Quill's terms\n\nQuill's rules & <b>notices</b>: see [our page](https://quill.example/terms).\n",
    )
    .unwrap();
    let index = dir.path().join("index");
    let made = palimpsest(&index, &["index", archive.to_str().unwrap()]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let found = palimpsest(&index, &["search", "rules"]);
    let out = String::from_utf8_lossy(&found.stdout);
    assert!(
        out.contains("Quill's **rules** & <b>notices</b>: see our page"),
        "{out}"
    );
    assert!(!out.contains("&#") && !out.contains("&amp;"), "{out}");
}

#[test]
fn stats_verify_finds_a_damaged_file() {
    let dir = sample_index();
    assert!(
        palimpsest(dir.path(), &["stats", "--verify"])
            .status
            .success()
    );
    let store = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "store"))
        .expect("a document store file");
    let mut bytes = std::fs::read(&store).unwrap();
    bytes[8] ^= 0xff;
    std::fs::write(&store, bytes).unwrap();
    let out = palimpsest(dir.path(), &["stats", "--verify"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged"));
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let dir = sample_index();
    for args in [
        &["search", "*", "--history", "--limit", "100"][..],
        &["changes", "--first-records", "--limit", "100"],
        &["changes", "--atom"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
            .arg("--index")
            .arg(dir.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reading end is closed before the command writes (it opens the index
        // first): like `| head -0`, every write fails with a broken pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{args:?}"
        );
    }
}

#[test]
fn bad_input_exits_with_the_status_of_its_error_code_and_a_message() {
    let dir = sample_index();
    // 2: cannot be answered as asked; 3: the index does not hold it; 1: other failures.
    for (args, expected, status) in [
        (vec!["show", "Nobody", "Terms"], "unknown service", 3),
        (
            vec!["search", "x", "--as-of", "2024-02-30"],
            "invalid date",
            2,
        ),
        (vec!["search", "nofield:x"], "invalid query", 2),
        (vec!["search", "x", "--limit", "0"], "limit", 2),
        (
            vec![
                "show",
                "Acme Cloud",
                "Terms of Service",
                "--at",
                "9999-01-01",
            ],
            "in the future",
            2,
        ),
        (vec!["index", "/nonexistent/archive"], "cannot", 1),
    ] {
        let out = palimpsest(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn json_output_has_the_contract_shapes() {
    let dir = sample_index();
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_slice(&palimpsest(dir.path(), &all).stdout).unwrap()
    };
    let search = json(&["search", "arbitration", "--history"]);
    let hit = &search["hits"][0];
    for key in [
        "service",
        "terms_type",
        "collection",
        "section",
        "title",
        "snippet",
        "valid_from",
        "valid_to",
        "first_version",
        "last_version",
        "score",
    ] {
        assert!(hit.get(key).is_some(), "hit lacks {key}");
    }
    assert_eq!(hit["valid_to"], "2024-05-20T10:00:00Z");
    for facet in ["service", "terms_type", "collection", "section", "year"] {
        assert!(search["facets"][facet].is_array(), "facet {facet}");
    }
    let show = json(&["show", "Birdsong", "Privacy Policy", "--at", "2023-06-01"]);
    for key in [
        "service",
        "terms_type",
        "collection",
        "id",
        "recorded_at",
        "kind",
        "content",
    ] {
        assert!(show.get(key).is_some(), "show lacks {key}");
    }
    assert_eq!(show["kind"], "first_record");
    let versions = json(&["versions", "Birdsong", "Privacy Policy"]);
    assert_eq!(versions["versions"].as_array().unwrap().len(), 3);
    let services = json(&["services"]);
    assert_eq!(services["services"].as_array().unwrap().len(), 4);
}
