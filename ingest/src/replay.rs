use std::collections::BTreeSet;

use palimpsest_corpus::{Archive, VersionReader, VersionRef};
use palimpsest_indexer::{Indexer, SnapshotFacts};
use palimpsest_schema::{DocKey, PolicyVersion};

use crate::collapse::Collapse;
use crate::error::Result;
use crate::progress::{Progress, Warning};
use crate::report::SnapshotReport;

/// Replaces the whole history of each document in `keys` with the archive's; returns the
/// number of warnings.
pub(crate) fn replay(
    archive: &Archive,
    indexer: &mut Indexer,
    keys: BTreeSet<DocKey>,
    facts: &mut SnapshotFacts,
    progress: &mut dyn Progress,
) -> Result<usize> {
    if keys.is_empty() {
        return Ok(0);
    }
    let all = archive.list(None)?.versions;
    let mut reader = archive.reader()?;
    let mut warnings = 0;
    for key in keys {
        let refs = all.iter().filter(|v| v.key == key);
        let history = history(&mut reader, refs, facts)?;
        indexer.replace_document(&key, history)?;
        for warning in indexer.take_warnings() {
            progress.warning(&Warning::Index(warning));
            warnings += 1;
        }
    }
    Ok(warnings)
}

/// A document's versions as a clean run reads them (snapshots collapsed from the first);
/// the snapshot counts of the run are not changed by a replay.
fn history<'a>(
    reader: &mut VersionReader,
    refs: impl Iterator<Item = &'a VersionRef>,
    facts: &mut SnapshotFacts,
) -> Result<Vec<PolicyVersion>> {
    let mut history = Vec::new();
    let mut collapse = Collapse::default();
    for v in refs {
        let outcome = reader.read_checked(v)?;
        let mut ignored = SnapshotReport::default();
        if let Some(version) = collapse.admit(None, outcome, &mut ignored, facts)? {
            history.push(version);
        }
    }
    Ok(history)
}
