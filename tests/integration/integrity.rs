//! Answers only from an index that reads right: opening for reading writes nothing (an
//! index on a read-only mount is served), and damaged files are refused with
//! `IndexDamaged`, never answered from silently and never a panic.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use palimpsest_search::{
    ChangesRequest, Engine, SearchError, SearchRequest, ShowRequest, TimeMode,
};

use super::{ingest, sample_engine};

/// What the folder holds: each file's name, length and modification time.
fn listing(dir: &Path) -> BTreeMap<String, (u64, SystemTime)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, (meta.len(), meta.modified().unwrap()))
        })
        .collect()
}

/// The reads the damage tests make, each answer as JSON.
fn answers(engine: &Engine) -> Vec<Result<String, SearchError>> {
    let history = SearchRequest {
        time: TimeMode::Between {
            from: None,
            to: None,
        },
        ..SearchRequest::new("data")
    };
    let changes = ChangesRequest {
        limit: 50,
        ..ChangesRequest::default()
    };
    let show = ShowRequest {
        service: "Birdsong".into(),
        terms_type: "Privacy Policy".into(),
        collection: None,
        at: None,
        version: None,
    };
    vec![
        engine
            .search(&history)
            .map(|a| serde_json::to_string(&a).unwrap()),
        engine
            .changes(&changes)
            .map(|a| serde_json::to_string(&a).unwrap()),
        engine
            .show(&show)
            .map(|a| serde_json::to_string(&a).unwrap()),
        engine
            .services()
            .map(|a| serde_json::to_string(&a).unwrap()),
        engine.stats().map(|a| serde_json::to_string(&a).unwrap()),
    ]
}

/// Flips one bit in each of three bytes of `file`, at places `seed` picks, in place (the
/// file keeps its length, so a map of it stays valid).
fn flip_bytes(file: &Path, seed: u64) {
    let mut handle = OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    let len = handle.metadata().unwrap().len();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..3 {
        // xorshift: reproducible places without a dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = state % len;
        let mut byte = [0u8];
        handle.seek(SeekFrom::Start(at)).unwrap();
        handle.read_exact(&mut byte).unwrap();
        byte[0] ^= 1 << (state >> 60 & 7);
        handle.seek(SeekFrom::Start(at)).unwrap();
        handle.write_all(&byte).unwrap();
    }
}

/// A copy of the index folder `from`.
fn copy_index(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
    }
    to
}

/// The index's files that hold data (lock files are empty).
fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.metadata().unwrap().len() > 0)
        .collect();
    files.sort();
    files
}

/// Whether a file carries a checksum: every segment file does; Tantivy's metadata
/// (`meta.json`, `.managed.json`) does not.
fn has_checksum(file: &Path) -> bool {
    !file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with(".json")
}

fn assert_not_panicked(answer: &Result<String, SearchError>, what: &str) {
    if let Err(SearchError::Panicked { message }) = answer {
        panic!("{what}: a panic reached the answer: {message}");
    }
}

#[test]
fn a_read_only_index_is_searched_without_writing_a_lock_file() {
    let (dir, engine) = sample_engine();
    drop(engine);
    // The writer left its lock files; a reader must not need them, nor create them.
    for lock in [".tantivy-meta.lock", ".tantivy-writer.lock"] {
        let _ = std::fs::remove_file(dir.path().join(lock));
    }
    let before = listing(dir.path());
    let engine = Engine::open(dir.path()).unwrap();
    for answer in answers(&engine) {
        answer.unwrap();
    }
    drop(engine);
    assert_eq!(
        listing(dir.path()),
        before,
        "opening for reading wrote in the folder"
    );
}

#[test]
fn a_read_only_index_is_searched_by_the_cli_without_writing() {
    let (dir, engine) = sample_engine();
    drop(engine);
    let before = listing(dir.path());
    let out = super::robustness::palimpsest(dir.path(), &["--json", "search", "data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listing(dir.path()), before);
}

#[test]
fn a_damaged_fast_field_file_is_refused_not_served_silently() {
    let (dir, engine) = sample_engine();
    drop(engine);
    let fast = data_files(dir.path())
        .into_iter()
        .find(|f| f.extension().is_some_and(|e| e == "fast"))
        .unwrap();
    flip_bytes(&fast, 1);
    let engine = Engine::open(dir.path()).unwrap();
    for answer in answers(&engine) {
        match answer {
            Err(SearchError::IndexDamaged { files, .. }) => {
                assert_eq!(files, [PathBuf::from(fast.file_name().unwrap())]);
            }
            other => panic!("answered from a damaged file: {other:?}"),
        }
    }
    let out = super::robustness::palimpsest(dir.path(), &["search", "data"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("damaged") && stderr.contains("--rebuild"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every file of the sample index, a few damaged copies each: a checked file's damage
/// gives the right answer or `IndexDamaged`; no damage ever gives a panic.
#[test]
fn flipped_bytes_in_any_file_give_the_right_answer_or_index_damaged_never_a_panic() {
    let (sound, engine) = sample_engine();
    let expected: Vec<String> = answers(&engine).into_iter().map(Result::unwrap).collect();
    drop(engine);
    for file in data_files(sound.path()) {
        let name = file.file_name().unwrap().to_owned();
        for seed in 1..=12 {
            let copy = copy_index(sound.path());
            flip_bytes(&copy.path().join(&name), seed);
            let what = format!("{} (seed {seed})", name.to_string_lossy());
            let got = match Engine::open(copy.path()) {
                Ok(engine) => answers(&engine),
                Err(error) => vec![Err(error)],
            };
            for (answer, right) in got.iter().zip(&expected) {
                assert_not_panicked(answer, &what);
                if !has_checksum(&file) {
                    continue;
                }
                match answer {
                    Ok(answer) => assert_eq!(answer, right, "{what}: a different answer"),
                    Err(SearchError::IndexDamaged { .. }) => {}
                    Err(error) => panic!("{what}: {error}"),
                }
            }
        }
    }
}

/// Damage after the segments were checked (a disk going bad under a running server) is
/// not seen by the check, which is not repeated: reading damaged bytes then fails or
/// panics, and the failure is found to be damage and answered as such.
#[test]
fn bytes_flipped_after_the_check_give_an_answer_or_index_damaged_never_a_panic() {
    let (sound, engine) = sample_engine();
    drop(engine);
    for file in data_files(sound.path())
        .into_iter()
        .filter(|f| has_checksum(f))
    {
        let name = file.file_name().unwrap().to_owned();
        for seed in 1..=12 {
            let copy = copy_index(sound.path());
            let engine = Engine::open(copy.path()).unwrap();
            for answer in answers(&engine) {
                answer.unwrap();
            }
            flip_bytes(&copy.path().join(&name), seed);
            let what = format!("{} (seed {seed})", name.to_string_lossy());
            for answer in answers(&engine) {
                assert_not_panicked(&answer, &what);
                match answer {
                    Ok(_) | Err(SearchError::IndexDamaged { .. }) => {}
                    Err(error) => panic!("{what}: {error}"),
                }
            }
        }
    }
}

#[test]
fn an_index_deleted_under_a_reader_answers_no_index() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    ingest(&index, &palimpsest_corpus::sample_path(), "sample");
    let engine = Engine::open(&index).unwrap();
    engine.stats().unwrap();
    std::fs::remove_dir_all(&index).unwrap();
    match engine.stats() {
        Err(SearchError::NoIndex { path }) => assert_eq!(path, index),
        other => panic!("{other:?}"),
    }
}
