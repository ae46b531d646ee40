//! A section that comes back to an earlier text: its new span shares the words the first
//! span indexed, and every search sees it as if it held them.

use std::path::Path;

use palimpsest_indexer::{Indexer, IndexerOptions};
use palimpsest_schema::{DocKey, IndexFields, PolicyVersion, VersionKind};
use palimpsest_search::{ChangesRequest, Engine, SearchRequest, TimeMode};

use super::at;

fn version(day: &str, cookies: &str) -> PolicyVersion {
    PolicyVersion {
        key: DocKey::new("fixture", "Flipper", "Privacy Policy").unwrap(),
        recorded_at: at(day),
        source_id: format!("flipper@{day}"),
        kind: if day == "2024-01-01" {
            VersionKind::FirstRecord
        } else {
            VersionKind::Change
        },
        content: format!(
            "# Privacy\n\n## Cookies\n\nWe use cookies {cookies}.\n\n## Retention\n\nWe keep \
             logs for a year.\n"
        ),
    }
}

/// The cookies section flips from analytics to advertising and back, then changes again.
fn history() -> Vec<PolicyVersion> {
    vec![
        version("2024-01-01", "for analytics"),
        version("2024-06-01", "for advertising"),
        version("2025-01-01", "for analytics"),
        version("2025-06-01", "to remember your language"),
    ]
}

/// Indexes `runs` of versions, one indexing run (and commit) each.
fn indexed(dir: &Path, runs: &[&[PolicyVersion]]) -> Engine {
    for run in runs {
        let mut indexer = Indexer::open(dir, &IndexerOptions::default()).unwrap();
        for v in *run {
            indexer.add(v.clone()).unwrap();
        }
        indexer.commit().unwrap();
    }
    Engine::open(dir).unwrap()
}

fn sharing_spans(dir: &Path) -> u64 {
    let index = tantivy::Index::open_in_dir(dir).unwrap();
    let fields = IndexFields::new();
    let searcher = index.reader().unwrap().searcher();
    let mut sharing = 0;
    for reader in searcher.segment_readers() {
        let column = fields.u64_column(reader, fields.indexed_as).unwrap();
        sharing += (0..reader.max_doc())
            .filter(|doc| reader.alive_bitset().is_none_or(|a| a.is_alive(*doc)))
            .filter(|doc| column.first(*doc).is_some())
            .count() as u64;
    }
    sharing
}

fn search(engine: &Engine, query: &str, time: TimeMode) -> palimpsest_search::SearchResponse {
    let mut request = SearchRequest::new(query);
    request.time = time;
    engine.search(&request).unwrap()
}

fn answers(engine: &Engine) -> Vec<String> {
    let mut out = Vec::new();
    for time in [
        TimeMode::Current,
        TimeMode::History,
        TimeMode::AsOf(at("2024-03-01")),
        TimeMode::AsOf(at("2025-03-01")),
    ] {
        for query in [
            "analytics",
            "cookies analytics",
            "\"for analytics\"",
            "logs",
        ] {
            let mut found = search(engine, query, time);
            // Scores differ by the documents an update replaced, counted until a merge.
            for hit in &mut found.hits {
                hit.score = 0.0;
            }
            out.push(serde_json::to_string(&found).unwrap());
        }
    }
    let mut changes = engine
        .changes(&ChangesRequest {
            query: Some("analytics".into()),
            ..ChangesRequest::default()
        })
        .unwrap();
    for change in &mut changes.changes {
        change.score = 0.0;
    }
    out.push(serde_json::to_string(&changes).unwrap());
    out
}

#[test]
fn a_text_that_comes_back_is_found_in_each_of_its_spans() {
    let dir = tempfile::tempdir().unwrap();
    let engine = indexed(dir.path(), &[&history()]);
    assert_eq!(
        sharing_spans(dir.path()),
        1,
        "the returning text is indexed once"
    );
    assert_eq!(search(&engine, "analytics", TimeMode::Current).total, 0);

    let then = search(&engine, "analytics", TimeMode::AsOf(at("2024-03-01")));
    assert_eq!(then.total, 1);
    assert_eq!(then.hits[0].valid_from, at("2024-01-01"));
    let back = search(&engine, "analytics", TimeMode::AsOf(at("2025-03-01")));
    assert_eq!(back.total, 1);
    assert_eq!(back.hits[0].valid_from, at("2025-01-01"));
    assert_eq!(back.hits[0].matched_terms, ["analytics"]);
    assert!(back.hits[0].snippet.text.contains("analytics"));
    assert_ne!(then.hits[0].span, back.hits[0].span);
    assert_eq!(
        then.hits[0].score, back.hits[0].score,
        "one text, one score"
    );
    assert_eq!(
        search(&engine, "analytics", TimeMode::AsOf(at("2024-07-01"))).total,
        0
    );
    let phrase = search(&engine, "\"for analytics\"", TimeMode::History);
    assert_eq!(phrase.hits.iter().map(|h| h.spans).sum::<usize>(), 2);

    let changes = engine
        .changes(&ChangesRequest {
            query: Some("analytics".into()),
            ..ChangesRequest::default()
        })
        .unwrap();
    let mut dates: Vec<_> = changes.changes.iter().map(|c| c.date).collect();
    dates.sort();
    assert_eq!(
        dates,
        [at("2024-06-01"), at("2025-01-01"), at("2025-06-01")],
        "the text went, came back and went again"
    );
}

#[test]
fn a_text_in_force_keeps_its_words_until_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = indexed(dir.path(), &[&history()[..3]]);
    assert_eq!(sharing_spans(dir.path()), 0);
    let now = search(&engine, "analytics", TimeMode::Current);
    assert_eq!(now.total, 1);
    assert_eq!(now.hits[0].valid_from, at("2025-01-01"));
    drop(engine);
    let engine = indexed(dir.path(), &[&history()[3..]]);
    assert_eq!(
        sharing_spans(dir.path()),
        1,
        "closed, it shares the first span's words"
    );
    let back = search(&engine, "analytics", TimeMode::AsOf(at("2025-03-01")));
    assert_eq!(back.hits[0].span, now.hits[0].span);
}

#[test]
fn runs_that_share_texts_across_commits_answer_as_one_run_does() {
    let versions = history();
    let one = tempfile::tempdir().unwrap();
    let apart = tempfile::tempdir().unwrap();
    let whole = indexed(one.path(), &[&versions]);
    let split = indexed(
        apart.path(),
        &[
            &versions[..1],
            &versions[1..2],
            &versions[2..3],
            &versions[3..],
        ],
    );
    assert_eq!(sharing_spans(one.path()), 1);
    assert_eq!(sharing_spans(apart.path()), 1);
    assert_eq!(answers(&whole), answers(&split));
    let gone = search(&whole, "analytics", TimeMode::Current);
    assert_eq!(gone.total, 0, "the returning text closed again");
}
