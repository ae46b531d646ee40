//! Names an archive gives that could mislead a reader: a file name that prints a line of its
//! own, names that differ only by Unicode normalisation, and invisible or bidirectional
//! characters.

use std::path::Path;

use super::robustness::{json, palimpsest};

/// Writes `text` at `parts` joined under `root`, creating folders.
fn write(root: &Path, parts: &[&str], text: &str) {
    let path = parts.iter().fold(root.to_owned(), |p, part| p.join(part));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `palimpsest index ARCHIVE --collection c`, with its text report.
fn index_as_c(index: &Path, archive: &Path) -> std::process::Output {
    let archive = archive.to_str().unwrap();
    palimpsest(index, &["index", archive, "--collection", "c"])
}

#[test]
fn a_newline_in_a_file_name_cannot_forge_the_indexers_report() {
    let archive = tempfile::tempdir().unwrap();
    let forged = "indexed 999 new versions of 999 documents in 0.1 s: all good";
    write(
        archive.path(),
        &["Svc", "Terms.md"],
        "# Terms\n\nReal text.\n",
    );
    write(
        archive.path(),
        &["Svc", &format!("Privacy\n{forged}.md")],
        "# Privacy\n\nText.\n",
    );
    let index = tempfile::tempdir().unwrap();
    let out = index_as_c(index.path(), archive.path());
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(
        !printed.lines().any(|line| line.starts_with("indexed 999")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("Privacy\\n{forged}")),
        "{printed}"
    );
}

#[test]
fn service_names_differing_only_by_unicode_normalisation_are_one_service() {
    let archive = tempfile::tempdir().unwrap();
    let stamp = |day: &str| format!("2024-01-{day}T00-00-00Z.md");
    let (composed, decomposed) = ("Caf\u{e9}", "Cafe\u{301}");
    write(
        archive.path(),
        &[composed, "Terms of Service", &stamp("01")],
        "# Terms\n\nFirst text.\n",
    );
    write(
        archive.path(),
        &[decomposed, "Terms of Service", &stamp("02")],
        "# Terms\n\nSecond text.\n",
    );
    write(
        archive.path(),
        &["Evil\u{202e}ecivreS", "Terms of Service", &stamp("01")],
        "# Terms\n\nHidden text.\n",
    );
    let index = tempfile::tempdir().unwrap();
    let out = index_as_c(index.path(), archive.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("U+202E") && stderr.contains("Evil\\u{202e}"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{202e}'), "{stderr}");

    let services = json(index.path(), &["services"]).unwrap();
    let services = services["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{services:?}");
    assert_eq!(services[0]["service"], composed);
    assert_eq!(services[0]["documents"][0]["versions"], 2);
    let versions = json(index.path(), &["versions", decomposed, "Terms of Service"]);
    assert!(
        versions.is_some(),
        "a name typed decomposed finds the service"
    );
}
