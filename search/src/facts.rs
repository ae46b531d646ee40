//! Facts about spans and version records read from fast fields alone, without loading stored
//! documents: the material of change lists, phrase histories, trends and diffs.

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use palimpsest_schema::{
    DocKey, DocType, IndexFields, StepCounts, StepLink, StepSpan, Timestamp, VersionKind,
};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::query::{BooleanQuery, Occur};
use tantivy::schema::Field;
use tantivy::{
    DocAddress, DocId, Score, Searcher, SearcherGeneration, SegmentOrdinal, SegmentReader, Warmer,
};

use crate::deadline::{Deadline, Ticker};
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::query::clauses::{any_document, term};
use crate::request::Filters;
use crate::shared_texts::SharedTexts;
use crate::twins::{SharedDocuments, TwinOf, twin_key};

/// A span as the time-travel operations see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpanFact {
    pub address: DocAddress,
    pub score: Score,
    pub doc_hash: u64,
    pub path_hash: u64,
    pub content_hash: u64,
    /// Its substance hash: equal on both sides of a minor change.
    pub substance_hash: u64,
    /// Its span id.
    pub span_id: u64,
    /// Ordinal of the version that opened it.
    pub opened: u64,
    /// Ordinal of the version that closed it, or `OPEN_ORDINAL`.
    pub closed: u64,
    pub valid_from: i64,
    pub valid_to: i64,
}

impl SpanFact {
    /// The facts its step is paired by.
    pub fn step(&self) -> StepSpan {
        StepSpan {
            path_hash: self.path_hash,
            content_hash: self.content_hash,
            valid_from: self.valid_from,
            span_id: self.span_id,
            substance_hash: self.substance_hash,
        }
    }
}

/// The fast-field columns of one segment that the time-travel operations read, opened once
/// and kept while the segment lives: opening a column parses its block metadata, and naming
/// documents and kinds decompresses dictionary blocks, which together cost more than the rest
/// of a narrow request.
pub(crate) struct SegmentColumns {
    pub(crate) doc_hash: Column<u64>,
    pub(crate) path_hash: Column<u64>,
    content_hash: Column<u64>,
    substance_hash: Column<u64>,
    pub(crate) span_id: Column<u64>,
    /// Spans sharing an earlier span's indexed text: that span's id.
    pub(crate) indexed_as: Column<u64>,
    opened: Column<u64>,
    closed: Column<u64>,
    /// Spans' [`StepLink`]s: the change that opened each, the change that closed it.
    opened_link: [Column<u64>; 2],
    closed_link: [Column<u64>; 2],
    pub(crate) valid_from: Column<i64>,
    pub(crate) valid_to: Column<i64>,
    ordinal: Column<u64>,
    recorded_at: Column<i64>,
    /// Spans: the year of `valid_from`, for the year facet.
    pub(crate) year: Column<u64>,
    /// Version records' [`StepCounts`], in the order of [`IndexFields::steps`].
    steps: [Column<u64>; 5],
    kinds: Option<StrColumn>,
    kind_of_ord: Vec<Option<VersionKind>>,
    keys: Option<StrColumn>,
    /// Version records' source ids.
    version_ids: Option<StrColumn>,
    /// Document key text by `doc_key` term ordinal.
    key_names: Vec<String>,
    /// By `doc_key` ordinal: the document's collection and its hash without the collection.
    key_twins: Vec<KeyTwin>,
    /// The string facets' columns, in the order of [`IndexFields::facets`], with their values by ordinal:
    /// naming the values a search counted then costs no dictionary reads.
    pub(crate) facets: [FacetColumn; 4],
}

/// A string facet's column and its values by ordinal, read from its dictionary the first
/// time a facet count asks for them (reading them is most of what opening a segment's
/// columns would cost).
pub(crate) struct FacetColumn {
    pub column: Option<StrColumn>,
    names: OnceLock<Vec<Arc<str>>>,
}

impl FacetColumn {
    fn new(column: Option<StrColumn>) -> FacetColumn {
        FacetColumn {
            column,
            names: OnceLock::new(),
        }
    }

    /// Its values by ordinal.
    pub(crate) fn names(&self) -> tantivy::Result<&[Arc<str>]> {
        if let Some(names) = self.names.get() {
            return Ok(names);
        }
        let names = dictionary_terms(&self.column)?
            .into_iter()
            .map(Arc::from)
            .collect();
        Ok(self.names.get_or_init(|| names))
    }

    /// Its values by ordinal, if [`FacetColumn::names`] has read them.
    pub(crate) fn names_read(&self) -> &[Arc<str>] {
        self.names.get().map_or(&[], Vec::as_slice)
    }
}

/// Every term of a string column's dictionary, by ordinal.
fn dictionary_terms(column: &Option<StrColumn>) -> tantivy::Result<Vec<String>> {
    let mut names = Vec::new();
    if let Some(column) = column {
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            names.push(String::from_utf8_lossy(stream.key()).into_owned());
        }
    }
    Ok(names)
}

/// A document key split the way [`crate::twins`] compares documents.
pub(crate) struct KeyTwin {
    pub collection: String,
    /// Hash of the service and terms type.
    pub document: u64,
}

impl KeyTwin {
    fn of(key_text: &str) -> KeyTwin {
        let (collection, document) = key_text.split_once('\u{1f}').unwrap_or(("", key_text));
        KeyTwin {
            collection: collection.to_owned(),
            document: xxhash_rust::xxh3::xxh3_64(document.as_bytes()),
        }
    }
}

impl SegmentColumns {
    /// The document hash (service and terms type, see [`KeyTwin`]) of a span.
    pub(crate) fn document_of(&self, doc: DocId) -> Option<u64> {
        self.key_twin(doc).map(|t| t.document)
    }

    fn key_twin(&self, doc: DocId) -> Option<&KeyTwin> {
        self.keys
            .as_ref()
            .and_then(|c| c.term_ords(doc).next())
            .and_then(|ord| self.key_twins.get(ord as usize))
    }

    /// The facts of span `doc` of this segment (segment ordinal `segment` in its searcher).
    pub(crate) fn fact(&self, segment: SegmentOrdinal, doc: DocId, score: Score) -> SpanFact {
        let value = |column: &Column<u64>| column.first(doc).unwrap_or(0);
        SpanFact {
            address: DocAddress::new(segment, doc),
            score,
            doc_hash: value(&self.doc_hash),
            path_hash: value(&self.path_hash),
            content_hash: value(&self.content_hash),
            substance_hash: value(&self.substance_hash),
            span_id: value(&self.span_id),
            opened: value(&self.opened),
            closed: value(&self.closed),
            valid_from: self.valid_from.first(doc).unwrap_or(0),
            valid_to: self.valid_to.first(doc).unwrap_or(0),
        }
    }

    /// The changes span `doc` took part in: the one that opened it, the one that closed it
    /// (none while in force).
    pub(crate) fn links(&self, doc: DocId) -> [Option<StepLink>; 2] {
        [&self.opened_link, &self.closed_link].map(|[head, partner]| {
            StepLink::decode([head, partner].map(|c| c.first(doc).unwrap_or(0)))
        })
    }

    /// The twin key and collection of a span of this segment.
    pub(crate) fn twin_of(&self, doc: DocId) -> TwinOf {
        let twin = self.key_twin(doc);
        let (collection, document) = twin.map_or(("", 0), |t| (t.collection.as_str(), t.document));
        TwinOf {
            key: twin_key(
                document,
                self.path_hash.first(doc).unwrap_or(0),
                self.content_hash.first(doc).unwrap_or(0),
            ),
            collection: collection.to_owned(),
        }
    }

    /// The collection and document hash (service and terms type) of each document key.
    pub(crate) fn document_hashes(&self) -> impl Iterator<Item = (&str, u64)> {
        self.key_twins
            .iter()
            .map(|t| (t.collection.as_str(), t.document))
    }

    fn open(reader: &SegmentReader, fields: &IndexFields) -> tantivy::Result<SegmentColumns> {
        let facet = |field: Field| -> tantivy::Result<FacetColumn> {
            Ok(FacetColumn::new(fields.str_column(reader, field)?))
        };
        let [service, terms_type, collection, section] = fields.facets();
        let facets = [
            facet(service)?,
            facet(terms_type)?,
            facet(collection)?,
            facet(section)?,
        ];
        let u64s = |field| fields.u64_column(reader, field);
        let i64s = |field| fields.i64_column(reader, field);
        let [added, removed, modified, minor, moved] = fields.steps;
        let kinds = fields.str_column(reader, fields.version_kind)?;
        let keys = fields.str_column(reader, fields.doc_key)?;
        let key_names = dictionary_terms(&keys)?;
        Ok(SegmentColumns {
            doc_hash: u64s(fields.doc_hash)?,
            path_hash: u64s(fields.path_hash)?,
            content_hash: u64s(fields.content_hash)?,
            substance_hash: u64s(fields.substance_hash)?,
            span_id: u64s(fields.span_id)?,
            indexed_as: u64s(fields.indexed_as)?,
            opened: u64s(fields.opened)?,
            closed: u64s(fields.closed)?,
            opened_link: [u64s(fields.opened_link[0])?, u64s(fields.opened_link[1])?],
            closed_link: [u64s(fields.closed_link[0])?, u64s(fields.closed_link[1])?],
            valid_from: i64s(fields.valid_from)?,
            valid_to: i64s(fields.valid_to)?,
            year: u64s(fields.year)?,
            ordinal: u64s(fields.ordinal)?,
            recorded_at: i64s(fields.recorded_at)?,
            steps: [
                u64s(added)?,
                u64s(removed)?,
                u64s(modified)?,
                u64s(minor)?,
                u64s(moved)?,
            ],
            kind_of_ord: dictionary_terms(&kinds)?
                .iter()
                .map(|k| k.parse().ok())
                .collect(),
            key_twins: key_names.iter().map(|k| KeyTwin::of(k)).collect(),
            key_names,
            version_ids: fields.str_column(reader, fields.version_id)?,
            kinds,
            keys,
            facets,
        })
    }
}

/// A value read from a searcher once per searcher generation, shared by the requests that
/// use that generation.
pub(crate) struct PerGeneration<T> {
    held: Mutex<Option<(u64, Arc<T>)>>,
}

impl<T> Default for PerGeneration<T> {
    fn default() -> Self {
        PerGeneration {
            held: Mutex::new(None),
        }
    }
}

impl<T> PerGeneration<T> {
    /// The value of `searcher`'s generation: the one held, or `read` (while the lock is held,
    /// so that concurrent requests of a new generation read it once).
    pub(crate) fn get(
        &self,
        searcher: &Searcher,
        read: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        let generation = searcher.generation().generation_id();
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, value)) = held.as_ref()
            && *at == generation
        {
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(read()?);
        *held = Some((generation, Arc::clone(&value)));
        Ok(value)
    }

    /// The value of `searcher`'s generation, if it has been read.
    pub(crate) fn held(&self, searcher: &Searcher) -> Option<Arc<T>> {
        let generation = searcher.generation().generation_id();
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref()
            .filter(|(at, _)| *at == generation)
            .map(|(_, value)| Arc::clone(value))
    }
}

/// Values looked up one key at a time and kept for the searcher generation they were read
/// from: the first request of a new generation starts an empty map, and a request still on
/// an older generation reads past it without storing.
pub(crate) struct PerGenerationMap<K, V> {
    held: Mutex<(u64, FxHashMap<K, V>)>,
}

impl<K, V> Default for PerGenerationMap<K, V> {
    fn default() -> Self {
        PerGenerationMap {
            held: Mutex::new((0, FxHashMap::default())),
        }
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> PerGenerationMap<K, V> {
    /// The value of `key` in `searcher`'s generation: the one held, or `read` (outside the
    /// lock, so that a slow read does not hold up other keys).
    pub(crate) fn get(
        &self,
        searcher: &Searcher,
        key: K,
        read: impl FnOnce() -> Result<V>,
    ) -> Result<V> {
        let generation = searcher.generation().generation_id();
        {
            let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            if held.0 == generation
                && let Some(value) = held.1.get(&key)
            {
                return Ok(value.clone());
            }
        }
        let value = read()?;
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.0 < generation {
            *held = (generation, FxHashMap::default());
        }
        if held.0 == generation {
            held.1.insert(key, value.clone());
        }
        Ok(value)
    }
}

/// [`SegmentColumns`] by segment, shared by every request of an [`Engine`]. Filled as
/// requests need a segment; as a [`Warmer`] of the engine's reader it drops a segment once
/// no searcher holds it any more (a merge or a rebuild retired it), so a long-running server
/// keeps the columns of the segments it serves and no others.
pub(crate) struct ColumnCache {
    fields: IndexFields,
    segments: Mutex<FxHashMap<SegmentId, Arc<SegmentColumns>>>,
    /// The documents several collections hold.
    pub(crate) shared: PerGeneration<SharedDocuments>,
    /// Every version record, named: change lists, histories and trends select from it.
    versions: PerGeneration<VersionTable>,
    /// The id of each document's latest version, by document hash, as hits on sections in
    /// force name it.
    pub(crate) latest_ids: PerGenerationMap<u64, String>,
    /// Every live span's address by span id: change lists find the other side of a change
    /// from the [`StepLink`] of the side that passed their filters.
    span_addresses: PerGeneration<FxHashMap<u64, DocAddress>>,
    /// Which spans share an earlier span's indexed text.
    shared_texts: PerGeneration<SharedTexts>,
}

impl ColumnCache {
    pub(crate) fn new(fields: IndexFields) -> ColumnCache {
        ColumnCache {
            fields,
            segments: Mutex::default(),
            shared: PerGeneration::default(),
            versions: PerGeneration::default(),
            latest_ids: PerGenerationMap::default(),
            span_addresses: PerGeneration::default(),
            shared_texts: PerGeneration::default(),
        }
    }

    /// The fields of the index.
    pub(crate) fn fields(&self) -> &IndexFields {
        &self.fields
    }

    /// Which spans share an earlier span's indexed text, read once per searcher generation.
    pub(crate) fn shared_texts(&self, searcher: &Searcher) -> Result<Arc<SharedTexts>> {
        self.shared_texts
            .get(searcher, || SharedTexts::read(searcher, self))
    }

    /// Every live span's address by span id, read once per searcher generation.
    pub(crate) fn span_addresses(
        &self,
        searcher: &Searcher,
    ) -> Result<Arc<FxHashMap<u64, DocAddress>>> {
        self.span_addresses.get(searcher, || {
            let mut addresses = FxHashMap::default();
            for (ord, reader) in searcher.segment_readers().iter().enumerate() {
                let columns = self
                    .get(reader)
                    .map_err(SearchError::tantivy("cannot read span ids"))?;
                let alive = reader.alive_bitset();
                for doc in 0..reader.max_doc() {
                    if alive.is_some_and(|a| !a.is_alive(doc)) {
                        continue;
                    }
                    if let Some(id) = columns.span_id.first(doc) {
                        addresses.insert(id, DocAddress::new(ord as SegmentOrdinal, doc));
                    }
                }
            }
            Ok(addresses)
        })
    }

    fn lock(&self) -> MutexGuard<'_, FxHashMap<SegmentId, Arc<SegmentColumns>>> {
        self.segments.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The latest `valid_from` of the segment's spans (its column's maximum), from the
    /// columns kept for the segment.
    pub(crate) fn latest_valid_from(&self, reader: &SegmentReader) -> tantivy::Result<i64> {
        Ok(self.get(reader)?.valid_from.max_value())
    }

    pub(crate) fn get(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let id = reader.segment_id();
        if let Some(columns) = self.lock().get(&id) {
            return Ok(Arc::clone(columns));
        }
        let columns = Arc::new(SegmentColumns::open(reader, &self.fields)?);
        self.lock().insert(id, Arc::clone(&columns));
        Ok(columns)
    }

    /// The segments whose columns are held.
    #[cfg(test)]
    fn segments(&self) -> std::collections::HashSet<SegmentId> {
        self.lock().keys().copied().collect()
    }
}

impl Warmer for ColumnCache {
    /// Opens nothing up front: a command that never reads the columns never pays for them.
    fn warm(&self, _searcher: &Searcher) -> tantivy::Result<()> {
        Ok(())
    }

    fn garbage_collect(&self, live_generations: &[&SearcherGeneration]) {
        self.lock().retain(|id, _| {
            live_generations
                .iter()
                .any(|generation| generation.segments().contains_key(id))
        });
    }
}

/// Collects every matching span with its [`SpanFact`].
pub(crate) struct SpanFacts<'a> {
    /// Whether scores are needed (a text query ranks the results).
    pub scoring: bool,
    /// Where the columns come from.
    pub columns: &'a ColumnCache,
    /// When to stop collecting (the operation then fails: [`Deadline::check`]).
    pub deadline: Deadline,
    /// When set, only the spans one of these versions (document hash, ordinal) opened or
    /// closed: the others are skipped after three column reads.
    pub steps_of: Option<Arc<FxHashSet<(u64, u64)>>>,
}

pub(crate) struct SpanFactSegment {
    ticker: Ticker,
    segment: SegmentOrdinal,
    columns: Arc<SegmentColumns>,
    steps_of: Option<Arc<FxHashSet<(u64, u64)>>>,
    facts: Vec<SpanFact>,
}

impl Collector for SpanFacts<'_> {
    type Fruit = Vec<SpanFact>;
    type Child = SpanFactSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SpanFactSegment> {
        Ok(SpanFactSegment {
            ticker: self.deadline.ticker(),
            segment,
            columns: self.columns.get(reader)?,
            steps_of: self.steps_of.clone(),
            facts: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<Vec<SpanFact>>) -> tantivy::Result<Vec<SpanFact>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SpanFactSegment {
    type Fruit = Vec<SpanFact>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.ticker.step() {
            return;
        }
        let c = &self.columns;
        if let Some(wanted) = &self.steps_of {
            let doc_hash = c.doc_hash.first(doc).unwrap_or(0);
            let [opened, closed] = [&c.opened, &c.closed].map(|col| col.first(doc).unwrap_or(0));
            if !wanted.contains(&(doc_hash, opened)) && !wanted.contains(&(doc_hash, closed)) {
                return;
            }
        }
        self.facts.push(c.fact(self.segment, doc, score));
    }

    fn harvest(self) -> Vec<SpanFact> {
        self.facts
    }
}

/// A version record as the time-travel operations see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VersionFact {
    pub address: DocAddress,
    pub doc_hash: u64,
    pub ordinal: u64,
    pub recorded_at: i64,
    pub kind: VersionKind,
    /// How many changes of each kind the version made.
    pub steps: StepCounts,
}

/// Version records and the documents they belong to, named.
#[derive(Debug, Default)]
pub(crate) struct VersionTable {
    /// By document hash, in ordinal order.
    pub by_doc: FxHashMap<u64, Vec<VersionFact>>,
    /// Document hash to key.
    pub keys: FxHashMap<u64, DocKey>,
}

impl VersionTable {
    /// The version of a document with this ordinal.
    pub fn get(&self, doc_hash: u64, ordinal: u64) -> Option<&VersionFact> {
        let versions = self.by_doc.get(&doc_hash)?;
        versions
            .binary_search_by_key(&ordinal, |v| v.ordinal)
            .ok()
            .map(|i| &versions[i])
    }

    /// The latest version of a document.
    pub fn latest(&self, doc_hash: u64) -> Option<&VersionFact> {
        self.by_doc.get(&doc_hash)?.last()
    }
}

struct VersionFacts<'a> {
    columns: &'a ColumnCache,
}

struct VersionFactSegment {
    segment: SegmentOrdinal,
    columns: Arc<SegmentColumns>,
    key_ords: FxHashMap<u64, u64>,
    facts: Vec<VersionFact>,
}

type VersionFruit = (Vec<VersionFact>, FxHashMap<u64, String>);

impl Collector for VersionFacts<'_> {
    type Fruit = VersionFruit;
    type Child = VersionFactSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<VersionFactSegment> {
        Ok(VersionFactSegment {
            segment,
            columns: self.columns.get(reader)?,
            key_ords: FxHashMap::default(),
            facts: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<VersionFruit>) -> tantivy::Result<VersionFruit> {
        let mut all = (Vec::new(), FxHashMap::default());
        for (facts, keys) in fruits {
            all.0.extend(facts);
            all.1.extend(keys);
        }
        Ok(all)
    }
}

impl SegmentCollector for VersionFactSegment {
    type Fruit = VersionFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        let c = &self.columns;
        let kind = c
            .kinds
            .as_ref()
            .and_then(|column| column.term_ords(doc).next())
            .and_then(|ord| c.kind_of_ord.get(ord as usize).copied().flatten());
        let (Some(doc_hash), Some(ordinal), Some(recorded_at), Some(kind)) = (
            c.doc_hash.first(doc),
            c.ordinal.first(doc),
            c.recorded_at.first(doc),
            kind,
        ) else {
            return;
        };
        if let Some(ord) = c
            .keys
            .as_ref()
            .and_then(|column| column.term_ords(doc).next())
        {
            self.key_ords.entry(ord).or_insert(doc_hash);
        }
        self.facts.push(VersionFact {
            address: DocAddress::new(self.segment, doc),
            doc_hash,
            ordinal,
            recorded_at,
            kind,
            steps: StepCounts::from_array(
                c.steps
                    .each_ref()
                    .map(|column| column.first(doc).unwrap_or(0)),
            ),
        });
    }

    fn harvest(self) -> VersionFruit {
        let names = &self.columns.key_names;
        let keys = self
            .key_ords
            .into_iter()
            .filter_map(|(ord, hash)| Some((hash, names.get(ord as usize)?.clone())))
            .collect();
        (self.facts, keys)
    }
}

/// The instants a version table's records were recorded in: from `from` (included) to `to`
/// (excluded), unbounded where `None`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Recorded {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl Recorded {
    fn holds(&self, recorded_at: i64) -> bool {
        self.from.is_none_or(|from| recorded_at >= from.as_unix())
            && self.to.is_none_or(|to| recorded_at < to.as_unix())
    }

    fn is_all(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }
}

impl VersionTable {
    /// The records of the documents `keep` accepts, recorded in `recorded`.
    fn select(&self, keep: impl Fn(u64, &DocKey) -> bool, recorded: Recorded) -> VersionTable {
        let mut table = VersionTable::default();
        for (&doc, versions) in &self.by_doc {
            let Some(key) = self.keys.get(&doc).filter(|key| keep(doc, key)) else {
                continue;
            };
            let held: Vec<VersionFact> = versions
                .iter()
                .filter(|v| recorded.holds(v.recorded_at))
                .copied()
                .collect();
            if !held.is_empty() {
                table.by_doc.insert(doc, held);
                table.keys.insert(doc, key.clone());
            }
        }
        table
    }
}

/// Whether a document key passes the service, terms type and collection filters (the names
/// as the index spells them).
fn passes(filters: &Filters, key: &DocKey) -> bool {
    let one_of =
        |values: &[String], name: &str| values.is_empty() || values.iter().any(|v| v == name);
    one_of(&filters.services, key.service.as_str())
        && one_of(&filters.terms_types, key.terms_type.as_str())
        && one_of(&filters.collections, key.collection.as_str())
}

impl Engine {
    /// The version records of the documents that pass `filters` (service, terms type and
    /// collection), recorded in `recorded`: selected from every version record, which is read
    /// once per searcher generation.
    pub(crate) fn version_table(
        &self,
        searcher: &Searcher,
        filters: &Filters,
        recorded: Recorded,
    ) -> Result<Arc<VersionTable>> {
        let all = self.all_versions(searcher)?;
        let unfiltered = filters.services.is_empty()
            && filters.terms_types.is_empty()
            && filters.collections.is_empty();
        if unfiltered && recorded.is_all() {
            return Ok(all);
        }
        Ok(Arc::new(
            all.select(|_, key| passes(filters, key), recorded),
        ))
    }

    /// The version records of the documents with these keys: selected from every version
    /// record when they have been read for this searcher generation, else read alone (a
    /// one-off command that looks at a few documents does not read every record).
    pub(crate) fn version_table_of(
        &self,
        searcher: &Searcher,
        keys: &[DocKey],
    ) -> Result<Arc<VersionTable>> {
        if let Some(all) = self.columns.versions.held(searcher) {
            let hashes: FxHashSet<u64> = keys.iter().map(DocKey::hash64).collect();
            return Ok(Arc::new(
                all.select(|doc, _| hashes.contains(&doc), Recorded::default()),
            ));
        }
        let Some(documents) = any_document(&self.fields, keys) else {
            return Ok(Arc::default());
        };
        let clauses = vec![
            (
                Occur::Must,
                term(self.fields.doc_type, DocType::Version.as_str()),
            ),
            (Occur::Must, documents),
        ];
        Ok(Arc::new(self.read_version_table(
            searcher,
            BooleanQuery::new(clauses),
        )?))
    }

    /// Every version record of the index, named.
    pub(crate) fn all_versions(&self, searcher: &Searcher) -> Result<Arc<VersionTable>> {
        self.columns.versions.get(searcher, || {
            let clauses = vec![(
                Occur::Must,
                term(self.fields.doc_type, DocType::Version.as_str()),
            )];
            self.read_version_table(searcher, BooleanQuery::new(clauses))
        })
    }

    fn read_version_table(&self, searcher: &Searcher, query: BooleanQuery) -> Result<VersionTable> {
        let (facts, keys) = searcher
            .search(
                &query,
                &VersionFacts {
                    columns: &self.columns,
                },
            )
            .map_err(SearchError::tantivy("cannot list versions"))?;
        let mut table = VersionTable::default();
        for fact in facts {
            table.by_doc.entry(fact.doc_hash).or_default().push(fact);
        }
        for versions in table.by_doc.values_mut() {
            versions.sort_by_key(|v| v.ordinal);
        }
        for (hash, text) in keys {
            table.keys.insert(hash, DocKey::from_term_text(&text)?);
        }
        Ok(table)
    }

    /// The fast-field columns of a segment, opened once per segment.
    pub(crate) fn segment_columns(&self, reader: &SegmentReader) -> Result<Arc<SegmentColumns>> {
        self.columns
            .get(reader)
            .map_err(SearchError::tantivy("cannot read fast fields"))
    }

    /// What makes a span the twin of another collection's span (see [`crate::twins`]).
    pub(crate) fn twin_of(&self, searcher: &Searcher, address: DocAddress) -> Result<TwinOf> {
        let reader = searcher.segment_reader(address.segment_ord);
        let columns = self
            .columns
            .get(reader)
            .map_err(SearchError::tantivy("cannot read fast fields"))?;
        Ok(columns.twin_of(address.doc_id))
    }

    /// The key of the document a span or version record belongs to.
    pub(crate) fn doc_key_at(&self, searcher: &Searcher, address: DocAddress) -> Result<DocKey> {
        let columns = self
            .columns
            .get(searcher.segment_reader(address.segment_ord))
            .map_err(SearchError::tantivy("cannot read fast fields"))?;
        let name = columns
            .keys
            .as_ref()
            .and_then(|c| c.term_ords(address.doc_id).next())
            .and_then(|ord| columns.key_names.get(ord as usize));
        match name {
            Some(name) => Ok(DocKey::from_term_text(name)?),
            None => Err(SearchError::Schema(
                palimpsest_schema::SchemaError::Inconsistent(
                    "a span without a document key".into(),
                ),
            )),
        }
    }

    /// Reads a version record's source id from its fast field.
    pub(crate) fn version_id_at(&self, searcher: &Searcher, address: DocAddress) -> Result<String> {
        let columns = self.segment_columns(searcher.segment_reader(address.segment_ord))?;
        let mut id = String::new();
        if let Some(column) = &columns.version_ids
            && let Some(ord) = column.term_ords(address.doc_id).next()
        {
            column
                .ord_to_str(ord, &mut id)
                .map_err(|e| SearchError::tantivy("cannot read fast fields")(e.into()))?;
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::{Duration, Instant};

    use tantivy::index::SegmentId;
    use tantivy::{Index, IndexWriter, Searcher, TantivyDocument};

    use crate::engine::Engine;

    fn segment_ids(searcher: &Searcher) -> HashSet<SegmentId> {
        searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect()
    }

    #[test]
    fn columns_of_segments_a_merge_retired_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let index =
            Index::create_in_dir(dir.path(), palimpsest_schema::IndexFields::new().schema).unwrap();
        palimpsest_schema::register_tokenizer(&index);
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for _ in 0..2 {
            writer.add_document(TantivyDocument::default()).unwrap();
            writer.commit().unwrap();
        }
        let engine = Engine::open(dir.path()).unwrap();
        let before = engine.reader.searcher();
        assert_eq!(before.segment_readers().len(), 2);
        for reader in before.segment_readers() {
            engine.columns.get(reader).unwrap();
        }
        assert_eq!(engine.columns.segments(), segment_ids(&before));

        let merged = writer
            .merge(&index.searchable_segment_ids().unwrap())
            .wait()
            .unwrap()
            .expect("the merge yields a segment");
        engine.reader.reload().unwrap();
        let after = engine.reader.searcher();
        assert_eq!(segment_ids(&after), HashSet::from([merged.id()]));
        engine.columns.get(&after.segment_readers()[0]).unwrap();
        // Both generations are alive: nothing is dropped.
        assert_eq!(engine.columns.segments().len(), 3);

        drop(before);
        // The reader collects retired generations every second, on its own thread.
        let deadline = Instant::now() + Duration::from_secs(30);
        while engine.columns.segments() != segment_ids(&after) {
            assert!(
                Instant::now() < deadline,
                "retired segments still cached: {:?}",
                engine.columns.segments()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
