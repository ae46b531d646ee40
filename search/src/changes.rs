//! Change search: which sections were added, removed, modified or moved, when, by which
//! version, optionally only those whose text before or after matches a query.
//!
//! Changes have no documents of their own: every span knows the ordinals of the versions
//! that opened and closed it, so the spans one version opened and closed are read from fast
//! fields and paired ([`palimpsest_schema::pair_step`]) when a list without a filter shows
//! that version; each span also holds the two changes it takes part in, as the indexer
//! paired them, which a list with a filter reads instead (`linked`). An identical re-record
//! opens and closes nothing, so it makes no change; a section whose heading and words stay
//! the same (only whitespace or markup moved) is not listed either.

use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Bound;
use std::sync::Arc;

use palimpsest_schema::{
    DocKey, DocType, OPEN_END, OPEN_ORDINAL, RunRefs, SpanRecord, TextReader, Timestamp, is_minor,
    pair_step, span_from_document,
};
use serde::Serialize;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::{DocAddress, Searcher};

mod change;
pub(crate) mod grouped;
mod hidden;
mod linked;
pub(crate) mod score;
mod steps;
mod texts;

pub use hidden::HiddenChanges;

use crate::compare::{ChangeKind, Pairing};
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::export::{ExportOptions, ExportSink, stream};
use crate::facts::{Recorded, SpanFact, SpanFacts, VersionFact, VersionTable};
use crate::query::clauses::{Fields, document_clauses, i64_range, section_clause, text_query};
use crate::query::strategy::{QueryWord, search_relaxing};
use crate::request::{AnswerBytes, Filters, validate_page, validate_query, validate_window};
use crate::search::FacetCount;
pub use change::Change;
use grouped::{ChangeGrouping, VersionChanges, by_version};
use score::{NetChange, ScoredStems};
use texts::{ChangeReader, Shown};

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
    /// Only changes whose text before or after matches this query.
    pub query: Option<String>,
    /// How many of the query's words a section must hold.
    pub matching: crate::MatchMode,
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
    /// Also minor changes (only dates, punctuation, quote marks, whitespace or link targets).
    pub minor: bool,
    /// Only changes of these kinds; empty: every kind.
    pub kinds: Vec<ChangeKind>,
    /// Order.
    pub order: ChangeOrder,
    /// One entry per change (default) or per version.
    pub group: ChangeGrouping,
    /// Page size.
    pub limit: usize,
    /// Changes to skip.
    pub offset: usize,
    /// Whole texts: `before`, `after` and `diff` are not cut at [`CHANGE_TEXT_BYTES`].
    pub full_text: bool,
}

/// Longest `before` or `after` text of a change, in bytes, unless the request asks for
/// full texts; the `diff` holds at most twice as much. A cut change says so (`truncated`):
/// without a cut, a page of 100 changes to long sections is tens of megabytes, held in memory
/// until a client reads it.
pub const CHANGE_TEXT_BYTES: usize = 16 << 10;

impl Default for ChangesRequest {
    fn default() -> Self {
        ChangesRequest {
            query: None,
            matching: crate::MatchMode::Most,
            filters: Filters::default(),
            from: None,
            to: None,
            first_records: false,
            technical_upgrades: false,
            minor: true,
            kinds: Vec::new(),
            order: ChangeOrder::Newest,
            group: ChangeGrouping::Section,
            limit: 20,
            offset: 0,
            full_text: false,
        }
    }
}

impl ChangesRequest {
    /// Whether changes of this kind are asked for.
    fn wants(&self, kind: ChangeKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }

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

/// Cuts `text` to at most `max` bytes at a character boundary; whether it was longer.
pub(crate) fn cut_text(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
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
    /// The query with its misspelt words corrected (see the search response).
    pub did_you_mean: Option<String>,
    /// The requested page (empty when grouped by version).
    pub changes: Vec<Change>,
    /// With `group=version`: the requested page of versions, each with its changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionChanges>>,
    /// Counts of all matching changes.
    pub facets: ChangeFacets,
    /// How many more entries each switch that shows what the list leaves out by default
    /// would list (first records and deletions, technical upgrades, minor changes).
    pub hidden: HiddenChanges,
}

/// One entry of an exported change list: a change, or with `group` by version a version
/// with its changes. Written as the entry itself (no tag).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ChangeEntry {
    /// One change to one section.
    Section(Change),
    /// One version and what it changed.
    Version(VersionChanges),
}

/// A change found from fast fields, not yet loaded.
#[derive(Debug, Clone, Copy)]
struct Event<'a> {
    kind: ChangeKind,
    minor: bool,
    version: &'a VersionFact,
    before: Option<SpanFact>,
    after: Option<SpanFact>,
    score: f32,
}

/// Whether a change list shows this version's changes.
fn shown(version: &VersionFact, request: &ChangesRequest) -> bool {
    hidden::hiding(version, request) == hidden::Hiding::Shown
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

/// Pairs the spans one version closed with those it opened, each side in [`palimpsest_schema::StepSpan`] order
/// (as the indexer paired them to count the version's changes).
pub(crate) fn pair_spans(closed: &[SpanFact], opened: &[SpanFact]) -> Vec<Pairing> {
    let steps = |spans: &[SpanFact]| spans.iter().map(SpanFact::step).collect::<Vec<_>>();
    pair_step(&steps(closed), &steps(opened))
}

/// What a change search's text query matched: the spans, the query's words, and the query
/// suggested instead of the one typed, if any.
struct TextMatch {
    spans: Vec<SpanFact>,
    words: Vec<QueryWord>,
    suggestion: Option<String>,
}

/// How a change that keeps recurring is ranked down. A section that flips between two
/// texts, as unstable extractions make it do, gives the same change (the same two texts of
/// one section, in either direction, or the same text added or removed) again and again; a
/// change people describe happens once, or is undone once. From its `FLAPPING`th
/// occurrence among the changes ranked, every occurrence but the earliest has its score
/// divided by the number of occurrences.
const FLAPPING: u32 = 3;

/// What recurs when a section flips: its document and path, and its two texts unordered.
type FlipSignature = (u64, u64, u64, u64);

/// The version a change belongs to: its document and ordinal.
fn version_key(event: &Event) -> (u64, u64) {
    (event.version.doc_hash, event.version.ordinal)
}

fn flip_signature(event: &Event) -> FlipSignature {
    let side = |s: Option<SpanFact>| s.map_or(0, |s| s.content_hash);
    let (a, b) = (side(event.before), side(event.after));
    let span = event.after.or(event.before);
    (
        event.version.doc_hash,
        span.map_or(0, |s| s.path_hash),
        a.min(b),
        a.max(b),
    )
}

/// How often a change occurs among those ranked, and when it first did.
#[derive(Debug, Clone, Copy)]
struct Recurrence {
    count: u32,
    first: i64,
}

impl Recurrence {
    fn damping(&self, event: &Event) -> f32 {
        if self.count >= FLAPPING && event.version.recorded_at > self.first {
            self.count as f32
        } else {
            1.0
        }
    }
}

fn recurrences(events: &[Event]) -> FxHashMap<FlipSignature, Recurrence> {
    let mut counts: FxHashMap<FlipSignature, Recurrence> = FxHashMap::default();
    for event in events {
        let at = event.version.recorded_at;
        let entry = counts.entry(flip_signature(event)).or_insert(Recurrence {
            count: 0,
            first: at,
        });
        entry.count += 1;
        entry.first = entry.first.min(at);
    }
    counts
}

/// Weight of a change's best section score beside its score by what changed.
const TIE_BREAK: f32 = 0.01;

/// How changes are ordered: recorded_at, document (rank by name), version ordinal, then
/// the section's path hash, the kind and the content hash, for a stable order.
type SortKey = (i64, u32, u64, u64, ChangeKind, u64);

/// Newest version first; within a version, the same order as oldest first.
fn newest_first(a: &SortKey, b: &SortKey) -> std::cmp::Ordering {
    b.0.cmp(&a.0)
        .then(a.1.cmp(&b.1))
        .then(b.2.cmp(&a.2))
        .then((a.3, a.4, a.5).cmp(&(b.3, b.4, b.5)))
}

/// One side of a step: a span a version opened or closed. Small, so that sorting the sides
/// of a whole-history list (hundreds of thousands) moves little memory.
#[derive(Debug, Clone, Copy)]
struct Side {
    doc_hash: u64,
    ordinal: u64,
    /// Index into the selected spans.
    span: u32,
    opened: bool,
}

impl Side {
    /// The order each step's sides are paired in: closed first, then by the span's
    /// [`palimpsest_schema::StepSpan`] order.
    fn pairing_order(&self, spans: &[SpanFact]) -> (bool, u64, u64, i64, u64, u32) {
        let s = &spans[self.span as usize];
        (
            self.opened,
            s.path_hash,
            s.content_hash,
            s.valid_from,
            s.span_id,
            self.span,
        )
    }
}

/// The changes of a list without a section or text filter, and what it leaves out.
struct PairedEvents<'v> {
    events: Vec<Event<'v>>,
    hidden: HiddenChanges,
}

/// The steps of the selected spans (per version, what it closed and what it opened) paired
/// into the changes the request lists: a list without a section or text filter. What it
/// leaves out is counted from the records of the versions it goes over.
fn pair_events<'v>(
    request: &ChangesRequest,
    versions: &'v VersionTable,
    selected: &SelectedSpans,
) -> PairedEvents<'v> {
    let spans = &selected.spans;
    let mut sides: Vec<Side> = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        for (ordinal, opened) in [(span.opened, true), (span.closed, false)] {
            if ordinal == OPEN_ORDINAL
                || selected
                    .wanted
                    .as_ref()
                    .is_some_and(|w| !w.contains(&(span.doc_hash, ordinal)))
            {
                continue;
            }
            sides.push(Side {
                doc_hash: span.doc_hash,
                ordinal,
                span: i as u32,
                opened,
            });
        }
    }
    // Sorted by version, each version's sides are adjacent; then each version's sides in the
    // order they are paired in.
    sides.sort_unstable_by_key(|s| (s.doc_hash, s.ordinal));
    for step in sides.chunk_by_mut(|a, b| (a.doc_hash, a.ordinal) == (b.doc_hash, b.ordinal)) {
        step.sort_unstable_by_key(|s| s.pairing_order(spans));
    }

    let mut events: Vec<Event> = Vec::new();
    let mut hidden = HiddenChanges::default();
    let mut closed: Vec<SpanFact> = Vec::new();
    let mut opened: Vec<SpanFact> = Vec::new();
    for step in sides.chunk_by(|a, b| (a.doc_hash, a.ordinal) == (b.doc_hash, b.ordinal)) {
        let Some(version) = versions.get(step[0].doc_hash, step[0].ordinal) else {
            continue;
        };
        hidden::count_version(&mut hidden, version, request);
        if !shown(version, request) {
            continue;
        }
        // Sorted above by path and content: repeated headings pair first with first.
        closed.clear();
        opened.clear();
        for side in step {
            let list = if side.opened {
                &mut opened
            } else {
                &mut closed
            };
            list.push(spans[side.span as usize]);
        }
        for pairing in pair_spans(&closed, &opened) {
            let Some(kind) = pairing.kind.filter(|k| request.wants(*k)) else {
                continue;
            };
            let before = pairing.before.map(|i| closed[i]);
            let after = pairing.after.map(|j| opened[j]);
            if let Some(event) = passing_event(selected, version, kind, before, after)
                && (request.minor || !event.minor)
            {
                events.push(event);
            }
        }
    }
    PairedEvents { events, hidden }
}

/// A paired change, if the request's section and text filters let it through (its `minor`
/// switch is left to the caller).
fn passing_event<'v>(
    selected: &SelectedSpans,
    version: &'v VersionFact,
    kind: ChangeKind,
    before: Option<SpanFact>,
    after: Option<SpanFact>,
) -> Option<Event<'v>> {
    let sides = || before.iter().chain(after.iter());
    if let Some(section) = &selected.section
        && !sides().any(|s| section.contains(&s.address))
    {
        return None;
    }
    let score = match &selected.scores {
        Some(scores) => sides()
            .filter_map(|s| scores.get(&s.address))
            .copied()
            .reduce(f32::max)?,
        None => 0.0,
    };
    let minor = is_minor(
        kind,
        before.map(|s| s.step()).as_ref(),
        after.map(|s| s.step()).as_ref(),
    );
    Some(Event {
        kind,
        minor,
        version,
        before,
        after,
        score,
    })
}

/// The spans a change list pairs, and what its filters found among them.
struct SelectedSpans {
    /// Without a filter: every span opened or closed in the window, to be paired. Empty with
    /// a filter: the changes are those of `passing`, found from their links.
    spans: Vec<SpanFact>,
    /// With a section filter: the spans under it.
    section: Option<FxHashSet<DocAddress>>,
    /// With a query: the spans it matched, with their scores.
    scores: Option<FxHashMap<DocAddress, f32>>,
    /// With a query: its words and the query suggested instead, if any.
    text: Option<(Vec<QueryWord>, Option<String>)>,
    /// With a filter: the spans that pass it (those of the text query when there is one).
    passing: Option<Vec<SpanFact>>,
    /// When only some steps are paired (those of the versions a page shows): which
    /// (document, ordinal).
    wanted: Option<Arc<FxHashSet<(u64, u64)>>>,
}

/// A change list found from fast fields, before any change is loaded.
struct ChangeList<'v> {
    events: Vec<Event<'v>>,
    /// Sort key and index into `events`, not yet sorted.
    order: Vec<(SortKey, u32)>,
    facets: ChangeFacets,
    hidden: HiddenChanges,
    did_you_mean: Option<String>,
}

/// The order of a change list: a total order (changes equal in every key, as two equal
/// sections under one heading are, keep the order they were paired in), so that a page
/// selected from the list and the whole list sorted agree.
fn compare_changes(
    events: &[Event],
    order: ChangeOrder,
) -> impl Fn(&(SortKey, u32), &(SortKey, u32)) -> std::cmp::Ordering {
    move |a, b| {
        let by_key = match order {
            ChangeOrder::Oldest => a.0.cmp(&b.0),
            ChangeOrder::Newest => newest_first(&a.0, &b.0),
            ChangeOrder::Relevance => {
                let (x, y) = (&events[a.1 as usize], &events[b.1 as usize]);
                x.minor
                    .cmp(&y.minor)
                    .then_with(|| y.score.total_cmp(&x.score))
                    .then_with(|| a.0.cmp(&b.0))
            }
        };
        by_key.then(a.1.cmp(&b.1))
    }
}

/// Versions grouped by the version's document and ordinal, in the list's order.
fn version_groups(list: &mut ChangeList, order: ChangeOrder) -> Vec<Vec<u32>> {
    by_version(
        &mut list.order,
        compare_changes(&list.events, order),
        |k: &SortKey| (k.1, k.2),
    )
}

impl Engine {
    /// Searches changes.
    pub fn changes(&self, request: &ChangesRequest) -> Result<ChangesResponse> {
        self.read(|searcher| self.changes_in(searcher, request))
    }

    fn changes_in(&self, searcher: &Searcher, request: &ChangesRequest) -> Result<ChangesResponse> {
        request.validate(&self.limits)?;
        let request = &self.resolve_changes(searcher, request)?;
        let versions = self.changed_versions(searcher, request)?;
        if steps::counted_by_steps(request) {
            return self.changes_by_steps(searcher, request, &versions);
        }
        let mut list = self.change_list(searcher, request, &versions)?;
        let page = request.offset..request.offset.saturating_add(request.limit);
        if request.group == ChangeGrouping::Version {
            let groups = version_groups(&mut list, request.order);
            let versions_page = groups
                .get(page.start.min(groups.len())..page.end.min(groups.len()))
                .unwrap_or_default()
                .iter()
                .map(|group| self.version_changes(searcher, &versions, &list.events, group))
                .filter_map(Result::transpose)
                .collect::<Result<Vec<_>>>()?;
            return Ok(ChangesResponse {
                total: groups.len() as u64,
                did_you_mean: list.did_you_mean,
                changes: Vec::new(),
                versions: Some(versions_page),
                facets: list.facets,
                hidden: list.hidden,
            });
        }
        // Only the page needs an order: select it, then sort it.
        let compare = compare_changes(&list.events, request.order);
        let order = &mut list.order;
        let window = page.end.min(order.len());
        if window > 0 && window < order.len() {
            order.select_nth_unstable_by(window - 1, &compare);
            order.truncate(window);
        }
        order.sort_unstable_by(&compare);
        let answer = AnswerBytes::new(&self.limits);
        let changes = order
            .iter()
            .skip(request.offset)
            .take(request.limit)
            .map(|&(_, i)| {
                self.listed_change(
                    searcher,
                    &versions,
                    request,
                    &list.events[i as usize],
                    &answer,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ChangesResponse {
            total: list.events.len() as u64,
            did_you_mean: list.did_you_mean,
            changes,
            versions: None,
            facets: list.facets,
            hidden: list.hidden,
        })
    }

    /// Every change of a change search, in its order, past the paging window (`limit` and
    /// `offset` are not read): changes, or versions with `group` by version.
    pub fn export_changes(
        &self,
        request: &ChangesRequest,
        options: &ExportOptions,
        sink: &mut dyn ExportSink<ChangeEntry>,
    ) -> Result<()> {
        self.read(|searcher| self.export_changes_in(searcher, request, options, sink))
    }

    fn export_changes_in(
        &self,
        searcher: &Searcher,
        request: &ChangesRequest,
        options: &ExportOptions,
        sink: &mut dyn ExportSink<ChangeEntry>,
    ) -> Result<()> {
        let request = &ChangesRequest {
            limit: 1,
            offset: 0,
            ..request.clone()
        };
        request.validate(&self.limits)?;
        let request = &self.resolve_changes(searcher, request)?;
        let versions = self.changed_versions(searcher, request)?;
        let mut list = self.change_list(searcher, request, &versions)?;
        sink.hidden(&list.hidden);
        if request.group == ChangeGrouping::Version {
            let groups = version_groups(&mut list, request.order);
            let list = &list;
            return stream(
                self,
                options,
                &groups,
                |engine, group| {
                    let entry = engine.version_changes(searcher, &versions, &list.events, group)?;
                    Ok(entry.map(ChangeEntry::Version))
                },
                sink,
            );
        }
        list.order
            .sort_unstable_by(compare_changes(&list.events, request.order));
        let events = &list.events;
        stream(
            self,
            options,
            &list.order,
            |engine, &(_, i)| {
                let change = engine.listed_change(
                    searcher,
                    &versions,
                    request,
                    &events[i as usize],
                    &AnswerBytes::new(&engine.limits),
                )?;
                Ok(Some(ChangeEntry::Section(change)))
            },
            sink,
        )
    }

    /// The request with its names resolved as the index spells them.
    fn resolve_changes(
        &self,
        searcher: &Searcher,
        request: &ChangesRequest,
    ) -> Result<ChangesRequest> {
        Ok(ChangesRequest {
            filters: self.resolve_filters(searcher, &request.filters)?,
            ..request.clone()
        })
    }

    /// The version records a change list may name: those of the filtered documents,
    /// recorded in the window.
    fn changed_versions(
        &self,
        searcher: &Searcher,
        request: &ChangesRequest,
    ) -> Result<Arc<VersionTable>> {
        let recorded = Recorded {
            from: request.from,
            to: request.to,
        };
        self.version_table(searcher, &request.filters, recorded)
    }

    /// Finds, pairs, scores and counts the changes of a request, without loading any.
    fn change_list<'v>(
        &self,
        searcher: &Searcher,
        request: &ChangesRequest,
        versions: &'v VersionTable,
    ) -> Result<ChangeList<'v>> {
        let selected = self.select_spans(searcher, request)?;
        let PairedEvents { mut events, hidden } = match &selected.passing {
            Some(passing) => self.linked_events(searcher, request, versions, &selected, passing)?,
            None => pair_events(request, versions, &selected),
        };
        if let Some((words, _)) = &selected.text {
            self.score_by_change(searcher, words, &mut events)?;
        }
        let facets = change_facets(events.iter().map(|e| (e.version, e.kind, 1)), versions);
        let order = sort_keys(&events, &document_ranks(versions));
        Ok(ChangeList {
            events,
            order,
            facets,
            hidden,
            did_you_mean: selected.text.and_then(|(_, suggestion)| suggestion),
        })
    }

    /// The spans opened or closed in the request's window, narrowed by its section and text
    /// filters.
    fn select_spans(&self, searcher: &Searcher, request: &ChangesRequest) -> Result<SelectedSpans> {
        let f = &self.fields;
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
        let facts =
            |query: &dyn Query, scoring: bool, steps_of: Option<Arc<FxHashSet<(u64, u64)>>>| {
                crate::query::clauses::scored(
                    searcher,
                    &self.columns,
                    query,
                    &SpanFacts {
                        scoring,
                        columns: &self.columns,
                        deadline: self.deadline,
                        steps_of,
                    },
                )
                .map_err(SearchError::tantivy("cannot list spans"))
                .and_then(|facts| self.deadline.check().map(|()| facts))
            };
        let narrowed = |clause: Box<dyn Query>| {
            BooleanQuery::new(vec![
                (Occur::Must, Box::new(in_window.clone()) as Box<dyn Query>),
                (Occur::Must, clause),
            ])
        };

        // Section and text filters: a change passes when its text before or after does.
        let section_found = match section_clause(f, &request.filters.section)? {
            Some(clause) => Some(facts(&narrowed(clause), false, None)?),
            None => None,
        };
        let build = |query: &str| {
            text_query(
                searcher,
                &self.columns,
                query,
                Fields::Body,
                request.matching,
                self.limits.max_expansions,
            )
        };
        let matched: Option<TextMatch> = match &request.query {
            Some(query) => Some(search_relaxing(
                query,
                request.matching,
                &build,
                &mut |text| {
                    let window = vec![(Occur::Must, Box::new(in_window.clone()) as Box<dyn Query>)];
                    let found = facts(
                        &*crate::shared_texts::restricted(window, &*text.query),
                        true,
                        None,
                    )?;
                    let any = !found.is_empty();
                    let matched = TextMatch {
                        spans: found,
                        words: text.words.clone(),
                        suggestion: text.suggestion.clone(),
                    };
                    Ok((matched, any))
                },
            )?),
            None => None,
        };
        let (text, scored) = match matched {
            Some(m) => (Some((m.words, m.suggestion)), Some(m.spans)),
            None => (None, None),
        };
        let section: Option<FxHashSet<DocAddress>> = section_found
            .as_ref()
            .map(|found| found.iter().map(|s| s.address).collect());
        let scores: Option<FxHashMap<DocAddress, f32>> = scored
            .as_ref()
            .map(|found| found.iter().map(|s| (s.address, s.score)).collect());
        // With a filter, a change is listed when a side passes: the changes are found from
        // the passing spans' links, and no other span is read.
        let passing: Option<Vec<SpanFact>> = scored.or(section_found);
        let spans = match passing {
            Some(_) => Vec::new(),
            None => facts(&in_window, false, None)?,
        };
        Ok(SelectedSpans {
            spans,
            section,
            scores,
            text,
            passing,
            wanted: None,
        })
    }

    /// One change of a list, its texts cut unless the request asks for them whole, counted
    /// against the answer's bytes.
    fn listed_change(
        &self,
        searcher: &Searcher,
        versions: &VersionTable,
        request: &ChangesRequest,
        event: &Event,
        answer: &AnswerBytes,
    ) -> Result<Change> {
        let shown = match request.full_text {
            true => Shown::Whole,
            false => Shown::Cut(CHANGE_TEXT_BYTES),
        };
        self.change(searcher, versions, event, shown, answer)
    }

    /// One version's entry of a list grouped by version (`None` if it changed nothing shown).
    fn version_changes(
        &self,
        searcher: &Searcher,
        versions: &VersionTable,
        events: &[Event],
        group: &[u32],
    ) -> Result<Option<VersionChanges>> {
        // Word counts only: no text is kept, so the answer's bytes are not counted.
        let answer = AnswerBytes::new(&crate::Limits {
            max_answer_bytes: usize::MAX,
            ..self.limits
        });
        let changes = group.iter().map(|&i| {
            self.change(
                searcher,
                versions,
                &events[i as usize],
                Shown::Counts,
                &answer,
            )
        });
        VersionChanges::from_changes(changes)
    }

    /// One change, its texts read as far as `shown` shows them.
    fn change(
        &self,
        searcher: &Searcher,
        versions: &VersionTable,
        event: &Event,
        shown: Shown,
        answer: &AnswerBytes,
    ) -> Result<Change> {
        let key = versions.keys.get(&event.version.doc_hash).ok_or_else(|| {
            SearchError::Schema(palimpsest_schema::SchemaError::Inconsistent(
                "a version record without a document key".into(),
            ))
        })?;
        let mut texts = TextReader::new(searcher, &self.fields);
        let load = |fact: Option<SpanFact>| -> Result<Option<(SpanRecord, RunRefs)>> {
            fact.map(|s| {
                let doc = searcher
                    .doc(s.address)
                    .map_err(SearchError::tantivy("cannot read stored span"))?;
                let record = span_from_document(&self.fields, &doc, String::new())?;
                Ok((record, texts.span_refs(&doc)?))
            })
            .transpose()
        };
        let before = load(event.before)?;
        let after = load(event.after)?;
        let diffed = matches!(event.kind, ChangeKind::Modified | ChangeKind::Moved)
            && before.is_some()
            && after.is_some();
        let shown_texts = ChangeReader {
            texts: &mut texts,
            doc_hash: event.version.doc_hash,
            deadline: self.deadline,
        }
        .texts(
            before.as_ref().map(|(_, refs)| refs),
            after.as_ref().map(|(_, refs)| refs),
            diffed,
            shown,
        )?;
        drop(texts);
        answer.take(shown_texts.bytes())?;
        let (before, after) = (before.map(|(s, _)| s), after.map(|(s, _)| s));
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
            before: shown_texts.before,
            after: shown_texts.after,
            diff: shown_texts.diff,
            minor: event.minor,
            truncated: shown_texts.truncated,
            score: event.score,
        })
    }

    /// Scores each change by the query's words it inserted or deleted, then by those of its
    /// heading path and context ([`score`]); the section's own score breaks ties.
    fn score_by_change(
        &self,
        searcher: &Searcher,
        words: &[QueryWord],
        events: &mut [Event],
    ) -> Result<()> {
        let stems = ScoredStems::new(words);
        let addresses: FxHashSet<DocAddress> = events
            .iter()
            .flat_map(|e| e.before.iter().chain(e.after.iter()).map(|s| s.address))
            .collect();
        let texts = self.columns.shared_texts(searcher)?;
        let terms = stems.read(searcher, &self.fields, &texts, &addresses)?;
        let side = |s: Option<SpanFact>| s.and_then(|s| terms.get(&s.address));
        let mut versions: FxHashMap<(u64, u64), NetChange> = FxHashMap::default();
        for event in events.iter() {
            versions
                .entry(version_key(event))
                .or_default()
                .add(side(event.before), side(event.after));
        }
        let changed = |e: &Event| {
            stems.changed_length(side(e.before), side(e.after), &versions[&version_key(e)])
        };
        let average = events.iter().map(changed).sum::<f32>() / events.len().max(1) as f32;
        let recurrences = recurrences(events);
        for event in events.iter_mut() {
            let version = &versions[&version_key(event)];
            let by_change = stems.score(side(event.before), side(event.after), version, average);
            let damping = recurrences[&flip_signature(event)].damping(event);
            event.score = (by_change + TIE_BREAK * event.score) / damping;
        }
        Ok(())
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

/// Documents ranked by name, so that sorting compares integers.
fn document_ranks(versions: &VersionTable) -> FxHashMap<u64, u32> {
    let mut names: Vec<(&DocKey, u64)> = versions.keys.iter().map(|(h, k)| (k, *h)).collect();
    names.sort_unstable();
    names
        .iter()
        .enumerate()
        .map(|(i, (_, h))| (*h, i as u32))
        .collect()
}

/// Each event's sort key with its index, not yet sorted.
fn sort_keys(events: &[Event], rank: &FxHashMap<u64, u32>) -> Vec<(SortKey, u32)> {
    let key = |e: &Event| -> SortKey {
        let side = e.after.or(e.before);
        (
            e.version.recorded_at,
            rank.get(&e.version.doc_hash).copied().unwrap_or(u32::MAX),
            e.version.ordinal,
            side.map_or(0, |s| s.path_hash),
            e.kind,
            side.map_or(0, |s| s.content_hash),
        )
    };
    events
        .iter()
        .enumerate()
        .map(|(i, e)| (key(e), i as u32))
        .collect()
}

/// Facet counts of changes given as (version, kind, how many).
fn change_facets<'v>(
    changes: impl Iterator<Item = (&'v VersionFact, ChangeKind, u64)>,
    versions: &VersionTable,
) -> ChangeFacets {
    let mut counts: [FxHashMap<String, u64>; 4] = Default::default();
    let mut by_doc: FxHashMap<u64, u64> = FxHashMap::default();
    let mut by_kind: FxHashMap<ChangeKind, u64> = FxHashMap::default();
    let mut by_day: FxHashMap<i64, u64> = FxHashMap::default();
    for (version, kind, n) in changes {
        *by_doc.entry(version.doc_hash).or_default() += n;
        *by_kind.entry(kind).or_default() += n;
        *by_day
            .entry(version.recorded_at.div_euclid(86_400))
            .or_default() += n;
    }
    for (doc, n) in by_doc {
        if let Some(key) = versions.keys.get(&doc) {
            *counts[0].entry(key.service.to_string()).or_default() += n;
            *counts[1].entry(key.terms_type.to_string()).or_default() += n;
            *counts[2].entry(key.collection.to_string()).or_default() += n;
        }
    }
    for (kind, n) in by_kind {
        counts[3].insert(kind.as_str().to_owned(), n);
    }
    let mut months: FxHashMap<String, u64> = FxHashMap::default();
    for (day, n) in by_day {
        let month = Timestamp::from_unix(day * 86_400)
            .map(|t| t.to_string()[..7].to_owned())
            .unwrap_or_default();
        *months.entry(month).or_default() += n;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_equal_in_every_key_keep_their_pairing_order_in_every_sort() {
        // Two sections under one heading rewritten to the same text: the same sort key.
        let key: SortKey = (1_700_000_000, 0, 3, 42, ChangeKind::Modified, 7);
        let (first, second) = ((key, 0), (key, 1));
        for order in [ChangeOrder::Newest, ChangeOrder::Oldest] {
            let compare = compare_changes(&[], order);
            assert_eq!(compare(&first, &second), std::cmp::Ordering::Less);
            assert_eq!(compare(&second, &first), std::cmp::Ordering::Greater);
        }
    }
}
