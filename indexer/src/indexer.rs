//! [`Indexer`]: one run of writing versions into an index folder.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use palimpsest_schema::{
    CollectionName, DocKey, DocType, IndexFields, PolicyVersion, VersionRecord, register_tokenizer,
    span_document, span_from_document, version_document, version_from_document,
};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use crate::error::{IndexerError, Result};
use crate::state::{CollectionState, FORMAT, Payload};
use crate::timeline::{AppendError, OpenSpan, Timeline};

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
    /// Versions added.
    pub versions: u64,
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
    writer: IndexWriter,
    /// The committed state when the run started, for resuming documents.
    searcher: Searcher,
    timelines: HashMap<DocKey, Timeline>,
    payload: Payload,
    summary: IndexSummary,
    /// When rebuilding: the folder the finished index replaces.
    replace: Option<PathBuf>,
    dir: PathBuf,
}

impl Indexer {
    /// Opens the index in `dir` for an incremental run, creating it if `dir` holds none.
    pub fn open(dir: &Path, options: &IndexerOptions) -> Result<Indexer> {
        std::fs::create_dir_all(dir)
            .map_err(IndexerError::io("cannot create index folder", dir))?;
        let index = if dir.join("meta.json").exists() {
            open_index(dir)?
        } else {
            create_index(dir)?
        };
        Indexer::start(index, dir.to_owned(), None, options)
    }

    /// Starts a new index that replaces the one in `dir` (if any) when committed; until then
    /// readers keep the old one.
    pub fn rebuild(dir: &Path, options: &IndexerOptions) -> Result<Indexer> {
        let staging = sibling(dir, "rebuilding");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(IndexerError::io(
                "cannot remove unfinished rebuild",
                &staging,
            ))?;
        }
        std::fs::create_dir_all(&staging)
            .map_err(IndexerError::io("cannot create index folder", &staging))?;
        let index = create_index(&staging)?;
        Indexer::start(index, staging, Some(dir.to_owned()), options)
    }

    fn start(
        index: Index,
        dir: PathBuf,
        replace: Option<PathBuf>,
        options: &IndexerOptions,
    ) -> Result<Indexer> {
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
                path: dir,
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
        let writer: IndexWriter =
            index
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
        Ok(Indexer {
            fields: IndexFields::new(),
            writer,
            searcher: reader.searcher(),
            timelines: HashMap::new(),
            payload,
            summary: IndexSummary::default(),
            replace,
            dir,
        })
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
                    let fast = self
                        .searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields();
                    let keys = fast
                        .str("doc_key")
                        .map_err(IndexerError::tantivy("doc_key column"))?;
                    let ids = fast
                        .str("version_id")
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
            let timeline = self.resume(&version.key)?;
            self.timelines.insert(version.key.clone(), timeline);
            self.summary.documents += 1;
        }
        let timeline = self
            .timelines
            .get_mut(&version.key)
            .expect("inserted above");
        let outcome = match timeline.append(&version) {
            Ok(outcome) => outcome,
            Err(AppendError::OutOfOrder { .. }) => return Ok(Added::NeedsReplay),
        };
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
    /// A rebuild's unfinished folder is removed.
    pub fn abandon(mut self) {
        // Best effort: the run has already failed, and what is left is removed by the next run.
        let r = self.writer.rollback();
        eprintln!("DEBUG rollback {:?}", r.err());
        let g = self.writer.garbage_collect_files().wait();
        eprintln!(
            "DEBUG gc {:?}",
            g.map(|g| (g.deleted_files, g.failed_to_delete_files))
        );
        if self.replace.is_some() {
            drop(self.writer);
            let _ = std::fs::remove_dir_all(&self.dir);
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
                .map(|s| s.record.section.text.as_str())
                .collect(),
        ))
    }

    /// Versions added so far in this run.
    pub fn versions_added(&self) -> u64 {
        self.summary.versions
    }

    fn write_span(&mut self, key: &DocKey, span: &OpenSpan) -> Result<()> {
        if span.persisted {
            self.writer
                .delete_term(Term::from_field_u64(self.fields.span_id, span.record.id.0));
        }
        let added = self
            .writer
            .add_document(span_document(&self.fields, key, &span.record));
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
        let added = self
            .writer
            .add_document(version_document(&self.fields, key, record));
        if let Err(error) = added {
            return Err(self.write_error("cannot add version record", error));
        }
        self.summary.versions += 1;
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
            spans.push(span_from_document(&self.fields, &self.stored(*address)?)?);
        }
        Ok(Timeline::resume(key.clone(), &latest, spans))
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

/// Stored text is compressed with zstd in 32 KiB blocks (tantivy's default is 16 KiB):
/// spans of one document that follow each other are near copies, which zstd finds only
/// within a block. Larger blocks cost search latency (a hit decompresses its whole block),
/// higher levels cost indexing time: on contrib-versions level 9 saved 12 MiB of 218 for
/// 25 % more CPU.
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
const STORE_BLOCK_BYTES: usize = 32 << 10;

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

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
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
