//! Change lists counted from the version records' step counts ([`StepCounts`]): a list
//! without a query or a section filter, of changes or of versions, is counted, faceted and
//! paged from version records alone, and only the versions that hold the page have their
//! spans read and paired. The
//! indexer counted each version's changes with the same pairing ([`pair_step`]), so the
//! counts and the changes listed agree.
//!
//! [`StepCounts`]: palimpsest_schema::StepCounts
//! [`pair_step`]: palimpsest_schema::pair_step

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

use palimpsest_schema::{DocKey, DocType};
use tantivy::Searcher;
use tantivy::query::{BooleanQuery, Occur};

use super::grouped::{ChangeGrouping, by_version};
use super::hidden::{self, HiddenChanges};
use super::{
    ChangeOrder, ChangesRequest, ChangesResponse, SelectedSpans, change_facets, compare_changes,
    document_ranks, pair_events, shown, sort_keys,
};
use crate::compare::ChangeKind;
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::facts::{SpanFacts, VersionFact, VersionTable};
use crate::query::clauses::{any_document, term};
use crate::request::AnswerBytes;

/// Whether the version records' counts answer this request: no query and no section filter
/// (each looks into sections), ordered by date.
pub(super) fn counted_by_steps(request: &ChangesRequest) -> bool {
    request.query.is_none()
        && request.filters.section.is_empty()
        && request.order != ChangeOrder::Relevance
}

/// The changes of a version that the request lists, by kind (none when it hides the version).
fn listed(
    version: &VersionFact,
    request: &ChangesRequest,
) -> impl Iterator<Item = (ChangeKind, u64)> {
    let shown = shown(version, request);
    ChangeKind::ALL
        .into_iter()
        .filter(move |kind| shown && request.wants(*kind))
        .map(move |kind| (kind, version.steps.count(kind, request.minor)))
        .filter(|(_, n)| *n > 0)
}

/// A version that lists changes, with its place in the order: recorded_at, document rank,
/// ordinal (the head of every change's sort key).
struct ListedVersion<'v> {
    key: (i64, u32, u64),
    version: &'v VersionFact,
    changes: u64,
}

/// The versions that hold a page, and how many of their changes come before it.
struct PageVersions<'v> {
    versions: Vec<&'v VersionFact>,
    skip: usize,
}

/// The versions `offset..offset + limit` of the list, when it lists versions.
fn version_page<'v>(listed: &[ListedVersion<'v>], offset: usize, limit: usize) -> PageVersions<'v> {
    let end = offset.saturating_add(limit).min(listed.len());
    PageVersions {
        versions: listed[offset.min(end)..end]
            .iter()
            .map(|v| v.version)
            .collect(),
        skip: 0,
    }
}

/// The versions, in list order, that hold the changes `offset..offset + limit`.
fn page_versions<'v>(
    listed: &[ListedVersion<'v>],
    offset: usize,
    limit: usize,
) -> PageVersions<'v> {
    let (offset, end) = (offset as u64, offset.saturating_add(limit) as u64);
    let mut before = 0u64;
    let mut page = PageVersions {
        versions: Vec::new(),
        skip: 0,
    };
    for entry in listed {
        let after = before + entry.changes;
        if after > offset && before < end {
            if page.versions.is_empty() {
                page.skip = (offset - before) as usize;
            }
            page.versions.push(entry.version);
        }
        if after >= end {
            break;
        }
        before = after;
    }
    page
}

impl Engine {
    /// A change list ([`counted_by_steps`]) from the version records' counts.
    pub(super) fn changes_by_steps(
        &self,
        searcher: &Searcher,
        request: &ChangesRequest,
        versions: &VersionTable,
    ) -> Result<ChangesResponse> {
        let all = || versions.by_doc.values().flatten();
        let facets = change_facets(
            all().flat_map(|v| listed(v, request).map(move |(kind, n)| (v, kind, n))),
            versions,
        );
        let rank = document_ranks(versions);
        let mut hidden = HiddenChanges::default();
        let mut order: Vec<ListedVersion> = all()
            .filter_map(|version| {
                hidden::count_version(&mut hidden, version, request);
                let changes: u64 = listed(version, request).map(|(_, n)| n).sum();
                let doc = rank.get(&version.doc_hash).copied().unwrap_or(u32::MAX);
                (changes > 0).then_some(ListedVersion {
                    key: (version.recorded_at, doc, version.ordinal),
                    version,
                    changes,
                })
            })
            .collect();
        order.sort_unstable_by(|a, b| match request.order {
            ChangeOrder::Oldest => a.key.cmp(&b.key),
            _ => (b.key.0, a.key.1, b.key.2).cmp(&(a.key.0, b.key.1, a.key.2)),
        });
        let (total, page) = match request.group {
            ChangeGrouping::Section => (
                order.iter().map(|v| v.changes).sum(),
                page_versions(&order, request.offset, request.limit),
            ),
            ChangeGrouping::Version => (
                order.len() as u64,
                version_page(&order, request.offset, request.limit),
            ),
        };
        let selected = self.spans_of_versions(searcher, versions, &page.versions)?;
        let events = pair_events(request, versions, &selected).events;
        let mut keys = sort_keys(&events, &rank);
        let mut response = ChangesResponse {
            total,
            did_you_mean: None,
            changes: Vec::new(),
            versions: None,
            facets,
            hidden,
        };
        if request.group == ChangeGrouping::Version {
            let groups = by_version(&mut keys, compare_changes(&events, request.order), |k| {
                (k.1, k.2)
            });
            response.versions = Some(
                groups
                    .iter()
                    .map(|group| self.version_changes(searcher, versions, &events, group))
                    .filter_map(Result::transpose)
                    .collect::<Result<Vec<_>>>()?,
            );
            return Ok(response);
        }
        keys.sort_unstable_by(compare_changes(&events, request.order));
        let answer = AnswerBytes::new(&self.limits);
        response.changes = keys
            .iter()
            .skip(page.skip)
            .take(request.limit)
            .map(|&(_, i)| {
                self.listed_change(searcher, versions, request, &events[i as usize], &answer)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(response)
    }

    /// Every span of the documents of `listed`, with only those versions' steps wanted.
    fn spans_of_versions(
        &self,
        searcher: &Searcher,
        versions: &VersionTable,
        listed: &[&VersionFact],
    ) -> Result<SelectedSpans> {
        let wanted: Arc<FxHashSet<(u64, u64)>> =
            Arc::new(listed.iter().map(|v| (v.doc_hash, v.ordinal)).collect());
        let keys: FxHashMap<u64, &DocKey> = listed
            .iter()
            .filter_map(|v| Some((v.doc_hash, versions.keys.get(&v.doc_hash)?)))
            .collect();
        let spans = match any_document(&self.fields, keys.into_values()) {
            None => Vec::new(),
            Some(documents) => {
                let query = BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        term(self.fields.doc_type, DocType::Span.as_str()),
                    ),
                    (Occur::Must, documents),
                ]);
                let collector = SpanFacts {
                    scoring: false,
                    columns: &self.columns,
                    deadline: self.deadline,
                    steps_of: Some(Arc::clone(&wanted)),
                };
                let spans = searcher
                    .search(&query, &collector)
                    .map_err(SearchError::tantivy("cannot list spans"))?;
                self.deadline.check()?;
                spans
            }
        };
        Ok(SelectedSpans {
            spans,
            section: None,
            scores: None,
            text: None,
            passing: None,
            wanted: Some(wanted),
        })
    }
}
