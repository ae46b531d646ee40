//! [`Indexer`]: one run of writing versions into an index folder.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palimpsest_schema::{
    CollectionName, DocKey, DocType, DocumentTexts, IndexFields, OPEN_ORDINAL, PolicyVersion,
    SpanId, TextReader, VersionKind, VersionRecord, register_tokenizer, span_document,
    text_document, version_document, version_from_document,
};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::error::{IndexerError, Result};
use crate::folder::{self, FolderState, sibling};
use crate::lock::RunLock;
use crate::metered::{Meter, MeteredDocument, QUEUE_BYTES};
use crate::split::MAX_SECTIONS;
use crate::state::{CollectionState, FORMAT, Payload};
use crate::text_pool::TextPool;
use crate::timeline::{AppendError, IndexedTexts, OpenSpan, Timeline};

/// Resources an indexing run may use.
#[derive(Debug, Clone)]
pub struct IndexerOptions {
    /// Indexing threads of the Tantivy writer.
    pub threads: usize,
    /// Memory budget of the Tantivy writer, in bytes, shared by its threads.
    pub memory_budget: usize,
}

impl Default for IndexerOptions {
    fn default() -> Self {
        IndexerOptions {
            threads: 2,
            memory_budget: 256 << 20,
        }
    }
}

/// What [`Indexer::add`] did with a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The version is now part of its document's timeline.
    Appended,
    /// The version was recorded before the document's latest indexed version: call
    /// [`Indexer::replace_document`] with the document's whole history.
    NeedsReplay,
}

/// Counts of one run, returned by [`Indexer::commit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexSummary {
    /// Versions added, deletions not counted: as `stats` and `services` count versions.
    pub versions: u64,
    /// Deletion records added (a document's file deleted from the archive).
    pub deletions: u64,
    /// Spans opened.
    pub spans_opened: u64,
    /// Spans closed.
    pub spans_closed: u64,
    /// Documents that received versions.
    pub documents: u64,
    /// Documents whose history was replayed because a version arrived out of order.
    pub replayed: u64,
    /// Size of the index folder after the commit, in bytes.
    pub index_bytes: u64,
}

/// A version indexed imperfectly, for the caller to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexWarning {
    /// The document.
    pub key: DocKey,
    /// The version's source id.
    pub source_id: String,
    /// Sections its text has; the first [`MAX_SECTIONS`] were indexed, the last of them
    /// holding the rest of the text.
    pub sections: usize,
}

impl std::fmt::Display for IndexWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}: {} sections, more than the {MAX_SECTIONS} a version is split into; \
             the text from section {MAX_SECTIONS} on is one section",
            self.key, self.source_id, self.sections
        )
    }
}

/// Known versions of a collection, for incremental runs over archives without a cursor.
#[derive(Debug, Default, Clone)]
pub struct KnownVersions {
    ids: HashMap<String, HashSet<String>>,
}

impl KnownVersions {
    /// Whether the index holds the version `source_id` of `key`.
    pub fn contains(&self, key: &DocKey, source_id: &str) -> bool {
        self.ids
            .get(&key.term_text())
            .is_some_and(|ids| ids.contains(source_id))
    }

    /// Whether the index holds any version of `key`.
    pub fn has_document(&self, key: &DocKey) -> bool {
        self.ids.contains_key(&key.term_text())
    }

    /// The documents holding versions that `listed` (every version the archive has now)
    /// lacks, with how many each holds: their indexed history is no longer the archive's.
    pub fn not_listed<'a>(
        &self,
        listed: impl IntoIterator<Item = (&'a DocKey, &'a str)>,
    ) -> Result<BTreeMap<DocKey, usize>> {
        let mut present: HashMap<String, HashSet<&str>> = HashMap::new();
        for (key, id) in listed {
            present.entry(key.term_text()).or_default().insert(id);
        }
        let mut stale = BTreeMap::new();
        for (key, ids) in &self.ids {
            let listed = present.get(key);
            let missing = ids
                .iter()
                .filter(|id| listed.is_none_or(|l| !l.contains(id.as_str())))
                .count();
            if missing > 0 {
                stale.insert(DocKey::from_term_text(key)?, missing);
            }
        }
        Ok(stale)
    }

    /// How many versions of `key` are known.
    pub fn versions_of(&self, key: &DocKey) -> usize {
        self.ids.get(&key.term_text()).map_or(0, HashSet::len)
    }

    /// How many versions are known.
    pub fn len(&self) -> usize {
        self.ids.values().map(HashSet::len).sum()
    }

    /// Whether no version is known.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Writes versions into an index folder; nothing is visible to readers before
/// [`Indexer::commit`], which publishes the whole run at once.
pub struct Indexer {
    fields: IndexFields,
    writer: IndexWriter<MeteredDocument>,
    /// Bounds the text queued for the writer's threads.
    meter: Arc<Meter>,
    /// The committed state when the run started, for resuming documents.
    searcher: Searcher,
    timelines: HashMap<DocKey, Timeline>,
    /// The texts of the spans of `timelines` in force, each held once.
    pool: TextPool,
    /// The paragraphs each document of `timelines` has written, committed or in this run.
    texts: HashMap<DocKey, DocumentTexts>,
    payload: Payload,
    summary: IndexSummary,
    warnings: Vec<IndexWarning>,
    /// When rebuilding: the folder the finished index replaces.
    replace: Option<PathBuf>,
    dir: PathBuf,
    /// The outermost folder this run created for the index, removed if the run fails.
    created: Option<PathBuf>,
    /// Held until the run ends; declared last, so it is released after the writer.
    _lock: RunLock,
}

impl Indexer {
    /// Opens the index in `dir` for an incremental run, creating it if `dir` holds none.
    /// Fails at once, changing nothing, if another run (an update or a rebuild) holds it.
    pub fn open(dir: &Path, options: &IndexerOptions) -> Result<Indexer> {
        let (lock, created) = lock_index(dir)?;
        let opened = (|| {
            std::fs::create_dir_all(dir)
                .map_err(IndexerError::io("cannot create index folder", dir))?;
            if dir.join("meta.json").exists() {
                open_index(dir)
            } else {
                create_index(dir)
            }
        })();
        let run = Run {
            dir: dir.to_owned(),
            replace: None,
            created,
            lock,
        };
        match opened {
            Ok(index) => Indexer::start(index, run, options),
            Err(error) => {
                run.remove_created();
                Err(error)
            }
        }
    }

    /// Starts a new index that replaces the one in `dir` (if any) when committed; until then
    /// readers keep the old one. Fails at once, changing nothing, if another run holds it.
    pub fn rebuild(dir: &Path, options: &IndexerOptions) -> Result<Indexer> {
        let (lock, created) = lock_index(dir)?;
        let staging = sibling(dir, "rebuilding");
        let run = Run {
            dir: staging.clone(),
            replace: Some(dir.to_owned()),
            created,
            lock,
        };
        let prepared = (|| {
            if folder::check(&staging)? == FolderState::Index {
                std::fs::remove_dir_all(&staging).map_err(IndexerError::io(
                    "cannot remove unfinished rebuild",
                    &staging,
                ))?;
            }
            std::fs::create_dir_all(&staging)
                .map_err(IndexerError::io("cannot create index folder", &staging))?;
            create_index(&staging)
        })();
        match prepared {
            Ok(index) => Indexer::start(index, run, options),
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                run.remove_created();
                Err(error)
            }
        }
    }

    fn start(index: Index, run: Run, options: &IndexerOptions) -> Result<Indexer> {
        match Indexer::start_writer(&index, &run.dir, options) {
            Ok((writer, searcher, payload)) => Ok(Indexer {
                fields: IndexFields::new(),
                writer,
                meter: Meter::new(QUEUE_BYTES),
                searcher,
                timelines: HashMap::new(),
                pool: TextPool::default(),
                texts: HashMap::new(),
                payload,
                summary: IndexSummary::default(),
                warnings: Vec::new(),
                replace: run.replace,
                dir: run.dir,
                created: run.created,
                _lock: run.lock,
            }),
            Err(error) => {
                if run.replace.is_some() {
                    let _ = std::fs::remove_dir_all(&run.dir);
                }
                run.remove_created();
                Err(error)
            }
        }
    }

    fn start_writer(
        index: &Index,
        dir: &Path,
        options: &IndexerOptions,
    ) -> Result<(IndexWriter<MeteredDocument>, Searcher, Payload)> {
        let payload = match index
            .load_metas()
            .map_err(IndexerError::tantivy("cannot read index metadata"))?
            .payload
        {
            Some(text) => serde_json::from_str::<Payload>(&text)?,
            None => Payload::default(),
        };
        if payload.format != FORMAT {
            return Err(IndexerError::NotAnIndex {
                path: dir.to_owned(),
                reason: format!(
                    "index format {} where this build writes {FORMAT}; index again with --rebuild",
                    payload.format
                ),
            });
        }
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(IndexerError::tantivy("cannot open index reader"))?;
        let threads = options.threads.clamp(1, 8);
        let budget = options.memory_budget.max((threads * 16) << 20);
        let writer: IndexWriter<MeteredDocument> = index
            .writer_with_num_threads(threads, budget)
            .map_err(IndexerError::tantivy(
            "cannot open index writer (is another `index` running?)",
        ))?;
        // Files an interrupted or failed run left (a killed process, a full disk) are not part
        // of any commit: remove them before writing more.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(IndexerError::tantivy(
                "cannot remove files of an unfinished run",
            ))?;
        folder::remove_atomic_write_leftovers(dir)?;
        Ok((writer, reader.searcher(), payload))
    }

    /// The saved state of a collection, if the index holds it.
    pub fn collection(&self, name: &CollectionName) -> Option<&CollectionState> {
        self.payload.collections.get(name.as_str())
    }

    /// Records where a collection is read from, saved with the next commit.
    pub fn set_collection(&mut self, name: &CollectionName, state: CollectionState) {
        self.payload
            .collections
            .insert(name.as_str().to_owned(), state);
    }

    /// Every version of `collection` already in the index.
    pub fn known_versions(&self, collection: &CollectionName) -> Result<KnownVersions> {
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                self.term_query(self.fields.doc_type, DocType::Version.as_str()),
            ),
            (
                Occur::Must,
                self.term_query(self.fields.collection, collection.as_str()),
            ),
        ]);
        let docs = self
            .searcher
            .search(&query, &DocSetCollector)
            .map_err(IndexerError::tantivy("cannot list known versions"))?;
        let mut known = KnownVersions::default();
        let mut key_text = String::new();
        let mut id_text = String::new();
        let mut columns = HashMap::new();
        for address in docs {
            let (keys, ids) = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let reader = self.searcher.segment_reader(address.segment_ord);
                    let keys = self
                        .fields
                        .str_column(reader, self.fields.doc_key)
                        .map_err(IndexerError::tantivy("doc_key column"))?;
                    let ids = self
                        .fields
                        .str_column(reader, self.fields.version_id)
                        .map_err(IndexerError::tantivy("version_id column"))?;
                    match (keys, ids) {
                        (Some(keys), Some(ids)) => e.insert((keys, ids)),
                        _ => continue,
                    }
                }
            };
            let (Some(key_ord), Some(id_ord)) = (
                keys.term_ords(address.doc_id).next(),
                ids.term_ords(address.doc_id).next(),
            ) else {
                continue;
            };
            keys.ord_to_str(key_ord, &mut key_text)
                .map_err(|e| IndexerError::io("cannot read doc_key column", &self.dir)(e))?;
            ids.ord_to_str(id_ord, &mut id_text)
                .map_err(|e| IndexerError::io("cannot read version_id column", &self.dir)(e))?;
            known
                .ids
                .entry(key_text.clone())
                .or_default()
                .insert(id_text.clone());
        }
        Ok(known)
    }

    /// Appends a version to its document's timeline. Versions of one document must come in
    /// recorded order; one recorded before the document's latest is refused with
    /// [`Added::NeedsReplay`] and changes nothing.
    pub fn add(&mut self, version: PolicyVersion) -> Result<Added> {
        if !self.timelines.contains_key(&version.key) {
            let mut timeline = self.resume(&version.key)?;
            timeline.share_texts(&mut self.pool);
            let texts = DocumentTexts::committed(&self.searcher, &self.fields, &version.key)?;
            self.timelines.insert(version.key.clone(), timeline);
            self.texts.insert(version.key.clone(), texts);
            self.summary.documents += 1;
        }
        let timeline = self
            .timelines
            .get_mut(&version.key)
            .expect("inserted above");
        let outcome = match timeline.append(&version, &mut self.pool) {
            Ok(outcome) => outcome,
            Err(AppendError::OutOfOrder { .. }) => return Ok(Added::NeedsReplay),
        };
        if let Some(sections) = outcome.capped {
            self.warnings.push(IndexWarning {
                key: version.key.clone(),
                source_id: version.source_id.clone(),
                sections,
            });
        }
        for closed in &outcome.closed {
            self.write_span(&version.key, closed)?;
        }
        self.summary.spans_closed += outcome.closed.len() as u64;
        self.summary.spans_opened += outcome.opened as u64;
        if let Some(record) = &outcome.version {
            self.write_version(&version.key, record)?;
        }
        Ok(Added::Appended)
    }

    /// Replaces everything indexed of one document with the timeline of `versions`, its whole
    /// history, sorted here by recorded instant (ties keep their order).
    pub fn replace_document(
        &mut self,
        key: &DocKey,
        mut versions: Vec<PolicyVersion>,
    ) -> Result<()> {
        self.writer
            .delete_term(Term::from_field_text(self.fields.doc_key, &key.term_text()));
        versions.sort_by_key(|v| v.recorded_at);
        if !self.timelines.contains_key(key) {
            self.summary.documents += 1;
        }
        self.timelines
            .insert(key.clone(), Timeline::new(key.clone()));
        self.texts.insert(key.clone(), DocumentTexts::default());
        self.summary.replayed += 1;
        for version in versions {
            if self.add(version)? == Added::NeedsReplay {
                return Err(IndexerError::Inconsistent(format!(
                    "replaying {key} met versions out of order"
                )));
            }
        }
        Ok(())
    }

    /// Writes the spans still in force, the collection states, and publishes the run. If that
    /// fails, the run is abandoned (see [`Indexer::abandon`]).
    pub fn commit(mut self) -> Result<IndexSummary> {
        if let Err(error) = self.publish() {
            self.abandon();
            return Err(error);
        }
        self.writer
            .wait_merging_threads()
            .map_err(IndexerError::tantivy("cannot finish merging segments"))?;
        let mut dir = self.dir.clone();
        if let Some(target) = &self.replace {
            swap_into_place(&self.dir, target)?;
            dir = target.clone();
        }
        self.summary.index_bytes = palimpsest_schema::index_bytes(&dir);
        Ok(self.summary)
    }

    fn publish(&mut self) -> Result<()> {
        let mut timelines: Vec<_> = std::mem::take(&mut self.timelines).into_iter().collect();
        timelines.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, mut timeline) in timelines {
            for span in timeline.take_open() {
                if !span.persisted {
                    self.write_span(&key, &span)?;
                }
            }
        }
        let payload = serde_json::to_string(&self.payload)?;
        let mut prepared = self
            .writer
            .prepare_commit()
            .map_err(IndexerError::tantivy("cannot prepare commit"))?;
        prepared.set_payload(&payload);
        prepared
            .commit()
            .map_err(IndexerError::tantivy("cannot commit"))?;
        Ok(())
    }

    /// Gives up the run: nothing of it is committed, and the files it wrote are removed, so a
    /// failed run (a full disk) leaves the index, and the disk, as the last commit left them.
    /// A rebuild's unfinished folder is removed, and so is the index folder if this run
    /// created it.
    pub fn abandon(mut self) {
        // Best effort: the run has already failed, and what is left is removed by the next run.
        let _ = self.writer.rollback();
        let _ = self.writer.garbage_collect_files().wait();
        drop(self.writer);
        if self.replace.is_some() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        if let Some(created) = &self.created {
            let _ = std::fs::remove_dir_all(created);
        }
    }

    /// The text of a document's latest version as this run left it (empty after a deletion),
    /// or `None` when the document has no version yet.
    pub fn latest_content(&self, key: &DocKey) -> Result<Option<String>> {
        let resumed;
        let timeline = match self.timelines.get(key) {
            Some(timeline) => timeline,
            None => {
                resumed = self.resume(key)?;
                &resumed
            }
        };
        if !timeline.has_versions() {
            return Ok(None);
        }
        Ok(Some(
            timeline
                .open_spans()
                .iter()
                .map(|s| s.record.section.text.as_ref())
                .collect(),
        ))
    }

    /// The warnings of the versions added since the last call.
    pub fn take_warnings(&mut self) -> Vec<IndexWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// Versions added so far in this run.
    pub fn versions_added(&self) -> u64 {
        self.summary.versions
    }

    /// Writes a span, and the paragraphs of its text its document has not written yet. A
    /// closed span whose text an earlier span indexes is written without its words; a span
    /// in force keeps them (searches of what is in force then never look back in history),
    /// until it closes and is written again.
    fn write_span(&mut self, key: &DocKey, span: &OpenSpan) -> Result<()> {
        if span.persisted {
            self.writer
                .delete_term(Term::from_field_u64(self.fields.span_id, span.record.id.0));
        }
        let (writer, fields, meter) = (&self.writer, &self.fields, &self.meter);
        let texts = self.texts.entry(key.clone()).or_default();
        let runs = texts.refs(&span.record.section.text, |paragraph| {
            writer
                .add_document(meter.admit(text_document(fields, key, &paragraph)))
                .map(drop)
        });
        let added = runs.and_then(|runs| {
            writer.add_document(meter.admit(span_document(
                fields,
                key,
                &span.record,
                &span.step,
                &runs,
                span.indexed_as.filter(|_| span.record.valid_to.is_some()),
            )))
        });
        if let Err(error) = added {
            return Err(self.write_error("cannot add span", error));
        }
        Ok(())
    }

    /// The error of a failed write, with its cause. A writer whose indexing thread failed (on
    /// a full disk, say) only answers that it was killed; the thread's own error comes from
    /// joining it, which preparing a commit does. Nothing is committed either way.
    fn write_error(&mut self, action: &'static str, error: tantivy::TantivyError) -> IndexerError {
        let error = match error {
            tantivy::TantivyError::ErrorInThread(_) => match self.writer.prepare_commit() {
                Err(cause) => cause,
                Ok(prepared) => {
                    let _ = prepared.abort();
                    error
                }
            },
            error => error,
        };
        IndexerError::Tantivy { action, error }
    }

    fn write_version(&mut self, key: &DocKey, record: &VersionRecord) -> Result<()> {
        let document = self
            .meter
            .admit(version_document(&self.fields, key, record));
        let added = self.writer.add_document(document);
        if let Err(error) = added {
            return Err(self.write_error("cannot add version record", error));
        }
        if record.kind == VersionKind::Deleted {
            self.summary.deletions += 1;
        } else {
            self.summary.versions += 1;
        }
        Ok(())
    }

    /// The timeline of a document as committed: its latest version and that version's spans.
    fn resume(&self, key: &DocKey) -> Result<Timeline> {
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                self.term_query(self.fields.doc_type, DocType::Version.as_str()),
            ),
            (
                Occur::Must,
                self.term_query(self.fields.doc_key, &key.term_text()),
            ),
        ]);
        let docs = self
            .searcher
            .search(&query, &DocSetCollector)
            .map_err(IndexerError::tantivy("cannot look up document versions"))?;
        let mut latest: Option<VersionRecord> = None;
        for address in docs {
            let record = version_from_document(&self.fields, &self.stored(address)?)?;
            if latest.as_ref().is_none_or(|l| record.ordinal > l.ordinal) {
                latest = Some(record);
            }
        }
        let Some(latest) = latest else {
            return Ok(Timeline::new(key.clone()));
        };
        let mut spans = Vec::with_capacity(latest.spans.len());
        let mut texts = TextReader::new(&self.searcher, &self.fields);
        for id in &latest.spans {
            let query = TermQuery::new(
                Term::from_field_u64(self.fields.span_id, id.0),
                IndexRecordOption::Basic,
            );
            let hits = self
                .searcher
                .search(&query, &TopDocs::with_limit(1).order_by_score())
                .map_err(IndexerError::tantivy("cannot look up span"))?;
            let Some((_, address)) = hits.first() else {
                return Err(IndexerError::Inconsistent(format!(
                    "span {id} of {key} is missing"
                )));
            };
            spans.push(texts.span(key.hash64(), &self.stored(*address)?)?);
        }
        let indexed = self.indexed_texts(key)?;
        Ok(Timeline::resume(key.clone(), &latest, spans, indexed))
    }

    /// The texts document `key` has indexed, as committed: by text, the closed span that
    /// holds its words (the first span with that text). Spans in force hold their words too;
    /// [`Timeline::resume`] claims their texts in order.
    fn indexed_texts(&self, key: &DocKey) -> Result<IndexedTexts> {
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                self.term_query(self.fields.doc_type, DocType::Span.as_str()),
            ),
            (
                Occur::Must,
                self.term_query(self.fields.doc_key, &key.term_text()),
            ),
        ]);
        let docs = self
            .searcher
            .search(&query, &DocSetCollector)
            .map_err(IndexerError::tantivy("cannot look up a document's spans"))?;
        let mut indexed = IndexedTexts::default();
        let mut columns = HashMap::new();
        for address in docs {
            let reader = self.searcher.segment_reader(address.segment_ord);
            let [hashes, ids, shared, closed] = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    let open = |field| {
                        self.fields
                            .u64_column(reader, field)
                            .map_err(IndexerError::tantivy("cannot open a span column"))
                    };
                    entry.insert([
                        open(self.fields.section_hash)?,
                        open(self.fields.span_id)?,
                        open(self.fields.indexed_as)?,
                        open(self.fields.closed)?,
                    ])
                }
            };
            let doc = address.doc_id;
            if shared.first(doc).is_some() || closed.first(doc) == Some(OPEN_ORDINAL) {
                continue;
            }
            let (Some(hash), Some(id)) = (hashes.first(doc), ids.first(doc)) else {
                return Err(IndexerError::Inconsistent(format!(
                    "a span of {key} without its hashes"
                )));
            };
            indexed.insert(hash, SpanId(id));
        }
        Ok(indexed)
    }

    fn stored(&self, address: DocAddress) -> Result<TantivyDocument> {
        self.searcher
            .doc(address)
            .map_err(IndexerError::tantivy("cannot read stored document"))
    }

    fn term_query(&self, field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::Basic,
        ))
    }
}

/// Stored documents are compressed with zstd in 16 KiB blocks (tantivy's default). A hit
/// reads its span and each of its paragraphs, which were stored when first seen and so lie
/// in many blocks, and decompresses each block it does not hold: on contrib-versions 16 KiB
/// blocks answer the search mix in 0.86x the time of 32 KiB blocks (0.72x with no block
/// cache), for a store 8 % larger; build times differ by less than their noise. Higher
/// levels cost indexing time: level 9 saved 12 MiB of 218 for 25 % more CPU.
fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(STORE_ZSTD_LEVEL),
        }),
        docstore_blocksize: STORE_BLOCK_BYTES,
        ..tantivy::IndexSettings::default()
    }
}

const STORE_ZSTD_LEVEL: i32 = 3;
const STORE_BLOCK_BYTES: usize = 16 << 10;

fn create_index(dir: &Path) -> Result<Index> {
    let index = Index::builder()
        .schema(IndexFields::new().schema)
        .settings(settings())
        .create_in_dir(dir)
        .map_err(IndexerError::tantivy("cannot create index"))?;
    register_tokenizer(&index);
    Ok(index)
}

fn open_index(dir: &Path) -> Result<Index> {
    let index = Index::open_in_dir(dir).map_err(|e| IndexerError::NotAnIndex {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    if index.schema() != IndexFields::new().schema {
        return Err(IndexerError::NotAnIndex {
            path: dir.to_owned(),
            reason: "its fields differ from this build's; index again with --rebuild".into(),
        });
    }
    register_tokenizer(&index);
    Ok(index)
}

/// Where a run writes, and what it must clean up if it fails before it starts.
struct Run {
    dir: PathBuf,
    replace: Option<PathBuf>,
    created: Option<PathBuf>,
    lock: RunLock,
}

impl Run {
    fn remove_created(&self) {
        if let Some(created) = &self.created {
            let _ = std::fs::remove_dir_all(created);
        }
    }
}

/// Takes the run lock of the index in `dir`, creating the folders that hold it if needed;
/// returns the lock and the outermost folder this created (the index folder itself if only
/// it is missing), which a failed run removes. A rebuild the process running it did not
/// finish moving into place (killed between its two renames) is finished first.
fn lock_index(dir: &Path) -> Result<(RunLock, Option<PathBuf>)> {
    folder::check(dir)?;
    let created = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .last();
    let created = created.map(Path::to_owned);
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(IndexerError::io("cannot create index folder", parent))?;
    }
    let lock = RunLock::acquire(dir)?;
    finish_swap(dir)?;
    // An index the interrupted rebuild left is no folder of this run's.
    let created = created.filter(|c| c != dir || !dir.exists());
    Ok((lock, created))
}

/// Puts an index back in `dir` if a rebuild was killed after moving the old index aside and
/// before moving the new one in: the new one is complete then (it is moved only once
/// committed). Removes the old index a rebuild killed later left beside it.
fn finish_swap(dir: &Path) -> Result<()> {
    let old = sibling(dir, "old");
    if folder::check(&old)? == FolderState::Free {
        return Ok(());
    }
    if !dir.exists() {
        let staging = sibling(dir, "rebuilding");
        let from = if staging.join("meta.json").exists() {
            staging
        } else {
            old.clone()
        };
        std::fs::rename(&from, dir).map_err(IndexerError::io("cannot move index to", dir))?;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(IndexerError::io("cannot remove", &old))?;
    }
    Ok(())
}

/// Moves a finished index from `staging` to `target`, replacing what was there.
fn swap_into_place(staging: &Path, target: &Path) -> Result<()> {
    let old = sibling(target, "old");
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(IndexerError::io("cannot remove", &old))?;
    }
    if target.exists() {
        std::fs::rename(target, &old).map_err(IndexerError::io("cannot move aside", target))?;
    }
    std::fs::rename(staging, target)
        .map_err(IndexerError::io("cannot move new index to", target))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(IndexerError::io("cannot remove", &old))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use palimpsest_schema::{Timestamp, VersionKind};

    fn version(id: &str) -> PolicyVersion {
        PolicyVersion {
            key: DocKey::new("c", "Acme", "Terms").unwrap(),
            recorded_at: Timestamp::parse("2024-01-01").unwrap(),
            source_id: id.into(),
            kind: VersionKind::FirstRecord,
            content: format!("# Terms\n\n{id}\n"),
        }
    }

    fn build(dir: &Path, id: &str) {
        let mut indexer = Indexer::open(dir, &IndexerOptions::default()).unwrap();
        indexer.add(version(id)).unwrap();
        indexer.commit().unwrap();
    }

    fn holds(dir: &Path, id: &str) -> bool {
        let indexer = Indexer::open(dir, &IndexerOptions::default()).unwrap();
        let known = indexer
            .known_versions(&CollectionName::new("c").unwrap())
            .unwrap();
        known.contains(&version(id).key, id)
    }

    #[test]
    fn a_rebuild_killed_between_its_two_renames_is_finished_by_the_next_run() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("index");
        // Killed after moving the old index aside, before moving the new one in.
        build(&sibling(&dir, "old"), "old");
        build(&sibling(&dir, "rebuilding"), "new");
        assert!(holds(&dir, "new"));
        assert!(!sibling(&dir, "old").exists());
        // Killed after moving the new one in, before removing the old one.
        build(&sibling(&dir, "old"), "old");
        assert!(holds(&dir, "new"));
        assert!(!sibling(&dir, "old").exists());
        // Killed before the staging folder was committed: the old index comes back.
        std::fs::rename(&dir, sibling(&dir, "old")).unwrap();
        std::fs::create_dir(sibling(&dir, "rebuilding")).unwrap();
        assert!(holds(&dir, "new"));
        // A run that fails after putting the index back does not remove it.
        std::fs::rename(&dir, sibling(&dir, "old")).unwrap();
        let run = Indexer::open(&dir, &IndexerOptions::default()).unwrap();
        run.abandon();
        assert!(holds(&dir, "new"));
    }

    #[test]
    fn an_update_is_refused_while_a_rebuild_runs() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("index");
        build(&dir, "v1");
        let rebuild = Indexer::rebuild(&dir, &IndexerOptions::default()).unwrap();
        for error in [
            Indexer::open(&dir, &IndexerOptions::default()).err(),
            Indexer::rebuild(&dir, &IndexerOptions::default()).err(),
        ] {
            assert!(
                matches!(error, Some(IndexerError::Busy { .. })),
                "{error:?}"
            );
        }
        assert!(
            sibling(&dir, "rebuilding").exists(),
            "the running rebuild is intact"
        );
        rebuild.commit().unwrap();
        assert!(!holds(&dir, "v1"), "the rebuild replaced the index");
    }
}
