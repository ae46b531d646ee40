//! Runs of the library as a caller sees them: the report of a run that finds nothing new, of
//! a rebuild, and what a `Progress` is told.

use std::path::{Path, PathBuf};

use palimpsest_ingest::{
    IndexReport, IngestSettings, NoProgress, Progress, SHOWN_WARNINGS, Stage, Warning, ingest,
};
use palimpsest_schema::CollectionName;

fn counts(report: &IndexReport) -> [u64; 6] {
    [
        report.versions,
        report.deletions,
        report.spans_opened,
        report.spans_closed,
        report.documents,
        report.replayed,
    ]
}

#[test]
fn a_second_run_adds_nothing_and_a_rebuild_counts_as_the_first_run() {
    let index = tempfile::tempdir().unwrap();
    let sample = [palimpsest_corpus::sample_path()];
    let first = ingest(
        index.path(),
        &sample,
        &IngestSettings::sample(false),
        &mut NoProgress,
    );
    let first = first.unwrap();
    assert!(first.versions > 0 && first.spans_opened > 0);
    let again = ingest(
        index.path(),
        &sample,
        &IngestSettings::sample(false),
        &mut NoProgress,
    );
    let again = again.unwrap();
    assert_eq!(counts(&again), [0; 6]);
    assert_eq!(again.collections[0].new_versions, 0);
    let rebuilt = ingest(
        index.path(),
        &sample,
        &IngestSettings::sample(true),
        &mut NoProgress,
    );
    let rebuilt = rebuilt.unwrap();
    assert_eq!(counts(&rebuilt), counts(&first));
}

/// Everything a run tells its progress.
#[derive(Default)]
struct Recorded {
    begun: Vec<(String, u64)>,
    advanced: u64,
    finished: usize,
    messages: Vec<String>,
    warnings: Vec<Warning>,
}

impl Progress for Recorded {
    fn begin(&mut self, collection: &CollectionName, total: u64) {
        self.begun.push((collection.to_string(), total));
    }
    fn advance(&mut self, versions: u64) {
        self.advanced += versions;
    }
    fn finish(&mut self) {
        self.finished += 1;
    }
    fn message(&mut self, message: &str) {
        self.messages.push(message.to_owned());
    }
    fn warning(&mut self, warning: &Warning) {
        self.warnings.push(warning.clone());
    }
}

/// A folder of one good file, `links` symbolic links (skipped when listing) and `large`
/// files over 64 bytes (skipped when reading).
fn hazards(root: &Path, links: usize, large: usize) -> PathBuf {
    let acme = root.join("Acme");
    std::fs::create_dir_all(&acme).unwrap();
    std::fs::write(acme.join("Terms of Service.md"), "# Terms\n\nBe nice.\n").unwrap();
    for i in 0..links {
        let link = acme.join(format!("Link {i}.md"));
        std::os::unix::fs::symlink("Terms of Service.md", link).unwrap();
    }
    for i in 0..large {
        let text = format!("# Large\n\n{}\n", "words ".repeat(20));
        std::fs::write(acme.join(format!("Large {i}.md")), text).unwrap();
    }
    root.to_owned()
}

#[test]
fn a_progress_is_told_the_first_warnings_of_each_stage_and_how_many_more() {
    let archive = tempfile::tempdir().unwrap();
    let archive = hazards(archive.path(), SHOWN_WARNINGS + 5, SHOWN_WARNINGS + 2);
    let index = tempfile::tempdir().unwrap();
    let settings = IngestSettings {
        collection: Some("hazards".into()),
        max_file_size: 64,
        ..IngestSettings::default()
    };
    let mut progress = Recorded::default();
    let report = ingest(index.path(), &[archive], &settings, &mut progress).unwrap();
    assert_eq!(report.versions, 1);
    assert_eq!(report.warnings, 2 * SHOWN_WARNINGS + 7);
    let total = SHOWN_WARNINGS as u64 + 3;
    assert_eq!(progress.begun, [("hazards".to_owned(), total)]);
    assert_eq!((progress.advanced, progress.finished), (total, 1));
    assert_eq!(progress.messages, ["committing…"]);
    let more: Vec<_> = progress
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::More { count, stage } => Some((*count, *stage)),
            _ => None,
        })
        .collect();
    assert_eq!(more, [(5, Stage::Listing), (2, Stage::Reading)]);
    assert_eq!(progress.warnings.len(), 2 * SHOWN_WARNINGS + 2);
    assert_eq!(
        progress.warnings[SHOWN_WARNINGS].to_string(),
        "… and 5 more"
    );
    assert_eq!(
        progress.warnings.last().unwrap().to_string(),
        "… and 2 more read warnings"
    );
}

#[test]
fn a_collection_name_for_several_archives_is_refused_before_the_index_is_touched() {
    let index = tempfile::tempdir().unwrap();
    let missing = index.path().join("never");
    let sample = palimpsest_corpus::sample_path();
    let error = ingest(
        &missing,
        &[sample.clone(), sample],
        &IngestSettings::sample(false),
        &mut NoProgress,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("--collection names what is indexed from one PATH")
    );
    assert!(!missing.exists());
}
