//! What the test modules share: the sample's versions, indexing runs, engines and requests.

pub(crate) use std::collections::HashMap;
pub(crate) use std::path::Path;
pub(crate) use std::process::Command;

pub(crate) use palimpsest_corpus::{Archive, ReadOptions};
pub(crate) use palimpsest_indexer::{Added, Indexer, IndexerOptions};
pub(crate) use palimpsest_ingest::{IndexReport, IngestSettings, NoProgress};
pub(crate) use palimpsest_schema::{CollectionName, PolicyVersion, Timestamp};
pub(crate) use palimpsest_search::{
    ChangesRequest, Engine, ErrorKind, SearchRequest, ShowRequest, TimeMode,
};

pub(crate) fn sample_versions() -> Vec<PolicyVersion> {
    let options = ReadOptions::new(CollectionName::new("sample").unwrap());
    let archive = Archive::open(&palimpsest_corpus::sample_path(), &options).unwrap();
    let listing = archive.list(None).unwrap();
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    let mut reader = archive.reader().unwrap();
    listing
        .versions
        .iter()
        .map(|v| reader.read(v).unwrap())
        .collect()
}

/// A generated document's versions: each a preamble and its (heading, text) picks from
/// `headings` and `texts`, version `i` recorded `day(i)` days after a fixed instant.
pub(crate) fn generated_versions(
    history: &[Vec<(usize, usize)>],
    headings: &[&str],
    texts: &[&str],
    day: impl Fn(usize) -> i64,
) -> Vec<PolicyVersion> {
    let key = palimpsest_schema::DocKey::new("p", "Prop", "Policy").unwrap();
    history
        .iter()
        .enumerate()
        .map(|(i, sections)| {
            let mut content = String::from("Preamble.\n\n");
            for (h, t) in sections {
                content.push_str(&format!("## {}\n\n{}\n\n", headings[*h], texts[*t]));
            }
            PolicyVersion {
                key: key.clone(),
                recorded_at: Timestamp::from_unix(1_600_000_000 + day(i) * 86_400).unwrap(),
                source_id: format!("v{i}"),
                kind: if i == 0 {
                    palimpsest_schema::VersionKind::FirstRecord
                } else {
                    palimpsest_schema::VersionKind::Change
                },
                content,
            }
        })
        .collect()
}

/// Opens `dir` for a run. Tests spawn the CLI beside each other: a child forked while this
/// process holds Tantivy's writer lock shares that lock until it executes, so a run right
/// after another one may find it held for a moment.
pub(crate) fn open_for_run(dir: &Path) -> Indexer {
    for _ in 0..100 {
        match Indexer::open(dir, &IndexerOptions::default()) {
            Err(palimpsest_indexer::IndexerError::Tantivy {
                error: tantivy::TantivyError::LockFailure(..),
                ..
            }) => std::thread::sleep(std::time::Duration::from_millis(20)),
            opened => return opened.unwrap(),
        }
    }
    panic!("the writer lock of {} stayed held", dir.display());
}

pub(crate) fn index(dir: &Path, versions: &[PolicyVersion]) {
    let mut indexer = open_for_run(dir);
    let mut replay: HashMap<_, Vec<PolicyVersion>> = HashMap::new();
    for v in versions {
        if indexer.add(v.clone()).unwrap() == Added::NeedsReplay {
            replay.insert(v.key.clone(), Vec::new());
        }
    }
    for (key, history) in &mut replay {
        // The whole history of the document: what is already indexed plus the new versions.
        history.extend(sample_versions().into_iter().filter(|v| &v.key == key));
        indexer.replace_document(key, history.clone()).unwrap();
    }
    indexer.commit().unwrap();
}

/// Indexes the archive at `path` as `collection`, as `palimpsest index` does.
pub(crate) fn ingest(dir: &Path, path: &Path, collection: &str) -> IndexReport {
    let settings = IngestSettings {
        collection: Some(collection.into()),
        ..IngestSettings::default()
    };
    palimpsest_ingest::ingest(dir, &[path.to_owned()], &settings, &mut NoProgress).unwrap()
}

pub(crate) fn sample_engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let report = ingest(dir.path(), &palimpsest_corpus::sample_path(), "sample");
    assert_eq!(report.warnings, 0);
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

pub(crate) fn request(query: &str, time: TimeMode) -> SearchRequest {
    SearchRequest {
        time,
        ..SearchRequest::new(query)
    }
}

/// The version of `v`'s document in force at `v`'s instant.
pub(crate) fn show_at(engine: &Engine, v: &PolicyVersion) -> palimpsest_search::VersionResponse {
    engine
        .show(&ShowRequest {
            service: v.key.service.to_string(),
            terms_type: v.key.terms_type.to_string(),
            collection: None,
            at: Some(v.recorded_at),
            version: None,
        })
        .unwrap()
}

/// Every span ever in force, without grouping: the window with no bounds.
pub(crate) const EVER: TimeMode = TimeMode::Between {
    from: None,
    to: None,
};

pub(crate) fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// Everything observable about an index, for comparing two builds.
pub(crate) fn observe(engine: &Engine) -> String {
    let mut out = serde_json::to_string(&engine.services().unwrap()).unwrap();
    let stats = engine.stats().unwrap();
    out.push_str(&format!(
        "{} {} {} {}",
        stats.collections, stats.documents, stats.versions, stats.spans
    ));
    for v in sample_versions() {
        let shown = show_at(engine, &v);
        out.push_str(&serde_json::to_string(&shown).unwrap());
    }
    let every_change = ChangesRequest {
        first_records: true,
        technical_upgrades: true,
        limit: 100,
        ..ChangesRequest::default()
    };
    out.push_str(&serde_json::to_string(&engine.changes(&every_change).unwrap()).unwrap());
    let mut all = request("*", EVER);
    all.limit = 100;
    let mut hits = engine.search(&all).unwrap().hits;
    hits.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    for hit in hits {
        out.push_str(&format!(
            "{} {:?} {} {:?} {} {}\n",
            hit.service,
            hit.section,
            hit.valid_from,
            hit.valid_to,
            hit.first_version,
            hit.last_version
        ));
    }
    out
}
