//! What the CLI says to a user: how to choose among collections, the instants it reads,
//! counts in words.

use std::process::Output;

use super::robustness::palimpsest;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The sample indexed by the CLI as each of `collections`.
fn sample_as(collections: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = palimpsest_corpus::sample_path();
    for collection in collections {
        let out = palimpsest(
            dir.path(),
            &[
                "index",
                sample.to_str().unwrap(),
                "--collection",
                collection,
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    dir
}

#[test]
fn a_document_in_several_collections_did_not_say_how_to_choose_one() {
    let dir = sample_as(&["pga", "vlopses-us"]);
    let refused = palimpsest(dir.path(), &["show", "Birdsong", "Privacy Policy"]);
    assert_eq!(refused.status.code(), Some(2));
    let err = stderr(&refused);
    assert!(
        err.contains(
            "error: `Birdsong` `Privacy Policy` is in several collections (pga, vlopses-us); \
             choose one with --collection pga or --collection vlopses-us"
        ),
        "{err}"
    );
    let chosen = palimpsest(
        dir.path(),
        &["show", "Birdsong", "Privacy Policy", "--collection", "pga"],
    );
    assert!(chosen.status.success(), "{}", stderr(&chosen));
    assert!(!stdout(&chosen).is_empty());
}

#[test]
fn a_month_or_a_year_given_as_an_instant_was_refused() {
    let dir = sample_as(&["sample"]);
    let json = |args: &[&str]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = palimpsest(dir.path(), &all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    // A month or a year means 00:00:00Z on its first day.
    assert_eq!(
        json(&["changes", "--from", "2024-10", "--limit", "100"]),
        json(&["changes", "--from", "2024-10-01", "--limit", "100"])
    );
    assert_eq!(
        json(&["search", "data", "--from", "2024", "--to", "2025"]),
        json(&[
            "search",
            "data",
            "--from",
            "2024-01-01",
            "--to",
            "2025-01-01"
        ])
    );
    for impossible in ["2025-13", "2025-00", "0000"] {
        let refused = palimpsest(dir.path(), &["changes", "--from", impossible]);
        assert_eq!(refused.status.code(), Some(2), "{impossible}");
        assert!(
            stderr(&refused).contains("invalid date"),
            "{}",
            stderr(&refused)
        );
    }
    let help = palimpsest(dir.path(), &["changes", "--help"]);
    let help = stdout(&help)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        help.contains("a month YYYY-MM or a year YYYY for its first day"),
        "{help}"
    );
}

#[test]
fn an_address_in_use_gave_no_hint_to_choose_another() {
    let dir = sample_as(&["sample"]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let refused = palimpsest(dir.path(), &["serve", "--addr", &addr]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains(&format!(
            "error: cannot listen on {addr}: the address is in use (another server runs \
             there?); choose another address with --addr 127.0.0.1:PORT"
        )),
        "{err}"
    );
}

#[test]
fn one_version_was_counted_as_1_versions() {
    let archive = tempfile::tempdir().unwrap();
    let document = archive.path().join("Acme/Terms of Service.md");
    std::fs::create_dir_all(document.parent().unwrap()).unwrap();
    std::fs::write(&document, "# Terms\n\nAcme may end your account.\n").unwrap();
    let index = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = palimpsest(index.path(), args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let archive = archive.path().to_str().unwrap();
    let indexed = run(&["index", archive, "--collection", "acme"]);
    assert!(
        indexed.contains("indexed 1 new version of 1 document in ")
            && indexed.contains(": 1 span opened, 0 closed;"),
        "{indexed}"
    );
    let listed = run(&["services"]);
    assert!(listed.contains("    1 version   "), "{listed}");
    let found = run(&["search", "account"]);
    assert!(
        found.starts_with("1 matching section in force now"),
        "{found}"
    );
    let history = run(&["history", "account"]);
    assert!(history.contains("1 document where"), "{history}");
}

/// `search --history` said "2 matching runs of unchanged text", and its facets, which count
/// each text a section had, added up to more than that without a word.
#[test]
fn history_search_counted_runs_of_unchanged_text_and_facets_without_a_word() {
    let archive = tempfile::tempdir().unwrap();
    let document = archive.path().join("Acme/Terms of Service.md");
    std::fs::create_dir_all(document.parent().unwrap()).unwrap();
    let index = tempfile::tempdir().unwrap();
    let archive_path = archive.path().to_str().unwrap();
    let texts = [
        (
            "2024-01-01T00:00:00Z",
            "# Terms\n\nAcme may end your account.\n\n# Other\n\nAcme account rules.\n",
        ),
        (
            "2024-03-01T00:00:00Z",
            "# Terms\n\nAcme may close your account.\n\n# Other\n\nAcme account rules.\n",
        ),
    ];
    for (at, text) in texts {
        std::fs::write(&document, text).unwrap();
        let out = palimpsest(
            index.path(),
            &[
                "index",
                archive_path,
                "--collection",
                "acme",
                "--recorded-at",
                at,
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = palimpsest(index.path(), &["search", "account", "--history"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = stdout(&out);
    assert!(
        found.starts_with("2 matching sections over all history"),
        "{found}"
    );
    assert!(!found.contains("runs of unchanged text"), "{found}");
    assert!(
        found.contains("counts below are of texts: a section counts once for each text it had"),
        "{found}"
    );
}
