//! Versions recorded at the edges of the instant range, years 1 to 9999 in UTC, in all three
//! layouts: the last day of year 9999 is indexed and found by every query of time, an instant
//! past either end is skipped with a warning that names it.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use super::git::git;
use super::robustness::{commit, head, hits, index, json, kinds, palimpsest, warned, write};

/// 9999-12-31T21:00:00Z: after the last instant jiff's timestamps hold (9999-12-30T22:00Z),
/// whose display panicked on every run.
const LAST_DAY: i64 = 253_402_290_000;
/// 10000-01-01T00:00:00Z, one second after the last instant accepted.
const TOO_LATE: i64 = 253_402_300_800;
/// One second before 0001-01-01T00:00:00Z.
const TOO_EARLY: i64 = -62_135_596_801;
const DOC: &str = "Acme/Terms of Service.md";

fn text(word: &str) -> String {
    format!("# Terms\n\n{word} clause.\n")
}

/// The version recorded at `recorded_at` holds `lastdayword`, and every query of time that
/// reaches it finds it (an instant after the present is refused as in the future).
fn check_last_version(idx: &Path, recorded_at: &str) {
    let versions = json(idx, &["versions", "Acme", "Terms of Service"]).unwrap();
    let versions = versions["versions"].as_array().unwrap();
    assert_eq!(versions.last().unwrap()["recorded_at"], recorded_at);
    let found = |args: &[&str]| {
        let mut all = vec!["search", "lastdayword"];
        all.extend_from_slice(args);
        json(idx, &all).unwrap_or_else(|| panic!("search {args:?} failed"))["total"].clone()
    };
    // An instant after the present is refused by every time travel (416 over HTTP).
    assert!(
        json(
            idx,
            &["search", "lastdayword", "--as-of", "9999-12-31T23:59:59Z"]
        )
        .is_none()
    );
    assert_eq!(found(&["--from", "9999-12-31"]), 1);
    // A window ends before its `to`: one to the last instant leaves out a version at it.
    let before_last = u64::from(recorded_at != "9999-12-31T23:59:59Z");
    let window = ["--from", "9999-12-31", "--to", "9999-12-31T23:59:59Z"];
    assert_eq!(found(&window), before_last);
    assert_eq!(found(&["--history"]), 1);
    let last = versions.last().unwrap()["id"].as_str().unwrap();
    let shown = json(
        idx,
        &["show", "Acme", "Terms of Service", "--version", last],
    )
    .unwrap();
    assert_eq!(shown["content"], text("lastdayword"));
    assert_eq!(shown["recorded_at"], recorded_at);
    // The last instant is an instant: in the future, as `show` answers for any such one.
    let at_last = [
        "show",
        "Acme",
        "Terms of Service",
        "--at",
        "9999-12-31T23:59:59Z",
    ];
    let future = palimpsest(idx, &at_last);
    let stderr = String::from_utf8_lossy(&future.stderr);
    assert!(stderr.contains("is in the future"), "{stderr}");
    let changes = [
        "changes",
        "lastdayword",
        "--from",
        "9999-12-31",
        "--first-records",
    ];
    let changes = json(idx, &changes).unwrap();
    assert_eq!(changes["total"], 1, "{changes}");
    assert_eq!(hits(idx, "toolateword"), 0);
    assert_eq!(hits(idx, "tooearlyword"), 0);
}

#[test]
fn a_git_commit_on_the_last_day_of_year_9999_is_indexed_and_one_after_it_skipped() {
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    git(repo, &["init", "-q", "-b", "main"], None);
    write(&repo.join(DOC), text("firstword"));
    commit(repo, "First record of Acme", "2024-01-01T00:00:00Z");
    write(&repo.join(DOC), text("lastdayword"));
    commit(
        repo,
        "Record new changes of Acme",
        &format!("@{LAST_DAY} +0000"),
    );
    write(&repo.join(DOC), text("toolateword"));
    commit(
        repo,
        "Record new changes of Acme",
        &format!("@{TOO_LATE} +0000"),
    );
    let too_late = head(repo);
    let idx = tempfile::tempdir().unwrap();
    let stderr = index(idx.path(), repo, &[]);
    warned(
        &stderr,
        &[
            &format!("commit {too_late}"),
            "skipped: its author date (253402300800 s since 1970) is outside years 1 to 9999 \
             (0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z)",
        ],
    );
    check_last_version(idx.path(), "9999-12-31T21:00:00Z");
    // A second run reads the same history again: it panicked on every run.
    let again = index(idx.path(), repo, &[]);
    assert!(!again.contains("panicked"), "{again}");
}

#[test]
fn a_dataset_file_of_the_last_second_of_year_9999_is_indexed_and_year_0_skipped() {
    let dataset = tempfile::tempdir().unwrap();
    let folder = dataset.path().join("Acme/Terms of Service");
    write(&folder.join("2024-01-01T00-00-00Z.md"), text("firstword"));
    write(&folder.join("9999-12-31T23-59-59Z.md"), text("lastdayword"));
    write(
        &folder.join("0000-06-01T00-00-00Z.md"),
        text("tooearlyword"),
    );
    let idx = tempfile::tempdir().unwrap();
    let stderr = index(idx.path(), dataset.path(), &[]);
    warned(
        &stderr,
        &[
            "Acme/Terms of Service/0000-06-01T00-00-00Z.md: ",
            "skipped: its date 0000-06-01T00:00:00 is outside years 1 to 9999",
        ],
    );
    assert_eq!(
        kinds(idx.path(), "Acme", "Terms of Service").unwrap(),
        ["first_record", "change"]
    );
    check_last_version(idx.path(), "9999-12-31T23:59:59Z");
}

/// Sets a file's modification time, or says the file system cannot hold it.
fn set_mtime(path: &Path, seconds: i64) -> bool {
    let offset = Duration::from_secs(seconds.unsigned_abs());
    let at = if seconds < 0 {
        UNIX_EPOCH - offset
    } else {
        UNIX_EPOCH + offset
    };
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(at).is_ok() && std::fs::metadata(path).unwrap().modified().unwrap() == at
}

#[test]
fn folder_files_modified_on_the_last_day_of_year_9999_are_indexed_and_later_ones_skipped() {
    // ext4 ends its times in 2446; tmpfs holds any.
    let base = Path::new("/dev/shm");
    let folder = tempfile::tempdir_in(if base.is_dir() { base } else { Path::new(".") }).unwrap();
    let root = folder.path();
    write(&root.join(DOC), text("lastdayword"));
    write(&root.join("Late/Terms of Service.md"), text("toolateword"));
    write(
        &root.join("Early/Terms of Service.md"),
        text("tooearlyword"),
    );
    let held = set_mtime(&root.join(DOC), LAST_DAY)
        && set_mtime(&root.join("Late/Terms of Service.md"), TOO_LATE)
        && set_mtime(&root.join("Early/Terms of Service.md"), TOO_EARLY);
    if !held {
        eprintln!(
            "skipped: the file system of {} cannot hold year 10000",
            root.display()
        );
        return;
    }
    let idx = tempfile::tempdir().unwrap();
    let stderr = index(idx.path(), root, &[]);
    for (path, seconds) in [("Late", TOO_LATE), ("Early", TOO_EARLY)] {
        warned(
            &stderr,
            &[
                &format!("{path}/Terms of Service.md: "),
                &format!(
                    "skipped: its modification time ({seconds} s since 1970) is outside years \
                     1 to 9999"
                ),
                "pass --recorded-at",
            ],
        );
    }
    check_last_version(idx.path(), "9999-12-31T21:00:00Z");

    // `--recorded-at` takes the last second too; past it, the argument is refused.
    let idx = tempfile::tempdir().unwrap();
    index(idx.path(), root, &["--recorded-at", "9999-12-31T23:59:59Z"]);
    assert_eq!(hits(idx.path(), "toolateword"), 1);
    let refused = palimpsest(
        idx.path(),
        &[
            "index",
            root.to_str().unwrap(),
            "--recorded-at",
            "9999-12-31T23:59:59-00:01",
        ],
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("to 9999-12-31T23:59:59Z"), "{stderr}");
}

#[test]
fn modification_times_before_1970_are_instants() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join(DOC);
    write(&path, text("oldword"));
    if !set_mtime(&path, -86_400) {
        eprintln!("skipped: the file system cannot hold 1969");
        return;
    }
    let idx = tempfile::tempdir().unwrap();
    index(idx.path(), folder.path(), &[]);
    let versions = json(idx.path(), &["versions", "Acme", "Terms of Service"]).unwrap();
    assert_eq!(
        versions["versions"][0]["recorded_at"],
        "1969-12-31T00:00:00Z"
    );
}
