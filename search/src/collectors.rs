//! Collectors reading fast fields: facet counts, and the matches history mode groups.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::deadline::{Deadline, Ticker};

/// The string fields counted as facets, in output order.
pub(crate) const STR_FACETS: [&str; 4] = ["service", "terms_type", "collection", "section_top"];

/// Counts per facet value: four string facets, then years.
#[derive(Debug, Default)]
pub(crate) struct FacetTally {
    pub strings: [HashMap<String, u64>; 4],
    pub years: HashMap<u64, u64>,
}

/// Counts facets until the deadline; past it, documents are no longer counted and the
/// operation fails after the search ([`Deadline::check`]).
pub(crate) struct FacetCollector(pub Deadline);

pub(crate) struct FacetSegment {
    ticker: Ticker,
    columns: Vec<Option<StrColumn>>,
    counts: Vec<Vec<u64>>,
    year: Column<u64>,
    years: HashMap<u64, u64>,
}

impl Collector for FacetCollector {
    type Fruit = FacetTally;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let fast = segment.fast_fields();
        let mut columns = Vec::new();
        let mut counts = Vec::new();
        for name in STR_FACETS {
            let column = fast.str(name)?;
            counts.push(vec![0; column.as_ref().map_or(0, |c| c.num_terms())]);
            columns.push(column);
        }
        Ok(FacetSegment {
            ticker: self.0.ticker(),
            columns,
            counts,
            year: fast.u64("year")?,
            years: HashMap::new(),
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
        }
        Ok(total)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = FacetTally;

    fn collect(&mut self, doc: DocId, _: Score) {
        if !self.ticker.step() {
            return;
        }
        for (column, counts) in self.columns.iter().zip(&mut self.counts) {
            if let Some(ord) = column.as_ref().and_then(|c| c.term_ords(doc).next()) {
                counts[ord as usize] += 1;
            }
        }
        if let Some(year) = self.year.first(doc) {
            *self.years.entry(year).or_default() += 1;
        }
    }

    fn harvest(self) -> FacetTally {
        let mut tally = FacetTally {
            years: self.years,
            ..FacetTally::default()
        };
        for (i, (column, counts)) in self.columns.iter().zip(self.counts).enumerate() {
            let Some(column) = column else { continue };
            // Values looked up in ordinal order: each dictionary block is decompressed once.
            let (ords, counts): (Vec<u64>, Vec<u64>) = counts
                .into_iter()
                .enumerate()
                .filter(|&(_, count)| count > 0)
                .map(|(ord, count)| (ord as u64, count))
                .unzip();
            let mut counts = counts.into_iter();
            let strings = &mut tally.strings[i];
            let _ = column.dictionary().sorted_ords_to_term_cb(&ords, |bytes| {
                if let Some(count) = counts.next() {
                    strings.insert(String::from_utf8_lossy(bytes).into_owned(), count);
                }
            });
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
}

/// Collects every match with the fast fields needed to group them, until the deadline.
pub(crate) struct MatchCollector(pub Deadline);

pub(crate) struct MatchSegment {
    ticker: Ticker,
    segment: SegmentOrdinal,
    doc_hash: Column<u64>,
    path_hash: Column<u64>,
    valid_from: Column<i64>,
    valid_to: Column<i64>,
    matches: Vec<SpanMatch>,
}

impl Collector for MatchCollector {
    type Fruit = Vec<SpanMatch>;
    type Child = MatchSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<MatchSegment> {
        let fast = reader.fast_fields();
        Ok(MatchSegment {
            ticker: self.0.ticker(),
            segment,
            doc_hash: fast.u64("doc_hash")?,
            path_hash: fast.u64("path_hash")?,
            valid_from: fast.i64("valid_from")?,
            valid_to: fast.i64("valid_to")?,
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
        self.matches.push(SpanMatch {
            score,
            address: DocAddress::new(self.segment, doc),
            doc_hash: self.doc_hash.first(doc).unwrap_or(0),
            path_hash: self.path_hash.first(doc).unwrap_or(0),
            valid_from: self.valid_from.first(doc).unwrap_or(0),
            valid_to: self.valid_to.first(doc).unwrap_or(0),
        });
    }

    fn harvest(self) -> Vec<SpanMatch> {
        self.matches
    }
}
