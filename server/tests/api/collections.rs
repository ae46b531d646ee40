//! A document several collections hold, asked for without `collection`.

use super::*;

/// The sample indexed twice, as the collections `pga` and `vlopses-us`.
fn two_collections() -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut versions = Vec::new();
    for name in ["pga", "vlopses-us"] {
        let options = ReadOptions::new(CollectionName::new(name).unwrap());
        let archive = Archive::open(&palimpsest_corpus::sample_path(), &options).unwrap();
        let listing = archive.list(None).unwrap();
        let mut reader = archive.reader().unwrap();
        versions.extend(listing.versions.iter().map(|v| reader.read(v).unwrap()));
    }
    index(dir.path(), &versions);
    let engine = Engine::open(dir.path()).unwrap();
    let app = app(AppState::new(engine, ServerOptions::default()));
    (dir, app)
}

#[tokio::test]
async fn a_document_in_several_collections_did_not_say_how_to_choose_one() {
    let (_dir, app) = two_collections();
    let answer = get(&app, "/api/v1/versions/Birdsong/Privacy%20Policy").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.json);
    assert_eq!(error_code(&answer), "invalid_parameter");
    let error = &answer.json["error"];
    assert_eq!(
        error["message"],
        "invalid parameter `collection`: `Birdsong` `Privacy Policy` is in several collections \
         (pga, vlopses-us); choose one with collection=pga or collection=vlopses-us"
    );
    // The page links the document in each collection.
    assert_eq!(
        error["suggestions"],
        serde_json::json!({"parameter": "collection", "name": "", "names": ["pga", "vlopses-us"]})
    );
    let chosen = get(
        &app,
        "/api/v1/versions/Birdsong/Privacy%20Policy?collection=pga",
    )
    .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.json);
}
