//! Diffs within their bounds: a huge rewritten section is shown as replaced whole, not diffed
//! line by line for half a minute; an operation past its deadline stops inside the diff; a
//! page of changes to a long section reads and diffs only what it shows; an answer whose
//! texts would be too large is refused while it is built.

use std::path::Path;
use std::time::Instant;

use palimpsest_indexer::{Indexer, IndexerOptions};
use palimpsest_schema::{DocKey, PolicyVersion, VersionKind};
use palimpsest_search::{
    Change, ChangeGrouping, ChangeKind, ChangesRequest, DiffOp, DiffPart, DiffRequest, Engine,
    Limits, SearchError,
};

use super::at;

fn version(day: &str, content: String) -> PolicyVersion {
    PolicyVersion {
        key: DocKey::new("fixture", "Budget", "Terms of Service").unwrap(),
        recorded_at: at(day),
        source_id: format!("budget@{day}"),
        kind: if day == "2024-01-01" {
            VersionKind::FirstRecord
        } else {
            VersionKind::Change
        },
        content,
    }
}

fn indexed(dir: &Path, versions: &[PolicyVersion]) -> Engine {
    let mut indexer = Indexer::open(dir, &IndexerOptions::default()).unwrap();
    for v in versions {
        indexer.add(v.clone()).unwrap();
    }
    indexer.commit().unwrap();
    Engine::open(dir).unwrap()
}

/// One section of 80,000 `x` lines, then the same section of `y` lines.
fn rewritten_lines() -> Vec<PolicyVersion> {
    let section = |line: &str| format!("# Terms\n\n## Data\n\n{}", line.repeat(80_000));
    vec![
        version("2024-01-01", section("x\n")),
        version("2024-02-01", section("y\n")),
    ]
}

fn modified(engine: &Engine, full_text: bool) -> Vec<Change> {
    let changes = engine
        .changes(&ChangesRequest {
            full_text,
            limit: 100,
            ..ChangesRequest::default()
        })
        .unwrap()
        .changes;
    assert!(!changes.is_empty());
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Modified));
    changes
}

fn text_of(parts: &[DiffPart], op: DiffOp) -> Vec<&str> {
    parts
        .iter()
        .filter(|p| p.op == op)
        .map(|p| p.text.as_str())
        .collect()
}

#[test]
fn eighty_thousand_rewritten_lines_come_back_replaced_whole() {
    // 80,000 changed lines took 33 s to diff line by line, with no cap and no clock.
    let dir = tempfile::tempdir().unwrap();
    let engine = indexed(dir.path(), &rewritten_lines());
    let change = &modified(&engine, true)[0];
    let diff = change.diff.as_ref().unwrap();
    assert_eq!(text_of(diff, DiffOp::Delete), vec!["x\n".repeat(80_000)]);
    assert_eq!(text_of(diff, DiffOp::Insert), vec!["y\n".repeat(80_000)]);

    let shown = engine
        .diff(&DiffRequest {
            service: "Budget".into(),
            terms_type: "Terms of Service".into(),
            from: Some(at("2024-01-15")),
            ..DiffRequest::default()
        })
        .unwrap();
    let diff = shown.changes[0].diff.as_ref().unwrap();
    assert_eq!(text_of(diff, DiffOp::Delete), vec!["x\n".repeat(80_000)]);

    let grouped = engine
        .changes(&ChangesRequest {
            group: ChangeGrouping::Version,
            ..ChangesRequest::default()
        })
        .unwrap();
    let version = &grouped.versions.unwrap()[0];
    assert_eq!(
        (version.words_inserted, version.words_deleted),
        (80_000, 80_000)
    );
}

#[test]
fn a_passed_deadline_stops_changes_and_diffs_with_the_timeout_error() {
    let dir = tempfile::tempdir().unwrap();
    let engine = indexed(dir.path(), &rewritten_lines()).until(Instant::now());
    let changes = engine.changes(&ChangesRequest {
        full_text: true,
        ..ChangesRequest::default()
    });
    assert!(matches!(changes, Err(SearchError::Timeout)), "{changes:?}");
    let diff = engine.diff(&DiffRequest {
        service: "Budget".into(),
        terms_type: "Terms of Service".into(),
        from: Some(at("2024-01-15")),
        ..DiffRequest::default()
    });
    assert!(matches!(diff, Err(SearchError::Timeout)), "{diff:?}");
}

/// A section of 300 paragraphs (about 70 KiB) in which each version rewrites one paragraph:
/// the 3rd, then the 250th, then the 299th.
fn long_section() -> Vec<PolicyVersion> {
    let paragraph = |i: usize, tag: &str| {
        format!("Paragraph {i}: we keep what you give us {tag} for as long as the law says.\n\n")
            .repeat(3)
    };
    let content = |edits: &[(usize, &str)]| {
        let body: String = (0..300)
            .map(|i| {
                let tag = edits
                    .iter()
                    .rev()
                    .find(|(j, _)| *j == i)
                    .map_or("originally", |e| e.1);
                paragraph(i, tag)
            })
            .collect();
        format!("# Terms\n\n## Data\n\n{body}")
    };
    vec![
        version("2024-01-01", content(&[])),
        version("2024-02-01", content(&[(3, "revised")])),
        version("2024-03-01", content(&[(3, "revised"), (250, "amended")])),
        version(
            "2024-04-01",
            content(&[(3, "revised"), (250, "amended"), (299, "final")]),
        ),
    ]
}

/// Cuts `text` to `max` bytes (the texts here are ASCII).
fn cut(text: &str, max: usize) -> &str {
    &text[..text.len().min(max)]
}

#[test]
fn a_page_of_changes_to_a_long_section_shows_what_the_whole_texts_give_cut() {
    // Each change read and diffed its two whole sections before cutting them: a page of 100
    // changes to a 2 MiB section took 3.9 s and 623 MiB.
    let dir = tempfile::tempdir().unwrap();
    let engine = indexed(dir.path(), &long_section());
    let whole = modified(&engine, true);
    let shown = modified(&engine, false);
    assert_eq!(whole.len(), 3);
    let max = palimpsest_search::CHANGE_TEXT_BYTES;
    for (whole, shown) in whole.iter().zip(&shown) {
        assert!(shown.truncated);
        assert!(!whole.truncated);
        assert_eq!(shown.id, whole.id);
        for (side, whole_side) in [(&shown.before, &whole.before), (&shown.after, &whole.after)] {
            assert_eq!(side.as_deref(), whole_side.as_deref().map(|t| cut(t, max)));
        }
        let (diff, whole_diff) = (shown.diff.as_ref().unwrap(), whole.diff.as_ref().unwrap());
        let mut room = 2 * max;
        for (part, whole_part) in diff.iter().zip(whole_diff) {
            assert_eq!(part.op, whole_part.op);
            assert_eq!(part.text, cut(&whole_part.text, room));
            room -= part.text.len();
        }
        assert_eq!(diff.iter().map(|p| p.text.len()).sum::<usize>(), 2 * max);
    }
    // The newest change is to the 299th paragraph, past the cut: the diff shown is equal
    // text; the oldest, to the 3rd, shows the words it rewrote.
    let oldest = shown.last().unwrap().diff.as_ref().unwrap();
    assert_eq!(
        text_of(oldest, DiffOp::Insert),
        vec!["revised", "revised", "revised"]
    );
    assert_eq!(shown[0].diff.as_ref().unwrap().len(), 1);

    // Grouped by version, the words counted are those of the paragraph each version rewrote.
    let grouped = engine
        .changes(&ChangesRequest {
            group: ChangeGrouping::Version,
            ..ChangesRequest::default()
        })
        .unwrap()
        .versions
        .unwrap();
    assert!(
        grouped
            .iter()
            .all(|v| (v.words_inserted, v.words_deleted) == (3, 3)),
        "{grouped:?}"
    );
}

#[test]
fn full_texts_over_the_answer_limit_are_refused_while_built() {
    // `--max-unsent` refused such an answer only once it was whole, after peaking at 1.37 GiB.
    let dir = tempfile::tempdir().unwrap();
    let engine = indexed(dir.path(), &long_section()).with_limits(Limits {
        max_answer_bytes: 256 << 10,
        ..Limits::default()
    });
    let full = engine.changes(&ChangesRequest {
        full_text: true,
        ..ChangesRequest::default()
    });
    assert!(
        matches!(full, Err(SearchError::AnswerTooLarge { limit }) if limit == 256 << 10),
        "{full:?}"
    );
    assert_eq!(modified(&engine, false).len(), 3);
}
