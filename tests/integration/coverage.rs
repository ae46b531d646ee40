//! What an answer knows and does not: a text several collections recorded at different
//! times, answers about a time before a document was first recorded, and text that a glitch
//! took away for a few hours.

use palimpsest_schema::{DocKey, VersionKind};
use palimpsest_search::{Filters, HistoryRequest, TrendBucket, TrendRequest};

use super::*;

fn version(
    collection: &str,
    service: &str,
    when: &str,
    kind: VersionKind,
    content: &str,
) -> PolicyVersion {
    PolicyVersion {
        key: DocKey::new(collection, service, "Terms of Service").unwrap(),
        recorded_at: at(when),
        source_id: format!("{collection}-{service}-{when}").to_lowercase(),
        kind,
        content: content.to_owned(),
    }
}

const KEEP: &str = "# Terms\n\nWe keep your data.\n";
const MODELS: &str =
    "# Terms\n\nWe keep your data.\n\n# Models\n\nWe train artificial intelligence models.\n";

/// Acme's terms in two collections: pga recorded them from 2024-01-01 and the models clause
/// from 2024-03-01; vlopses-us began tracking them on 2024-06-01, clause included. Flicker's
/// clause vanished for twelve hours in February, then for months from March.
fn versions() -> Vec<PolicyVersion> {
    let flicker = |when: &str, kind, held: bool| {
        let text = if held {
            "# Terms\n\nA flickering clause.\n\n# Other\n\nStays.\n"
        } else {
            "# Terms\n\nGone.\n\n# Other\n\nStays.\n"
        };
        version("pga", "Flicker", when, kind, text)
    };
    vec![
        version("pga", "Acme", "2024-01-01", VersionKind::FirstRecord, KEEP),
        version("pga", "Acme", "2024-03-01", VersionKind::Change, MODELS),
        version(
            "vlopses-us",
            "Acme",
            "2024-06-01",
            VersionKind::FirstRecord,
            MODELS,
        ),
        flicker("2024-01-01", VersionKind::FirstRecord, true),
        flicker("2024-02-01T00:31:00Z", VersionKind::Change, false),
        flicker("2024-02-01T12:31:00Z", VersionKind::Change, true),
        flicker("2024-03-01", VersionKind::Change, false),
        flicker("2024-06-01", VersionKind::Change, true),
    ]
}

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    index(dir.path(), &versions());
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

fn acme() -> Filters {
    Filters {
        services: vec!["Acme".into()],
        terms_types: vec!["Terms of Service".into()],
        ..Filters::default()
    }
}

fn cli(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_palimpsest"))
        .arg("--index")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_text_in_two_collections_took_the_later_start_of_one() {
    let (dir, engine) = engine();
    for time in [TimeMode::History, TimeMode::Current] {
        let answer = engine
            .search(&request("artificial intelligence", time))
            .unwrap();
        assert_eq!(answer.total, 1, "{time:?}");
        let hit = &answer.hits[0];
        assert_eq!(
            hit.valid_from,
            at("2024-03-01"),
            "the earliest start, {time:?}"
        );
        assert_eq!(
            hit.collection, "pga",
            "the collection that recorded it first names it"
        );
        assert_eq!(hit.collections, ["pga", "vlopses-us"]);
        let each: Vec<(&str, Timestamp, Timestamp)> = hit
            .by_collection
            .iter()
            .map(|r| (r.collection.as_str(), r.valid_from, r.tracked_since))
            .collect();
        assert_eq!(
            each,
            [
                ("pga", at("2024-03-01"), at("2024-01-01")),
                ("vlopses-us", at("2024-06-01"), at("2024-06-01")),
            ],
            "{time:?}"
        );
        assert_eq!(hit.by_collection[0].first_version, hit.first_version);
    }
    let text = cli(
        dir.path(),
        &["search", "artificial intelligence", "--history"],
    );
    assert!(text.contains("2024-03-01 → now  [pga]"), "{text}");
    assert!(
        text.contains(
            "2024-06-01 → now (there when tracking began: it may be older)  [vlopses-us]"
        ),
        "{text}"
    );
}

#[test]
fn an_empty_answer_before_the_first_record_did_not_say_so() {
    let (dir, engine) = engine();
    let before = SearchRequest {
        filters: acme(),
        ..request("data", TimeMode::AsOf(at("2023-06-01")))
    };
    let answer = engine.search(&before).unwrap();
    assert_eq!(answer.total, 0);
    let coverage = answer.coverage.expect("coverage of one document");
    assert_eq!(coverage.documents, 2, "Acme in each collection");
    assert_eq!(coverage.first_recorded, at("2024-01-01"));
    assert_eq!(coverage.not_tracked, 2);
    // Between the two first records: one of the two was tracked.
    let between = engine
        .search(&SearchRequest {
            filters: Filters::default(),
            ..request("data", TimeMode::AsOf(at("2024-04-01")))
        })
        .unwrap();
    assert_eq!(between.coverage.map(|c| c.not_tracked), Some(1));
    // In force now, over every document: nothing to say.
    assert_eq!(
        engine
            .search(&request("data", TimeMode::Current))
            .unwrap()
            .coverage,
        None
    );
    let text = cli(
        dir.path(),
        &[
            "search",
            "data",
            "--service",
            "Acme",
            "--terms-type",
            "Terms of Service",
            "--as-of",
            "2023-06-01",
        ],
    );
    assert!(text.contains("not tracked before 2024-01-01"), "{text}");
}

#[test]
fn a_trend_period_before_any_record_read_as_zero_percent() {
    let (_dir, engine) = engine();
    let trend = engine
        .trend(&TrendRequest {
            filters: acme(),
            by: TrendBucket::Month,
            from: Some(at("2023-11-01")),
            to: Some(at("2024-04-01")),
            ..TrendRequest::new("artificial intelligence")
        })
        .unwrap();
    let shares: Vec<(&str, Option<f64>)> = trend
        .points
        .iter()
        .map(|p| (p.period.as_str(), p.share))
        .collect();
    assert_eq!(
        shares,
        [
            ("2023-11", None),
            ("2023-12", None),
            ("2024-01", Some(0.0)),
            ("2024-02", Some(0.0)),
            ("2024-03", Some(1.0)),
        ]
    );
}

#[test]
fn a_glitch_of_hours_read_as_history_and_equal_dates_had_no_times() {
    let (dir, engine) = engine();
    let history = engine.history(&HistoryRequest::new("flickering")).unwrap();
    let doc = &history.documents[0];
    assert_eq!(doc.intervals.len(), 3, "the raw intervals stay");
    assert_eq!(doc.tracked_since, at("2024-01-01"));
    let runs: Vec<(Timestamp, Option<Timestamp>, usize)> = doc
        .runs
        .iter()
        .map(|r| (r.from, r.to, r.brief_absences.len()))
        .collect();
    assert_eq!(
        runs,
        [
            (at("2024-01-01"), Some(at("2024-03-01")), 1),
            (at("2024-06-01"), None, 0),
        ]
    );
    let text = cli(dir.path(), &["history", "flickering"]);
    assert!(
        text.contains(
            "in force: 2024-01-01 → 2024-03-01 (briefly absent once: 2024-02-01 00:31 → 12:31 UTC), 2024-06-01 → now"
        ),
        "{text}"
    );
    assert!(
        text.contains("there when tracking began, 2024-01-01"),
        "{text}"
    );
}
