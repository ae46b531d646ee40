//! End-to-end tests on the built-in sample archive: corpus → indexer → search, and the CLI.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use palimpsest_corpus::{Archive, ReadOptions};
use palimpsest_indexer::{Added, Indexer, IndexerOptions};
use palimpsest_ingest::{IndexReport, IngestSettings, NoProgress};
use palimpsest_schema::{CollectionName, PolicyVersion, Timestamp};
use palimpsest_search::{ChangesRequest, Engine, ErrorKind, SearchRequest, ShowRequest, TimeMode};

fn sample_versions() -> Vec<PolicyVersion> {
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
fn generated_versions(
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
fn open_for_run(dir: &Path) -> Indexer {
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

fn index(dir: &Path, versions: &[PolicyVersion]) {
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
fn ingest(dir: &Path, path: &Path, collection: &str) -> IndexReport {
    let settings = IngestSettings {
        collection: Some(collection.into()),
        ..IngestSettings::default()
    };
    palimpsest_ingest::ingest(dir, &[path.to_owned()], &settings, &mut NoProgress).unwrap()
}

fn sample_engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let report = ingest(dir.path(), &palimpsest_corpus::sample_path(), "sample");
    assert_eq!(report.warnings, 0);
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

fn request(query: &str, time: TimeMode) -> SearchRequest {
    SearchRequest {
        time,
        ..SearchRequest::new(query)
    }
}

/// The version of `v`'s document in force at `v`'s instant.
fn show_at(engine: &Engine, v: &PolicyVersion) -> palimpsest_search::VersionResponse {
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
const EVER: TimeMode = TimeMode::Between {
    from: None,
    to: None,
};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// Everything observable about an index, for comparing two builds.
fn observe(engine: &Engine) -> String {
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

mod versions {
    use super::*;

    #[test]
    fn every_sample_version_is_rebuilt_exactly() {
        let (_dir, engine) = sample_engine();
        let versions = sample_versions();
        assert_eq!(versions.len(), 13);
        for v in &versions {
            let shown = engine
                .show(&ShowRequest {
                    service: v.key.service.to_string(),
                    terms_type: v.key.terms_type.to_string(),
                    collection: Some("sample".into()),
                    at: Some(v.recorded_at),
                    version: None,
                })
                .unwrap();
            assert_eq!(shown.content, v.content, "{} at {}", v.key, v.recorded_at);
            assert_eq!(shown.id, v.source_id);
            assert_eq!(shown.kind, v.kind);
        }
    }

    #[test]
    fn versions_are_shown_by_id_or_unique_prefix() {
        let (_dir, engine) = sample_engine();
        let show = |version: &str| {
            engine.show(&ShowRequest {
                service: "Birdsong".into(),
                terms_type: "Privacy Policy".into(),
                collection: None,
                at: None,
                version: Some(version.into()),
            })
        };
        let id = "Birdsong/Privacy Policy/2023-11-01T00-00-00Z.md";
        let by_at = engine
            .show(&ShowRequest {
                service: "Birdsong".into(),
                terms_type: "Privacy Policy".into(),
                collection: None,
                at: Some(at("2023-11-01")),
                version: None,
            })
            .unwrap();
        assert_eq!(show(id).unwrap().content, by_at.content);
        assert_eq!(show("birdsong/privacy policy/2023-11").unwrap().id, id);
        let ambiguous = show("Birdsong/Privacy").unwrap_err();
        assert_eq!(ambiguous.kind(), ErrorKind::BadRequest, "{ambiguous}");
        assert_eq!(show("Bir").unwrap_err().kind(), ErrorKind::BadRequest);
        assert_eq!(show("nope-nope").unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn identical_re_record_opens_no_span_and_counts_add_up() {
        let (_dir, engine) = sample_engine();
        let stats = engine.stats().unwrap();
        assert_eq!(
            (stats.collections, stats.documents, stats.versions),
            (1, 4, 13)
        );
        // Acme: 6 sections at first; +1 (age change); +1 (renamed section); +2 (acceptable
        // use changed, preamble unchanged); the identical re-record adds none.
        let versions = engine
            .versions("Acme Cloud", "Terms of Service", None)
            .unwrap();
        assert_eq!(versions.versions.len(), 5);
        let mut all = request("*", EVER);
        all.filters.services = vec!["Acme Cloud".into()];
        assert_eq!(engine.search(&all).unwrap().total, 8);
    }

    #[test]
    fn names_match_case_insensitively_and_unknown_ones_are_reported() {
        let (_dir, engine) = sample_engine();
        let shown = engine
            .show(&ShowRequest {
                service: "acme cloud".into(),
                terms_type: "terms of service".into(),
                collection: None,
                at: None,
                version: None,
            })
            .unwrap();
        assert_eq!(shown.service, "Acme Cloud");
        let err = engine
            .versions("Acme", "Terms of Service", None)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("Acme Cloud"), "{err}");
        let err = engine.versions("Birdsong", "Terms", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn show_before_first_record_or_in_the_future_is_an_error() {
        let (_dir, engine) = sample_engine();
        let show = |t: &str| {
            engine.show(&ShowRequest {
                service: "Birdsong".into(),
                terms_type: "Privacy Policy".into(),
                collection: None,
                at: Some(at(t)),
                version: None,
            })
        };
        assert_eq!(show("2020-01-01").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(show("9000-01-01").unwrap_err().kind(), ErrorKind::InFuture);
        assert_eq!(
            show("2023-12-01").unwrap().id,
            "Birdsong/Privacy Policy/2023-11-01T00-00-00Z.md"
        );
    }
}

mod incremental {
    use super::*;

    /// The sample's versions recorded before 2023-10-01, and the rest.
    fn sample_in_two_parts() -> (Vec<PolicyVersion>, Vec<PolicyVersion>) {
        let cut = at("2023-10-01");
        sample_versions()
            .into_iter()
            .partition(|v| v.recorded_at < cut)
    }

    #[test]
    fn update_in_two_runs_equals_full_build() {
        let (before, after) = sample_in_two_parts();
        let (_full_dir, full) = sample_engine();
        let dir = tempfile::tempdir().unwrap();
        index(dir.path(), &before);
        index(dir.path(), &after);
        let incremental = Engine::open(dir.path()).unwrap();
        assert_eq!(observe(&incremental), observe(&full));
    }

    /// A server's engine reads version records and latest version ids once per searcher
    /// generation: after another process's update it answers from the new commit, not from
    /// what it read before.
    #[test]
    fn an_open_engine_answers_from_the_update_once_it_sees_the_commit() {
        let (before, after) = sample_in_two_parts();
        let (_full_dir, full) = sample_engine();
        let dir = tempfile::tempdir().unwrap();
        index(dir.path(), &before);
        let engine = Engine::open(dir.path()).unwrap();
        let first = observe(&engine);
        let seen = engine.stats().unwrap().versions;
        index(dir.path(), &after);
        // The reader follows commits on its own thread, within about a second.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while engine.stats().unwrap().versions == seen {
            assert!(
                std::time::Instant::now() < deadline,
                "the commit was never seen"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_ne!(first, observe(&full));
        assert_eq!(observe(&engine), observe(&full));
    }

    /// Every hit of the whole history, as a reader sees it; scores, and so the order, aside:
    /// deleted documents still weigh on them until merged away.
    fn history_hits(engine: &Engine) -> Vec<String> {
        let mut all = request("*", EVER);
        all.limit = 100;
        let hits = engine.search(&all).unwrap().hits;
        let mut hits: Vec<String> = hits
            .iter()
            .map(|h| {
                let json = serde_json::to_value(h).unwrap();
                let mut json = json.as_object().unwrap().clone();
                json.remove("score");
                serde_json::to_string(&json).unwrap()
            })
            .collect();
        hits.sort();
        hits
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

        /// Histories with a heading path twice in one version and versions two at an instant,
        /// indexed in two runs cut anywhere, list the same history hits as a clean build.
        #[test]
        fn two_runs_list_the_history_hits_of_a_clean_build(
            history in proptest::collection::vec(
                proptest::collection::vec((0usize..3, 0usize..4), 0..5),
                2..7,
            ),
            cut in 1usize..6,
        ) {
            const HEADINGS: [&str; 3] = ["Data", "Cookies", "Data"];
            const TEXTS: [&str; 4] = ["We keep data.", "We keep data longer.", "Cookies.", ""];
            // Versions two at an instant.
            let versions = generated_versions(&history, &HEADINGS, &TEXTS, |i| (i / 2) as i64);
            let cut = cut.min(versions.len() - 1);
            let (clean_dir, runs_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            index(clean_dir.path(), &versions);
            index(runs_dir.path(), &versions[..cut]);
            index(runs_dir.path(), &versions[cut..]);
            let clean = Engine::open(clean_dir.path()).unwrap();
            let runs = Engine::open(runs_dir.path()).unwrap();
            proptest::prop_assert_eq!(history_hits(&runs), history_hits(&clean));
        }
    }

    #[test]
    fn version_arriving_out_of_order_replays_its_document() {
        let versions = sample_versions();
        let (_full_dir, full) = sample_engine();
        let dir = tempfile::tempdir().unwrap();
        let late = versions
            .iter()
            .position(|v| v.key.service.as_str() == "Birdsong")
            .unwrap();
        let mut first = versions.clone();
        let withheld = first.remove(late);
        index(dir.path(), &first);
        index(dir.path(), &[withheld]);
        let incremental = Engine::open(dir.path()).unwrap();
        assert_eq!(observe(&incremental), observe(&full));
    }
}

mod search {
    use super::*;

    #[test]
    fn time_modes_select_spans_by_validity() {
        let (_dir, engine) = sample_engine();
        let total = |time| engine.search(&request("arbitration", time)).unwrap().total;
        assert_eq!(total(TimeMode::Current), 0, "removed in 2024-05");
        assert_eq!(total(TimeMode::AsOf(at("2023-07-01"))), 1);
        assert_eq!(total(TimeMode::AsOf(at("2022-01-01"))), 0);
        assert_eq!(
            total(TimeMode::AsOf(at("2024-05-20T10:00:00Z"))),
            0,
            "valid_to is exclusive"
        );
        assert_eq!(total(TimeMode::AsOf(at("2024-05-20T09:59:59Z"))), 1);
        assert_eq!(
            total(TimeMode::Between {
                from: Some(at("2024-06-01")),
                to: None
            }),
            0
        );
        assert_eq!(
            total(TimeMode::Between {
                from: Some(at("2023-01-01")),
                to: Some(at("2023-02-01"))
            }),
            1
        );
        assert_eq!(total(TimeMode::History), 1);
    }

    #[test]
    fn history_groups_adjacent_spans_of_one_section() {
        let (_dir, engine) = sample_engine();
        // "spam" is in Acme's "Acceptable use" section, which changed once (2024-05):
        // two spans, adjacent, so one hit over the whole range.
        let response = engine.search(&request("spam", TimeMode::History)).unwrap();
        assert_eq!(response.total, 1);
        let hit = &response.hits[0];
        assert_eq!(hit.spans, 2);
        assert_eq!(hit.valid_from, at("2023-01-10T09:00:00Z"));
        assert_eq!(hit.valid_to, None);
        let plain = engine.search(&request("spam", EVER)).unwrap();
        assert_eq!(plain.total, 2);
    }

    #[test]
    fn renamed_and_setext_and_heading_less_sections_have_paths() {
        let (_dir, engine) = sample_engine();
        let hit = &engine
            .search(&request("suspend", TimeMode::Current))
            .unwrap();
        let acme = hit.hits.iter().find(|h| h.service == "Acme Cloud").unwrap();
        assert_eq!(
            acme.section,
            ["Acme Cloud Terms of Service", "Ending the agreement"]
        );
        let old = engine
            .search(&request("suspend", TimeMode::AsOf(at("2023-12-01"))))
            .unwrap();
        assert!(
            old.hits
                .iter()
                .any(|h| h.section.last().map(String::as_str) == Some("Termination"))
        );
        let bird = &engine
            .search(&request("location", TimeMode::Current))
            .unwrap()
            .hits;
        assert!(
            bird.iter()
                .any(|h| h.section == ["Birdsong Privacy Policy", "What we collect"])
        );
        let minors = &engine
            .search(&request("minors", TimeMode::Current))
            .unwrap()
            .hits[0];
        assert_eq!(minors.section, ["Protecting minors"]);
        let cookies = &engine
            .search(&request("cookies", TimeMode::Current))
            .unwrap()
            .hits[0];
        assert_eq!(cookies.section, ["Cookies"]);
        let marked: Vec<String> = cookies
            .snippet
            .highlights
            .iter()
            .map(|&[s, e]| cookies.snippet.text.chars().skip(s).take(e - s).collect())
            .collect();
        assert!(
            marked.iter().any(|m| m.eq_ignore_ascii_case("cookies")),
            "{:?}",
            cookies.snippet
        );
    }

    #[test]
    fn filters_restrict_hits() {
        let (_dir, engine) = sample_engine();
        let mut r = request("data OR account", TimeMode::Current);
        let all = engine.search(&r).unwrap().total;
        r.filters.services = vec!["Birdsong".into()];
        let bird = engine.search(&r).unwrap();
        assert!(bird.total > 0 && bird.total < all);
        assert!(bird.hits.iter().all(|h| h.service == "Birdsong"));
        r.filters.services.clear();
        r.filters.terms_types = vec!["Terms of Service".into()];
        assert!(
            engine
                .search(&r)
                .unwrap()
                .hits
                .iter()
                .all(|h| h.terms_type == "Terms of Service")
        );
        r.filters.terms_types.clear();
        // A collection the index does not hold is refused, not silently matched by nothing.
        r.filters.collections = vec!["elsewhere".into()];
        let error = engine.search(&r).unwrap_err();
        assert!(
            matches!(
                error,
                palimpsest_search::SearchError::UnknownName {
                    parameter: "collection",
                    ..
                }
            ),
            "{error}"
        );
        r.filters.collections = vec!["SAMPLE".into()];
        assert_eq!(engine.search(&r).unwrap().total, all);
        r.filters.collections.clear();
        r.filters.section = vec!["birdsong privacy policy".into(), "how we".into()];
        let section = engine.search(&r).unwrap();
        assert_eq!(section.total, 1);
        assert_eq!(section.hits[0].section[1], "How we use your data");
    }

    #[test]
    fn facet_counts_equal_a_brute_force_count() {
        let (_dir, engine) = sample_engine();
        // A document whose sections in force all stand under one top-level heading is titled
        // by it: the section facet counts them under their second heading.
        let mut current = request("*", TimeMode::Current);
        current.limit = 100;
        let mut paths: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for hit in engine.search(&current).unwrap().hits {
            paths
                .entry(hit.service.clone())
                .or_default()
                .push(hit.section);
        }
        let titled: std::collections::HashSet<String> = paths
            .into_iter()
            .filter(|(_, paths)| {
                let headed: Vec<&Vec<String>> = paths.iter().filter(|p| !p.is_empty()).collect();
                headed.iter().filter(|p| p.len() == 1).count() == 1
                    && headed.len() > 1
                    && headed.iter().all(|p| p[0] == headed[0][0])
            })
            .map(|(service, _)| service)
            .collect();
        for time in [TimeMode::Current, EVER] {
            let mut r = request("*", time);
            r.limit = 100;
            let response = engine.search(&r).unwrap();
            assert_eq!(response.total as usize, response.hits.len());
            let mut services: HashMap<String, u64> = HashMap::new();
            let mut sections: HashMap<String, u64> = HashMap::new();
            let mut years: HashMap<String, u64> = HashMap::new();
            for hit in &response.hits {
                *services.entry(hit.service.clone()).or_default() += 1;
                let level = usize::from(titled.contains(&hit.service));
                *sections
                    .entry(hit.section.get(level).cloned().unwrap_or_default())
                    .or_default() += 1;
                *years
                    .entry(hit.valid_from.to_string()[..4].to_owned())
                    .or_default() += 1;
            }
            let as_map = |list: &[palimpsest_search::FacetCount]| {
                list.iter()
                    .map(|f| (f.value.clone(), f.count))
                    .collect::<HashMap<_, _>>()
            };
            assert_eq!(as_map(&response.facets.service), services);
            assert_eq!(as_map(&response.facets.section), sections);
            assert_eq!(as_map(&response.facets.year), years);
            assert_eq!(
                response.facets.collection,
                [palimpsest_search::FacetCount {
                    value: "sample".into(),
                    count: response.total
                }]
            );
        }
    }

    #[test]
    fn paging_is_stable_and_bounded() {
        let (_dir, engine) = sample_engine();
        let mut r = request("*", EVER);
        r.limit = 5;
        let first = engine.search(&r).unwrap();
        r.offset = 5;
        let second = engine.search(&r).unwrap();
        assert_eq!(first.total, second.total);
        assert!(first.hits.iter().all(|a| !second.hits.contains(a)));
        for (limit, offset) in [(0, 0), (101, 0), (100, 9_901), (1, usize::MAX)] {
            r.limit = limit;
            r.offset = offset;
            assert_eq!(
                engine.search(&r).unwrap_err().kind(),
                ErrorKind::BadRequest,
                "{limit} {offset}"
            );
        }
    }

    #[test]
    fn malformed_queries_get_a_message_not_a_panic() {
        let (_dir, engine) = sample_engine();
        let deep = format!("{}a{}", "(".repeat(800), ")".repeat(800));
        let long = "a".repeat(1_000_000);
        for query in [
            "a:(^",
            "\"unclosed",
            "((((",
            "",
            "nofield:x",
            "- *",
            "AND",
            "a\0b",
            &deep,
            &long,
            "))",
        ] {
            match engine.search(&request(query, TimeMode::Current)) {
                Ok(_) => {}
                Err(e) => assert_eq!(e.kind(), ErrorKind::BadRequest, "{query:.40}: {e}"),
            }
        }
        assert!(
            engine
                .search(&request("nofield:x", TimeMode::Current))
                .is_err()
        );
        // Prose punctuation is text, never a syntax error.
        for prose in [
            "a:(^",
            "don't sell",
            "Update: new terms",
            "(see above",
            "what?!",
        ] {
            assert!(
                engine.search(&request(prose, TimeMode::Current)).is_ok(),
                "{prose}"
            );
        }
        assert!(engine.search(&request(&deep, TimeMode::Current)).is_err());

        for section in [vec!["x".repeat(60_000)], vec!["Terms".to_string(); 17]] {
            let mut long = request("privacy", TimeMode::Current);
            long.filters.section = section;
            let err = engine.search(&long).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadRequest);
            assert!(err.to_string().contains("`section`"), "{err}");
        }
        let mut nul = request("privacy", TimeMode::Current);
        nul.filters.section = vec!["Priv\0acy".into(), "(.*".into()];
        assert!(engine.search(&nul).is_ok());
    }

    #[test]
    fn phrases_and_boolean_operators_work() {
        let (_dir, engine) = sample_engine();
        let total = |q: &str| engine.search(&request(q, TimeMode::Current)).unwrap().total;
        assert_eq!(total("\"artificial intelligence\""), 2);
        // A phrase no section holds: nothing with every word required; by default the words
        // of the phrase, with the unquoted query suggested.
        let strict = SearchRequest {
            matching: palimpsest_search::MatchMode::All,
            ..request("\"intelligence artificial\"", TimeMode::Current)
        };
        assert_eq!(engine.search(&strict).unwrap().total, 0);
        let relaxed = engine
            .search(&request("\"intelligence artificial\"", TimeMode::Current))
            .unwrap();
        assert_eq!(relaxed.total, 2);
        assert_eq!(
            relaxed.did_you_mean.as_deref(),
            Some("intelligence artificial")
        );
        assert_eq!(total("artificial AND birds"), 1);
        assert_eq!(total("artificial -birds"), 1);
        assert_eq!(total("cookies OR elections"), 2);
        assert_eq!(total("ÉLECTIONS"), 1, "case and accents are folded");
    }

    /// Every span a query finds over all history, as comparable lines.
    fn found(engine: &Engine, query: &str) -> std::collections::BTreeSet<String> {
        let mut all = request(query, EVER);
        all.limit = 100;
        let response = engine.search(&all).unwrap();
        assert!(response.total < 100, "{query}: more than a page");
        response
            .hits
            .iter()
            .map(|h| format!("{} {:?} {}", h.service, h.section, h.valid_from))
            .collect()
    }

    #[test]
    fn trailing_wildcards_stand_for_the_indexed_words_they_start() {
        let (dir, engine) = sample_engine();
        let words: std::collections::BTreeSet<String> = sample_versions()
            .iter()
            .flat_map(|v| {
                v.content
                    .split(|c: char| !c.is_alphanumeric())
                    .map(str::to_lowercase)
                    .collect::<Vec<_>>()
            })
            .filter(|w| w.starts_with("co"))
            .collect();
        assert!(words.len() >= 3, "{words:?}");
        let any_word = words.iter().cloned().collect::<Vec<_>>().join(" OR ");
        let expected = found(&engine, &any_word);
        assert!(!expected.is_empty());
        assert_eq!(found(&engine, "co*"), expected);
        assert_eq!(found(&engine, "CO*"), expected, "folded like words");
        assert_eq!(
            found(&engine, "\"co\"*"),
            expected,
            "a one-word phrase prefix"
        );
        assert_eq!(
            found(&engine, "co* -cookies"),
            found(&engine, &format!("({any_word}) -cookies"))
        );
        assert_eq!(
            found(&engine, "\"artificial intel\"*"),
            found(&engine, "\"artificial intelligence\"")
        );
        assert!(found(&engine, "zzqx*").is_empty());
        let hits = engine
            .search(&request("co*", TimeMode::Current))
            .unwrap()
            .hits;
        assert!(
            hits.iter().any(|h| !h.snippet.highlights.is_empty()),
            "{hits:?}"
        );
        let history = palimpsest_search::HistoryRequest {
            query: "co*".into(),
            filters: Default::default(),
            limit: 100,
            offset: 0,
        };
        assert!(engine.history(&history).unwrap().total > 0);

        for query in ["a*b", "*co", ".*", "co**"] {
            let err = engine
                .search(&request(query, TimeMode::Current))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadRequest, "{query}");
            assert!(err.to_string().contains('*'), "{query}: {err}");
        }

        // The budget counts the words of every wildcard of the query.
        let limited = |max_expansions| {
            Engine::open(dir.path())
                .unwrap()
                .with_limits(palimpsest_search::Limits {
                    max_expansions,
                    ..Default::default()
                })
        };
        let exact = limited(words.len());
        assert_eq!(found(&exact, "co*"), expected);
        let err = exact
            .search(&request("co* OR cookies*", TimeMode::Current))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest);
        assert!(err.to_string().contains("limit"), "{err}");
        let err = limited(words.len() - 1)
            .search(&request("co*", TimeMode::Current))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest);
    }
}

mod git {
    use super::*;

    pub(super) fn git(dir: &Path, args: &[&str], date: Option<&str>) {
        let mut cmd = Command::new("git");
        cmd.current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@e")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@e");
        if let Some(date) = date {
            cmd.env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date);
        }
        let status = cmd.output().unwrap();
        assert!(
            status.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }

    /// Writes the sample as an OTA versions repository, one commit per version, then deletes
    /// one document.
    pub(super) fn sample_repository(dir: &Path) {
        git(dir, &["init", "-q", "-b", "main"], None);
        std::fs::write(dir.join("README.md"), "not a document").unwrap();
        git(dir, &["add", "."], None);
        git(
            dir,
            &["commit", "-qm", "Initial commit"],
            Some("2020-01-01T00:00:00Z"),
        );
        let mut seen = std::collections::HashSet::new();
        for v in sample_versions() {
            let folder = dir.join(v.key.service.as_str());
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join(format!("{}.md", v.key.terms_type)), &v.content).unwrap();
            let subject = if seen.insert(v.key.clone()) {
                format!("First record of {} {}", v.key.service, v.key.terms_type)
            } else if v.kind == palimpsest_schema::VersionKind::TechnicalUpgrade {
                format!(
                    "Apply technical or declaration upgrade on {} {}",
                    v.key.service, v.key.terms_type
                )
            } else {
                format!(
                    "Record new changes of {} {}",
                    v.key.service, v.key.terms_type
                )
            };
            git(dir, &["add", "-A"], None);
            git(
                dir,
                &["commit", "-q", "--allow-empty", "-m", &subject],
                Some(&v.recorded_at.to_string()),
            );
        }
        git(dir, &["rm", "-q", "-r", "Dune Maps"], None);
        git(
            dir,
            &["commit", "-qm", "Delete Dune Maps"],
            Some("2024-10-01T00:00:00Z"),
        );
    }

    #[test]
    fn git_archive_gives_the_same_versions_and_deletions_end_documents() {
        let repo = tempfile::tempdir().unwrap();
        sample_repository(repo.path());
        let options = ReadOptions::new(CollectionName::new("sample").unwrap());
        let archive = Archive::open(repo.path(), &options).unwrap();
        assert_eq!(archive.kind(), palimpsest_corpus::ArchiveKind::Git);
        let listing = archive.list(None).unwrap();
        // 13 versions minus the identical re-record (no tree change), plus one deletion.
        assert_eq!(listing.versions.len(), 13);
        let dir = tempfile::tempdir().unwrap();
        let report = ingest(dir.path(), repo.path(), "sample");
        assert_eq!((report.versions, report.deletions), (12, 1));
        let engine = Engine::open(dir.path()).unwrap();
        for v in sample_versions()
            .iter()
            .filter(|v| v.key.service.as_str() != "Dune Maps")
        {
            assert_eq!(show_at(&engine, v).content, v.content);
        }
        let kinds: Vec<_> = engine
            .versions("Acme Cloud", "Terms of Service", None)
            .unwrap()
            .versions
            .iter()
            .map(|v| v.kind.as_str())
            .collect();
        assert_eq!(
            kinds,
            ["first_record", "change", "technical_upgrade", "change"]
        );
        let dune = engine.show(&ShowRequest {
            service: "Dune Maps".into(),
            terms_type: "Privacy Policy".into(),
            collection: None,
            at: None,
            version: None,
        });
        assert_eq!(dune.unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(
            engine
                .search(&request("desert", TimeMode::Current))
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            engine
                .search(&request("desert", TimeMode::AsOf(at("2024-06-01"))))
                .unwrap()
                .total,
            1
        );
    }

    #[test]
    fn cli_indexes_git_incrementally() {
        let repo = tempfile::tempdir().unwrap();
        sample_repository(repo.path());
        let index_dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
                .arg("--index")
                .arg(index_dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        };
        let repo_path = repo.path().to_str().unwrap();
        let first = run(&["--json", "index", repo_path, "--collection", "demo"]);
        // Versions counted as `stats` counts them; the deleted document's record apart.
        assert_eq!(first["versions"], 12);
        assert_eq!(first["deletions"], 1);
        assert_eq!(first["collections"][0]["new_versions"], 12);
        assert_eq!(first["collections"][0]["deletions"], 1);
        assert_eq!(run(&["--json", "stats"])["versions"], first["versions"]);
        let again = run(&["--json", "index", repo_path, "--collection", "demo"]);
        assert_eq!(again["versions"], 0);
        std::fs::write(
            repo.path().join("Birdsong/Privacy Policy.md"),
            "# New\n\nAll new text about owls.\n",
        )
        .unwrap();
        git(
            repo.path(),
            &[
                "commit",
                "-qam",
                "Record new changes of Birdsong Privacy Policy",
            ],
            Some("2025-01-01T00:00:00Z"),
        );
        let update = run(&["--json", "index", repo_path, "--collection", "demo"]);
        assert_eq!(update["versions"], 1);
        let hits = run(&["--json", "search", "owls"]);
        assert_eq!(hits["total"], 1);
        assert_eq!(hits["hits"][0]["section"][0], "New");
        assert_eq!(hits["hits"][0]["valid_to"], serde_json::Value::Null);
        let stats = run(&["--json", "stats"]);
        assert_eq!(
            stats["versions"], 13,
            "12 recorded, 1 new; the deletion is not a version"
        );
    }
}

mod cli {
    use super::*;

    /// A folder holding the sample archive, indexed by the CLI.
    fn sample_index() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let sample = palimpsest_corpus::sample_path();
        let indexed = palimpsest(dir.path(), &["index", sample.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&indexed.stderr);
        assert!(indexed.status.success(), "{stderr}");
        dir
    }

    fn palimpsest(index: &Path, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_palimpsest"))
            .arg("--index")
            .arg(index)
            .args(args)
            .output()
            .unwrap()
    }

    #[test]
    fn filters_resolve_names_in_any_case_and_refuse_unknown_ones_with_status_2() {
        let dir = sample_index();
        let found = palimpsest(dir.path(), &["search", "data", "--service", "birdsong"]);
        assert!(found.status.success());
        let out = String::from_utf8_lossy(&found.stdout);
        assert!(out.contains("Birdsong"), "{out}");
        let refused = palimpsest(dir.path(), &["changes", "--service", "birdsonk"]);
        assert_eq!(refused.status.code(), Some(2));
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(
            err.contains("unknown service `birdsonk`; did you mean `Birdsong`?"),
            "{err}"
        );
    }

    #[test]
    fn list_commands_write_json_lines_and_csv_with_the_json_items() {
        let dir = sample_index();
        let stdout = |args: &[&str]| {
            let out = palimpsest(dir.path(), args);
            assert!(out.status.success(), "{args:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&["--json", "changes", "--limit", "100"])).unwrap();
        let changes = json["changes"].as_array().unwrap();
        let lines = stdout(&["--format", "jsonl", "changes", "--limit", "100"]);
        assert_eq!(lines.lines().count(), changes.len());
        for (line, change) in lines.lines().zip(changes) {
            let item: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(&item, change);
        }
        let csv = stdout(&["--format", "csv", "search", "data", "--limit", "100"]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(&reader.headers().unwrap()[0], "service");
        let hits: serde_json::Value =
            serde_json::from_str(&stdout(&["--json", "search", "data", "--limit", "100"])).unwrap();
        assert_eq!(
            reader.records().count(),
            hits["hits"].as_array().unwrap().len()
        );
        let refused = palimpsest(dir.path(), &["--format", "csv", "stats"]);
        assert_eq!(refused.status.code(), Some(2));
    }

    #[test]
    fn all_streams_every_page_of_a_list_in_each_format() {
        let dir = sample_index();
        let stdout = |args: &[&str]| {
            let out = palimpsest(dir.path(), args);
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        for list in [
            &["changes", "--first-records"][..],
            &["search", "data", "--history"],
            &["history", "data"],
        ] {
            let page: serde_json::Value =
                serde_json::from_str(&stdout(&[&["--json"], list, &["--limit", "100"]].concat()))
                    .unwrap();
            let key = ["changes", "hits", "documents"]
                .into_iter()
                .find(|k| page.get(k).is_some())
                .unwrap();
            let items = page[key].as_array().unwrap();
            assert_eq!(
                page["total"],
                items.len(),
                "{list:?}: one page holds them all"
            );
            let lines = stdout(&[&["--format", "jsonl"], list, &["--all"]].concat());
            let exported: Vec<serde_json::Value> = lines
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            assert_eq!(&exported, items, "{list:?}");
            let array = stdout(&[&["--json"], list, &["--all"]].concat());
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&array).unwrap(),
                serde_json::Value::from(items.clone())
            );
            let csv = stdout(&[&["--format", "csv"], list, &["--all"]].concat());
            assert_eq!(
                csv::Reader::from_reader(csv.as_bytes()).records().count(),
                items.len()
            );
            let text = stdout(&[list, &["--all"]].concat());
            assert!(
                text.starts_with(&format!("{} ", items.len())),
                "{list:?}: {text}"
            );
        }
        let refused = palimpsest(dir.path(), &["changes", "--all", "--limit", "5"]);
        assert_eq!(refused.status.code(), Some(2));
    }

    #[test]
    fn changes_filter_by_kind_and_refuse_an_unknown_kind_with_status_2() {
        let dir = sample_index();
        let kinds = |args: &[&str]| -> Vec<String> {
            let mut all = vec!["--json", "changes", "--first-records", "--limit", "100"];
            all.extend_from_slice(args);
            let out = palimpsest(dir.path(), &all);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            json["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["kind"].as_str().unwrap().to_owned())
                .collect()
        };
        let every = kinds(&[]);
        let chosen = kinds(&["--kind", "added", "--kind", "moved"]);
        assert!(!chosen.is_empty());
        assert!(
            chosen.iter().all(|k| k == "added" || k == "moved"),
            "{chosen:?}"
        );
        let expected = every.iter().filter(|k| *k == "added" || *k == "moved");
        assert_eq!(chosen.len(), expected.count());
        let atom = palimpsest(dir.path(), &["changes", "--kind", "removed", "--atom"]);
        assert!(atom.status.success());
        let feed = String::from_utf8_lossy(&atom.stdout);
        let removed = every.iter().filter(|k| *k == "removed").count();
        assert_eq!(feed.matches("<entry>").count(), removed.min(20), "{feed}");

        let refused = palimpsest(dir.path(), &["changes", "--kind", "renamed"]);
        assert_eq!(refused.status.code(), Some(2));
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains("renamed") && err.contains("modified"), "{err}");
    }

    #[test]
    fn serve_refuses_a_source_url_template_without_the_version_with_status_2() {
        let dir = tempfile::tempdir().unwrap();
        let refused = palimpsest(
            dir.path(),
            &[
                "serve",
                "--source-url-template",
                "https://example.org/main/%SERVICE.md",
            ],
        );
        assert_eq!(refused.status.code(), Some(2));
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains("must hold %VERSION"), "{err}");
    }

    /// The CLI printed `Quill&#x27;s` when snippets were HTML.
    #[test]
    fn snippets_print_apostrophes_and_markup_as_typed() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(archive.join("Quill")).unwrap();
        std::fs::write(
            archive.join("Quill/Terms.md"),
            "# Quill's terms\n\nQuill's rules & <b>notices</b>: see [our page](https://quill.example/terms).\n",
        )
        .unwrap();
        let index = dir.path().join("index");
        let made = palimpsest(&index, &["index", archive.to_str().unwrap()]);
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let found = palimpsest(&index, &["search", "rules"]);
        let out = String::from_utf8_lossy(&found.stdout);
        assert!(
            out.contains("Quill's **rules** & <b>notices</b>: see our page"),
            "{out}"
        );
        assert!(!out.contains("&#") && !out.contains("&amp;"), "{out}");
    }

    #[test]
    fn stats_verify_finds_a_damaged_file() {
        let dir = sample_index();
        assert!(
            palimpsest(dir.path(), &["stats", "--verify"])
                .status
                .success()
        );
        let store = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "store"))
            .expect("a document store file");
        let mut bytes = std::fs::read(&store).unwrap();
        bytes[8] ^= 0xff;
        std::fs::write(&store, bytes).unwrap();
        let out = palimpsest(dir.path(), &["stats", "--verify"]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("damaged"));
    }

    #[test]
    fn a_closed_stdout_ends_the_command_quietly() {
        let dir = sample_index();
        for args in [
            &["search", "*", "--history", "--limit", "100"][..],
            &["changes", "--first-records", "--limit", "100"],
            &["changes", "--atom"],
        ] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
                .arg("--index")
                .arg(dir.path())
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            // The reading end is closed before the command writes (it opens the index
            // first): like `| head -0`, every write fails with a broken pipe.
            drop(child.stdout.take());
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{args:?}: {out:?}");
            assert!(
                !String::from_utf8_lossy(&out.stderr).contains("panicked"),
                "{args:?}"
            );
        }
    }

    #[test]
    fn bad_input_exits_with_the_status_of_its_error_code_and_a_message() {
        let dir = sample_index();
        // 2: cannot be answered as asked; 3: the index does not hold it; 1: other failures.
        for (args, expected, status) in [
            (vec!["show", "Nobody", "Terms"], "unknown service", 3),
            (
                vec!["search", "x", "--as-of", "2024-02-30"],
                "invalid date",
                2,
            ),
            (vec!["search", "nofield:x"], "invalid query", 2),
            (vec!["search", "x", "--limit", "0"], "limit", 2),
            (
                vec![
                    "show",
                    "Acme Cloud",
                    "Terms of Service",
                    "--at",
                    "9999-01-01",
                ],
                "in the future",
                2,
            ),
            (vec!["index", "/nonexistent/archive"], "cannot", 1),
        ] {
            let out = palimpsest(dir.path(), &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
            assert!(stderr.contains(expected), "{args:?}: {stderr}");
        }
    }

    #[test]
    fn json_output_has_the_contract_shapes() {
        let dir = sample_index();
        let json = |args: &[&str]| -> serde_json::Value {
            let mut all = vec!["--json"];
            all.extend_from_slice(args);
            serde_json::from_slice(&palimpsest(dir.path(), &all).stdout).unwrap()
        };
        let search = json(&["search", "arbitration", "--history"]);
        let hit = &search["hits"][0];
        for key in [
            "service",
            "terms_type",
            "collection",
            "section",
            "title",
            "snippet",
            "valid_from",
            "valid_to",
            "first_version",
            "last_version",
            "score",
        ] {
            assert!(hit.get(key).is_some(), "hit lacks {key}");
        }
        assert_eq!(hit["valid_to"], "2024-05-20T10:00:00Z");
        for facet in ["service", "terms_type", "collection", "section", "year"] {
            assert!(search["facets"][facet].is_array(), "facet {facet}");
        }
        let show = json(&["show", "Birdsong", "Privacy Policy", "--at", "2023-06-01"]);
        for key in [
            "service",
            "terms_type",
            "collection",
            "id",
            "recorded_at",
            "kind",
            "content",
        ] {
            assert!(show.get(key).is_some(), "show lacks {key}");
        }
        assert_eq!(show["kind"], "first_record");
        let versions = json(&["versions", "Birdsong", "Privacy Policy"]);
        assert_eq!(versions["versions"].as_array().unwrap().len(), 3);
        let services = json(&["services"]);
        assert_eq!(services["services"].as_array().unwrap().len(), 4);
    }
}

mod time_travel {
    use super::*;
    use palimpsest_indexer::split::split_sections;
    use palimpsest_schema::{DocKey, VersionKind};
    use palimpsest_search::{
        Change, ChangeKind, ChangeOrder, DiffOp, DiffRequest, Filters, HistoryRequest, TrendBucket,
        TrendRequest,
    };
    use proptest::prelude::*;

    fn changes(engine: &Engine, request: ChangesRequest) -> Vec<Change> {
        let response = engine
            .changes(&ChangesRequest {
                limit: 100,
                ..request
            })
            .unwrap();
        assert_eq!(response.total as usize, response.changes.len());
        response.changes
    }

    fn find<'a>(list: &'a [Change], service: &str, date: &str, title: &str) -> &'a Change {
        list.iter()
            .find(|c| {
                c.service == service
                    && c.date == at(date)
                    && c.section.last().map(String::as_str) == Some(title)
            })
            .unwrap_or_else(|| panic!("no change to {title} of {service} at {date}"))
    }

    #[test]
    fn changes_list_every_kind_and_hide_what_is_not_a_change() {
        let (_dir, engine) = sample_engine();
        let shown = changes(&engine, ChangesRequest::default());
        let mut kinds: Vec<ChangeKind> = shown.iter().map(|c| c.kind).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(
            kinds,
            vec![
                ChangeKind::Added,
                ChangeKind::Removed,
                ChangeKind::Modified,
                ChangeKind::Moved
            ]
        );
        // Hidden by default: first records and technical upgrades.
        assert!(shown.iter().all(|c| c.version_kind == VersionKind::Change));
        // The identical re-record of Acme (2023-09-15) changes nothing.
        assert!(!shown.iter().any(|c| c.date == at("2023-09-15T08:30:00Z")));
        // Dune Maps' "Sharing" only gained a blank line when a section followed it.
        assert!(
            !shown
                .iter()
                .any(|c| c.section.last().is_some_and(|t| t == "Sharing"))
        );

        let age = find(&shown, "Acme Cloud", "2023-06-01T12:00:00Z", "Your account");
        assert_eq!(age.kind, ChangeKind::Modified);
        let diff = age.diff.as_ref().unwrap();
        let marked: Vec<(DiffOp, &str)> = diff
            .iter()
            .filter(|p| p.op != DiffOp::Equal)
            .map(|p| (p.op, p.text.as_str()))
            .collect();
        assert_eq!(marked, vec![(DiffOp::Delete, "16"), (DiffOp::Insert, "18")]);
        assert!(age.before.as_ref().unwrap().contains("16 or older"));
        assert!(age.after.as_ref().unwrap().contains("18 or older"));
        assert_eq!(
            age.previous_version.as_deref(),
            Some("Acme Cloud/Terms of Service/2023-01-10T09-00-00Z.md")
        );

        let added = find(&shown, "Birdsong", "2023-11-01", "Advertising");
        assert_eq!(
            (added.kind, added.before.is_none()),
            (ChangeKind::Added, true)
        );
        let removed = find(&shown, "Birdsong", "2024-04-01", "Advertising");
        assert_eq!(
            (removed.kind, removed.after.is_none()),
            (ChangeKind::Removed, true)
        );
        let moved = find(
            &shown,
            "Cobalt Social",
            "2024-09-01",
            "Elections and misinformation",
        );
        assert_eq!(moved.kind, ChangeKind::Moved);
        assert_eq!(
            moved.previous_section,
            Some(vec!["Misinformation".to_owned()])
        );

        let upgrades = changes(
            &engine,
            ChangesRequest {
                technical_upgrades: true,
                ..ChangesRequest::default()
            },
        );
        let renamed = find(
            &upgrades,
            "Acme Cloud",
            "2024-02-01",
            "Ending the agreement",
        );
        assert_eq!(renamed.kind, ChangeKind::Moved);
        assert_eq!(renamed.version_kind, VersionKind::TechnicalUpgrade);
        assert_eq!(upgrades.len(), shown.len() + 1);

        // First records: every section of every first version, as added.
        let everything = changes(
            &engine,
            ChangesRequest {
                first_records: true,
                ..ChangesRequest::default()
            },
        );
        let first_sections: usize = sample_versions()
            .iter()
            .filter(|v| v.kind == VersionKind::FirstRecord)
            .map(|v| split_sections(&v.content).len())
            .sum();
        assert_eq!(everything.len(), shown.len() + first_sections);
    }

    #[test]
    fn changes_filter_sort_page_and_keep_stable_ids() {
        let (_dir, engine) = sample_engine();
        let all = changes(&engine, ChangesRequest::default());
        let newest: Vec<_> = all.iter().map(|c| c.date).collect();
        assert!(newest.windows(2).all(|w| w[0] >= w[1]));
        let oldest = changes(
            &engine,
            ChangesRequest {
                order: ChangeOrder::Oldest,
                ..ChangesRequest::default()
            },
        );
        assert!(oldest.windows(2).all(|w| w[0].date <= w[1].date));
        let mut ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "ids are unique");

        // The query matches the text before or after.
        let arbitration = changes(
            &engine,
            ChangesRequest {
                query: Some("arbitration".into()),
                ..ChangesRequest::default()
            },
        );
        assert_eq!(arbitration.len(), 1);
        assert_eq!(arbitration[0].kind, ChangeKind::Removed);
        let ai = changes(
            &engine,
            ChangesRequest {
                query: Some("\"artificial intelligence\"".into()),
                order: ChangeOrder::Relevance,
                ..ChangesRequest::default()
            },
        );
        let mut services: Vec<&str> = ai.iter().map(|c| c.service.as_str()).collect();
        services.sort();
        assert_eq!(services, vec!["Acme Cloud", "Birdsong"]);
        assert!(ai.iter().all(|c| c.score > 0.0));
        // The text before did not match: it is found all the same, so these are
        // modifications, not additions.
        assert!(ai.iter().all(|c| c.kind == ChangeKind::Modified), "{ai:?}");

        // Window [from, to), filters and section prefix.
        let window = changes(
            &engine,
            ChangesRequest {
                from: Some(at("2023-11-01")),
                to: Some(at("2024-03-03")),
                ..ChangesRequest::default()
            },
        );
        assert!(!window.is_empty());
        assert!(
            window
                .iter()
                .all(|c| c.date >= at("2023-11-01") && c.date < at("2024-03-03"))
        );
        assert_eq!(
            window.len(),
            all.iter()
                .filter(|c| c.date >= at("2023-11-01") && c.date < at("2024-03-03"))
                .count()
        );
        let birdsong = changes(
            &engine,
            ChangesRequest {
                filters: Filters {
                    services: vec!["Birdsong".into()],
                    section: vec!["Birdsong Privacy Policy".into(), "how we".into()],
                    ..Filters::default()
                },
                ..ChangesRequest::default()
            },
        );
        // One real change; the other version only moved a blank line.
        assert_eq!(birdsong.len(), 1);
        assert_eq!(birdsong[0].section[1], "How we use your data");

        // Facets count every match; pages cut the same list.
        let response = engine.changes(&ChangesRequest::default()).unwrap();
        let months: u64 = response.facets.month.iter().map(|f| f.count).sum();
        assert_eq!(months, response.total);
        let page = engine
            .changes(&ChangesRequest {
                offset: 3,
                limit: 2,
                ..ChangesRequest::default()
            })
            .unwrap();
        assert_eq!(page.changes, all[3..5].to_vec());

        for bad in [
            ChangesRequest {
                limit: 0,
                ..ChangesRequest::default()
            },
            ChangesRequest {
                from: Some(at("2024-01-01")),
                to: Some(at("2023-01-01")),
                ..ChangesRequest::default()
            },
            ChangesRequest {
                query: Some("nofield:x".into()),
                ..ChangesRequest::default()
            },
        ] {
            assert_eq!(
                engine.changes(&bad).unwrap_err().kind(),
                ErrorKind::BadRequest
            );
        }
    }

    #[test]
    fn history_reports_first_seen_presence_and_gaps() {
        let (_dir, engine) = sample_engine();
        let history = engine.history(&HistoryRequest::new("arbitration")).unwrap();
        assert_eq!(history.total, 1);
        let acme = &history.documents[0];
        assert_eq!(acme.service, "Acme Cloud");
        assert_eq!(acme.first_seen, at("2023-01-10T09:00:00Z"));
        assert_eq!(
            acme.last_seen,
            at("2024-02-01"),
            "the last version that had it"
        );
        assert!(!acme.present);
        assert_eq!(acme.intervals.len(), 1);
        assert_eq!(acme.intervals[0].to, Some(at("2024-05-20T10:00:00Z")));

        let ai = engine
            .history(&HistoryRequest::new("\"artificial intelligence\""))
            .unwrap();
        let firsts: Vec<(&str, Timestamp, bool)> = ai
            .documents
            .iter()
            .map(|d| (d.service.as_str(), d.first_seen, d.present))
            .collect();
        assert_eq!(
            firsts,
            vec![
                ("Birdsong", at("2024-04-01"), true),
                ("Acme Cloud", at("2024-05-20T10:00:00Z"), true)
            ]
        );
        assert_eq!(ai.documents[1].last_seen, at("2024-05-20T10:00:00Z"));

        // A phrase that leaves and comes back has a gap.
        let key = DocKey::new("t", "Gappy", "Terms").unwrap();
        let version = |day: &str, body: &str| PolicyVersion {
            key: key.clone(),
            recorded_at: at(day),
            source_id: day.into(),
            kind: VersionKind::Change,
            content: format!("# Terms\n\n{body}\n"),
        };
        let dir = tempfile::tempdir().unwrap();
        index(
            dir.path(),
            &[
                version("2020-01-01", "No refunds."),
                version("2021-01-01", "Refunds within 30 days."),
                version("2022-01-01", "No refunds."),
                version("2023-01-01", "Refunds within 14 days."),
            ],
        );
        let engine = Engine::open(dir.path()).unwrap();
        let gappy = engine
            .history(&HistoryRequest::new("refunds within"))
            .unwrap();
        let doc = &gappy.documents[0];
        assert_eq!(doc.first_seen, at("2021-01-01"));
        assert!(doc.present);
        assert_eq!(doc.intervals.len(), 2);
        assert_eq!(doc.gaps.len(), 1);
        assert_eq!(
            (doc.gaps[0].from, doc.gaps[0].to),
            (at("2022-01-01"), Some(at("2023-01-01")))
        );
    }

    #[test]
    fn trend_divides_by_the_documents_tracked_then() {
        let (_dir, engine) = sample_engine();
        let trend = engine.trend(&TrendRequest::new("advertising")).unwrap();
        let point = |period: &str| {
            trend
                .points
                .iter()
                .find(|p| p.period == period)
                .unwrap_or_else(|| panic!("no {period}"))
                .clone()
        };
        assert_eq!(
            trend.points[0].period, "2022-05",
            "from the first version recorded"
        );
        assert_eq!(trend.points.last().unwrap().period, "2024-09");
        assert_eq!(
            (point("2022-06").documents, point("2022-06").tracked),
            (0, 1)
        );
        assert_eq!(point("2023-02").tracked, 3);
        let november = point("2023-11");
        assert_eq!((november.documents, november.tracked), (1, 4));
        assert!((november.share.unwrap() - 0.25).abs() < 1e-9);
        assert_eq!(point("2024-03").documents, 1);
        assert_eq!(point("2024-04").documents, 0, "removed on 2024-04-01");
        let years = engine
            .trend(&TrendRequest {
                by: TrendBucket::Year,
                filters: Filters {
                    terms_types: vec!["Privacy Policy".into()],
                    ..Filters::default()
                },
                ..TrendRequest::new("*")
            })
            .unwrap();
        let shares: Vec<(&str, u64, u64)> = years
            .points
            .iter()
            .map(|p| (p.period.as_str(), p.documents, p.tracked))
            .collect();
        assert_eq!(shares, vec![("2023", 2, 2), ("2024", 2, 2)]);
        let bad = TrendRequest {
            from: Some(at("1900-01-01")),
            ..TrendRequest::new("x")
        };
        assert_eq!(
            engine.trend(&bad).unwrap_err().kind(),
            ErrorKind::BadRequest
        );
    }

    #[test]
    fn diff_compares_two_instants_section_by_section() {
        let (_dir, engine) = sample_engine();
        let request = |from: &str, to: Option<&str>| DiffRequest {
            service: "acme cloud".into(),
            terms_type: "Terms of Service".into(),
            from: Some(at(from)),
            to: to.map(at),
            ..DiffRequest::default()
        };
        let diff = engine.diff(&request("2023-02-01", None)).unwrap();
        assert_eq!(diff.from.recorded_at, at("2023-01-10T09:00:00Z"));
        assert_eq!(diff.to.recorded_at, at("2024-05-20T10:00:00Z"));
        let kinds: Vec<(ChangeKind, &str)> = diff
            .changes
            .iter()
            .map(|c| (c.kind, c.section.last().unwrap().as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ChangeKind::Modified, "Your account"),
                (ChangeKind::Modified, "Acceptable use"),
                (ChangeKind::Removed, "Arbitration"),
                (ChangeKind::Moved, "Ending the agreement"),
            ]
        );
        assert_eq!(diff.unchanged, 1, "the title and preamble");
        let same = engine
            .diff(&request("2023-06-02", Some("2023-09-16")))
            .unwrap();
        assert!(same.changes.is_empty(), "an identical re-record");
        let by_id = engine
            .diff(&DiffRequest {
                from: None,
                from_version: Some("Acme Cloud/Terms of Service/2023-01".into()),
                to_version: Some("Acme Cloud/Terms of Service/2023-06".into()),
                ..request("2023-01-11", None)
            })
            .unwrap();
        assert_eq!(by_id.changes.len(), 1);
        for (bad, kind) in [
            (request("2022-01-01", None), ErrorKind::NotFound),
            // An instant in the future: the same error as `show` gives for one.
            (request("2999-01-01", None), ErrorKind::InFuture),
            (
                DiffRequest {
                    from: None,
                    ..request("2023-01-11", None)
                },
                ErrorKind::BadRequest,
            ),
        ] {
            assert_eq!(engine.diff(&bad).unwrap_err().kind(), kind);
        }
    }

    /// A version's sections as a sorted list of (path, words): what replaying changes must
    /// give back (whitespace-only changes are not listed as changes).
    fn sections(text: &str) -> Vec<(Vec<String>, String)> {
        let mut list: Vec<_> = split_sections(text)
            .into_iter()
            .map(|s| {
                let words = text[s.range]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                (s.path, words)
            })
            .collect();
        list.sort();
        list
    }

    /// Applies every listed change of each version to the sections of the one before, and
    /// checks that it gives that version's sections.
    fn replay_reproduces_every_version(engine: &Engine, versions: &[PolicyVersion]) {
        let all = changes_of_all(engine);
        let mut by_doc: HashMap<&DocKey, Vec<&PolicyVersion>> = HashMap::new();
        for v in versions {
            by_doc.entry(&v.key).or_default().push(v);
        }
        for (key, history) in by_doc {
            let mut current = sections(&history[0].content);
            for v in &history[1..] {
                let normalized = |t: &Option<String>| {
                    t.as_deref()
                        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                };
                for c in all.iter().filter(|c| {
                    c.service == key.service.as_str()
                        && c.terms_type == key.terms_type.as_str()
                        && c.version == v.source_id
                }) {
                    if let Some(before) = normalized(&c.before) {
                        let path = c.previous_section.clone().unwrap_or(c.section.clone());
                        let i = current
                            .iter()
                            .position(|s| s == &(path.clone(), before.clone()))
                            .unwrap_or_else(|| {
                                panic!("{key}: {path:?} not in force before {}", v.source_id)
                            });
                        current.remove(i);
                    }
                    if let Some(after) = normalized(&c.after) {
                        current.push((c.section.clone(), after));
                    }
                }
                current.sort();
                let expected = sections(&v.content);
                // Whitespace-only changes are not listed: compare words.
                assert_eq!(current, expected, "{key} at {}", v.source_id);
            }
        }
    }

    fn changes_of_all(engine: &Engine) -> Vec<Change> {
        let mut all = Vec::new();
        loop {
            let page = engine
                .changes(&ChangesRequest {
                    first_records: true,
                    technical_upgrades: true,
                    offset: all.len(),
                    limit: 100,
                    ..ChangesRequest::default()
                })
                .unwrap();
            let done = page.changes.len() < 100;
            all.extend(page.changes);
            if done {
                return all;
            }
        }
    }

    /// Checks that a change list with a one-word query lists exactly the changes of the whole
    /// list whose text before or after holds a form of the word (its stem), in the same order (the two are found
    /// differently: the whole list from version records and paired steps, the filtered one
    /// from the changes stored with the spans that match).
    fn filtered_changes_agree_with_the_whole_list(engine: &Engine, words: &[&str]) {
        let all = changes_of_all(engine);
        for word in words {
            let stem = palimpsest_schema::english_stem(word);
            let holds = |text: &Option<String>| {
                text.as_deref().is_some_and(|t| {
                    t.to_lowercase()
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| palimpsest_schema::english_stem(w) == stem)
                })
            };
            let expected: Vec<&str> = all
                .iter()
                .filter(|c| holds(&c.before) || holds(&c.after))
                .map(|c| c.id.as_str())
                .collect();
            if expected.is_empty() {
                continue; // the query would be corrected to another word
            }
            let found = engine
                .changes(&ChangesRequest {
                    query: Some((*word).to_owned()),
                    first_records: true,
                    technical_upgrades: true,
                    limit: 100,
                    ..ChangesRequest::default()
                })
                .unwrap();
            let ids: Vec<&str> = found.changes.iter().map(|c| c.id.as_str()).collect();
            assert_eq!(
                ids,
                expected[..expected.len().min(100)],
                "changes with {word}"
            );
            assert_eq!(found.total as usize, expected.len());
        }
    }

    #[test]
    fn filtered_sample_changes_agree_with_the_whole_list() {
        let (_dir, engine) = sample_engine();
        filtered_changes_agree_with_the_whole_list(
            &engine,
            &[
                "arbitration",
                "data",
                "intelligence",
                "account",
                "privacy",
                "cookies",
            ],
        );
    }

    #[test]
    fn replaying_the_sample_changes_gives_every_version() {
        let (_dir, engine) = sample_engine();
        replay_reproduces_every_version(&engine, &sample_versions());
    }

    fn history_strategy() -> impl Strategy<Value = Vec<Vec<(usize, usize)>>> {
        // Each version: a list of (heading, paragraph) picks from small pools, so headings
        // repeat, sections move, texts come back.
        proptest::collection::vec(
            proptest::collection::vec((0usize..5, 0usize..6), 0..6),
            1..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn replaying_changes_gives_every_version(history in history_strategy()) {
            const HEADINGS: [&str; 5] = ["Data", "Cookies", "Rights", "Contact", "Data rights"];
            const TEXTS: [&str; 6] = [
                "We keep your data.",
                "We keep your data for a year.",
                "Cookies remember you.",
                "You may object.",
                "",
                "Write to us.",
            ];
            let versions = generated_versions(&history, &HEADINGS, &TEXTS, |i| i as i64);
            let dir = tempfile::tempdir().unwrap();
            index(dir.path(), &versions);
            let engine = Engine::open(dir.path()).unwrap();
            replay_reproduces_every_version(&engine, &versions);
            filtered_changes_agree_with_the_whole_list(
                &engine,
                &["keep", "year", "cookies", "object", "write", "preamble", "rights"],
            );
        }
    }
}

mod snapshots {
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
            stdout
                .contains("9 snapshots (9 commits) read → 5 versions kept, 3 unchanged, 1 skipped"),
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
}

#[path = "integration/robustness.rs"]
mod robustness;

#[path = "integration/instant_range.rs"]
mod instant_range;

#[path = "integration/git_objects.rs"]
mod git_objects;

#[path = "integration/runs.rs"]
mod runs;

#[path = "integration/matching.rs"]
mod matching;

#[path = "integration/exports.rs"]
mod exports;

#[path = "integration/shared_texts.rs"]
mod shared_texts;

#[path = "integration/names.rs"]
mod names;

#[path = "integration/integrity.rs"]
mod integrity;

#[path = "integration/diff_budget.rs"]
mod diff_budget;

#[path = "integration/default_index.rs"]
mod default_index;

#[path = "integration/messages.rs"]
mod messages;

#[path = "integration/coverage.rs"]
mod coverage;
