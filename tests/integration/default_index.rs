//! The default index (no `--index`, no `PALIMPSEST_INDEX`): the built-in fictional sample
//! fills it on first use, answers from it say so, and a real archive is not mixed into it.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the CLI in `folder` without choosing an index.
fn palimpsest(folder: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .current_dir(folder)
        .env_remove("PALIMPSEST_INDEX")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A folder archive of one real-looking document, `acme/Acme/Terms of Service.md`.
fn real_archive(folder: &Path) -> std::path::PathBuf {
    let archive = folder.join("acme");
    std::fs::create_dir_all(archive.join("Acme")).unwrap();
    std::fs::write(
        archive.join("Acme/Terms of Service.md"),
        "# Terms\n\nAcme may end your account at any time.\n",
    )
    .unwrap();
    archive
}

/// The collections the default index's services are listed in.
fn collections(folder: &Path) -> Vec<String> {
    let out = palimpsest(folder, &["--json", "--quiet", "services"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<String> = json["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["documents"].as_array().unwrap())
        .map(|d| d["collection"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

const NOTICE: &str = "answering from the built-in fictional sample";

#[test]
fn a_real_archive_indexed_without_index_was_mixed_into_the_sample() {
    let folder = tempfile::tempdir().unwrap();
    let archive = real_archive(folder.path());
    let archive = archive.to_str().unwrap();
    // The sample fills ./palimpsest-index on first use.
    assert_eq!(collections(folder.path()), ["sample"]);

    let refused = palimpsest(folder.path(), &["index", archive]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("./palimpsest-index holds the built-in fictional sample")
            && err.contains("--index DIR")
            && err.contains("PALIMPSEST_INDEX"),
        "{err}"
    );
    assert_eq!(
        collections(folder.path()),
        ["sample"],
        "nothing was indexed"
    );

    // The sample itself may be indexed again.
    let sample = palimpsest_corpus::sample_path();
    let again = palimpsest(folder.path(), &["index", sample.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    // Nor may a run bring the sample and a real archive together.
    let both = palimpsest(
        folder.path(),
        &["index", "--rebuild", sample.to_str().unwrap(), archive],
    );
    assert_eq!(both.status.code(), Some(1), "{}", stderr(&both));

    // Another index takes the real archive, and --rebuild replaces the sample with it.
    let elsewhere = folder.path().join("real-index");
    let chosen = palimpsest(
        folder.path(),
        &["--index", elsewhere.to_str().unwrap(), "index", archive],
    );
    assert!(chosen.status.success(), "{}", stderr(&chosen));
    let replaced = palimpsest(folder.path(), &["index", "--rebuild", archive]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(collections(folder.path()), ["acme"]);
    let answered = palimpsest(folder.path(), &["search", "account"]);
    assert!(answered.status.success());
    assert!(!stderr(&answered).contains(NOTICE), "{}", stderr(&answered));
}

#[test]
fn a_real_archive_fills_a_default_folder_that_holds_no_index_yet() {
    let folder = tempfile::tempdir().unwrap();
    let archive = real_archive(folder.path());
    let indexed = palimpsest(folder.path(), &["index", archive.to_str().unwrap()]);
    assert!(indexed.status.success(), "{}", stderr(&indexed));
    assert_eq!(collections(folder.path()), ["acme"]);
}

#[test]
fn answers_from_the_sample_did_not_say_it_is_fictional() {
    let folder = tempfile::tempdir().unwrap();
    let searched = palimpsest(folder.path(), &["--json", "search", "data"]);
    assert!(searched.status.success(), "{}", stderr(&searched));
    // Standard output stays the JSON answer; the notice is on standard error, once.
    serde_json::from_slice::<serde_json::Value>(&searched.stdout).unwrap();
    assert_eq!(
        stderr(&searched).matches(NOTICE).count(),
        1,
        "{}",
        stderr(&searched)
    );
    let quiet = palimpsest(folder.path(), &["--quiet", "search", "data"]);
    assert!(!stderr(&quiet).contains(NOTICE), "{}", stderr(&quiet));
    // An index chosen with --index holding the sample is the user's choice: no notice.
    let chosen = palimpsest(folder.path(), &["--index", "palimpsest-index", "stats"]);
    assert!(chosen.status.success());
    assert!(!stderr(&chosen).contains(NOTICE), "{}", stderr(&chosen));
}

#[test]
fn unknown_service_did_not_name_the_index_it_looked_in() {
    let folder = tempfile::tempdir().unwrap();
    let shown = palimpsest(folder.path(), &["show", "Facebok", "Terms of Service"]);
    assert_eq!(shown.status.code(), Some(3));
    let err = stderr(&shown);
    assert!(
        err.contains(
            "error: in the index ./palimpsest-index (the built-in fictional sample): \
             unknown service `Facebok`"
        ),
        "{err}"
    );
    let filtered = palimpsest(folder.path(), &["search", "data", "--service", "Facebok"]);
    assert_eq!(filtered.status.code(), Some(2));
    let err = stderr(&filtered);
    assert!(
        err.contains("in the index ./palimpsest-index (the built-in fictional sample): unknown service `Facebok`"),
        "{err}"
    );
    let named = palimpsest(
        folder.path(),
        &["--index", "palimpsest-index", "show", "Facebok", "Terms"],
    );
    let err = stderr(&named);
    assert!(
        err.contains("error: in the index palimpsest-index: unknown service `Facebok`"),
        "{err}"
    );
}
