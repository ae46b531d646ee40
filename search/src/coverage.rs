//! What the archive recorded of the documents an answer looked in, and when: an empty
//! answer about a time before a document was first recorded says nothing about that time,
//! and the answer says so.

use std::collections::HashMap;

use palimpsest_schema::{OPEN_END, Timestamp, VersionKind};
use serde::Serialize;
use tantivy::Searcher;

use crate::engine::Engine;
use crate::error::Result;
use crate::facts::{Recorded, VersionTable};
use crate::request::{Filters, TimeMode};

/// When the documents a search looked in were tracked (recorded by the archive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coverage {
    /// Documents the filters choose (a document several collections hold counts in each).
    pub documents: u64,
    /// The first version recorded of any of them: nothing is known of them before.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub first_recorded: Timestamp,
    /// The latest version recorded of any of them.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_recorded: Timestamp,
    /// Of them, those not tracked at the instant asked (`as_of`), or at no time of the
    /// window (`from`, `to`): first recorded after it, or deleted before it. 0 for searches
    /// in force now and over all history.
    pub not_tracked: u64,
}

/// When each document was tracked, as `[from, to)` Unix seconds (`to` is `OPEN_END` while
/// tracked): from a version with content until a deletion.
pub(crate) fn tracked_intervals(versions: &VersionTable) -> HashMap<u64, Vec<(i64, i64)>> {
    versions
        .by_doc
        .iter()
        .map(|(&doc, list)| {
            let mut spans = Vec::new();
            let mut since: Option<i64> = None;
            for v in list {
                match (v.kind == VersionKind::Deleted, since) {
                    (false, None) => since = Some(v.recorded_at),
                    (true, Some(from)) => {
                        spans.push((from, v.recorded_at));
                        since = None;
                    }
                    _ => {}
                }
            }
            if let Some(from) = since {
                spans.push((from, OPEN_END));
            }
            (doc, spans)
        })
        .collect()
}

/// The window a time mode asks about, as `[from, to)` Unix seconds; `None` for in force now
/// and all history, which ask about no time before the present.
fn window(time: TimeMode) -> Option<(i64, i64)> {
    match time {
        TimeMode::AsOf(at) => Some((at.as_unix(), at.as_unix().saturating_add(1))),
        TimeMode::Between { from, to } => Some((
            from.map_or(i64::MIN, Timestamp::as_unix),
            to.map_or(OPEN_END, Timestamp::as_unix),
        )),
        TimeMode::Current | TimeMode::History => None,
    }
}

/// Whether the filters name one document (one service and one terms type, in one
/// collection or several).
fn names_one_document(filters: &Filters) -> bool {
    filters.services.len() == 1 && filters.terms_types.len() == 1
}

/// The coverage of `versions` for `time`: `None` when they are empty.
fn of_table(versions: &VersionTable, time: TimeMode) -> Option<Coverage> {
    let recorded = versions.by_doc.values().flatten().map(|v| v.recorded_at);
    let (first, last) = (recorded.clone().min()?, recorded.max()?);
    let not_tracked = window(time).map_or(0, |(from, to)| {
        tracked_intervals(versions)
            .values()
            .filter(|spans| !spans.iter().any(|&(a, b)| a < to && from < b))
            .count()
    });
    Some(Coverage {
        documents: versions.by_doc.len() as u64,
        first_recorded: Timestamp::from_unix(first).unwrap_or(Timestamp::MIN),
        last_recorded: Timestamp::from_unix(last).unwrap_or(Timestamp::MIN),
        not_tracked: not_tracked as u64,
    })
}

impl Engine {
    /// The coverage an answer states: when the filters name one document, or when some
    /// document they choose was not tracked at the time asked. `filters` are resolved (the
    /// names as the index spells them).
    pub(crate) fn coverage(
        &self,
        searcher: &Searcher,
        filters: &Filters,
        time: TimeMode,
    ) -> Result<Option<Coverage>> {
        let one = names_one_document(filters);
        if !one && window(time).is_none() {
            return Ok(None);
        }
        let versions = self.version_table(searcher, filters, Recorded::default())?;
        Ok(of_table(&versions, time).filter(|c| one || c.not_tracked > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_before_the_first_record_is_not_tracked_and_one_after_is() {
        let at = |s: &str| TimeMode::AsOf(Timestamp::parse(s).unwrap());
        let (from, to) = window(at("2021-01-01")).unwrap();
        assert_eq!(to - from, 1);
        let first = Timestamp::parse("2022-07-11").unwrap().as_unix();
        let tracked = [(first, OPEN_END)];
        let overlaps = |(from, to): (i64, i64)| tracked.iter().any(|&(a, b)| a < to && from < b);
        assert!(!overlaps(window(at("2021-01-01")).unwrap()));
        assert!(overlaps(window(at("2022-07-11")).unwrap()));
        assert_eq!(window(TimeMode::Current), None);
        assert_eq!(window(TimeMode::History), None);
    }
}
