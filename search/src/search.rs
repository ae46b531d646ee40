//! The section search operation and its response.

use std::collections::HashMap;
use std::sync::Arc;

use palimpsest_schema::{DocKey, OPEN_END, SpanId, TextReader, Timestamp, stem_analyzer};
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::Occur;
use tantivy::schema::{Field, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Score, Searcher, TantivyDocument};

use crate::collectors::{FacetCollector, FacetTally, MatchCollector, SpanMatch};
use crate::coverage::Coverage;
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::export::{ExportOptions, ExportSink, stream};
use crate::facts::VersionTable;
use crate::history::Interval;
use crate::query::clauses::{Fields, span_clauses, text_query, year_clause};
use crate::query::strategy::TextQuery;
use crate::query::strategy::search_relaxing;
use crate::request::{SearchRequest, TimeMode};
use crate::snippet::{self, Snippet};
use crate::twins::{Ranked, SharedDocuments, Twinned, collapse};

/// Most matching spans history mode groups (about 50 MB of matches); beyond this only the
/// best-scoring ones are grouped, and the total then depends on scores. contrib-versions, the
/// largest real archive, has 343,000 spans in all: every query there is grouped exactly.
const MAX_GROUPED_SPANS: usize = 1_000_000;
/// Most values listed per facet.
const MAX_FACET_VALUES: usize = 100;
/// Snippet length in characters.
const SNIPPET_CHARS: usize = 240;

/// One result: a section (or, in history mode, a run of adjacent spans of one section).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// The collection that recorded the text first (the others are in `collections`).
    pub collection: String,
    /// Every collection holding this text of this document, `collection` first: an archive
    /// tracked by several collections gives one hit, not one per collection.
    pub collections: Vec<String>,
    /// What each of those collections recorded of the text, in `collections` order: each
    /// tracked the document from its own first record, so each has its own dates.
    pub by_collection: Vec<CollectionRecord>,
    /// Heading path, outermost first; empty before the first heading.
    pub section: Vec<String>,
    /// The section's own heading (last of the path), empty before the first heading.
    pub title: String,
    /// Matching text, plain, with the ranges of its matches.
    pub snippet: Snippet,
    /// Id of the span the hit opens on (the first of a history hit's spans), as the
    /// sections of `version/…` list it: 16 hex digits.
    pub span: String,
    /// When the text came into force: the earliest a collection recorded it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_from: Timestamp,
    /// When it stopped being in force, in the collection that recorded it last; `null`
    /// while in force in any.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_to: Option<Timestamp>,
    /// Source id of the first version with this text (in `collection`).
    pub first_version: String,
    /// Source id of the last version with this text (in `collection`; the latest version
    /// while in force).
    pub last_version: String,
    /// Relevance.
    pub score: f32,
    /// How many spans the hit covers (more than one only in history mode).
    pub spans: usize,
    /// When the text was in force in any of its collections: one interval, or in history
    /// mode one per run of the hit's spans (runs less than 7 days apart are one hit).
    pub intervals: Vec<Interval>,
    /// The query's words and phrases this section holds (word forms and spellings count).
    pub matched_terms: Vec<String>,
}

/// What one collection recorded of a hit's text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollectionRecord {
    /// The collection.
    pub collection: String,
    /// When the text came into force there: its first version there holding it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_from: Timestamp,
    /// When it stopped being in force there; `null` while in force.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_to: Option<Timestamp>,
    /// When it was in force there: one interval, or in history mode one per run of spans.
    pub intervals: Vec<Interval>,
    /// Source id of the first version there with this text.
    pub first_version: String,
    /// Source id of the last version there with this text.
    pub last_version: String,
    /// Id of the span the text opens on there.
    pub span: String,
    /// When this collection first recorded the document. A text whose `valid_from` is this
    /// instant was there when tracking began: it may be older than the collection knows.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub tracked_since: Timestamp,
}

/// One facet value and its count of matching spans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetCount {
    /// The value.
    pub value: String,
    /// Matching spans with it.
    pub count: u64,
}

/// Facet counts over every matching span, largest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facets {
    /// By service.
    pub service: Vec<FacetCount>,
    /// By terms type.
    pub terms_type: Vec<FacetCount>,
    /// By collection.
    pub collection: Vec<FacetCount>,
    /// By top-level heading (empty value: text before the first heading).
    pub section: Vec<FacetCount>,
    /// By year of `valid_from`, oldest first.
    pub year: Vec<FacetCount>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// Matching sections (history mode: groups), a text that several collections hold
    /// counted once, as its hit lists it.
    pub total: u64,
    /// How many of them hold every word of the query (`total` when every word is required).
    pub all_words: u64,
    /// The query with its misspelt words corrected, when some word is in no section and
    /// was matched by the indexed words nearest to it.
    pub did_you_mean: Option<String>,
    /// The requested page.
    pub hits: Vec<Hit>,
    /// Counts of all matching spans.
    pub facets: Facets,
    /// When the documents searched were tracked, when that bounds what the answer can say:
    /// the filters name one document, or some document they choose was not tracked at the
    /// time asked (`as_of`, `from`/`to`). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
}

/// The [`MAX_FACET_VALUES`] most counted values, most first (then by value); only those
/// are sorted and copied.
pub(crate) fn sorted<K: Ord + ToString, S>(counts: HashMap<K, u64, S>) -> Vec<FacetCount> {
    let mut list: Vec<(K, u64)> = counts.into_iter().collect();
    let order = |a: &(K, u64), b: &(K, u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0));
    if list.len() > MAX_FACET_VALUES {
        list.select_nth_unstable_by(MAX_FACET_VALUES - 1, order);
        list.truncate(MAX_FACET_VALUES);
    }
    list.sort_unstable_by(order);
    list.into_iter()
        .map(|(value, count)| FacetCount {
            value: value.to_string(),
            count,
        })
        .collect()
}

impl From<FacetTally> for Facets {
    fn from(tally: FacetTally) -> Facets {
        let [service, terms_type, collection, section] = tally.strings;
        let mut year: Vec<FacetCount> = tally
            .years
            .into_iter()
            .map(|(y, count)| FacetCount {
                value: y.to_string(),
                count,
            })
            .collect();
        year.sort_by(|a, b| a.value.cmp(&b.value));
        Facets {
            service: sorted(service),
            terms_type: sorted(terms_type),
            collection: sorted(collection),
            section: sorted(section),
            year,
        }
    }
}

fn stored_str(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn stored_u64(doc: &TantivyDocument, field: Field) -> u64 {
    doc.get_first(field)
        .and_then(|v| v.as_u64())
        .unwrap_or_default()
}

fn stored_i64(doc: &TantivyDocument, field: Field) -> i64 {
    doc.get_first(field)
        .and_then(|v| v.as_i64())
        .unwrap_or_default()
}

/// The clauses with a text query added.
fn filtered(
    clauses: &[(Occur, Box<dyn tantivy::query::Query>)],
    text: &dyn tantivy::query::Query,
) -> Box<dyn tantivy::query::Query> {
    let clauses = clauses.iter().map(|(o, q)| (*o, q.box_clone())).collect();
    crate::shared_texts::restricted(clauses, text)
}

/// A search request checked and resolved, with its filter and time clauses.
struct PreparedSearch {
    request: SearchRequest,
    clauses: Vec<(Occur, Box<dyn tantivy::query::Query>)>,
}

impl Engine {
    /// Searches sections.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        self.read(|searcher| self.search_in(searcher, request))
    }

    fn search_in(&self, searcher: &Searcher, request: &SearchRequest) -> Result<SearchResponse> {
        let prepared = self.prepare_search(searcher, request)?;
        let (request, clauses) = (&prepared.request, &prepared.clauses);
        let build = |query: &str| self.ranked_query(searcher, request, query);
        let response = search_relaxing(&request.query, request.matching, &build, &mut |text| {
            let response = self.search_with(searcher, request, text, clauses)?;
            let found = response.total > 0;
            Ok((response, found))
        })?;
        Ok(SearchResponse {
            coverage: self.coverage(searcher, &request.filters, request.time)?,
            ..response
        })
    }

    /// Every hit of a search, best first, past the paging window (`limit` and `offset` are
    /// not read): the hits a page would list, in the same order.
    pub fn export_search(
        &self,
        request: &SearchRequest,
        options: &ExportOptions,
        sink: &mut dyn ExportSink<Hit>,
    ) -> Result<()> {
        self.read(|searcher| self.export_search_in(searcher, request, options, sink))
    }

    fn export_search_in(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        options: &ExportOptions,
        sink: &mut dyn ExportSink<Hit>,
    ) -> Result<()> {
        let request = &SearchRequest {
            limit: 1,
            offset: 0,
            ..request.clone()
        };
        let prepared = self.prepare_search(searcher, request)?;
        let (request, clauses) = (&prepared.request, &prepared.clauses);
        let build = |query: &str| self.ranked_query(searcher, request, query);
        let mut streamed = false;
        search_relaxing(&request.query, request.matching, &build, &mut |text| {
            let groups = self.every_group(searcher, request, text, clauses)?;
            if groups.is_empty() {
                return Ok(((), false));
            }
            let snippets = self.snippet_generator(text);
            let mut maker = HitMaker {
                searcher,
                snippets: &snippets,
                text,
                versions: self.all_versions(searcher)?,
            };
            streamed = true;
            let make = |engine: &Engine, twinned: &Twinned<Group>| {
                engine.hit(&mut maker, twinned).map(Some)
            };
            stream(self, options, &groups, make, sink)?;
            Ok(((), true))
        })?;
        if !streamed {
            // Nothing matched, not even with fewer words: an empty list.
            let _ = sink.begin(0);
        }
        Ok(())
    }

    /// Checks a request, resolves its names and builds its filter and time clauses.
    fn prepare_search(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
    ) -> Result<PreparedSearch> {
        request.validate(&self.limits)?;
        let request = SearchRequest {
            filters: self.resolve_filters(searcher, &request.filters)?,
            ..request.clone()
        };
        let time = self.present(searcher, request.time)?;
        let mut clauses = span_clauses(&self.fields, &request.filters, time)?;
        if let Some(year) = request.year {
            clauses.push((Occur::Must, year_clause(&self.fields, year)));
        }
        Ok(PreparedSearch { request, clauses })
    }

    /// The text query of a search, over the ranked fields.
    fn ranked_query(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        query: &str,
    ) -> Result<TextQuery> {
        text_query(
            searcher,
            &self.columns,
            query,
            Fields::Ranked,
            request.matching,
            self.limits.max_expansions,
        )
    }

    fn snippet_generator(&self, text: &TextQuery) -> SnippetGenerator {
        SnippetGenerator::new(
            text.highlight.clone(),
            stem_analyzer(),
            self.fields.body,
            SNIPPET_CHARS,
        )
    }

    /// Every hit of one text query under the clauses, best first, twins collapsed: in
    /// history mode runs of one clause grouped, otherwise one span each.
    fn every_group(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        text: &TextQuery,
        clauses: &[(Occur, Box<dyn tantivy::query::Query>)],
    ) -> Result<Vec<Twinned<Group>>> {
        let query = filtered(clauses, &*text.query);
        if request.time == TimeMode::History {
            let matches = crate::query::clauses::scored(
                searcher,
                &self.columns,
                &query,
                &MatchCollector {
                    deadline: self.deadline,
                    columns: &self.columns,
                },
            )
            .map_err(SearchError::tantivy("search failed"))?;
            self.deadline.check()?;
            return Ok(collapse(self, searcher, group_adjacent(matches), usize::MAX)?.kept);
        }
        let count = crate::query::clauses::scored(searcher, &self.columns, &query, &Count)
            .map_err(SearchError::tantivy("search failed"))?;
        let top = crate::query::clauses::scored(
            searcher,
            &self.columns,
            &query,
            &TopDocs::with_limit(count.max(1)).order_by_score(),
        )
        .map_err(SearchError::tantivy("search failed"))?;
        self.deadline.check()?;
        let kept = collapse(self, searcher, top, usize::MAX)?.kept;
        Ok(kept.into_iter().map(Twinned::map_group).collect())
    }

    /// One run of a search with one text query, under the filter and time clauses.
    fn search_with(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        text: &TextQuery,
        clauses: &[(Occur, Box<dyn tantivy::query::Query>)],
    ) -> Result<SearchResponse> {
        let query = filtered(clauses, &*text.query);
        let strict = text
            .strict
            .as_ref()
            .map(|strict| filtered(clauses, &**strict));
        let snippets = self.snippet_generator(text);
        let shared = SharedDocuments::of(self, searcher)?;
        let counter = |facets: bool| FacetCollector {
            deadline: self.deadline,
            columns: &self.columns,
            shared: Arc::clone(&shared),
            facets,
        };
        let maker = |versions: Arc<VersionTable>| HitMaker {
            searcher,
            snippets: &snippets,
            text,
            versions,
        };

        if request.time == TimeMode::History {
            let (matches, tally) = crate::query::clauses::scored(
                searcher,
                &self.columns,
                &query,
                &(
                    MatchCollector {
                        deadline: self.deadline,
                        columns: &self.columns,
                    },
                    counter(true),
                ),
            )
            .map_err(SearchError::tantivy("search failed"))?;
            self.deadline.check()?;
            let groups = collapse(self, searcher, group_adjacent(matches), usize::MAX)?.kept;
            self.deadline.check()?;
            let total = groups.len() as u64;
            let all_words = match &strict {
                Some(strict) => {
                    let matches = crate::query::clauses::scored(
                        searcher,
                        &self.columns,
                        strict,
                        &MatchCollector {
                            deadline: self.deadline,
                            columns: &self.columns,
                        },
                    )
                    .map_err(SearchError::tantivy("search failed"))?;
                    let groups = group_adjacent(matches);
                    collapse(self, searcher, groups, usize::MAX)?.kept.len() as u64
                }
                None => total,
            };
            let page: Vec<Twinned<Group>> = groups
                .into_iter()
                .skip(request.offset)
                .take(request.limit)
                .collect();
            let mut maker = maker(self.versions_of_groups(searcher, &page)?);
            let hits = page
                .iter()
                .map(|twinned| self.hit(&mut maker, twinned))
                .collect::<Result<Vec<_>>>()?;
            return Ok(SearchResponse {
                total,
                all_words,
                did_you_mean: text.suggestion.clone(),
                hits,
                facets: tally.into(),
                coverage: None,
            });
        }

        let needed = request.offset + request.limit;
        let mut fetch = needed * 2 + 8;
        let (mut top, tally) = crate::query::clauses::scored(
            searcher,
            &self.columns,
            &query,
            &(TopDocs::with_limit(fetch).order_by_score(), counter(true)),
        )
        .map_err(SearchError::tantivy("search failed"))?;
        let total = tally.hits;
        let collapsed = loop {
            let collapsed = collapse(self, searcher, top.iter().copied(), needed)?;
            if collapsed.complete || top.len() < fetch {
                break collapsed;
            }
            fetch *= 4;
            top = crate::query::clauses::scored(
                searcher,
                &self.columns,
                &query,
                &TopDocs::with_limit(fetch).order_by_score(),
            )
            .map_err(SearchError::tantivy("search failed"))?;
        };
        let all_words = match &strict {
            Some(strict) => {
                crate::query::clauses::scored(searcher, &self.columns, strict, &counter(false))
                    .map_err(SearchError::tantivy("search failed"))?
                    .hits
            }
            None => total,
        };
        self.deadline.check()?;
        let page: Vec<Twinned<Group>> = collapsed
            .kept
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .map(Twinned::map_group)
            .collect();
        let mut maker = maker(self.versions_of_groups(searcher, &page)?);
        let hits = page
            .iter()
            .map(|twinned| self.hit(&mut maker, twinned))
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchResponse {
            total,
            all_words,
            did_you_mean: text.suggestion.clone(),
            hits,
            facets: tally.into(),
            coverage: None,
        })
    }

    /// The time mode as the index can answer it: an instant after the present is refused,
    /// and "in force now" is the latest text of each section (the fast `valid_to` term)
    /// unless a version was recorded after the present (by a clock that was wrong), which is
    /// not in force yet: then it is the text in force at the present instant.
    fn present(&self, searcher: &Searcher, time: TimeMode) -> Result<TimeMode> {
        let now = Timestamp::now();
        match time {
            TimeMode::AsOf(at) if at > now => Err(SearchError::InFuture { at }),
            TimeMode::Current => {
                for segment in searcher.segment_readers() {
                    let latest = self
                        .columns
                        .latest_valid_from(segment)
                        .map_err(SearchError::tantivy("cannot read fast fields"))?;
                    if latest > now.as_unix() {
                        return Ok(TimeMode::AsOf(now));
                    }
                }
                Ok(TimeMode::Current)
            }
            time => Ok(time),
        }
    }

    /// One hit from a group and its twins: the collection that recorded the text first
    /// names it, and each collection's own dates are in `by_collection`.
    fn hit(&self, maker: &mut HitMaker, twinned: &Twinned<Group>) -> Result<Hit> {
        let groups: Vec<&Group> = std::iter::once(&twinned.hit)
            .chain(&twinned.twins)
            .collect();
        let mut records = groups
            .iter()
            .map(|group| self.record(maker, group))
            .collect::<Result<Vec<_>>>()?;
        let primary = (0..records.len())
            .min_by_key(|&i| (records[i].valid_from, i))
            .unwrap_or(0);
        let own = records.remove(primary);
        records.sort_by(|a, b| a.collection.cmp(&b.collection));
        records.insert(0, own);
        let group = groups[primary];
        let (searcher, snippets) = (maker.searcher, maker.snippets);
        let f = &self.fields;
        let best = searcher
            .doc::<TantivyDocument>(group.best)
            .map_err(SearchError::tantivy("cannot read stored span"))?;
        let section: Vec<String> = best
            .get_all(f.heading)
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let (service, terms_type, collection) = (
            stored_str(&best, f.service),
            stored_str(&best, f.terms_type),
            stored_str(&best, f.collection),
        );
        let key = DocKey::new(&collection, &service, &terms_type)?;
        let mut texts = TextReader::new(searcher, f);
        let refs = texts.span_refs(&best)?;
        let paragraphs = refs
            .0
            .iter()
            .map(|&seq| texts.paragraph_text(key.hash64(), seq).map(str::to_owned));
        let source = snippet::source(&maker.text.highlight, paragraphs, SNIPPET_CHARS)?;
        let snippet = Snippet::of(snippets, &source, SNIPPET_CHARS);
        let matched_terms = maker.text.matched_in(searcher, f, group.best)?;
        let overall = Overall::of(&records);
        let own = &records[0];
        Ok(Hit {
            title: section.last().cloned().unwrap_or_default(),
            section,
            snippet,
            span: own.span.clone(),
            valid_from: overall.valid_from,
            valid_to: overall.valid_to,
            intervals: overall.intervals,
            first_version: own.first_version.clone(),
            last_version: own.last_version.clone(),
            score: group.score,
            spans: group.spans.len(),
            matched_terms,
            service,
            terms_type,
            collections: records.iter().map(|r| r.collection.clone()).collect(),
            collection,
            by_collection: records,
        })
    }

    /// What one collection recorded of a group: read from its first and last spans.
    fn record(&self, maker: &HitMaker, group: &Group) -> Result<CollectionRecord> {
        let searcher = maker.searcher;
        let f = &self.fields;
        let load = |address: DocAddress| -> Result<TantivyDocument> {
            searcher
                .doc(address)
                .map_err(SearchError::tantivy("cannot read stored span"))
        };
        let first = load(group.spans[0])?;
        let last_address = *group.spans.last().expect("groups are not empty");
        let last = if last_address == group.spans[0] {
            first.clone()
        } else {
            load(last_address)?
        };
        let collection = stored_str(&first, f.collection);
        let key = DocKey::new(
            &collection,
            &stored_str(&first, f.service),
            &stored_str(&first, f.terms_type),
        )?;
        let valid_from_raw = stored_i64(&first, f.valid_from);
        let valid_to_raw = stored_i64(&last, f.valid_to);
        let last_version = match stored_str(&last, f.last_version) {
            id if !id.is_empty() => id,
            _ => self.latest_version_id(searcher, &key)?,
        };
        let runs = match group.intervals.as_slice() {
            [] => vec![(valid_from_raw, valid_to_raw)],
            runs => runs.to_vec(),
        };
        let tracked_since = maker
            .versions
            .by_doc
            .get(&key.hash64())
            .and_then(|versions| versions.first())
            .map_or(valid_from_raw, |v| v.recorded_at);
        Ok(CollectionRecord {
            collection,
            valid_from: unix(valid_from_raw),
            valid_to: interval(valid_from_raw, valid_to_raw).to,
            intervals: runs.iter().map(|&(from, to)| interval(from, to)).collect(),
            first_version: stored_str(&first, f.first_version),
            last_version,
            span: SpanId(stored_u64(&first, f.span_id)).to_string(),
            tracked_since: unix(tracked_since),
        })
    }

    /// The version records a page of hits needs (each document's first record), read for
    /// the documents of these groups and their twins alone.
    fn versions_of_groups<'a>(
        &self,
        searcher: &Searcher,
        groups: impl IntoIterator<Item = &'a Twinned<Group>>,
    ) -> Result<Arc<VersionTable>> {
        let keys = groups
            .into_iter()
            .flat_map(|twinned| std::iter::once(&twinned.hit).chain(&twinned.twins))
            .map(|group| self.doc_key_at(searcher, group.best))
            .collect::<Result<Vec<_>>>()?;
        self.version_table_of(searcher, &keys)
    }
}

/// A hit's dates over all its collections: the earliest start, the latest end (none while
/// in force in any), and the union of their intervals.
struct Overall {
    valid_from: Timestamp,
    valid_to: Option<Timestamp>,
    intervals: Vec<Interval>,
}

impl Overall {
    fn of(records: &[CollectionRecord]) -> Overall {
        let raw = |t: Option<Timestamp>| t.map_or(OPEN_END, Timestamp::as_unix);
        let merged = crate::history::union(
            records
                .iter()
                .flat_map(|r| &r.intervals)
                .map(|i| (i.from.as_unix(), raw(i.to)))
                .collect(),
        );
        let valid_from = records
            .iter()
            .map(|r| r.valid_from)
            .min()
            .unwrap_or(Timestamp::MIN);
        let valid_to = if records.iter().any(|r| r.valid_to.is_none()) {
            None
        } else {
            records.iter().filter_map(|r| r.valid_to).max()
        };
        let intervals = if merged.is_empty() {
            records
                .first()
                .map(|r| r.intervals.clone())
                .unwrap_or_default()
        } else {
            merged
                .iter()
                .map(|&(from, to)| interval(from, to))
                .collect()
        };
        Overall {
            valid_from,
            valid_to,
            intervals,
        }
    }
}

fn unix(seconds: i64) -> Timestamp {
    Timestamp::from_unix(seconds).unwrap_or(Timestamp::MIN)
}

impl Twinned<(Score, DocAddress)> {
    /// A ranked span and its twins as groups of one span each.
    fn map_group(self) -> Twinned<Group> {
        Twinned {
            hit: Group::single(self.hit),
            collections: self.collections,
            twins: self.twins.into_iter().map(Group::single).collect(),
        }
    }
}

/// An interval of validity from Unix seconds (`OPEN_END`: still in force).
fn interval(from: i64, to: i64) -> Interval {
    Interval {
        from: Timestamp::from_unix(from).unwrap_or(Timestamp::MIN),
        to: (to != OPEN_END).then(|| Timestamp::from_unix(to)).flatten(),
    }
}

/// What every hit of one search is made with.
struct HitMaker<'a> {
    searcher: &'a Searcher,
    snippets: &'a SnippetGenerator,
    text: &'a TextQuery,
    /// The version records of (at least) the hits' documents, for their first records.
    versions: Arc<VersionTable>,
}

/// Longest gap between two spans of one section that history mode still shows as one hit
/// (with both intervals): a clause that leaves for hours or days and comes back, as
/// re-extractions make it do, is one clause to a reader.
const MAX_GROUPED_GAP_SECONDS: i64 = 7 * 86_400;

/// Spans of one section that follow each other without a gap or with short gaps, scored by
/// the best.
struct Group {
    score: f32,
    best: DocAddress,
    /// The span id of the group's first span, which orders groups of equal score and start.
    first_span: u64,
    spans: Vec<DocAddress>,
    /// When the text was in force, as `(valid_from, valid_to)` Unix seconds; empty when the
    /// hit is read from its span alone.
    intervals: Vec<(i64, i64)>,
}

impl Group {
    /// A hit read from one span alone.
    fn single((score, address): (Score, DocAddress)) -> Group {
        Group {
            score,
            best: address,
            first_span: 0,
            spans: vec![address],
            intervals: Vec::new(),
        }
    }
}

impl Ranked for Group {
    fn score(&self) -> Score {
        self.score
    }

    fn address(&self) -> DocAddress {
        self.best
    }
}

fn group_adjacent(mut matches: Vec<SpanMatch>) -> Vec<Group> {
    if matches.len() > MAX_GROUPED_SPANS {
        matches.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.span_id.cmp(&b.span_id)));
        matches.truncate(MAX_GROUPED_SPANS);
    }
    // A total order on the data alone: two sections under one heading path, or two versions
    // at one instant, give spans equal in everything but their id.
    matches.sort_by_key(|m| (m.doc_hash, m.path_hash, m.valid_from, m.valid_to, m.span_id));
    let mut groups: Vec<Group> = Vec::new();
    let mut previous: Option<SpanMatch> = None;
    for m in matches {
        let gap = previous
            .filter(|p| p.doc_hash == m.doc_hash && p.path_hash == m.path_hash)
            .map(|p| m.valid_from.saturating_sub(p.valid_to))
            .filter(|gap| (0..=MAX_GROUPED_GAP_SECONDS).contains(gap));
        match (groups.last_mut(), gap) {
            (Some(group), Some(gap)) => {
                group.spans.push(m.address);
                match group.intervals.last_mut() {
                    Some(last) if gap == 0 => last.1 = m.valid_to,
                    _ => group.intervals.push((m.valid_from, m.valid_to)),
                }
                if m.score > group.score {
                    group.score = m.score;
                    group.best = m.address;
                }
            }
            _ => groups.push(Group {
                score: m.score,
                best: m.address,
                first_span: m.span_id,
                spans: vec![m.address],
                intervals: vec![(m.valid_from, m.valid_to)],
            }),
        }
        previous = Some(m);
    }
    // Equal scores (a text that came back scores as its first span) rank the latest first:
    // a document's address alone would order them by how indexing threads laid out
    // segments, which differs from one build to the next.
    let first_from = |g: &Group| g.intervals.first().map(|i| i.0);
    groups.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| first_from(b).cmp(&first_from(a)))
            .then_with(|| a.first_span.cmp(&b.first_span))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::{MAX_FACET_VALUES, MAX_GROUPED_GAP_SECONDS, group_adjacent, sorted};
    use crate::collectors::SpanMatch;
    use tantivy::DocAddress;

    fn span(doc: u32, path: u64, from: i64, to: i64, score: f32) -> SpanMatch {
        SpanMatch {
            score,
            address: DocAddress::new(0, doc),
            doc_hash: 1,
            path_hash: path,
            valid_from: from,
            valid_to: to,
            span_id: u64::from(doc),
        }
    }

    /// Two builds lay the same spans out at other addresses: which spans a hit groups, and
    /// which stands first, must not follow the addresses.
    #[test]
    fn duplicate_paths_group_the_same_spans_whatever_their_addresses() {
        let day = 86_400;
        // One section path twice in a version (ids 11 and 12), after a span (10) it followed.
        let spans = [(10, 0, day), (11, day, i64::MAX), (12, day, i64::MAX)];
        let build = |addresses: [u32; 3]| {
            let matches = spans
                .iter()
                .zip(addresses)
                .map(|(&(id, from, to), address)| SpanMatch {
                    address: DocAddress::new(0, address),
                    span_id: id,
                    ..span(0, 7, from, to, 1.0)
                })
                .collect();
            let ids =
                |a: DocAddress| spans[addresses.iter().position(|&x| x == a.doc_id).unwrap()].0;
            group_adjacent(matches)
                .iter()
                .map(|g| {
                    (
                        ids(g.best),
                        g.spans.iter().map(|&a| ids(a)).collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let first = build([0, 1, 2]);
        assert_eq!(first, build([2, 0, 1]));
        assert_eq!(first, build([1, 2, 0]));
        assert_eq!(first, [(12, vec![12]), (10, vec![10, 11])]);
    }

    #[test]
    fn one_clause_with_short_gaps_is_one_hit_with_its_intervals() {
        let hour = 3_600;
        let groups = group_adjacent(vec![
            span(0, 7, 0, 10 * hour, 1.0),
            span(1, 7, 10 * hour, 20 * hour, 3.0),
            span(2, 7, 26 * hour, 40 * hour, 2.0),
            span(
                3,
                7,
                40 * hour + MAX_GROUPED_GAP_SECONDS + 1,
                50 * hour + 1_000_000,
                1.0,
            ),
            span(4, 8, 26 * hour, 40 * hour, 0.5),
        ]);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].spans.len(), 3);
        assert_eq!(
            groups[0].intervals,
            vec![(0, 20 * hour), (26 * hour, 40 * hour)]
        );
        assert_eq!(groups[0].best, DocAddress::new(0, 1));
    }

    #[test]
    fn equal_scores_rank_the_latest_first_wherever_indexing_put_them() {
        let day = 86_400;
        let spans = [
            span(0, 7, 100 * day, 101 * day, 2.0),
            span(1, 7, 0, day, 2.0),
            span(2, 8, 50 * day, 51 * day, 2.0),
        ];
        let forward = group_adjacent(spans.to_vec());
        let mut reversed = spans.to_vec();
        reversed.reverse();
        for (doc, m) in reversed.iter_mut().enumerate() {
            m.address = DocAddress::new(1, doc as u32);
        }
        let from = |groups: &[super::Group]| -> Vec<i64> {
            groups.iter().map(|g| g.intervals[0].0).collect()
        };
        assert_eq!(from(&forward), vec![100 * day, 50 * day, 0]);
        assert_eq!(from(&group_adjacent(reversed)), from(&forward));
    }

    #[test]
    fn facet_values_keep_the_most_counted_in_order_with_ties_by_value() {
        let counts: std::collections::HashMap<String, u64> =
            (0..250u64).map(|i| (format!("v{i:03}"), i % 7)).collect();
        let mut expected: Vec<(String, u64)> = counts.clone().into_iter().collect();
        expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        expected.truncate(MAX_FACET_VALUES);
        let got: Vec<(String, u64)> = sorted(counts)
            .into_iter()
            .map(|f| (f.value, f.count))
            .collect();
        assert_eq!(got, expected);
    }
}
