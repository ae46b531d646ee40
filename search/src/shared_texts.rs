//! Spans that share the indexed text of an earlier span of their document.
//!
//! A section that comes back to a text it held before (a flipping section) opens a new span
//! whose document holds its facts (instants, versions, changes, filters) but not its words:
//! the first span of the document with that path and text indexes them once (`indexed_as`).
//! [`SharedTextQuery`] makes this invisible to every search: wrapped around a text query, it
//! matches a sharing span exactly when the query matches the span indexing its text, with
//! that span's score, and [`SharedTexts::doc_freq`] and [`SharedTexts::total_num_tokens`]
//! count the sharing spans as if they held their words, so idf and BM25 lengths are those of
//! an index of every span.

use std::fmt;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tantivy::query::{AllQuery, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED, Term,
};

use crate::error::{Result, SearchError};
use crate::facts::ColumnCache;

/// Which spans share which span's indexed text, in one searcher generation.
#[derive(Default)]
pub(crate) struct SharedTexts {
    /// By segment ordinal, sorted by document: the spans whose words other spans share, with
    /// the addresses of those spans.
    indexing: Vec<Vec<(DocId, Vec<DocAddress>)>>,
    /// By sharing span: the span that indexes its text.
    indexed_by: FxHashMap<DocAddress, DocAddress>,
    /// Tokens the sharing spans would add to each text field, from their indexing span's
    /// field length.
    tokens: Vec<(Field, u64)>,
    /// Document frequencies counted so far in this generation, sharing spans included.
    doc_freqs: Mutex<FxHashMap<Term, u64>>,
}

impl SharedTexts {
    /// Reads which spans share texts: every live span with an `indexed_as` column value.
    pub(crate) fn read(searcher: &Searcher, columns: &ColumnCache) -> Result<SharedTexts> {
        let addresses = columns.span_addresses(searcher)?;
        let mut by_indexer: FxHashMap<DocAddress, Vec<DocAddress>> = FxHashMap::default();
        let mut indexed_by = FxHashMap::default();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let segment = columns
                .get(reader)
                .map_err(SearchError::tantivy("cannot read shared texts"))?;
            let alive = reader.alive_bitset();
            for doc in 0..reader.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let Some(indexer) = segment.indexed_as.first(doc) else {
                    continue;
                };
                let Some(&indexer) = addresses.get(&indexer) else {
                    return Err(palimpsest_schema::SchemaError::Inconsistent(format!(
                        "span {indexer}, which indexes another span's text, is missing"
                    ))
                    .into());
                };
                let address = DocAddress::new(ord as SegmentOrdinal, doc);
                by_indexer.entry(indexer).or_default().push(address);
                indexed_by.insert(address, indexer);
            }
        }
        let mut indexing = vec![Vec::new(); searcher.segment_readers().len()];
        for (indexer, sharing) in by_indexer {
            indexing[indexer.segment_ord as usize].push((indexer.doc_id, sharing));
        }
        for segment in &mut indexing {
            segment.sort_unstable_by_key(|(doc, _)| *doc);
        }
        let fields = columns.fields();
        let mut texts = SharedTexts {
            indexing,
            indexed_by,
            tokens: Vec::new(),
            doc_freqs: Mutex::default(),
        };
        for field in [
            fields.title,
            fields.body,
            fields.title_stem,
            fields.body_stem,
        ] {
            let tokens = texts.shared_tokens(searcher, field)?;
            texts.tokens.push((field, tokens));
        }
        Ok(texts)
    }

    fn shared_tokens(&self, searcher: &Searcher, field: Field) -> Result<u64> {
        let mut tokens = 0;
        for (reader, indexing) in searcher.segment_readers().iter().zip(&self.indexing) {
            let lengths = reader
                .get_fieldnorms_reader(field)
                .map_err(SearchError::tantivy("cannot read field lengths"))?;
            for (doc, sharing) in indexing {
                tokens += u64::from(lengths.fieldnorm(*doc)) * sharing.len() as u64;
            }
        }
        Ok(tokens)
    }

    /// Whether no span shares another's text (then queries need no wrapping).
    pub(crate) fn is_empty(&self) -> bool {
        self.indexed_by.is_empty()
    }

    /// The span whose document holds the words of the span at `address`: itself, unless it
    /// shares another's text.
    pub(crate) fn indexed_by(&self, address: DocAddress) -> DocAddress {
        self.indexed_by.get(&address).copied().unwrap_or(address)
    }

    /// How many spans or version records hold `term`, sharing spans counted with the span
    /// that indexes their text.
    pub(crate) fn doc_freq(&self, searcher: &Searcher, term: &Term) -> tantivy::Result<u64> {
        let indexed = searcher.doc_freq(term)?;
        if indexed == 0 || self.is_empty() || !self.tokens.iter().any(|(f, _)| *f == term.field()) {
            return Ok(indexed);
        }
        if let Some(&known) = self.lock().get(term) {
            return Ok(known);
        }
        let mut shared = 0;
        for (reader, indexing) in searcher.segment_readers().iter().zip(&self.indexing) {
            if indexing.is_empty() {
                continue;
            }
            let inverted = reader.inverted_index(term.field())?;
            if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
                shared += shared_in(&mut postings, indexing);
            }
        }
        let all = indexed + shared;
        self.lock().insert(term.clone(), all);
        Ok(all)
    }

    /// Tokens of `field` in the index, sharing spans counted with their words.
    pub(crate) fn total_num_tokens(
        &self,
        searcher: &Searcher,
        field: Field,
    ) -> tantivy::Result<u64> {
        let indexed = tantivy::query::Bm25StatisticsProvider::total_num_tokens(searcher, field)?;
        let shared = self
            .tokens
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(0, |(_, t)| *t);
        Ok(indexed + shared)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FxHashMap<Term, u64>> {
        self.doc_freqs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How many spans share the text of the documents `docs` visits, among `indexing`.
fn shared_in(docs: &mut impl DocSet, indexing: &[(DocId, Vec<DocAddress>)]) -> u64 {
    let mut shared = 0;
    let mut rest = indexing;
    let mut doc = docs.doc();
    while doc != TERMINATED {
        rest = &rest[rest.partition_point(|(d, _)| *d < doc)..];
        let Some((next, sharing)) = rest.first() else {
            break;
        };
        if *next == doc {
            shared += sharing.len() as u64;
            doc = docs.advance();
        } else {
            doc = docs.seek(*next);
        }
    }
    shared
}

/// A text query that matches sharing spans through the span indexing their text.
pub(crate) struct SharedTextQuery {
    inner: Box<dyn Query>,
    texts: Arc<SharedTexts>,
}

impl Clone for SharedTextQuery {
    fn clone(&self) -> Self {
        SharedTextQuery {
            inner: self.inner.box_clone(),
            texts: Arc::clone(&self.texts),
        }
    }
}

impl SharedTextQuery {
    /// `inner`, matching sharing spans too; `inner` itself when no span shares a text, or
    /// when `inner` matches every document anyway.
    pub(crate) fn wrap(inner: Box<dyn Query>, texts: &Arc<SharedTexts>) -> Box<dyn Query> {
        if texts.is_empty() || inner.is::<AllQuery>() {
            return inner;
        }
        Box::new(SharedTextQuery {
            inner,
            texts: Arc::clone(texts),
        })
    }
}

impl fmt::Debug for SharedTextQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedTextQuery").field(&self.inner).finish()
    }
}

impl Query for SharedTextQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let searcher = enable_scoring.searcher().cloned();
        let inner = self.inner.weight(enable_scoring)?;
        let Some(searcher) = searcher else {
            return Ok(inner);
        };
        Ok(Box::new(SharedTextWeight {
            inner,
            texts: Arc::clone(&self.texts),
            searcher,
            shared: Mutex::new(None),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

/// By segment ordinal, sorted by document: the sharing spans a query matches, with scores.
type SharedMatches = Vec<Vec<(DocId, Score)>>;

struct SharedTextWeight {
    inner: Box<dyn Weight>,
    texts: Arc<SharedTexts>,
    searcher: Searcher,
    /// The sharing spans matched, found with the first segment scored (and its boost).
    shared: Mutex<Option<(Score, Arc<SharedMatches>)>>,
}

impl SharedTextWeight {
    fn shared(&self, boost: Score) -> tantivy::Result<Arc<SharedMatches>> {
        let mut held = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, matches)) = held.as_ref()
            && *at == boost
        {
            return Ok(Arc::clone(matches));
        }
        let matches = Arc::new(self.match_shared(boost)?);
        *held = Some((boost, Arc::clone(&matches)));
        Ok(matches)
    }

    /// Runs the query over the spans whose text others share, and gives each sharing span
    /// the score of the span that indexes its text.
    fn match_shared(&self, boost: Score) -> tantivy::Result<SharedMatches> {
        let readers = self.searcher.segment_readers();
        let mut matches: SharedMatches = vec![Vec::new(); readers.len()];
        for (reader, indexing) in readers.iter().zip(&self.texts.indexing) {
            if indexing.is_empty() {
                continue;
            }
            let mut scorer = self.inner.scorer(reader, boost)?;
            for (doc, sharing) in indexing {
                if scorer.doc() < *doc {
                    scorer.seek(*doc);
                }
                if scorer.doc() == TERMINATED {
                    break;
                }
                if scorer.doc() == *doc {
                    let score = scorer.score();
                    for address in sharing {
                        matches[address.segment_ord as usize].push((address.doc_id, score));
                    }
                }
            }
        }
        for segment in &mut matches {
            segment.sort_unstable_by_key(|(doc, _)| *doc);
        }
        Ok(matches)
    }

    fn ordinal(&self, reader: &SegmentReader) -> Option<usize> {
        self.searcher
            .segment_readers()
            .iter()
            .position(|r| r.segment_id() == reader.segment_id())
    }
}

impl Weight for SharedTextWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let inner = self.inner.scorer(reader, boost)?;
        let Some(ordinal) = self.ordinal(reader) else {
            return Ok(inner);
        };
        let shared = self.shared(boost)?;
        if shared[ordinal].is_empty() {
            return Ok(inner);
        }
        Ok(Box::new(WithShared::new(inner, shared, ordinal)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }
}

/// The inner query's matches of one segment merged with the sharing spans it matched.
struct WithShared {
    inner: Box<dyn Scorer>,
    shared: Arc<SharedMatches>,
    segment: usize,
    /// Position of the next sharing span in `shared[segment]`.
    next: usize,
    doc: DocId,
}

impl WithShared {
    fn new(inner: Box<dyn Scorer>, shared: Arc<SharedMatches>, segment: usize) -> WithShared {
        let mut merged = WithShared {
            inner,
            shared,
            segment,
            next: 0,
            doc: TERMINATED,
        };
        merged.doc = merged.current();
        merged
    }

    fn pending(&self) -> &[(DocId, Score)] {
        &self.shared[self.segment][self.next..]
    }

    fn current(&self) -> DocId {
        let shared = self.pending().first().map_or(TERMINATED, |(d, _)| *d);
        self.inner.doc().min(shared)
    }
}

impl DocSet for WithShared {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        if self.inner.doc() == self.doc {
            self.inner.advance();
        }
        if self.pending().first().is_some_and(|(d, _)| *d == self.doc) {
            self.next += 1;
        }
        self.doc = self.current();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        if self.inner.doc() < target {
            self.inner.seek(target);
        }
        self.next += self.pending().partition_point(|(d, _)| *d < target);
        self.doc = self.current();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.inner
            .size_hint()
            .saturating_add(self.pending().len() as u32)
    }
}

impl Scorer for WithShared {
    fn score(&mut self) -> Score {
        let shared = self
            .pending()
            .first()
            .filter(|(d, _)| *d == self.doc)
            .map(|(_, s)| *s);
        let inner = (self.inner.doc() == self.doc).then(|| self.inner.score());
        match (inner, shared) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b).unwrap_or(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sorted list of documents as a [`DocSet`].
    struct Docs(Vec<DocId>, usize);

    impl DocSet for Docs {
        fn advance(&mut self) -> DocId {
            self.1 += 1;
            self.doc()
        }

        fn doc(&self) -> DocId {
            self.0.get(self.1).copied().unwrap_or(TERMINATED)
        }

        fn size_hint(&self) -> u32 {
            self.0.len() as u32
        }
    }

    fn docs(list: &[DocId]) -> Docs {
        Docs(list.to_vec(), 0)
    }

    #[test]
    fn sharing_spans_are_counted_for_the_indexing_spans_a_posting_list_holds() {
        let address = |doc| DocAddress::new(0, doc);
        let indexing = vec![
            (2, vec![address(10)]),
            (5, vec![address(11), address(12)]),
            (9, vec![address(13)]),
        ];
        assert_eq!(shared_in(&mut docs(&[1, 2, 3, 9]), &indexing), 2);
        assert_eq!(shared_in(&mut docs(&[5, 6]), &indexing), 2);
        assert_eq!(shared_in(&mut docs(&[0, 1, 3]), &indexing), 0);
        assert_eq!(shared_in(&mut docs(&[]), &indexing), 0);
    }
}
