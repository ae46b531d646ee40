use std::collections::HashMap;
use std::collections::hash_map::Entry;

use palimpsest_corpus::ReadOutcome;
use palimpsest_indexer::{Indexer, SnapshotFacts};
use palimpsest_schema::{DocKey, PolicyVersion, VersionKind};

use crate::error::Result;
use crate::report::SnapshotReport;

/// Turns read snapshots into versions: one whose extracted text equals the previous one of
/// its document is not a version (raw pages change with every fetch, their terms seldom).
/// The first version kept of a document is its first record, later ones are changes.
/// Markdown versions pass unchanged: an identical re-record there is the archive's own.
#[derive(Default)]
pub(crate) struct Collapse {
    /// The latest text of each document seen, `None` for a document without versions.
    last: HashMap<DocKey, Option<String>>,
}

impl Collapse {
    /// The version to index from `outcome`, if any; `indexer` gives the latest text of a
    /// document indexed by an earlier run (none when replaying a whole history).
    pub(crate) fn admit(
        &mut self,
        indexer: Option<&Indexer>,
        outcome: ReadOutcome,
        report: &mut SnapshotReport,
        facts: &mut SnapshotFacts,
    ) -> Result<Option<PolicyVersion>> {
        let snapshot = outcome.format.is_snapshot();
        if snapshot {
            report.read += 1;
        }
        let Some(mut version) = outcome.version else {
            if snapshot {
                report.skipped += 1;
            }
            return Ok(None);
        };
        if !snapshot {
            return Ok(Some(version));
        }
        let last = match self.last.entry(version.key.clone()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let latest = match indexer {
                    Some(indexer) => indexer.latest_content(&version.key)?,
                    None => None,
                };
                e.insert(latest)
            }
        };
        if version.kind != VersionKind::Deleted {
            if last.as_deref() == Some(version.content.as_str()) {
                report.unchanged += 1;
                return Ok(None);
            }
            version.kind = if last.is_none() {
                VersionKind::FirstRecord
            } else {
                VersionKind::Change
            };
        }
        *last = Some(version.content.clone());
        if outcome.without_rules {
            report.without_rules += 1;
            facts.without_rules.insert((
                version.key.service.to_string(),
                version.key.terms_type.to_string(),
            ));
        }
        Ok(Some(version))
    }
}

#[cfg(test)]
mod tests {
    use palimpsest_corpus::Format;
    use palimpsest_schema::Timestamp;

    use super::*;

    fn read(format: Format, day: &str, text: &str, without_rules: bool) -> ReadOutcome {
        ReadOutcome {
            version: Some(PolicyVersion {
                key: DocKey::new("demo", "Acme", "Terms of Service").unwrap(),
                recorded_at: Timestamp::parse(day).unwrap(),
                source_id: day.into(),
                kind: VersionKind::Change,
                content: text.into(),
            }),
            warnings: Vec::new(),
            format,
            without_rules,
        }
    }

    #[test]
    fn a_snapshot_of_the_same_text_is_not_a_version_and_markdown_passes() {
        let mut collapse = Collapse::default();
        let mut report = SnapshotReport::default();
        let mut facts = SnapshotFacts::default();
        let mut admit = |outcome| {
            collapse
                .admit(None, outcome, &mut report, &mut facts)
                .unwrap()
                .map(|v| v.kind)
        };
        let first = admit(read(Format::Html, "2024-01-01", "# A\n", true));
        assert_eq!(first, Some(VersionKind::FirstRecord));
        assert_eq!(
            admit(read(Format::Html, "2024-02-01", "# A\n", false)),
            None
        );
        let changed = admit(read(Format::Html, "2024-03-01", "# B\n", false));
        assert_eq!(changed, Some(VersionKind::Change));
        let markdown = admit(read(Format::Markdown, "2024-04-01", "# B\n", false));
        assert_eq!(
            markdown,
            Some(VersionKind::Change),
            "an archive's own re-record"
        );
        assert_eq!(
            (report.read, report.unchanged, report.without_rules),
            (3, 1, 1)
        );
        assert_eq!(facts.without_rules.len(), 1);
    }
}
