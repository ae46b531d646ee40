//! Changes, history, trend and diff over the sample's history, and their properties.

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
