//! HTML snapshots: extraction under declarations, the fallback, and incremental runs.

use super::git::git;
use super::*;

fn palimpsest(index: &Path, args: &[&str]) -> (serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .arg("--index")
        .arg(index)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

fn page(body: &str, token: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Acme</title>\
         <script>window.csrf = \"{token}\";</script><style>.ad {{ color: red }}</style>\
         </head><body><nav><a href=\"/\">Home</a></nav>{body}\
         <footer>Session {token}</footer></body></html>"
    )
}

/// Declarations: Acme's terms by `#terms` since 2024-03-01 (`#old-terms` before), minus
/// ads; Acme's privacy policy has an invalid selector; Beta has no declaration.
fn declarations(dir: &Path) {
    std::fs::write(
        dir.join("Acme.json"),
        r##"{"name": "Acme", "terms": {
            "Terms of Service": {"fetch": "https://acme.test/terms", "select": ["#terms"],
                                 "remove": ".ad"},
            "Privacy Policy": {"fetch": "https://acme.test/privacy", "select": "main >> ("}
        }}"##,
    )
    .unwrap();
    std::fs::write(
        dir.join("Acme.history.json"),
        r##"{"Terms of Service": [{"fetch": "https://acme.test/terms",
              "select": "#old-terms", "validUntil": "2024-03-01T00:00:00Z"}]}"##,
    )
    .unwrap();
}

fn commit(repo: &Path, path: &str, content: &[u8], subject: &str, date: &str) {
    let file = repo.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, content).unwrap();
    git(repo, &["add", "-A"], None);
    git(repo, &["commit", "-qm", subject], Some(date));
}

const TERMS: &str = "Acme/Terms of Service.html";

fn old_terms(token: &str) -> String {
    page(
        "<div id=old-terms><h1>Terms</h1><p>Old rules apply.</p>\
         <div class=ad>Buy now</div></div><div id=terms><p>Draft</p></div>",
        token,
    )
}

fn new_terms(token: &str, extra: &str) -> String {
    page(
        &format!(
            "<div id=terms><h1>Terms</h1><p>New rules apply.</p>{extra}\
             <ul><li>Be kind.</li><li>Be brief.</li></ul>\
             <div class=ad>Buy {token}</div></div>"
        ),
        token,
    )
}

/// An OTA snapshots repository: raw pages that change with every fetch.
fn snapshot_repository(repo: &Path) {
    git(repo, &["init", "-q", "-b", "main"], None);
    let at = |day: &str| format!("{day}T12:00:00Z");
    commit(
        repo,
        TERMS,
        old_terms("t1").as_bytes(),
        "First record of Acme Terms of Service",
        &at("2024-01-01"),
    );
    commit(
        repo,
        TERMS,
        old_terms("t2").as_bytes(),
        "Record new changes of Acme Terms of Service",
        &at("2024-01-02"),
    );
    commit(
        repo,
        TERMS,
        old_terms("t3").as_bytes(),
        "Record new changes of Acme Terms of Service",
        &at("2024-02-01"),
    );
    // The history rule expires: the same page now gives the text of `#terms`.
    commit(
        repo,
        TERMS,
        new_terms("t4", "").as_bytes(),
        "Record new changes of Acme Terms of Service",
        &at("2024-03-02"),
    );
    commit(
        repo,
        TERMS,
        new_terms("t5", "").as_bytes(),
        "Record new changes of Acme Terms of Service",
        &at("2024-03-03"),
    );
    commit(
        repo,
        "Acme/Privacy Policy.html",
        page("<main><h2>Privacy</h2><p>We keep little.</p></main>", "p1").as_bytes(),
        "First record of Acme Privacy Policy",
        &at("2024-01-03"),
    );
    commit(
        repo,
        "Beta/Privacy Policy.html",
        page("<article><p>Beta keeps nothing.</p></article>", "b1").as_bytes(),
        "First record of Beta Privacy Policy",
        &at("2024-01-04"),
    );
    commit(
        repo,
        "Acme/Cookie Policy.pdf",
        b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n",
        "First record of Acme Cookie Policy",
        &at("2024-01-05"),
    );
    // Malformed: unclosed tags, 10,000 levels of nesting, invalid UTF-8.
    let mut broken = format!(
        "<html><body><main><p>Beta terms<p>still open{}deep words",
        "<div><span>".repeat(10_000)
    )
    .into_bytes();
    broken.extend_from_slice(b" caf\xe9 <ul><li>one<li>two");
    commit(
        repo,
        "Beta/Terms of Service.html",
        &broken,
        "First record of Beta Terms of Service",
        &at("2024-01-06"),
    );
}

#[test]
fn snapshots_become_versions_only_when_their_text_changes() {
    let repo = tempfile::tempdir().unwrap();
    snapshot_repository(repo.path());
    let decl = tempfile::tempdir().unwrap();
    declarations(decl.path());
    let index = tempfile::tempdir().unwrap();
    let repo_path = repo.path().to_str().unwrap();
    let decl_path = decl.path().to_str().unwrap();
    let (report, stderr) = palimpsest(
        index.path(),
        &[
            "index",
            repo_path,
            "--collection",
            "demo",
            "--declarations",
            decl_path,
        ],
    );
    let snapshots = &report["collections"][0]["snapshots"];
    assert_eq!(snapshots["read"], 9, "{report}");
    assert_eq!(snapshots["commits"], 9);
    assert_eq!(
        snapshots["unchanged"], 3,
        "t2, t3 and t5 only change tokens and ads"
    );
    assert_eq!(snapshots["skipped"], 1, "the PDF");
    assert_eq!(snapshots["versions"], 5);
    assert_eq!(snapshots["pdf_skipped"], 1);
    assert_eq!(snapshots["without_rules"], 3);
    assert_eq!(report["versions"], 5);
    assert!(stderr.is_empty(), "--json prints no warnings: {stderr}");

    let (versions, _) = palimpsest(index.path(), &["versions", "Acme", "Terms of Service"]);
    let kinds: Vec<_> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["first_record", "change"]);
    let (old, _) = palimpsest(
        index.path(),
        &["show", "Acme", "Terms of Service", "--at", "2024-02-15"],
    );
    // The earlier rule is a whole rule: it had no `remove`.
    assert_eq!(old["content"], "# Terms\n\nOld rules apply.\n\nBuy now\n");
    let (new, _) = palimpsest(index.path(), &["show", "Acme", "Terms of Service"]);
    assert_eq!(
        new["content"],
        "# Terms\n\nNew rules apply.\n\n- Be kind.\n- Be brief.\n"
    );
    let (privacy, _) = palimpsest(index.path(), &["show", "Acme", "Privacy Policy"]);
    assert_eq!(privacy["content"], "## Privacy\n\nWe keep little.\n");
    let (broken, _) = palimpsest(index.path(), &["show", "Beta", "Terms of Service"]);
    let text = broken["content"].as_str().unwrap();
    assert!(text.starts_with("Beta terms\n\nstill open"), "{text}");
    assert!(text.contains("deep words caf\u{fffd}"), "{text}");
    assert!(text.ends_with("- one\n- two\n"), "{text}");

    let (stats, _) = palimpsest(index.path(), &["stats"]);
    assert_eq!(stats["versions"], 5);
    assert_eq!(stats["skipped_pdfs"], 1);
    let unruled: Vec<_> = stats["without_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} / {}",
                d["service"].as_str().unwrap(),
                d["terms_type"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        unruled,
        [
            "Acme / Privacy Policy",
            "Beta / Privacy Policy",
            "Beta / Terms of Service"
        ]
    );
    let (hits, _) = palimpsest(index.path(), &["search", "csrf OR session OR buy"]);
    assert_eq!(
        hits["total"], 0,
        "scripts, footers and removed ads are not text"
    );
}

#[test]
fn warnings_name_the_file_and_the_rule() {
    let repo = tempfile::tempdir().unwrap();
    snapshot_repository(repo.path());
    let decl = tempfile::tempdir().unwrap();
    declarations(decl.path());
    let index = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .arg("--index")
        .arg(index.path())
        .args(["index", repo.path().to_str().unwrap(), "--declarations"])
        .arg(decl.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "Acme / Privacy Policy: invalid selector `main >> (`",
        "(Acme / Cookie Policy): skipped: PDF snapshot",
        "(Beta / Terms of Service): elements nested deeper than 512 levels",
        "(Beta / Terms of Service): invalid UTF-8 replaced",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("9 snapshots (9 commits) read → 5 versions kept, 3 unchanged, 1 skipped"),
        "{stdout}"
    );
}

#[test]
fn incremental_snapshot_runs_equal_a_rebuild() {
    let repo = tempfile::tempdir().unwrap();
    snapshot_repository(repo.path());
    let decl = tempfile::tempdir().unwrap();
    declarations(decl.path());
    let (repo_path, decl_path) = (repo.path().to_str().unwrap(), decl.path().to_str().unwrap());
    let args = [
        "index",
        repo_path,
        "--collection",
        "demo",
        "--declarations",
        decl_path,
    ];
    let incremental = tempfile::tempdir().unwrap();
    palimpsest(incremental.path(), &args);
    // New fetches: first unchanged (must collapse against the indexed text), then a change.
    commit(
        repo.path(),
        TERMS,
        new_terms("t6", "").as_bytes(),
        "Record new changes of Acme Terms of Service",
        "2024-04-01T12:00:00Z",
    );
    commit(
        repo.path(),
        TERMS,
        new_terms("t7", "<p>Added clause.</p>").as_bytes(),
        "Record new changes of Acme Terms of Service",
        "2024-04-02T12:00:00Z",
    );
    commit(
        repo.path(),
        "Acme/Cookie Policy.pdf",
        b"%PDF-1.5\n%%EOF\n",
        "Record new changes of Acme Cookie Policy",
        "2024-04-03T12:00:00Z",
    );
    let (update, _) = palimpsest(incremental.path(), &args);
    assert_eq!(
        update["collections"][0]["snapshots"]["unchanged"], 1,
        "{update}"
    );
    assert_eq!(update["versions"], 1);
    let rebuilt = tempfile::tempdir().unwrap();
    palimpsest(rebuilt.path(), &args);
    let observe = |index: &Path| {
        let (versions, _) = palimpsest(index, &["versions", "Acme", "Terms of Service"]);
        let (stats, _) = palimpsest(index, &["stats"]);
        (
            versions,
            stats["versions"].clone(),
            stats["without_rules"].clone(),
            stats["skipped_pdfs"].clone(),
        )
    };
    let (a, b) = (observe(incremental.path()), observe(rebuilt.path()));
    assert_eq!(a, b);
    assert_eq!(a.1, 6);
    assert_eq!(a.3, 2);
}

#[test]
fn a_folder_of_html_pages_is_indexed_with_the_fallback() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("Gamma")).unwrap();
    std::fs::write(
        folder.path().join("Gamma/Terms of Service.html"),
        page("<div><p>Short.</p></div><div><h1>Gamma terms</h1><p>Long text of the real terms here.</p><p>More terms.</p></div>", "g"),
    )
    .unwrap();
    std::fs::write(
        folder.path().join("Gamma/Privacy Policy.html"),
        b"<meta charset=\"windows-1252\"><main><p>Donn\xe9es \x93prot\xe9g\xe9es\x94</p></main>",
    )
    .unwrap();
    let index = tempfile::tempdir().unwrap();
    let path = folder.path().to_str().unwrap();
    let args = [
        "index",
        path,
        "--collection",
        "gamma",
        "--recorded-at",
        "2024-05-01",
    ];
    let (report, _) = palimpsest(index.path(), &args);
    assert_eq!(report["versions"], 2);
    let (terms, _) = palimpsest(index.path(), &["show", "Gamma", "Terms of Service"]);
    assert_eq!(
        terms["content"],
        "# Gamma terms\n\nLong text of the real terms here.\n\nMore terms.\n"
    );
    let (privacy, _) = palimpsest(index.path(), &["show", "Gamma", "Privacy Policy"]);
    assert_eq!(privacy["content"], "Données “protégées”\n");
    let (again, _) = palimpsest(index.path(), &args);
    assert_eq!(again["versions"], 0);
    let (stats, _) = palimpsest(index.path(), &["stats"]);
    assert_eq!(stats["without_rules"].as_array().unwrap().len(), 2);
}
