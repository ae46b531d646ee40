//! Lists that leave things out by default say how many and how to show them, in every
//! format; names resolve and suggest the same way in every command.

use std::path::Path;

use palimpsest_search::{
    ChangeGrouping, ChangeOrder, ChangesRequest, Collected, Engine, ExportOptions, HiddenChanges,
};

use super::robustness::{json, palimpsest, write};

/// An archive in the dataset layout: a first record, a change, a minor change (a comma),
/// and a document of a second service, so that each switch has something to show.
fn archive_with_every_kind(root: &Path) {
    let version = |service: &str, stamp: &str, text: &str| {
        let path = root
            .join(service)
            .join("Terms of Service")
            .join(format!("{stamp}.md"));
        write(&path, text);
    };
    let text = "# Terms\n\nYou agree to arbitration.\n\n# Data\n\nWe keep data\n";
    version("Quill", "2024-01-01T00-00-00Z", text);
    version(
        "Quill",
        "2024-02-01T00-00-00Z",
        &text.replace("We keep data", "We keep data, and sell it"),
    );
    version(
        "Quill",
        "2024-03-01T00-00-00Z",
        &text.replace("We keep data", "We keep data, and sell it."),
    );
    version(
        "Vellum",
        "2024-01-05T00-00-00Z",
        "# Terms\n\nArbitration.\n",
    );
}

fn indexed() -> (tempfile::TempDir, Engine) {
    let archive = tempfile::tempdir().unwrap();
    archive_with_every_kind(archive.path());
    let index = tempfile::tempdir().unwrap();
    let archive = archive.path().to_str().unwrap();
    let out = palimpsest(index.path(), &["index", archive, "--collection", "c"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let engine = Engine::open(index.path()).unwrap();
    (index, engine)
}

/// How many more entries each switch adds, measured by turning it on.
fn added_by_each_switch(engine: &Engine, request: &ChangesRequest) -> HiddenChanges {
    let total = |r: ChangesRequest| engine.changes(&r).unwrap().total;
    let base = total(request.clone());
    let first_records = total(ChangesRequest {
        first_records: true,
        ..request.clone()
    }) - base;
    let minor = total(ChangesRequest {
        minor: true,
        ..request.clone()
    }) - base;
    HiddenChanges {
        // First records and deletions share their switch: this archive deletes nothing.
        first_records,
        deletions: 0,
        technical_upgrades: 0,
        minor,
    }
}

#[test]
fn a_change_list_counts_what_each_switch_would_add_in_every_way_it_is_made() {
    let (_dir, engine) = indexed();
    let base = ChangesRequest {
        minor: false,
        ..ChangesRequest::default()
    };
    let requests = [
        // Counted from the version records.
        base.clone(),
        // Paired span by span.
        ChangesRequest {
            order: ChangeOrder::Relevance,
            ..base.clone()
        },
        // From the links of the spans a query or a section matched.
        ChangesRequest {
            query: Some("data".into()),
            ..base.clone()
        },
        ChangesRequest {
            filters: palimpsest_search::Filters {
                section: vec!["Data".into()],
                ..Default::default()
            },
            ..base.clone()
        },
        ChangesRequest {
            group: ChangeGrouping::Version,
            ..base.clone()
        },
        ChangesRequest {
            query: Some("data".into()),
            group: ChangeGrouping::Version,
            ..base.clone()
        },
    ];
    for request in requests {
        let answer = engine.changes(&request).unwrap();
        let added = added_by_each_switch(&engine, &request);
        assert_eq!(answer.hidden, added, "{request:?}");
        assert!(answer.hidden.first_records > 0, "{request:?}");
        assert!(answer.hidden.minor > 0, "{request:?}");
        let mut exported = Collected::default();
        engine
            .export_changes(&request, &ExportOptions::default(), &mut exported)
            .unwrap();
        assert_eq!(exported.hidden, Some(answer.hidden), "{request:?}");
    }
}

#[test]
fn changes_say_what_they_leave_out_in_text_json_and_on_standard_error() {
    let (dir, _engine) = indexed();
    let run = |args: &[&str]| {
        let out = palimpsest(dir.path(), args);
        assert!(out.status.success(), "{args:?}");
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let said = "not shown: 3 changes of first records (--first-records)";
    let (text, _) = run(&["changes"]);
    assert!(text.contains(said), "{text}");
    let (text, _) = run(&["changes", "--all"]);
    assert!(text.contains(said), "{text}");
    for format in ["csv", "jsonl"] {
        for all in [true, false] {
            let mut args = vec!["--format", format, "changes"];
            args.extend(all.then_some("--all"));
            let (data, notice) = run(&args);
            assert!(notice.contains(said), "{args:?}: {notice}");
            assert!(!data.contains("not shown"), "{args:?}");
        }
    }
    let answer = json(dir.path(), &["changes", "--minor", "false"]).unwrap();
    assert_eq!(answer["hidden"]["first_records"], 3);
    assert_eq!(answer["hidden"]["minor"], 1);
    let (text, _) = run(&["changes", "--minor", "false", "--first-records"]);
    assert!(
        text.contains("not shown: 1 minor change (--minor true)"),
        "{text}"
    );
    let (nothing, notice) = run(&["--format", "csv", "changes", "--first-records"]);
    assert!(!notice.contains("not shown"), "{notice}");
    assert!(!nothing.is_empty());
}

#[test]
fn show_versions_and_diff_resolve_and_suggest_names_as_filters_do() {
    let (dir, _engine) = indexed();
    let run = |args: &[&str]| {
        let out = palimpsest(dir.path(), args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for command in [
        &["show", "Quil", "Terms of Service"][..],
        &["versions", "Quil", "Terms of Service"],
        &["diff", "Quil", "Terms of Service", "--from", "2024-01-02"],
        &["search", "data", "--service", "Quil"],
    ] {
        let (status, stderr) = run(command);
        assert_ne!(status, Some(0), "{command:?}");
        assert!(
            stderr.contains("unknown service `Quil`; did you mean `Quill`?"),
            "{command:?}: {stderr}"
        );
    }
    // Abbreviations and another case, in a document's names and in filters alike.
    for command in [
        &["show", "quill", "ToS"][..],
        &["versions", "QUILL", "tos"],
        &["search", "data", "--terms-type", "ToS"],
        &["changes", "--terms-type", "T&C"],
    ] {
        let (status, stderr) = run(command);
        assert_eq!(status, Some(0), "{command:?}: {stderr}");
    }
    let (_, stderr) = run(&["show", "Quill", "Terms of Sevrice"]);
    assert!(
        stderr.contains(
            "`Quill` has no document `Terms of Sevrice`; did you mean `Terms of Service`?"
        ),
        "{stderr}"
    );
    let (_, stderr) = run(&["show", "Nothing like it", "ToS"]);
    assert!(
        stderr.contains("`palimpsest services` lists them"),
        "{stderr}"
    );
}
