//! Change search: which sections were added, removed, modified or moved, when, by which
//! version, optionally only those whose text before or after matches a query.
//!
//! Changes are not stored: every span knows the ordinals of the versions that opened and
//! closed it, so the spans one version opened and closed are read from fast fields and paired
//! ([`crate::compare::pair_sections`]) at query time. An identical re-record opens and closes
//! nothing, so it makes no change; a section whose heading and words stay the same (only
//! whitespace or markup moved) is not listed either.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;

use palimpsest_schema::{
    DocKey, DocType, OPEN_END, OPEN_ORDINAL, Timestamp, VersionKind, span_from_document,
};
use serde::Serialize;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::{DocAddress, Searcher};

use crate::compare::{ChangeKind, DiffPart, Pairing, SectionKey, pair_sections, word_diff};
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::facts::{SpanFact, SpanFacts, VersionFact, VersionTable};
use crate::query::{document_clauses, i64_range, section_clause, text_query};
use crate::request::{Filters, validate_page, validate_query, validate_window};
use crate::search::FacetCount;

/// Order of a change list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangeOrder {
    /// Most recent first.
    #[default]
    Newest,
    /// Oldest first.
    Oldest,
    /// Best match of the query first, then most recent (without a query: most recent).
    Relevance,
}

/// A change search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesRequest {
    /// Only changes whose text before or after matches this query (Tantivy syntax).
    pub query: Option<String>,
    /// Filters; a section filter keeps changes whose path before or after is under it.
    pub filters: Filters,
    /// Changes recorded at or after this instant.
    pub from: Option<Timestamp>,
    /// Changes recorded before this instant.
    pub to: Option<Timestamp>,
    /// Also whole documents appearing (first records) or leaving the archive (deletions).
    pub first_records: bool,
    /// Also technical upgrades (re-extractions, not changes at the source).
    pub technical_upgrades: bool,
    /// Order.
    pub order: ChangeOrder,
    /// Page size.
    pub limit: usize,
    /// Changes to skip.
    pub offset: usize,
}

impl Default for ChangesRequest {
    fn default() -> Self {
        ChangesRequest {
            query: None,
            filters: Filters::default(),
            from: None,
            to: None,
            first_records: false,
            technical_upgrades: false,
            order: ChangeOrder::Newest,
            limit: 20,
            offset: 0,
        }
    }
}

impl ChangesRequest {
    /// Checks the request against `limits`.
    pub fn validate(&self, limits: &crate::Limits) -> Result<()> {
        validate_page(self.limit, self.offset, limits)?;
        if let (Some(from), Some(to)) = (self.from, self.to) {
            validate_window(from, to)?;
        }
        self.filters.validate(limits)?;
        match &self.query {
            Some(query) => validate_query(query, limits),
            None => Ok(()),
        }
    }
}

/// One change to one section.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Stable identifier: the same change has the same id in every build of the index.
    pub id: String,
    /// When the version that made the change was recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub date: Timestamp,
    /// `added`, `removed`, `modified` or `moved`.
    pub kind: ChangeKind,
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// Heading path of the section (after the change; before it when removed).
    pub section: Vec<String>,
    /// Heading path before the change, for `moved`.
    pub previous_section: Option<Vec<String>>,
    /// Source id of the version that made the change.
    pub version: String,
    /// How that version was recorded (`change`, `technical_upgrade`, `first_record`, `deleted`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "change"))]
    pub version_kind: VersionKind,
    /// Source id of the version before it (none for a first record).
    pub previous_version: Option<String>,
    /// The section's text before (none when added).
    pub before: Option<String>,
    /// The section's text after (none when removed).
    pub after: Option<String>,
    /// Word-level diff of `before` and `after`, for `modified` and `moved`.
    pub diff: Option<Vec<DiffPart>>,
    /// Relevance to the query (0 without one).
    pub score: f32,
}

/// Facet counts of every matching change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeFacets {
    /// By service, largest first.
    pub service: Vec<FacetCount>,
    /// By terms type, largest first.
    pub terms_type: Vec<FacetCount>,
    /// By collection, largest first.
    pub collection: Vec<FacetCount>,
    /// By kind of change, largest first.
    pub kind: Vec<FacetCount>,
    /// By month (`YYYY-MM`, UTC), oldest first.
    pub month: Vec<FacetCount>,
}

/// The answer to a change search.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangesResponse {
    /// Matching changes.
    pub total: u64,
    /// The requested page.
    pub changes: Vec<Change>,
    /// Counts of all matching changes.
    pub facets: ChangeFacets,
}

/// A change found from fast fields, not yet loaded.
#[derive(Debug, Clone, Copy)]
struct Event<'a> {
    kind: ChangeKind,
    version: &'a VersionFact,
    before: Option<SpanFact>,
    after: Option<SpanFact>,
    score: f32,
}

/// Whether a change list shows this version's changes.
fn shown(version: &VersionFact, request: &ChangesRequest) -> bool {
    let whole_document = version.ordinal == 0
        || matches!(
            version.kind,
            VersionKind::FirstRecord | VersionKind::Deleted
        );
    (request.first_records || !whole_document)
        && (request.technical_upgrades || version.kind != VersionKind::TechnicalUpgrade)
}

/// `[from, to)` on an i64 field; with `open_end`, `OPEN_END` is left out when `to` is open.
fn window(
    field: tantivy::schema::Field,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    open_end: bool,
) -> Box<dyn Query> {
    let lower = from.map_or(Bound::Unbounded, |t| Bound::Included(t.as_unix()));
    let upper = match to {
        Some(t) => Bound::Excluded(t.as_unix()),
        None if open_end => Bound::Excluded(OPEN_END),
        None => Bound::Unbounded,
    };
    i64_range(field, lower, upper)
}

/// Pairs the spans one version closed with those it opened.
pub(crate) fn pair_spans(closed: &[SpanFact], opened: &[SpanFact]) -> Vec<Pairing> {
    let key = |s: &SpanFact, exact: u64| SectionKey {
        path: s.path_hash,
        content: s.content_hash,
        exact,
    };
    // Spans a version closes and opens are never identical (the timeline would have kept
    // them open): distinct `exact` values make sure none is dropped as unchanged.
    let before: Vec<SectionKey> = closed
        .iter()
        .enumerate()
        .map(|(i, s)| key(s, 2 * i as u64))
        .collect();
    let after: Vec<SectionKey> = opened
        .iter()
        .enumerate()
        .map(|(j, s)| key(s, 2 * j as u64 + 1))
        .collect();
    pair_sections(&before, &after)
}

fn month_of(seconds: i64) -> String {
    Timestamp::from_unix(seconds)
        .map(|t| t.to_string()[..7].to_owned())
        .unwrap_or_default()
}

impl Engine {
    /// Searches changes.
    pub fn changes(&self, request: &ChangesRequest) -> Result<ChangesResponse> {
        request.validate(&self.limits)?;
        let searcher = self.searcher();
        let f = &self.fields;

        let recorded = if request.from.is_some() || request.to.is_some() {
            vec![(
                Occur::Must,
                window(f.recorded_at, request.from, request.to, false),
            )]
        } else {
            Vec::new()
        };
        let versions = self.version_table(&searcher, &request.filters, recorded)?;

        // Spans opened or closed in the window.
        let mut span_clauses = document_clauses(f, DocType::Span, &request.filters);
        if request.from.is_some() || request.to.is_some() {
            span_clauses.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (
                        Occur::Should,
                        window(f.valid_from, request.from, request.to, false),
                    ),
                    (
                        Occur::Should,
                        window(f.valid_to, request.from, request.to, true),
                    ),
                ])),
            ));
        }
        let in_window = BooleanQuery::new(span_clauses);
        let spans = searcher
            .search(&in_window, &SpanFacts { scoring: false })
            .map_err(SearchError::tantivy("cannot list spans"))?;

        // The steps: per version, what it closed and what it opened.
        let mut steps: HashMap<(u64, u64), (Vec<SpanFact>, Vec<SpanFact>)> = HashMap::new();
        for span in spans {
            let at = |ordinal: u64| {
                versions
                    .get(span.doc_hash, ordinal)
                    .filter(|v| shown(v, request))
                    .map(|v| (v.doc_hash, v.ordinal))
            };
            if let Some(step) = at(span.opened) {
                steps.entry(step).or_default().1.push(span);
            }
            if span.closed != OPEN_ORDINAL
                && let Some(step) = at(span.closed)
            {
                steps.entry(step).or_default().0.push(span);
            }
        }

        // Section and text filters: a change passes when its text before or after does.
        let section = match section_clause(f, &request.filters.section)? {
            Some(clause) => {
                let query = BooleanQuery::new(vec![
                    (Occur::Must, Box::new(in_window.clone())),
                    (Occur::Must, clause),
                ]);
                let found = searcher
                    .search(&query, &SpanFacts { scoring: false })
                    .map_err(SearchError::tantivy("cannot filter sections"))?;
                Some(found.into_iter().map(|s| s.address).collect::<HashSet<_>>())
            }
            None => None,
        };
        let scores = match &request.query {
            Some(text) => {
                let text = text_query(&self.index, f, text)?;
                let query = BooleanQuery::new(vec![
                    (Occur::Must, Box::new(in_window.clone())),
                    (Occur::Must, text),
                ]);
                let found = searcher
                    .search(&query, &SpanFacts { scoring: true })
                    .map_err(SearchError::tantivy("search failed"))?;
                Some(
                    found
                        .into_iter()
                        .map(|s| (s.address, s.score))
                        .collect::<HashMap<DocAddress, f32>>(),
                )
            }
            None => None,
        };

        let mut events: Vec<Event> = Vec::new();
        for ((doc_hash, ordinal), (mut closed, mut opened)) in steps {
            let Some(version) = versions.get(doc_hash, ordinal) else {
                continue;
            };
            // A stable order before pairing: repeated headings pair first with first.
            closed.sort_by_key(|s| (s.path_hash, s.valid_from, s.content_hash));
            opened.sort_by_key(|s| (s.path_hash, s.content_hash));
            for pairing in pair_spans(&closed, &opened) {
                let Some(kind) = pairing.kind else { continue };
                let before = pairing.before.map(|i| closed[i]);
                let after = pairing.after.map(|j| opened[j]);
                let sides = || before.iter().chain(after.iter());
                if let Some(section) = &section
                    && !sides().any(|s| section.contains(&s.address))
                {
                    continue;
                }
                let score = match &scores {
                    Some(scores) => {
                        match sides()
                            .filter_map(|s| scores.get(&s.address))
                            .copied()
                            .reduce(f32::max)
                        {
                            Some(score) => score,
                            None => continue,
                        }
                    }
                    None => 0.0,
                };
                events.push(Event {
                    kind,
                    version,
                    before,
                    after,
                    score,
                });
            }
        }

        let facets = change_facets(&events, &versions);
        let name = |e: &Event| versions.keys.get(&e.version.doc_hash);
        let tie = |e: &Event| {
            let side = e.after.or(e.before);
            (
                side.map(|s| s.path_hash),
                e.kind,
                side.map(|s| s.content_hash),
            )
        };
        events.sort_by(|a, b| {
            let newest = b
                .version
                .recorded_at
                .cmp(&a.version.recorded_at)
                .then_with(|| name(a).cmp(&name(b)))
                .then_with(|| b.version.ordinal.cmp(&a.version.ordinal))
                .then_with(|| tie(a).cmp(&tie(b)));
            match request.order {
                ChangeOrder::Newest => newest,
                ChangeOrder::Oldest => a
                    .version
                    .recorded_at
                    .cmp(&b.version.recorded_at)
                    .then_with(|| name(a).cmp(&name(b)))
                    .then_with(|| a.version.ordinal.cmp(&b.version.ordinal))
                    .then_with(|| tie(a).cmp(&tie(b))),
                ChangeOrder::Relevance => b.score.total_cmp(&a.score).then(newest),
            }
        });
        let total = events.len() as u64;
        let changes = events
            .iter()
            .skip(request.offset)
            .take(request.limit)
            .map(|e| self.change(&searcher, &versions, e))
            .collect::<Result<Vec<_>>>()?;
        Ok(ChangesResponse {
            total,
            changes,
            facets,
        })
    }

    fn change(
        &self,
        searcher: &Searcher,
        versions: &VersionTable,
        event: &Event,
    ) -> Result<Change> {
        let key = versions.keys.get(&event.version.doc_hash).ok_or_else(|| {
            SearchError::Schema(palimpsest_schema::SchemaError::Inconsistent(
                "a version record without a document key".into(),
            ))
        })?;
        let load = |fact: Option<SpanFact>| -> Result<Option<palimpsest_schema::SpanRecord>> {
            fact.map(|s| {
                let doc = searcher
                    .doc(s.address)
                    .map_err(SearchError::tantivy("cannot read stored span"))?;
                Ok(span_from_document(&self.fields, &doc)?)
            })
            .transpose()
        };
        let before = load(event.before)?;
        let after = load(event.after)?;
        let version = self.version_id_at(searcher, event.version.address)?;
        let section = after
            .as_ref()
            .or(before.as_ref())
            .map(|s| s.section.path.clone())
            .unwrap_or_default();
        let previous_section = match (event.kind, &before) {
            (ChangeKind::Moved, Some(before)) => Some(before.section.path.clone()),
            _ => None,
        };
        let previous_version = match &before {
            Some(before) => before.last_version.clone(),
            None if event.version.ordinal > 0 => {
                Some(self.previous_version_id(searcher, key, event.version.ordinal - 1)?)
            }
            None => None,
        };
        let diff = match (event.kind, &before, &after) {
            (ChangeKind::Modified | ChangeKind::Moved, Some(b), Some(a)) => {
                Some(word_diff(&b.section.text, &a.section.text))
            }
            _ => None,
        };
        let date = Timestamp::from_unix(event.version.recorded_at).unwrap_or(Timestamp::MIN);
        Ok(Change {
            id: change_id(key, &version, date, event.kind, event.before, event.after),
            date,
            kind: event.kind,
            service: key.service.to_string(),
            terms_type: key.terms_type.to_string(),
            collection: key.collection.to_string(),
            section,
            previous_section,
            version,
            version_kind: event.version.kind,
            previous_version,
            before: before.map(|s| s.section.text),
            after: after.map(|s| s.section.text),
            diff,
            score: event.score,
        })
    }

    /// The source id of a document's version with this ordinal.
    fn previous_version_id(
        &self,
        searcher: &Searcher,
        key: &DocKey,
        ordinal: u64,
    ) -> Result<String> {
        let slots = self.version_slots(searcher, key)?;
        match slots.iter().find(|s| s.ordinal == ordinal) {
            Some(slot) => self.version_id_at(searcher, slot.address),
            None => Ok(String::new()),
        }
    }
}

/// An id that depends only on what changed: the document, the version, the kind, and the
/// sections on each side.
fn change_id(
    key: &DocKey,
    version: &str,
    date: Timestamp,
    kind: ChangeKind,
    before: Option<SpanFact>,
    after: Option<SpanFact>,
) -> String {
    let mut bytes = key.term_text().into_bytes();
    for part in [version, &date.to_string(), kind.as_str()] {
        bytes.push(0x1f);
        bytes.extend_from_slice(part.as_bytes());
    }
    for side in [before, after] {
        bytes.push(0x1f);
        if let Some(s) = side {
            bytes.extend_from_slice(&s.path_hash.to_le_bytes());
            bytes.extend_from_slice(&s.content_hash.to_le_bytes());
            bytes.extend_from_slice(&s.valid_from.to_le_bytes());
        }
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes))
}

fn change_facets(events: &[Event], versions: &VersionTable) -> ChangeFacets {
    let mut counts: [HashMap<String, u64>; 4] = Default::default();
    let mut months: HashMap<String, u64> = HashMap::new();
    for event in events {
        if let Some(key) = versions.keys.get(&event.version.doc_hash) {
            *counts[0].entry(key.service.to_string()).or_default() += 1;
            *counts[1].entry(key.terms_type.to_string()).or_default() += 1;
            *counts[2].entry(key.collection.to_string()).or_default() += 1;
        }
        *counts[3].entry(event.kind.as_str().to_owned()).or_default() += 1;
        *months
            .entry(month_of(event.version.recorded_at))
            .or_default() += 1;
    }
    let [service, terms_type, collection, kind] = counts.map(crate::search::sorted);
    let mut month: Vec<FacetCount> = months
        .into_iter()
        .map(|(value, count)| FacetCount { value, count })
        .collect();
    month.sort_by(|a, b| a.value.cmp(&b.value));
    ChangeFacets {
        service,
        terms_type,
        collection,
        kind,
        month,
    }
}
