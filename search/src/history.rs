//! Phrase history (when a matching section was in force, per document) and trends (how many
//! documents in force contained a match, per month or year).

use std::collections::HashMap;

use palimpsest_schema::{DocKey, OPEN_END, OPEN_ORDINAL, Timestamp};
use serde::Serialize;
use tantivy::Searcher;

use crate::coverage::tracked_intervals;
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::export::{ExportOptions, ExportSink, stream};
use crate::facts::{Recorded, SpanFact, SpanFacts};
use crate::query::clauses::{Fields, span_clauses, text_query};
use crate::query::strategy::MatchMode;
use crate::request::{Filters, TimeMode, validate_page, validate_query, validate_window};

/// A phrase history request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    /// Query in Tantivy's syntax (a "quoted phrase", words, operators).
    pub query: String,
    /// Filters.
    pub filters: Filters,
    /// Documents per page.
    pub limit: usize,
    /// Documents to skip.
    pub offset: usize,
}

impl HistoryRequest {
    /// A request for `query` over every document, first page of 20.
    pub fn new(query: impl Into<String>) -> HistoryRequest {
        HistoryRequest {
            query: query.into(),
            filters: Filters::default(),
            limit: 20,
            offset: 0,
        }
    }
}

/// A stretch of time, `to` excluded; `to` is null while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    /// Start, included.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: Timestamp,
    /// End, excluded; null while still in force.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub to: Option<Timestamp>,
}

/// When a match was in force in one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentHistory {
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// When a matching section first came into force (recorded_at of its version).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub first_seen: Timestamp,
    /// recorded_at of the last version that contained a match (the latest version while
    /// present).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_seen: Timestamp,
    /// Whether a matching section is in force in the latest version.
    pub present: bool,
    /// When a matching section was in force, oldest first.
    pub intervals: Vec<Interval>,
    /// The gaps between those intervals: matched before and after, not during.
    pub gaps: Vec<Interval>,
    /// Matching spans (section texts) over the document's history.
    pub spans: u64,
    /// When the archive first recorded the document: before it nothing is known, so text
    /// in force from this instant (`first_seen` equal to it) may be older.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub tracked_since: Timestamp,
    /// `intervals` with their brief absences bridged (gaps shorter than 72 hours,
    /// `BRIEF_ABSENCE_HOURS`: extraction glitches undone within a few recording runs), each
    /// with the absences it bridges.
    pub runs: Vec<Run>,
}

/// How long an absence may last and still be shown as a brief one, within a run: Open Terms
/// Archive records twice a day, and text that a glitch took away comes back within one to
/// four runs (12 to 48 hours and a few minutes); `scripts/brief_absences.py` measures it.
pub const BRIEF_ABSENCE_HOURS: i64 = 72;

/// Intervals of a history with their brief absences bridged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    /// Start, included.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: Timestamp,
    /// End, excluded; null while still in force.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub to: Option<Timestamp>,
    /// The brief absences within it, oldest first: gaps between intervals shorter than 72
    /// hours (`BRIEF_ABSENCE_HOURS`).
    pub brief_absences: Vec<Interval>,
}

/// Bridges the gaps shorter than [`BRIEF_ABSENCE_HOURS`] between merged, ordered `[from,
/// to)` intervals.
fn runs(merged: &[(i64, i64)]) -> Vec<Run> {
    let brief = BRIEF_ABSENCE_HOURS * 3_600;
    let mut runs: Vec<Run> = Vec::new();
    let mut previous_end: Option<i64> = None;
    for &(from, to) in merged {
        match (runs.last_mut(), previous_end) {
            (Some(run), Some(end)) if from - end < brief => {
                run.brief_absences.push(interval(end, from));
                run.to = interval(from, to).to;
            }
            _ => runs.push(Run {
                from: interval(from, to).from,
                to: interval(from, to).to,
                brief_absences: Vec::new(),
            }),
        }
        previous_end = Some(to);
    }
    runs
}

/// The answer to a phrase history request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryResponse {
    /// Documents with a match.
    pub total: u64,
    /// The requested page, by `first_seen`.
    pub documents: Vec<DocumentHistory>,
}

/// Calendar buckets of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrendBucket {
    /// Calendar months (UTC).
    #[default]
    Month,
    /// Calendar years (UTC).
    Year,
}

/// A trend request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendRequest {
    /// Query in Tantivy's syntax.
    pub query: String,
    /// Filters: service, terms type and collection choose the documents counted; a section
    /// filter narrows what counts as a match.
    pub filters: Filters,
    /// Bucket size.
    pub by: TrendBucket,
    /// First instant charted (default: the first version recorded).
    pub from: Option<Timestamp>,
    /// Instant the chart stops before (default: just after the last version recorded).
    pub to: Option<Timestamp>,
}

impl TrendRequest {
    /// A monthly trend of `query` over every document.
    pub fn new(query: impl Into<String>) -> TrendRequest {
        TrendRequest {
            query: query.into(),
            filters: Filters::default(),
            by: TrendBucket::Month,
            from: None,
            to: None,
        }
    }
}

/// One bucket of a trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    /// `YYYY-MM` or `YYYY`.
    pub period: String,
    /// Start of the bucket.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: Timestamp,
    /// Documents in which a matching section was in force at some time in the bucket.
    pub documents: u64,
    /// Documents tracked (some version in force) at some time in the bucket.
    pub tracked: u64,
    /// `documents / tracked`; null when no document was tracked in the period (not yet
    /// recorded, or deleted): nothing is known of it, which is not a share of 0.
    pub share: Option<f64>,
}

/// The answer to a trend request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendResponse {
    /// Bucket size.
    pub by: TrendBucket,
    /// Buckets, oldest first, without gaps.
    pub points: Vec<TrendPoint>,
}

/// Most documents whose versions are looked up by name rather than by the filters.
const MAX_NAMED_DOCUMENTS: usize = 64;

/// Most buckets a trend may have (a century of months).
const MAX_BUCKETS: usize = 1_200;

/// Unions `[from, to)` intervals, merging those that overlap or touch; empty ones are dropped.
pub(crate) fn union(mut intervals: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    intervals.retain(|(from, to)| from < to);
    intervals.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
    for (from, to) in intervals {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

fn interval(from: i64, to: i64) -> Interval {
    Interval {
        from: Timestamp::from_unix(from).unwrap_or(Timestamp::MIN),
        to: if to == OPEN_END {
            None
        } else {
            Timestamp::from_unix(to)
        },
    }
}

/// Start instants of the calendar buckets from the one holding `first` to the one holding
/// `last`.
fn bucket_starts(first: i64, last: i64, by: TrendBucket) -> Result<Vec<i64>> {
    // Through civil dates of `Timestamp`: jiff's own timestamps end a day before year 9999.
    let start = Timestamp::from_unix(first)
        .ok_or_else(|| SearchError::parameter("from", format!("{first} s is out of range")))?
        .to_civil()
        .date();
    let mut date = match by {
        TrendBucket::Month => start.first_of_month(),
        TrendBucket::Year => start.first_of_year(),
    };
    let step = match by {
        TrendBucket::Month => jiff::Span::new().months(1),
        TrendBucket::Year => jiff::Span::new().years(1),
    };
    let mut starts = Vec::new();
    loop {
        let at = Timestamp::from_civil(date.to_datetime(jiff::civil::Time::midnight()))
            .map_or(i64::MAX, Timestamp::as_unix);
        if at > last {
            break;
        }
        if starts.len() == MAX_BUCKETS {
            return Err(SearchError::parameter(
                "from",
                format!(
                    "the trend would have over {MAX_BUCKETS} buckets; narrow `from` and `to` or use `by=year`"
                ),
            ));
        }
        starts.push(at);
        date = match date.checked_add(step) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    Ok(starts)
}

/// Marks, once per document, the buckets that the intervals overlap.
fn count_buckets(starts: &[i64], end: i64, intervals: &HashMap<u64, Vec<(i64, i64)>>) -> Vec<u64> {
    let mut counts = vec![0u64; starts.len()];
    let mut marked = vec![false; starts.len()];
    for list in intervals.values() {
        marked.fill(false);
        for &(from, to) in list {
            let to = to.min(end);
            if from >= to || to <= starts[0] {
                continue;
            }
            let first = starts.partition_point(|&s| s <= from).saturating_sub(1);
            let last = starts.partition_point(|&s| s < to).saturating_sub(1);
            for slot in &mut marked[first..=last] {
                *slot = true;
            }
        }
        for (count, hit) in counts.iter_mut().zip(&marked) {
            *count += u64::from(*hit);
        }
    }
    counts
}

impl Engine {
    /// Every span matching a query (with filters), over all history.
    fn matching_spans(
        &self,
        searcher: &Searcher,
        query: &str,
        filters: &Filters,
    ) -> Result<Vec<SpanFact>> {
        let mut clauses = span_clauses(&self.fields, filters, TimeMode::History)?;
        if query.trim() != "*" {
            // Only spans have a body: the `doc_type` clause would be one more long posting
            // list to walk.
            clauses.remove(0);
        }
        let text = text_query(
            searcher,
            &self.columns,
            query,
            Fields::Body,
            MatchMode::All,
            self.limits.max_expansions,
        )?;
        searcher
            .search(
                &*crate::shared_texts::restricted(clauses, &*text.query),
                &SpanFacts {
                    scoring: false,
                    columns: &self.columns,
                    deadline: self.deadline,
                    steps_of: None,
                },
            )
            .map_err(SearchError::tantivy("search failed"))
            .and_then(|facts| self.deadline.check().map(|()| facts))
    }

    /// When sections matching a query were in force, per document.
    pub fn history(&self, request: &HistoryRequest) -> Result<HistoryResponse> {
        validate_page(request.limit, request.offset, &self.limits)?;
        let documents = self.read(|searcher| self.history_documents(searcher, request))?;
        Ok(HistoryResponse {
            total: documents.len() as u64,
            documents: documents
                .into_iter()
                .skip(request.offset)
                .take(request.limit)
                .collect(),
        })
    }

    /// Every document of a phrase history, in its order, past the paging window (`limit`
    /// and `offset` are not read).
    pub fn export_history(
        &self,
        request: &HistoryRequest,
        options: &ExportOptions,
        sink: &mut dyn ExportSink<DocumentHistory>,
    ) -> Result<()> {
        self.read(|searcher| {
            let documents = self.history_documents(searcher, request)?;
            stream(self, options, &documents, |_, d| Ok(Some(d.clone())), sink)
        })
    }

    /// Every document with a match, by `first_seen`.
    fn history_documents(
        &self,
        searcher: &Searcher,
        request: &HistoryRequest,
    ) -> Result<Vec<DocumentHistory>> {
        request.filters.validate(&self.limits)?;
        validate_query(&request.query, &self.limits)?;
        let request = &HistoryRequest {
            filters: self.resolve_filters(searcher, &request.filters)?,
            ..request.clone()
        };
        let spans = self.matching_spans(searcher, &request.query, &request.filters)?;
        let mut by_doc: HashMap<u64, Vec<SpanFact>> = HashMap::new();
        for span in spans {
            if span.valid_from < span.valid_to {
                by_doc.entry(span.doc_hash).or_default().push(span);
            }
        }
        // The versions of the matching documents only, when they are few.
        let versions = if by_doc.len() <= MAX_NAMED_DOCUMENTS {
            let keys = by_doc
                .values()
                .map(|spans| self.doc_key_at(searcher, spans[0].address))
                .collect::<Result<Vec<_>>>()?;
            self.version_table_of(searcher, &keys)?
        } else {
            self.version_table(searcher, &request.filters, Recorded::default())?
        };
        let mut documents: Vec<(Option<&DocKey>, DocumentHistory)> = by_doc
            .into_iter()
            .filter_map(|(doc, spans)| {
                let key = versions.keys.get(&doc)?;
                let latest = versions.latest(doc)?;
                let last_seen = spans
                    .iter()
                    .filter_map(|s| match s.closed {
                        OPEN_ORDINAL => Some(latest.recorded_at),
                        closed => versions
                            .get(doc, closed.checked_sub(1)?)
                            .map(|v| v.recorded_at),
                    })
                    .max()?;
                let merged = union(spans.iter().map(|s| (s.valid_from, s.valid_to)).collect());
                let intervals: Vec<Interval> = merged
                    .iter()
                    .map(|&(from, to)| interval(from, to))
                    .collect();
                let gaps = merged
                    .windows(2)
                    .map(|pair| interval(pair[0].1, pair[1].0))
                    .collect();
                let tracked_since = versions.by_doc.get(&doc)?.first()?.recorded_at;
                Some((
                    Some(key),
                    DocumentHistory {
                        service: key.service.to_string(),
                        terms_type: key.terms_type.to_string(),
                        collection: key.collection.to_string(),
                        first_seen: intervals[0].from,
                        last_seen: Timestamp::from_unix(last_seen).unwrap_or(Timestamp::MIN),
                        present: spans.iter().any(|s| s.closed == OPEN_ORDINAL),
                        intervals,
                        gaps,
                        spans: spans.len() as u64,
                        tracked_since: Timestamp::from_unix(tracked_since)
                            .unwrap_or(Timestamp::MIN),
                        runs: runs(&merged),
                    },
                ))
            })
            .collect();
        documents.sort_by(|a, b| a.1.first_seen.cmp(&b.1.first_seen).then(a.0.cmp(&b.0)));
        Ok(documents.into_iter().map(|(_, d)| d).collect())
    }

    /// Per month or year: documents in force that contained a match, out of those tracked.
    pub fn trend(&self, request: &TrendRequest) -> Result<TrendResponse> {
        self.read(|searcher| self.trend_in(searcher, request))
    }

    fn trend_in(&self, searcher: &Searcher, request: &TrendRequest) -> Result<TrendResponse> {
        request.filters.validate(&self.limits)?;
        validate_query(&request.query, &self.limits)?;
        if let (Some(from), Some(to)) = (request.from, request.to) {
            validate_window(from, to)?;
        }
        let request = &TrendRequest {
            filters: self.resolve_filters(searcher, &request.filters)?,
            ..request.clone()
        };
        let versions = self.version_table(searcher, &request.filters, Recorded::default())?;
        let tracked = tracked_intervals(&versions);
        let recorded = versions.by_doc.values().flatten().map(|v| v.recorded_at);
        let (Some(first), Some(last)) = (recorded.clone().min(), recorded.max()) else {
            return Ok(TrendResponse {
                by: request.by,
                points: Vec::new(),
            });
        };
        let start = request.from.map_or(first, Timestamp::as_unix);
        let end = request.to.map_or(last + 1, Timestamp::as_unix);
        if start >= end {
            return Ok(TrendResponse {
                by: request.by,
                points: Vec::new(),
            });
        }
        let starts = bucket_starts(start, end - 1, request.by)?;
        let mut matching: HashMap<u64, Vec<(i64, i64)>> = HashMap::new();
        for span in self.matching_spans(searcher, &request.query, &request.filters)? {
            matching
                .entry(span.doc_hash)
                .or_default()
                .push((span.valid_from, span.valid_to));
        }
        let clip = |map: HashMap<u64, Vec<(i64, i64)>>| -> HashMap<u64, Vec<(i64, i64)>> {
            map.into_iter()
                .map(|(doc, list)| {
                    (
                        doc,
                        list.into_iter()
                            .map(|(from, to)| (from.max(start), to))
                            .collect(),
                    )
                })
                .collect()
        };
        let documents = count_buckets(&starts, end, &clip(matching));
        let tracked = count_buckets(&starts, end, &clip(tracked));
        let points = starts
            .iter()
            .zip(documents.iter().zip(&tracked))
            .map(|(&at, (&documents, &tracked))| {
                let start = Timestamp::from_unix(at).unwrap_or(Timestamp::MIN);
                let text = start.to_string();
                TrendPoint {
                    period: match request.by {
                        TrendBucket::Month => text[..7].to_owned(),
                        TrendBucket::Year => text[..4].to_owned(),
                    },
                    start,
                    documents,
                    tracked,
                    share: (tracked > 0).then(|| documents as f64 / tracked as f64),
                }
            })
            .collect();
        Ok(TrendResponse {
            by: request.by,
            points,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_touching_and_overlapping_intervals() {
        assert_eq!(
            union(vec![
                (5, 7),
                (1, 3),
                (3, 4),
                (6, 9),
                (10, 10),
                (12, OPEN_END)
            ]),
            vec![(1, 4), (5, 9), (12, OPEN_END)]
        );
    }

    #[test]
    fn gaps_shorter_than_a_brief_absence_are_bridged_and_listed() {
        let hour = 3_600;
        let brief = BRIEF_ABSENCE_HOURS * hour;
        let merged = [
            (0, 10 * hour),
            (22 * hour, 30 * hour),
            (30 * hour + brief - 1, 40 * hour + brief),
            (40 * hour + 2 * brief, OPEN_END),
        ];
        let runs = runs(&merged);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].from.as_unix(), 0);
        assert_eq!(runs[0].to.map(Timestamp::as_unix), Some(40 * hour + brief));
        let absences: Vec<(i64, i64)> = runs[0]
            .brief_absences
            .iter()
            .map(|a| (a.from.as_unix(), a.to.map_or(0, Timestamp::as_unix)))
            .collect();
        assert_eq!(
            absences,
            [(10 * hour, 22 * hour), (30 * hour, 30 * hour + brief - 1)]
        );
        assert_eq!(runs[1].to, None);
        assert!(runs[1].brief_absences.is_empty());
    }

    #[test]
    fn buckets_are_calendar_months_and_years() {
        let at = |s: &str| Timestamp::parse(s).unwrap().as_unix();
        let months = bucket_starts(at("2023-11-15"), at("2024-02-01"), TrendBucket::Month).unwrap();
        assert_eq!(
            months,
            vec![
                at("2023-11-01"),
                at("2023-12-01"),
                at("2024-01-01"),
                at("2024-02-01")
            ]
        );
        let years = bucket_starts(at("2023-11-15"), at("2024-02-01"), TrendBucket::Year).unwrap();
        assert_eq!(years, vec![at("2023-01-01"), at("2024-01-01")]);
        assert!(bucket_starts(at("1900-01-01"), at("2024-01-01"), TrendBucket::Month).is_err());
    }

    #[test]
    fn a_document_counts_once_per_bucket() {
        let starts = [0, 10, 20];
        let intervals = HashMap::from([(1, vec![(0, 3), (5, 12)]), (2, vec![(25, OPEN_END)])]);
        assert_eq!(count_buckets(&starts, 30, &intervals), vec![1, 1, 1]);
        let later = HashMap::from([(1, vec![(10, 20)])]);
        assert_eq!(count_buckets(&starts, 30, &later), vec![0, 1, 0]);
    }
}
