//! Answers only from an index that reads right: a damaged file is answered `index_damaged`
//! (503), never a 200 from damaged bytes; an index deleted under the server is `no_index`.

use std::io::{Seek as _, SeekFrom, Write as _};

use super::*;

/// The sample indexed into a folder of its own (these tests damage or delete it).
fn own_index() -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    index(dir.path(), &sample_versions());
    dir
}

/// Flips every bit of one byte in the middle of the index's first fast-field file.
fn damage_a_fast_file(dir: &Path) {
    let mut fast: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "fast"))
        .collect();
    fast.sort();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fast[0])
        .unwrap();
    let middle = file.metadata().unwrap().len() / 2;
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(middle)).unwrap();
    std::io::Read::read_exact(&mut file, &mut byte).unwrap();
    file.seek(SeekFrom::Start(middle)).unwrap();
    file.write_all(&[!byte[0]]).unwrap();
}

/// The answer to `uri` once the server has checked the index (`index_verifying` until then).
async fn get_checked(app: &Router, uri: &str) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = get(app, uri).await;
        if answer.status != StatusCode::SERVICE_UNAVAILABLE
            || error_code(&answer) != "index_verifying"
        {
            return answer;
        }
        assert!(Instant::now() < deadline, "still verifying");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_damaged_fast_field_file_is_answered_index_damaged_not_200() {
    let dir = own_index();
    damage_a_fast_file(dir.path());
    let engine = Engine::open(dir.path()).unwrap().verifying_in_background();
    let served = app(AppState::new(engine, ServerOptions::default()));
    for uri in [
        "/api/v1/search?q=data&history=true",
        "/api/v1/stats",
        "/api/v1/services",
        "/api/v1/changes",
    ] {
        let answer = get_checked(&served, uri).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(error_code(&answer), "index_damaged", "{uri}");
        // The operator acts, not the client: no folder, no command.
        let message = answer.json["error"]["message"].as_str().unwrap();
        assert!(message.contains("must rebuild the index"), "{message}");
        assert!(
            !message.contains("--") && !message.contains("/tmp"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_sound_index_checked_in_the_background_is_served() {
    let dir = own_index();
    let engine = Engine::open(dir.path()).unwrap().verifying_in_background();
    let served = app(AppState::new(engine, ServerOptions::default()));
    let answer = get_checked(&served, "/api/v1/search?q=data&history=true").await;
    assert_eq!(answer.status, StatusCode::OK);
    let checked_in_caller = app(AppState::new(
        Engine::open(dir.path()).unwrap(),
        ServerOptions::default(),
    ));
    let direct = get(&checked_in_caller, "/api/v1/search?q=data&history=true").await;
    assert_eq!(answer.json, direct.json);
}

#[tokio::test]
async fn an_index_deleted_under_the_server_answers_stats_with_no_index() {
    let dir = own_index();
    let app = app(AppState::new(
        Engine::open(dir.path()).unwrap(),
        ServerOptions::default(),
    ));
    assert_eq!(get(&app, "/api/v1/stats").await.status, StatusCode::OK);
    std::fs::remove_dir_all(dir.path()).unwrap();
    let answer = get(&app, "/api/v1/stats").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&answer), "no_index");
}
