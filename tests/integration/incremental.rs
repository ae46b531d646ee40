//! Runs that add to an index equal one clean build, and an open engine follows them.

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

/// The indexer holds a long text in force once, however many documents' spans stand for
/// it: each document still reads, searches and closes it as its own, and two runs equal
/// one.
#[test]
fn documents_sharing_one_long_text_keep_it_as_their_own() {
    let long: String = (0..300)
        .map(|n| format!("Clause {n} binds the parties.\n\n"))
        .collect();
    let version = |service: &str, day: i64, content: String| PolicyVersion {
        key: palimpsest_schema::DocKey::new("shared", service, "Terms").unwrap(),
        recorded_at: Timestamp::from_unix(1_600_000_000 + day * 86_400).unwrap(),
        source_id: format!("{service}-{day}"),
        kind: if day == 0 {
            palimpsest_schema::VersionKind::FirstRecord
        } else {
            palimpsest_schema::VersionKind::Change
        },
        content,
    };
    let first: Vec<_> = ["Alpha", "Beta", "Gamma"]
        .iter()
        .map(|s| version(s, 0, long.clone()))
        .collect();
    let second = vec![
        version("Beta", 1, format!("{long}Owls may nest.\n")),
        version("Delta", 1, long.clone()),
    ];
    let every: Vec<_> = first.iter().chain(&second).cloned().collect();
    let (full, runs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    index(full.path(), &every);
    index(runs.path(), &first);
    index(runs.path(), &second);
    let answers = |dir: &Path| {
        let engine = Engine::open(dir).unwrap();
        for v in &every {
            assert_eq!(show_at(&engine, v).content, v.content, "{}", v.source_id);
        }
        let clause = engine.search(&request("\"clause 299\"", TimeMode::Current));
        assert_eq!(
            clause.unwrap().total,
            4,
            "every document holds the long text"
        );
        let mut all = request("*", EVER);
        all.limit = 100;
        let mut spans: Vec<String> = (engine.search(&all).unwrap().hits.iter())
            .map(|h| {
                format!(
                    "{} {} {:?} {} {}",
                    h.span, h.valid_from, h.valid_to, h.service, h.snippet.text
                )
            })
            .collect();
        spans.sort();
        spans
    };
    assert_eq!(answers(runs.path()), answers(full.path()));
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
