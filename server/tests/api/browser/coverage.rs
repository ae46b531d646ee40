//! A text two collections recorded at different times, and an answer about a time before
//! any record: the page says each collection's dates and what the archive covers.

use palimpsest_schema::{DocKey, VersionKind};

use super::*;

const KEEP: &str = "# Terms\n\nWe keep your data.\n";
const MODELS: &str =
    "# Terms\n\nWe keep your data.\n\n# Models\n\nWe train artificial intelligence models.\n";

/// Acme's terms: pga records them from 2024-01-01 and the models clause from 2024-03-01;
/// vlopses-us from 2024-02-01, the clause from 2024-06-01.
fn two_collections() -> Vec<PolicyVersion> {
    let version = |collection: &str, when: &str, kind, content: &str| PolicyVersion {
        key: DocKey::new(collection, "Acme", "Terms of Service").unwrap(),
        recorded_at: Timestamp::parse(when).unwrap(),
        source_id: format!("{collection}-{when}"),
        kind,
        content: content.to_owned(),
    };
    vec![
        version("pga", "2024-01-01", VersionKind::FirstRecord, KEEP),
        version("pga", "2024-03-01", VersionKind::Change, MODELS),
        version("vlopses-us", "2024-02-01", VersionKind::FirstRecord, KEEP),
        version("vlopses-us", "2024-06-01", VersionKind::Change, MODELS),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_collection_s_dates_and_the_coverage_are_on_the_page() {
    let Some(driver) = start_driver() else {
        return;
    };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    index(dir.path(), &two_collections());
    let state = AppState::new(Engine::open(dir.path()).unwrap(), ServerOptions::default());
    let (addr, stop) = start_server_with(app(state)).await;
    in_browser(&driver, addr, |page| async move { steps(&page).await }).await;
    stop.send(()).ok();
}

async fn steps(page: &Page) {
    // One hit for the text of both collections, with the start each recorded.
    page.open("/?q=artificial+intelligence&mode=history").await;
    let dates = page.text("ol.hits .hit .meta .dates").await;
    assert_eq!(
        dates,
        "in force since 2024-03-01 (pga), 2024-06-01 (vlopses-us)"
    );
    page.shot("search-two-collections", "desktop").await;

    // Before the first record: the answer says the document was not tracked then.
    page.open("/?q=data&service=Acme&terms_type=Terms+of+Service&mode=as_of&as_of=2023-06-01")
        .await;
    let note = page.text("p.coverage").await;
    assert!(note.starts_with("Not tracked before 2024-01-01"), "{note}");
    page.shot("search-not-tracked", "desktop").await;
    page.resize(PHONE).await;
    page.open("/?q=artificial+intelligence&mode=history").await;
    page.shot("search-two-collections", "phone").await;
    page.open("/?q=data&service=Acme&terms_type=Terms+of+Service&mode=as_of&as_of=2023-06-01")
        .await;
    page.shot("search-not-tracked", "phone").await;
}
