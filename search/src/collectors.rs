//! Collectors reading fast fields: facet counts, and the matches history mode groups.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::deadline::{Deadline, Ticker};
use crate::facts::{ColumnCache, SegmentColumns};
use crate::twins::{SharedDocuments, TwinKey};

/// Counts per facet value: four string facets, then years; and the number of distinct hits.
#[derive(Debug, Default)]
pub(crate) struct FacetTally {
    pub strings: [FxHashMap<Arc<str>, u64>; 4],
    pub years: HashMap<u64, u64>,
    /// Matching spans, twins in several collections counted once ([`crate::twins`]).
    pub hits: u64,
    /// Spans of shared documents, counted when the segments' tallies are merged.
    twins: Vec<TwinSpan>,
}

/// A matching span of a document several collections hold, with its facet values.
#[derive(Debug)]
struct TwinSpan {
    key: TwinKey,
    strings: [Option<Arc<str>>; 4],
    year: Option<u64>,
}

/// Counts facets and distinct hits until the deadline; past it, documents are no longer
/// counted and the operation fails after the search ([`Deadline::check`]). A text held by
/// several collections counts once in every facet but the collection facet, where it counts
/// in each.
pub(crate) struct FacetCollector<'a> {
    pub deadline: Deadline,
    pub columns: &'a ColumnCache,
    pub shared: Arc<SharedDocuments>,
    /// Whether facet values are counted (else only distinct hits).
    pub facets: bool,
}

pub(crate) struct FacetSegment {
    ticker: Ticker,
    facets: bool,
    /// The segment's cached columns: the facet columns and their values by ordinal.
    columns: Arc<SegmentColumns>,
    counts: [Vec<u64>; 4],
    years: HashMap<u64, u64>,
    single: u64,
    /// Set when some document of the index is in several collections.
    shared: Option<Arc<SharedDocuments>>,
    twins: Vec<(TwinKey, [Option<u64>; 4], Option<u64>)>,
}

impl Collector for FacetCollector<'_> {
    type Fruit = FacetTally;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let columns = self.columns.get(segment)?;
        let mut counts: [Vec<u64>; 4] = Default::default();
        for (count, facet) in counts.iter_mut().zip(&columns.facets) {
            // Read here, where an error can be returned: naming twins and counts needs them.
            let names = facet.names()?;
            if self.facets {
                *count = vec![0; names.len()];
            }
        }
        Ok(FacetSegment {
            ticker: self.deadline.ticker(),
            facets: self.facets,
            columns,
            counts,
            years: HashMap::new(),
            single: 0,
            shared: (!self.shared.is_empty()).then(|| Arc::clone(&self.shared)),
            twins: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetTally>) -> tantivy::Result<FacetTally> {
        let mut total = FacetTally::default();
        for fruit in fruits {
            for (into, from) in total.strings.iter_mut().zip(fruit.strings) {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
            for (year, count) in fruit.years {
                *total.years.entry(year).or_default() += count;
            }
            total.hits += fruit.hits;
            total.twins.extend(fruit.twins);
        }
        total.count_twins(self.facets);
        Ok(total)
    }
}

impl FacetTally {
    /// Counts the spans of shared documents. Spans with one twin key are as many hits as
    /// the collection holding most of them has spans ([`crate::twins::collapse`] pairs them
    /// so), and count so in every facet but the collection facet, which counts each span.
    fn count_twins(&mut self, facets: bool) {
        let mut groups: HashMap<TwinKey, TwinGroup> = HashMap::new();
        for twin in std::mem::take(&mut self.twins) {
            let collection = twin.strings[2].clone().unwrap_or_default();
            let group = groups.entry(twin.key).or_insert_with(|| TwinGroup {
                first: twin,
                per_collection: FxHashMap::default(),
            });
            *group.per_collection.entry(collection).or_default() += 1;
        }
        for group in groups.into_values() {
            let hits = group.per_collection.values().copied().max().unwrap_or(0);
            self.hits += hits;
            if !facets {
                continue;
            }
            for (i, value) in group.first.strings.into_iter().enumerate() {
                if let Some(value) = value.filter(|_| i != 2) {
                    *self.strings[i].entry(value).or_default() += hits;
                }
            }
            for (collection, count) in group.per_collection {
                *self.strings[2].entry(collection).or_default() += count;
            }
            if let Some(year) = group.first.year {
                *self.years.entry(year).or_default() += hits;
            }
        }
    }
}

/// The spans of one twin key: the first one's facet values, and spans per collection.
struct TwinGroup {
    first: TwinSpan,
    per_collection: FxHashMap<Arc<str>, u64>,
}

impl FacetSegment {
    fn ords(&self, doc: DocId) -> [Option<u64>; 4] {
        std::array::from_fn(|i| {
            let column = self.columns.facets[i].column.as_ref();
            column.and_then(|c| c.term_ords(doc).next())
        })
    }

    /// The twin key of a span of a shared document; `None` for every other span.
    fn twin_key(&self, doc: DocId) -> Option<TwinKey> {
        let shared = self.shared.as_ref()?;
        let document = self.columns.document_of(doc)?;
        shared
            .contains(document)
            .then(|| self.columns.twin_of(doc).key)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = FacetTally;

    fn collect(&mut self, doc: DocId, _: Score) {
        if !self.ticker.step() {
            return;
        }
        if let Some(key) = self.twin_key(doc) {
            let year = self.columns.year.first(doc);
            let ords = self.ords(doc);
            self.twins.push((key, ords, year));
            return;
        }
        self.single += 1;
        if !self.facets {
            return;
        }
        for (facet, counts) in self.columns.facets.iter().zip(&mut self.counts) {
            if let Some(ord) = facet.column.as_ref().and_then(|c| c.term_ords(doc).next()) {
                counts[ord as usize] += 1;
            }
        }
        if let Some(year) = self.columns.year.first(doc) {
            *self.years.entry(year).or_default() += 1;
        }
    }

    fn harvest(self) -> FacetTally {
        let facets = &self.columns.facets;
        let name = |i: usize, ord: u64| facets[i].names_read().get(ord as usize).cloned();
        let mut tally = FacetTally {
            years: self.years,
            hits: self.single,
            ..FacetTally::default()
        };
        tally.twins = self
            .twins
            .iter()
            .map(|(key, ords, year)| TwinSpan {
                key: *key,
                strings: std::array::from_fn(|i| ords[i].and_then(|ord| name(i, ord))),
                year: *year,
            })
            .collect();
        for (i, counts) in self.counts.iter().enumerate() {
            let strings = &mut tally.strings[i];
            for (ord, &count) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                if let Some(value) = name(i, ord as u64) {
                    strings.insert(value, count);
                }
            }
        }
        tally
    }
}

/// A matching span as history mode sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpanMatch {
    pub score: Score,
    pub address: DocAddress,
    pub doc_hash: u64,
    pub path_hash: u64,
    pub valid_from: i64,
    pub valid_to: i64,
    /// Derived from the document, version and position: the same in every build, so it
    /// breaks ties that addresses (laid out by indexing threads) would break differently.
    pub span_id: u64,
}

/// Collects every match with the fast fields needed to group them, until the deadline.
pub(crate) struct MatchCollector<'a> {
    pub deadline: Deadline,
    pub columns: &'a ColumnCache,
}

pub(crate) struct MatchSegment {
    ticker: Ticker,
    segment: SegmentOrdinal,
    columns: Arc<SegmentColumns>,
    matches: Vec<SpanMatch>,
}

impl Collector for MatchCollector<'_> {
    type Fruit = Vec<SpanMatch>;
    type Child = MatchSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<MatchSegment> {
        Ok(MatchSegment {
            ticker: self.deadline.ticker(),
            segment,
            columns: self.columns.get(reader)?,
            matches: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<SpanMatch>>) -> tantivy::Result<Vec<SpanMatch>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for MatchSegment {
    type Fruit = Vec<SpanMatch>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.ticker.step() {
            return;
        }
        let c = &self.columns;
        self.matches.push(SpanMatch {
            score,
            address: DocAddress::new(self.segment, doc),
            doc_hash: c.doc_hash.first(doc).unwrap_or(0),
            path_hash: c.path_hash.first(doc).unwrap_or(0),
            valid_from: c.valid_from.first(doc).unwrap_or(0),
            valid_to: c.valid_to.first(doc).unwrap_or(0),
            span_id: c.span_id.first(doc).unwrap_or(0),
        });
    }

    fn harvest(self) -> Vec<SpanMatch> {
        self.matches
    }
}
