//! What the CLI says to a user: how to choose among collections, the instants it reads,
//! counts in words.

use std::path::Path;
use std::process::{Command, Output};

fn palimpsest(index: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .arg("--index")
        .arg(index)
        .args(args)
        .output()
        .unwrap()
}

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
