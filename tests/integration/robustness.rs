//! Archives full of hazards, built here: git history with merges, renames, empty commits,
//! submodules and crafted trees; files that are empty, too large, binary, UTF-16, CRLF,
//! symbolic links (some leading outside the archive), names that are not UTF-8 or hold `:`
//! and `..`. Every file is indexed, or skipped with a warning that says why, and nothing
//! outside the archive is ever read.

use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::git::git;

/// A word only the files outside the archive hold.
const SECRET: &str = "xyzzysecret";
/// The size limit of these runs: small, so the huge file stays small.
const MAX: &str = "4096";
const CRLF: &str = "# First\r\n\r\ncrlfone text.\r\n\r\n# Second\r\n\r\ncrlftwo text.\r\n";
const UTF16_TEXT: &str = "# Conditions\r\n\r\nDonnées utf16word.\r\n";

pub(super) fn palimpsest(index: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .arg("--index")
        .arg(index)
        .args(args)
        .output()
        .unwrap()
}

/// Indexes `archive` (the text report, so warnings are printed) and returns stderr.
pub(super) fn index(index: &Path, archive: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "index",
        archive.to_str().unwrap(),
        "--collection",
        "robust",
        "--max-file-size",
        MAX,
    ];
    args.extend_from_slice(extra);
    let out = palimpsest(index, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

pub(super) fn json(index: &Path, args: &[&str]) -> Option<serde_json::Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = palimpsest(index, &all);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

/// Hits on `query` over the whole history, its words as written (`--match all`: no word
/// forms or typo corrections, which would find a skipped file's word in a similar one).
pub(super) fn hits(index: &Path, query: &str) -> u64 {
    json(index, &["search", query, "--history", "--match", "all"]).unwrap()["total"]
        .as_u64()
        .unwrap()
}

/// The kinds of a document's versions, or `None` when the index does not hold it.
pub(super) fn kinds(index: &Path, service: &str, terms_type: &str) -> Option<Vec<String>> {
    let versions = json(index, &["versions", service, terms_type])?;
    Some(
        versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["kind"].as_str().unwrap().to_owned())
            .collect(),
    )
}

pub(super) fn content(index: &Path, service: &str, terms_type: &str) -> String {
    json(index, &["show", service, terms_type]).unwrap()["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The heading path of the one hit on `word`.
fn section(index: &Path, word: &str) -> serde_json::Value {
    let found = json(index, &["search", word]).unwrap();
    assert_eq!(found["total"], 1, "{word}: {found}");
    found["hits"][0]["section"].clone()
}

/// Asserts that one warning line holds every fragment.
pub(super) fn warned(stderr: &str, fragments: &[&str]) {
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("warning: ") && fragments.iter().all(|f| l.contains(f))),
        "no warning with {fragments:?} in:\n{stderr}"
    );
}

pub(super) fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A path under `root` whose components may not be UTF-8.
fn raw(root: &Path, parts: &[&[u8]]) -> PathBuf {
    parts.iter().fold(root.to_owned(), |path, part| {
        path.join(std::ffi::OsStr::from_bytes(part))
    })
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// Outside any archive: a secret file and a service folder holding one, for links to aim at.
fn outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("# Secret\n\nThe {SECRET} clause.\n");
    write(&dir.path().join("secret.md"), &secret);
    write(&dir.path().join("Service/Terms of Service.md"), &secret);
    write(
        &dir.path()
            .join("Service/Terms of Service/2024-01-01T00-00-00Z.md"),
        &secret,
    );
    dir
}

/// The files every layout holds, as `<service>/<terms type>.md`: what the folder layout
/// reads and what the git history commits.
fn hazard_files(root: &Path, outside: &Path) {
    write(
        &root.join("Plain/Terms of Service.md"),
        "# Terms\n\nplainword clause.\n",
    );
    write(&root.join("Empty/Terms of Service.md"), "");
    write(
        &root.join("Huge/Terms of Service.md"),
        "hugeword ".repeat(600),
    );
    write(
        &root.join("Binary/Terms of Service.md"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR binaryword",
    );
    write(&root.join("Utf16/Terms of Service.md"), utf16le(UTF16_TEXT));
    write(&root.join("Crlf/Terms of Service.md"), CRLF);
    write(
        &root.join("Lf/Terms of Service.md"),
        CRLF.replace("\r\n", "\n").replace("crlf", "lf"),
    );
    write(&root.join("Colon: Inc/Terms: 2024.md"), "colonword\n");
    write(&root.join("Dots..Co/Terms..v2.md"), "dotsword\n");
    // `...md` names the terms type `..`, `..md` the terms type `.`.
    write(&root.join("Dots..Co/...md"), "dotdotword\n");
    write(&root.join("Dots..Co/..md"), "dotword\n");
    write(
        &raw(root, &[b"Bad\xff", b"Terms of Service.md"]),
        "badnameword\n",
    );
    write(&raw(root, &[b"Latin", b"Terms \xe9.md"]), "latinword\n");
    symlink(
        outside.join("secret.md"),
        &root.join("Links/Terms of Service.md"),
    );
    symlink(
        "../Plain/Terms of Service.md",
        &root.join("Links/Privacy Policy.md"),
    );
    symlink(outside.join("Service"), &root.join("Outside"));
}

/// What every layout gives for [`hazard_files`] (the dataset has its own names).
fn check_hazard_versions(index: &Path) {
    assert_eq!(kinds(index, "Plain", "Terms of Service").unwrap().len(), 1);
    assert_eq!(hits(index, "plainword"), 1);
    // An empty file is a version without sections: the document is tracked, with no text.
    assert_eq!(kinds(index, "Empty", "Terms of Service").unwrap().len(), 1);
    assert_eq!(content(index, "Empty", "Terms of Service"), "");
    // UTF-16 with a byte-order mark is decoded, not taken for binary.
    assert_eq!(content(index, "Utf16", "Terms of Service"), UTF16_TEXT);
    assert_eq!(hits(index, "utf16word"), 1);
    assert_eq!(
        section(index, "utf16word"),
        serde_json::json!(["Conditions"])
    );
    // CRLF text is kept as it is and cut into the same sections as LF.
    assert_eq!(content(index, "Crlf", "Terms of Service"), CRLF);
    assert_eq!(section(index, "crlfone"), serde_json::json!(["First"]));
    assert_eq!(section(index, "crlftwo"), serde_json::json!(["Second"]));
    assert_eq!(section(index, "lfone"), serde_json::json!(["First"]));
    assert_eq!(section(index, "lftwo"), serde_json::json!(["Second"]));
    // `:` and `..` inside names are names; `.` and `..` alone are not.
    assert!(kinds(index, "Colon: Inc", "Terms: 2024").is_some());
    assert!(kinds(index, "Dots..Co", "Terms..v2").is_some());
    assert_eq!(hits(index, "colonword"), 1);
    assert_eq!(hits(index, "dotsword"), 1);
    for skipped in [
        "hugeword",
        "binaryword",
        "dotdotword",
        "dotword",
        "badnameword",
        "latinword",
        SECRET,
    ] {
        assert_eq!(hits(index, skipped), 0, "{skipped}");
    }
    assert!(kinds(index, "Links", "Terms of Service").is_none());
    assert!(kinds(index, "Links", "Privacy Policy").is_none());
    assert!(kinds(index, "Outside", "Terms of Service").is_none());
    assert!(kinds(index, "Dots..Co", "..").is_none());
    assert!(
        json(index, &["stats", "--verify"]).is_some(),
        "the index checks"
    );
}

/// Warnings every layout gives for [`hazard_files`], by path fragment and reason.
const HAZARD_WARNINGS: [[&str; 2]; 6] = [
    [
        "Huge",
        "skipped: larger than the 4096 byte limit (5400 bytes)",
    ],
    [
        "Binary",
        "skipped: binary content (NUL byte in the first 8,000 bytes)",
    ],
    [
        "Dots..Co/...md",
        "invalid terms type \"..\": it is a relative path component",
    ],
    [
        "Dots..Co/..md",
        "invalid terms type \".\": it is a relative path component",
    ],
    ["Bad\u{fffd}", "skipped: file name is not UTF-8"],
    ["Latin/Terms \u{fffd}.md", "skipped: file name is not UTF-8"],
];

pub(super) fn commit(repo: &Path, subject: &str, date: &str) {
    git(repo, &["add", "-A"], None);
    git(
        repo,
        &["commit", "-q", "--allow-empty", "-m", subject],
        Some(date),
    );
}

pub(super) fn head(repo: &Path) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Runs a git command that reads `input` and prints an object id.
pub(super) fn git_object(repo: &Path, args: &[&str], input: &str, date: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new("git")
        .current_dir(repo)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@e")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@e")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A versions repository with a side branch merged, a rename, an empty commit, a file
/// replaced by a symbolic link, the hazard files, submodule entries, and a crafted commit
/// whose tree holds service folders named `.` and `..` (git itself never writes those).
/// Returns the merge commit's id.
fn hazard_repository(repo: &Path, outside: &Path) -> String {
    git(repo, &["init", "-q", "-b", "main"], None);
    write(&repo.join("README.md"), "not a document");
    write(
        &repo.join("Alpha/Terms of Service.md"),
        "# Terms\n\nalphaone\n",
    );
    write(
        &repo.join("Beta/Terms of Service.md"),
        "# Terms\n\nbetaword\n",
    );
    write(
        &repo.join("Alpha/Cookie Policy.md"),
        "# Cookies\n\ncookieword\n",
    );
    commit(repo, "First record of Alpha", "2024-01-01T00:00:00Z");

    git(repo, &["checkout", "-q", "-b", "side"], None);
    write(
        &repo.join("Alpha/Privacy Policy.md"),
        "# Privacy\n\nsidedraft\n",
    );
    commit(
        repo,
        "First record of Alpha Privacy Policy",
        "2024-01-02T00:00:00Z",
    );
    write(
        &repo.join("Alpha/Privacy Policy.md"),
        "# Privacy\n\nmergedword\n",
    );
    commit(
        repo,
        "Record new changes of Alpha Privacy Policy",
        "2024-01-03T00:00:00Z",
    );
    git(repo, &["checkout", "-q", "main"], None);
    write(
        &repo.join("Alpha/Terms of Service.md"),
        "# Terms\n\nalphatwo\n",
    );
    commit(
        repo,
        "Record new changes of Alpha Terms of Service",
        "2024-01-04T00:00:00Z",
    );
    git(
        repo,
        &[
            "merge",
            "-q",
            "--no-ff",
            "side",
            "-m",
            "Merge branch 'side'",
        ],
        Some("2024-01-05T00:00:00Z"),
    );
    let merge = head(repo);

    git(
        repo,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "Record new changes of Alpha Terms of Service",
        ],
        Some("2024-01-06T00:00:00Z"),
    );
    git(
        repo,
        &["mv", "Beta/Terms of Service.md", "Beta/Terms of Use.md"],
        None,
    );
    commit(repo, "Rename Beta's terms", "2024-01-07T00:00:00Z");
    std::fs::remove_file(repo.join("Alpha/Cookie Policy.md")).unwrap();
    symlink("Terms of Service.md", &repo.join("Alpha/Cookie Policy.md"));
    commit(
        repo,
        "Record new changes of Alpha Cookie Policy",
        "2024-01-08T00:00:00Z",
    );

    hazard_files(repo, outside);
    git(repo, &["add", "-A"], None);
    let gitlink = "160000,1111111111111111111111111111111111111111";
    for path in ["Sub/Terms of Service.md", "vendor"] {
        git(
            repo,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("{gitlink},{path}"),
            ],
            None,
        );
    }
    git(
        repo,
        &["commit", "-q", "-m", "Start tracking hazards"],
        Some("2024-01-09T00:00:00Z"),
    );

    let date = "2024-01-10T00:00:00Z";
    let blob = git_object(
        repo,
        &["hash-object", "-w", "--stdin"],
        "dotdirword\n",
        date,
    );
    let service = git_object(
        repo,
        &["mktree"],
        &format!("100644 blob {blob}\tTerms of Service.md\n"),
        date,
    );
    let mut tree = git_object(repo, &["ls-tree", "HEAD"], "", date);
    tree.push_str(&format!(
        "\n040000 tree {service}\t.\n040000 tree {service}\t..\n"
    ));
    let tree = git_object(repo, &["mktree"], &tree, date);
    let parent = head(repo);
    let crafted = git_object(
        repo,
        &[
            "commit-tree",
            &tree,
            "-p",
            &parent,
            "-m",
            "Start tracking dots",
        ],
        "",
        date,
    );
    git(repo, &["update-ref", "refs/heads/main", &crafted], None);
    merge
}

#[test]
fn git_history_hazards_are_indexed_or_skipped_with_a_reason() {
    let outside = outside();
    let repo = tempfile::tempdir().unwrap();
    let merge = hazard_repository(repo.path(), outside.path());
    let idx = tempfile::tempdir().unwrap();
    let stderr = index(idx.path(), repo.path(), &[]);
    let idx = idx.path();
    check_hazard_versions(idx);
    for [path, reason] in HAZARD_WARNINGS {
        warned(&stderr, &[path, reason]);
    }
    let symlink = "skipped: a symbolic link has no content to index (its target is not read)";
    for path in [
        "Links/Terms of Service.md at",
        "Links/Privacy Policy.md at",
        "Outside at",
        "Alpha/Cookie Policy.md at",
    ] {
        warned(&stderr, &[path, symlink]);
    }
    warned(
        &stderr,
        &[
            "Sub/Terms of Service.md at",
            "skipped: a submodule entry (gitlink) has no content to index",
        ],
    );
    // The submodule at the top (`vendor`) is no document: no warning, no error.
    assert!(!stderr.contains("vendor"), "{stderr}");
    for name in ["\".\"", "\"..\""] {
        warned(
            &stderr,
            &[
                "Terms of Service.md at",
                &format!("invalid service {name}: it is a relative path component"),
            ],
        );
    }
    assert_eq!(hits(idx, "dotdirword"), 0);

    // Merges: the first-parent history only. The side branch's commits are not versions;
    // the merge commit records what it brought, at its own date.
    let privacy = json(idx, &["versions", "Alpha", "Privacy Policy"]).unwrap();
    let privacy = privacy["versions"].as_array().unwrap();
    assert_eq!(privacy.len(), 1, "{privacy:?}");
    assert_eq!(privacy[0]["id"], merge.as_str());
    assert_eq!(privacy[0]["recorded_at"], "2024-01-05T00:00:00Z");
    assert_eq!(hits(idx, "sidedraft"), 0);
    assert_eq!(hits(idx, "mergedword"), 1);
    // The empty commit records nothing.
    assert_eq!(
        kinds(idx, "Alpha", "Terms of Service").unwrap(),
        ["first_record", "change"]
    );
    // A rename ends the old document and starts one at the new path.
    assert_eq!(
        kinds(idx, "Beta", "Terms of Service").unwrap(),
        ["first_record", "deleted"]
    );
    assert_eq!(
        kinds(idx, "Beta", "Terms of Use").unwrap(),
        ["first_record"]
    );
    let current = json(idx, &["search", "betaword"]).unwrap();
    assert_eq!(current["total"], 1);
    assert_eq!(current["hits"][0]["terms_type"], "Terms of Use");
    // A file replaced by a symbolic link ends its document: the archive no longer holds its text.
    assert_eq!(
        kinds(idx, "Alpha", "Cookie Policy").unwrap(),
        ["first_record", "deleted"]
    );
    assert_eq!(json(idx, &["search", "cookieword"]).unwrap()["total"], 0);

    // Nothing changed: an incremental run reads no new commit and still succeeds.
    let again = palimpsest(
        idx,
        &[
            "--json",
            "index",
            repo.path().to_str().unwrap(),
            "--collection",
            "robust",
            "--max-file-size",
            MAX,
        ],
    );
    assert!(again.status.success());
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["versions"], 0);
}

#[test]
fn folder_hazards_are_indexed_or_skipped_with_a_reason() {
    let outside = outside();
    let folder = tempfile::tempdir().unwrap();
    hazard_files(folder.path(), outside.path());
    let fifo = folder.path().join("Fifo/Terms of Service.md");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let idx = tempfile::tempdir().unwrap();
    let stderr = index(idx.path(), folder.path(), &["--recorded-at", "2024-05-01"]);
    check_hazard_versions(idx.path());
    for [path, reason] in HAZARD_WARNINGS {
        warned(&stderr, &[path, reason]);
    }
    for path in [
        "Links/Terms of Service.md: ",
        "Links/Privacy Policy.md: ",
        "Outside: ",
    ] {
        warned(&stderr, &[path, "skipped: symbolic links are not followed"]);
    }
    // Opening a FIFO would block the run: it is not a regular file, so it is not opened.
    warned(
        &stderr,
        &["Fifo/Terms of Service.md: ", "skipped: not a regular file"],
    );
}

#[test]
fn dataset_hazards_are_indexed_or_skipped_with_a_reason() {
    let outside = outside();
    let dataset = tempfile::tempdir().unwrap();
    let root = dataset.path();
    let stamp = "2024-01-01T00-00-00Z.md";
    let file = |service: &str, terms: &str, name: &str| root.join(service).join(terms).join(name);
    write(
        &file("Plain", "Terms of Service", stamp),
        "# Terms\n\nplainword\n",
    );
    write(
        &file("Plain", "Terms of Service", "2024-02-01T00-00-00Z.md"),
        CRLF,
    );
    write(
        &file("Plain", "Terms of Service", "2024-03-01T00:00:00Z.md"),
        "colonstampword\n",
    );
    symlink(
        outside.path().join("secret.md"),
        &file("Plain", "Terms of Service", "2024-04-01T00-00-00Z.md"),
    );
    symlink(
        outside.path().join("Service/Terms of Service"),
        &root.join("Plain/Privacy Policy"),
    );
    symlink(outside.path().join("Service"), &root.join("Linked"));
    write(
        &raw(root, &[b"Plain", b"Terms \xe9", stamp.as_bytes()]),
        "latinword\n",
    );
    write(
        &raw(
            root,
            &[b"Plain", b"Cookies", b"2024-01-01T00-00-00Z\xff.md"],
        ),
        "badstampword\n",
    );
    write(&file("Files", "Empty", stamp), "");
    write(&file("Files", "Huge", stamp), "hugeword ".repeat(600));
    write(&file("Files", "Binary", stamp), b"\0\x01binaryword");
    write(&file("Files", "Utf16", stamp), utf16le(UTF16_TEXT));
    write(&file("Colon: Inc", "Terms: 2024", stamp), "colonword\n");
    let idx = tempfile::tempdir().unwrap();
    let stderr = index(idx.path(), root, &[]);
    let idx = idx.path();

    assert_eq!(
        kinds(idx, "Plain", "Terms of Service").unwrap(),
        ["first_record", "change"]
    );
    assert_eq!(content(idx, "Plain", "Terms of Service"), CRLF);
    assert_eq!(section(idx, "crlftwo"), serde_json::json!(["Second"]));
    assert_eq!(content(idx, "Files", "Empty"), "");
    assert_eq!(content(idx, "Files", "Utf16"), UTF16_TEXT);
    assert_eq!(hits(idx, "colonword"), 1);
    for skipped in [
        "colonstampword",
        "latinword",
        "badstampword",
        "hugeword",
        "binaryword",
        SECRET,
    ] {
        assert_eq!(hits(idx, skipped), 0, "{skipped}");
    }
    assert!(kinds(idx, "Plain", "Privacy Policy").is_none());
    assert!(kinds(idx, "Linked", "Terms of Service").is_none());
    for [path, reason] in [
        [
            "Plain/Terms of Service/2024-03-01T00:00:00Z.md: ",
            "skipped: not a <YYYY-MM-DDTHH-MM-SSZ>.md version file",
        ],
        [
            "Plain/Terms of Service/2024-04-01T00-00-00Z.md: ",
            "skipped: symbolic links are not followed",
        ],
        [
            "Plain/Privacy Policy: ",
            "skipped: symbolic links are not followed",
        ],
        ["Linked: ", "skipped: symbolic links are not followed"],
        ["Plain/Terms \u{fffd}: ", "skipped: file name is not UTF-8"],
        [
            "Plain/Cookies/2024-01-01T00-00-00Z\u{fffd}.md: ",
            "skipped: file name is not UTF-8",
        ],
        [
            "Files/Huge",
            "skipped: larger than the 4096 byte limit (5400 bytes)",
        ],
        [
            "Files/Binary",
            "skipped: binary content (NUL byte in the first 8,000 bytes)",
        ],
    ] {
        warned(&stderr, &[path, reason]);
    }
}
