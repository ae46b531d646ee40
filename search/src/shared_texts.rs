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
use tantivy::query::{
    AllQuery, BooleanQuery, EnableScoring, Explanation, Occur, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{
    DocAddress, DocId, DocSet, Score, Searcher, SeekDangerResult, SegmentOrdinal, SegmentReader,
    TERMINATED, Term,
};

use crate::error::{Result, SearchError};
use crate::facts::ColumnCache;

/// By segment ordinal, sorted by document: spans indexing a text, each with the addresses
/// of the spans that share it.
type SharedIndexing = Vec<Vec<(DocId, Vec<DocAddress>)>>;

/// [`SharedIndexing`] of sharing spans grouped by the span indexing their text.
fn by_segment(
    segments: usize,
    by_indexer: FxHashMap<DocAddress, Vec<DocAddress>>,
) -> SharedIndexing {
    let mut indexing = vec![Vec::new(); segments];
    for (indexer, sharing) in by_indexer {
        if let Some(segment) = indexing.get_mut(indexer.segment_ord as usize) {
            segment.push((indexer.doc_id, sharing));
        }
    }
    for segment in &mut indexing {
        segment.sort_unstable_by_key(|(doc, _)| *doc);
    }
    indexing
}

/// Which spans share which span's indexed text, in one searcher generation.
#[derive(Default)]
pub(crate) struct SharedTexts {
    /// The spans whose words other spans share, with the addresses of those spans.
    indexing: SharedIndexing,
    /// By segment ordinal and document: the span that indexes a sharing span's text.
    indexed_by: Vec<Vec<Option<DocAddress>>>,
    /// How many spans share another's text.
    sharing: usize,
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
        let mut indexed_by = Vec::with_capacity(searcher.segment_readers().len());
        let mut sharing = 0;
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let mut of_segment = vec![None; reader.max_doc() as usize];
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
                of_segment[doc as usize] = Some(indexer);
                sharing += 1;
            }
            indexed_by.push(of_segment);
        }
        let indexing = by_segment(searcher.segment_readers().len(), by_indexer);
        let fields = columns.fields();
        let mut texts = SharedTexts {
            indexing,
            indexed_by,
            sharing,
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
        self.sharing == 0
    }

    /// The span that indexes the text of the span at `address`, if it shares another's.
    pub(crate) fn indexer_of(&self, address: DocAddress) -> Option<DocAddress> {
        *self
            .indexed_by
            .get(address.segment_ord as usize)?
            .get(address.doc_id as usize)?
    }

    /// The span whose document holds the words of the span at `address`: itself, unless it
    /// shares another's text.
    pub(crate) fn indexed_by(&self, address: DocAddress) -> DocAddress {
        self.indexer_of(address).unwrap_or(address)
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
///
/// The sharing spans matched are found once per query, searcher generation and kind of
/// scoring, and kept for the other searches of the request (a page, its count, its facets).
pub(crate) struct SharedTextQuery {
    inner: Box<dyn Query>,
    texts: Arc<SharedTexts>,
    /// The filters every search with this query applies too, if known: only sharing spans
    /// that pass them are matched (see [`restricted`]).
    only: Option<Box<dyn Query>>,
    matched: Arc<Mutex<Option<Matched>>>,
}

/// The sharing spans a query matched in one searcher generation.
struct Matched {
    generation: u64,
    /// Whether their scores are the query's (a search without scores needs only the spans).
    scored: bool,
    boost: Score,
    /// `None` when no span the filters pass shares a text: the inner query is then searched
    /// as it is.
    matches: Option<Arc<Matches>>,
}

impl Clone for SharedTextQuery {
    fn clone(&self) -> Self {
        SharedTextQuery {
            inner: self.inner.box_clone(),
            texts: Arc::clone(&self.texts),
            only: self.only.as_ref().map(|q| q.box_clone()),
            matched: Arc::clone(&self.matched),
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
            only: None,
            matched: Arc::default(),
        })
    }
}

/// `text` and the clauses `filters`, as one query: a text query that matches sharing spans
/// looks for them only among the spans `filters` passes, which spares matching the texts of
/// spans the filters drop (the spans in force are a few of a document's history).
pub(crate) fn restricted(
    filters: Vec<(Occur, Box<dyn Query>)>,
    text: &dyn Query,
) -> Box<dyn Query> {
    let text = match text.downcast_ref::<SharedTextQuery>() {
        Some(shared) if !filters.is_empty() => Box::new(SharedTextQuery {
            inner: shared.inner.box_clone(),
            texts: Arc::clone(&shared.texts),
            only: Some(Box::new(BooleanQuery::new(
                filters.iter().map(|(o, q)| (*o, q.box_clone())).collect(),
            ))),
            matched: Arc::default(),
        }),
        _ => text.box_clone(),
    };
    let mut all = filters;
    all.push((Occur::Must, text));
    Box::new(BooleanQuery::new(all))
}

impl fmt::Debug for SharedTextQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedTextQuery").field(&self.inner).finish()
    }
}

impl Query for SharedTextQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let searcher = enable_scoring.searcher().cloned();
        let scored = enable_scoring.is_scoring_enabled();
        let inner = self.inner.weight(enable_scoring)?;
        let Some(searcher) = searcher else {
            return Ok(inner);
        };
        let only = match &self.only {
            Some(only) => Some(only.weight(EnableScoring::disabled_from_searcher(&searcher))?),
            None => None,
        };
        Ok(Box::new(SharedTextWeight {
            inner,
            texts: Arc::clone(&self.texts),
            only,
            searcher,
            scored,
            matched: Arc::clone(&self.matched),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

/// By segment ordinal, sorted by document: the spans a query matches, with their scores.
type Matches = Vec<Vec<(DocId, Score)>>;

struct SharedTextWeight {
    inner: Box<dyn Weight>,
    texts: Arc<SharedTexts>,
    only: Option<Box<dyn Weight>>,
    searcher: Searcher,
    scored: bool,
    matched: Arc<Mutex<Option<Matched>>>,
}

impl SharedTextWeight {
    /// What the query matches, found once per query (see [`SharedTextQuery`]).
    fn matches(&self, boost: Score) -> tantivy::Result<Option<Arc<Matches>>> {
        let generation = self.searcher.generation().generation_id();
        let mut held = self.matched.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(matched) = held.as_ref()
            && matched.generation == generation
            && matched.boost == boost
            && (matched.scored || !self.scored)
        {
            return Ok(matched.matches.clone());
        }
        let matches = self.find(boost)?.map(Arc::new);
        *held = Some(Matched {
            generation,
            scored: self.scored,
            boost,
            matches: matches.clone(),
        });
        Ok(matches)
    }

    /// Every span the query matches, in one pass over each segment: a sharing span
    /// matches with the score of the span indexing its text. When the filters are the
    /// cheaper side to walk (the spans in force, say), as an intersection would choose, the
    /// inner query is scored only at the spans they pass and at the spans indexing those
    /// spans' texts; otherwise it is scored everywhere, and the filters checked at its
    /// matches by the search around it. `None` when no span the filters pass shares a text
    /// (the spans in force never do).
    fn find(&self, boost: Score) -> tantivy::Result<Option<Matches>> {
        let readers = self.searcher.segment_readers();
        let mut scorers = readers
            .iter()
            .map(|reader| self.inner.scorer(reader, boost))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let cost = scorers.iter().map(|s| s.cost()).sum();
        let Some(passing) = self.cheaper_filters(cost)? else {
            let found: Matches = scorers.iter_mut().map(|s| every_scored(&mut **s)).collect();
            let mut matches = found.clone();
            let direct: Vec<usize> = found.iter().map(Vec::len).collect();
            for (indexing, found) in self.texts.indexing.iter().zip(&found) {
                for_each_shared(indexing, found, |address, score| {
                    matches[address.segment_ord as usize].push((address.doc_id, score));
                });
            }
            return Ok(Some(sorted(matches, &direct)));
        };
        let mut needed: Vec<Vec<DocId>> = vec![Vec::new(); readers.len()];
        for (ord, docs) in passing.iter().enumerate() {
            for doc in docs {
                if let Some(indexer) = self.texts.indexer_of(DocAddress::new(ord as u32, *doc)) {
                    needed[indexer.segment_ord as usize].push(indexer.doc_id);
                }
            }
        }
        if needed.iter().all(Vec::is_empty) {
            return Ok(None);
        }
        let mut found: Matches = Vec::with_capacity(readers.len());
        for ((scorer, passing), needed) in scorers.iter_mut().zip(&passing).zip(&mut needed) {
            needed.sort_unstable();
            found.push(score_at(&mut **scorer, &union(passing, needed)));
        }
        let mut matches: Matches = found
            .iter()
            .zip(&passing)
            .map(|(found, passing)| only_in(found, passing))
            .collect();
        let direct: Vec<usize> = matches.iter().map(Vec::len).collect();
        for (ord, docs) in passing.iter().enumerate() {
            for doc in docs {
                let Some(indexer) = self.texts.indexer_of(DocAddress::new(ord as u32, *doc)) else {
                    continue;
                };
                if let Some(score) = score_of(&found[indexer.segment_ord as usize], indexer.doc_id)
                {
                    matches[ord].push((*doc, score));
                }
            }
        }
        Ok(Some(sorted(matches, &direct)))
    }

    /// The documents the filters pass, by segment, when walking them costs less than
    /// walking the inner query (`cost`, as Tantivy's docsets estimate it); `None` otherwise
    /// or when the filters are not known.
    fn cheaper_filters(&self, cost: u64) -> tantivy::Result<Option<Vec<Vec<DocId>>>> {
        let Some(only) = &self.only else {
            return Ok(None);
        };
        let readers = self.searcher.segment_readers();
        let mut scorers = readers
            .iter()
            .map(|reader| only.scorer(reader, 1.0))
            .collect::<tantivy::Result<Vec<_>>>()?;
        if scorers.iter().map(|s| s.cost()).sum::<u64>() >= cost {
            return Ok(None);
        }
        Ok(Some(
            scorers.iter_mut().map(|s| every_doc(&mut **s)).collect(),
        ))
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
        let (Some(segment), Some(matches)) = (self.ordinal(reader), self.matches(boost)?) else {
            return self.inner.scorer(reader, boost);
        };
        Ok(Box::new(Listed {
            matches,
            segment,
            next: 0,
        }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }
}

/// Every document of a docset, in order.
fn every_doc(docs: &mut dyn Scorer) -> Vec<DocId> {
    let mut all = Vec::with_capacity(docs.size_hint() as usize);
    let mut doc = docs.doc();
    while doc != TERMINATED {
        all.push(doc);
        doc = docs.advance();
    }
    all
}

/// Every document a scorer matches, with its score.
fn every_scored(scorer: &mut dyn Scorer) -> Vec<(DocId, Score)> {
    let mut all = Vec::new();
    let mut doc = scorer.doc();
    while doc != TERMINATED {
        all.push((doc, scorer.score()));
        doc = scorer.advance();
    }
    all
}

/// The documents among `targets` (ascending) that a scorer matches, with their scores.
/// Targets are checked with `seek_danger`, as Tantivy's intersections check theirs: a union
/// of phrases then tests only the targets instead of every document between them.
fn score_at(scorer: &mut dyn Scorer, targets: &[DocId]) -> Vec<(DocId, Score)> {
    let mut found = Vec::new();
    // Whether the scorer stands on a document (`seek_danger` may leave it between), and
    // the least document it may still match.
    let (mut valid, mut bound) = (true, 0);
    for &target in targets {
        if target < bound {
            continue;
        }
        if valid {
            let doc = scorer.doc();
            if doc == TERMINATED {
                break;
            }
            if doc >= target {
                if doc == target {
                    found.push((doc, scorer.score()));
                }
                bound = doc;
                continue;
            }
        }
        match scorer.seek_danger(target) {
            SeekDangerResult::Found => {
                valid = true;
                found.push((target, scorer.score()));
            }
            SeekDangerResult::SeekLowerBound(lower) => {
                if lower == TERMINATED {
                    break;
                }
                (valid, bound) = (false, lower);
            }
        }
    }
    found
}

/// Calls `shared` with each sharing span of the spans `found` holds (both lists ascending by
/// document), and the score found for the span indexing its text.
fn for_each_shared(
    indexing: &[(DocId, Vec<DocAddress>)],
    found: &[(DocId, Score)],
    mut shared: impl FnMut(DocAddress, Score),
) {
    let (mut i, mut j) = (0, 0);
    while i < indexing.len() && j < found.len() {
        match indexing[i].0.cmp(&found[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                for address in &indexing[i].1 {
                    shared(*address, found[j].1);
                }
                i += 1;
                j += 1;
            }
        }
    }
}

/// Two ascending lists of documents merged, each document once.
fn union(a: &[DocId], b: &[DocId]) -> Vec<DocId> {
    let mut all = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    loop {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => *x.min(y),
            (Some(x), None) => *x,
            (None, Some(y)) => *y,
            (None, None) => break,
        };
        while a.get(i) == Some(&next) {
            i += 1;
        }
        while b.get(j) == Some(&next) {
            j += 1;
        }
        all.push(next);
    }
    all
}

/// The scored documents that are in `passing` (both ascending).
fn only_in(scored: &[(DocId, Score)], passing: &[DocId]) -> Vec<(DocId, Score)> {
    let mut kept = Vec::new();
    let mut rest = passing;
    for &(doc, score) in scored {
        rest = &rest[rest.partition_point(|d| *d < doc)..];
        if rest.first() == Some(&doc) {
            kept.push((doc, score));
        }
    }
    kept
}

/// The score of `doc` among ascending scored documents.
fn score_of(scored: &[(DocId, Score)], doc: DocId) -> Option<Score> {
    scored
        .binary_search_by_key(&doc, |(d, _)| *d)
        .ok()
        .map(|i| scored[i].1)
}

/// Each segment's matches in document order, each document once: `direct[i]` leading
/// entries of segment `i` are in order already (the inner query's), the rest were appended.
fn sorted(mut matches: Matches, direct: &[usize]) -> Matches {
    for (segment, &direct) in matches.iter_mut().zip(direct) {
        segment[direct..].sort_unstable_by_key(|(doc, _)| *doc);
        // Two ascending runs: the stable sort merges them in one pass.
        segment.sort_by_key(|(doc, _)| *doc);
        segment.dedup_by_key(|(doc, _)| *doc);
    }
    matches
}

/// The matches of one segment, as a scorer.
struct Listed {
    matches: Arc<Matches>,
    segment: usize,
    next: usize,
}

impl Listed {
    fn rest(&self) -> &[(DocId, Score)] {
        self.matches[self.segment].get(self.next..).unwrap_or(&[])
    }
}

impl DocSet for Listed {
    fn advance(&mut self) -> DocId {
        if self.next < self.matches[self.segment].len() {
            self.next += 1;
        }
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        // Galloping: seeks in an intersection mostly land a few documents ahead.
        let rest = self.rest();
        let mut end = 1;
        while end < rest.len() && rest[end - 1].0 < target {
            end *= 2;
        }
        let end = end.min(rest.len());
        self.next += rest[..end].partition_point(|(d, _)| *d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.rest().first().map_or(TERMINATED, |(d, _)| *d)
    }

    fn size_hint(&self) -> u32 {
        self.rest().len() as u32
    }
}

impl Scorer for Listed {
    fn score(&mut self) -> Score {
        self.rest().first().map_or(0.0, |(_, s)| *s)
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

    #[test]
    fn document_lists_merge_filter_and_replay_in_order() {
        assert_eq!(union(&[1, 4, 9], &[2, 4, 10]), [1, 2, 4, 9, 10]);
        assert_eq!(union(&[], &[3]), [3]);
        let scored = [(1, 1.0), (4, 4.0), (9, 9.0)];
        assert_eq!(only_in(&scored, &[4, 5, 9]), [(4, 4.0), (9, 9.0)]);
        assert_eq!(score_of(&scored, 9), Some(9.0));
        assert_eq!(score_of(&scored, 5), None);
        let matches = sorted(
            vec![vec![(1, 1.0), (7, 7.0), (5, 5.0), (2, 2.0), (7, 7.0)]],
            &[2],
        );
        assert_eq!(matches[0], [(1, 1.0), (2, 2.0), (5, 5.0), (7, 7.0)]);
        let mut listed = Listed {
            matches: Arc::new(matches),
            segment: 0,
            next: 0,
        };
        assert_eq!(listed.doc(), 1);
        assert_eq!(listed.seek(3), 5);
        assert_eq!(listed.score(), 5.0);
        assert_eq!(listed.seek(5), 5);
        assert_eq!(listed.advance(), 7);
        assert_eq!(listed.advance(), TERMINATED);
        assert_eq!(listed.seek(100), TERMINATED);
    }

    #[test]
    fn sharing_spans_follow_the_indexing_spans_found() {
        let address = |doc| DocAddress::new(1, doc);
        let indexing = vec![(2, vec![address(10)]), (5, vec![address(11), address(12)])];
        let mut shared = Vec::new();
        for_each_shared(&indexing, &[(2, 0.5), (3, 0.7), (5, 0.9)], |a, s| {
            shared.push((a.doc_id, s))
        });
        assert_eq!(shared, [(10, 0.5), (11, 0.9), (12, 0.9)]);
    }
}
