//! Services, version lists, versions rebuilt at an instant, and index statistics.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use palimpsest_schema::{
    DocKey, DocType, SpanId, SpanRecord, TextReader, Timestamp, VersionKind, VersionRecord,
    version_from_document,
};
use serde::Serialize;
use tantivy::collector::{Count, DocSetCollector};
use tantivy::query::{BooleanQuery, Occur};
use tantivy::{DocAddress, Searcher};

use crate::engine::Engine;
use crate::error::{Result, SearchError, shorten};
use crate::facts::VersionFact;
use crate::names::{NameKind, resolve_name};
use crate::query::clauses::{Fields, term, text_query};
use crate::query::strategy::MatchMode;
use crate::request::validate_query;
use crate::snippet::highlight_ranges;

/// One document of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentSummary {
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// Versions recorded (deletions not counted).
    pub versions: u64,
    /// First recorded instant.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub first_recorded: Timestamp,
    /// Last recorded instant.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_recorded: Timestamp,
}

/// A service and its documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSummary {
    /// Service.
    pub service: String,
    /// Its documents, by terms type then collection.
    pub documents: Vec<DocumentSummary>,
}

/// Every service in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServicesResponse {
    /// Services, by name.
    pub services: Vec<ServiceSummary>,
}

/// One version in a version list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionEntry {
    /// Source id (commit id or path).
    pub id: String,
    /// When it was recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub recorded_at: Timestamp,
    /// `first_record`, `change`, `technical_upgrade`, or `deleted` when the file was removed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "change"))]
    pub kind: VersionKind,
}

/// The versions of one document, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionsResponse {
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// Versions, in recorded order.
    pub versions: Vec<VersionEntry>,
}

/// A version rebuilt from the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionResponse {
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// Source id.
    pub id: String,
    /// When it was recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub recorded_at: Timestamp,
    /// How it came to be recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "change"))]
    pub kind: VersionKind,
    /// The recorded text.
    pub content: String,
    /// The same text cut into its sections, in order: `content` is their texts joined.
    pub sections: Vec<VersionSection>,
    /// The web address of this version online, which the server writes from its
    /// `--source-url-template`; null without one (and from the engine itself).
    pub source_url: Option<String>,
}

/// One section of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionSection {
    /// Heading path, outermost first; empty before the first heading.
    pub section: Vec<String>,
    /// The exact text, heading line included.
    pub text: String,
    /// Id of the span holding this text (16 hex digits), as search hits name it.
    pub span: String,
    /// Where the words of the query asked to highlight occur in `text`: `[start, end)` in
    /// characters; left out without such a query.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<u64>>))]
    pub highlights: Vec<[usize; 2]>,
}

/// Index statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsResponse {
    /// Collections.
    pub collections: u64,
    /// Documents (service and terms type within a collection).
    pub documents: u64,
    /// Versions recorded (deletions not counted).
    pub versions: u64,
    /// Spans stored.
    pub spans: u64,
    /// Size of the index folder in bytes.
    pub index_bytes: u64,
    /// Segments of the index.
    pub segments: u64,
    /// Documents with versions extracted from HTML snapshots without declaration rules
    /// (by the fallback), sorted.
    pub without_rules: Vec<DocumentName>,
    /// PDF snapshots skipped (their text is not extracted).
    pub skipped_pdfs: u64,
}

/// A document named by collection, service and terms type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentName {
    /// Collection.
    pub collection: String,
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
}

/// Which document and which version to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowRequest {
    /// Service name (matched case-insensitively when not exact).
    pub service: String,
    /// Terms type (matched case-insensitively when not exact).
    pub terms_type: String,
    /// Collection, needed only when several hold the document.
    pub collection: Option<String>,
    /// The instant; `None` for the latest version.
    pub at: Option<Timestamp>,
    /// A version's source id, or a unique prefix of it (at least 4 characters); takes
    /// precedence over `at`.
    pub version: Option<String>,
}

/// Per-document facts of its version records.
struct DocFacts {
    versions: u64,
    first: i64,
    last: i64,
}

impl DocFacts {
    const EMPTY: DocFacts = DocFacts {
        versions: 0,
        first: i64::MAX,
        last: i64::MIN,
    };
}

impl Engine {
    /// Each document's facts, by key text, from the version records.
    fn doc_facts(&self, searcher: &Searcher) -> Result<BTreeMap<String, DocFacts>> {
        let versions = self.all_versions(searcher)?;
        let mut facts = BTreeMap::new();
        for (doc, records) in &versions.by_doc {
            let Some(key) = versions.keys.get(doc) else {
                continue;
            };
            let mut entry = DocFacts::EMPTY;
            for version in records {
                if version.kind != VersionKind::Deleted {
                    entry.versions += 1;
                }
                entry.first = entry.first.min(version.recorded_at);
                entry.last = entry.last.max(version.recorded_at);
            }
            facts.insert(key.term_text(), entry);
        }
        Ok(facts)
    }

    /// Every service and its documents.
    pub fn services(&self) -> Result<ServicesResponse> {
        self.read(|searcher| self.services_in(searcher))
    }

    fn services_in(&self, searcher: &Searcher) -> Result<ServicesResponse> {
        let mut services: BTreeMap<String, Vec<DocumentSummary>> = BTreeMap::new();
        for (key, facts) in self.doc_facts(searcher)? {
            let mut parts = key.split('\u{1f}');
            let (Some(collection), Some(service), Some(terms_type)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            services
                .entry(service.to_owned())
                .or_default()
                .push(DocumentSummary {
                    terms_type: terms_type.to_owned(),
                    collection: collection.to_owned(),
                    versions: facts.versions,
                    first_recorded: Timestamp::from_unix(facts.first).unwrap_or(Timestamp::MIN),
                    last_recorded: Timestamp::from_unix(facts.last).unwrap_or(Timestamp::MIN),
                });
        }
        Ok(ServicesResponse {
            services: services
                .into_iter()
                .map(|(service, mut documents)| {
                    documents.sort_by(|a, b| {
                        (&a.terms_type, &a.collection).cmp(&(&b.terms_type, &b.collection))
                    });
                    ServiceSummary { service, documents }
                })
                .collect(),
        })
    }

    /// Finds the document a user means, each name resolved as every operation resolves
    /// names ([`crate::names::resolve_name`]): the service among every service, the terms
    /// type among the service's, the collection among the document's.
    pub(crate) fn resolve(
        &self,
        searcher: &Searcher,
        service: &str,
        terms_type: &str,
        collection: Option<&str>,
    ) -> Result<DocKey> {
        let keys: Vec<DocKey> = self
            .doc_facts(searcher)?
            .into_keys()
            .filter_map(|k| DocKey::from_term_text(&k).ok())
            .collect();
        let names = |pick: &dyn Fn(&DocKey) -> Option<&str>| -> BTreeSet<&str> {
            keys.iter().filter_map(pick).collect()
        };
        let services = names(&|k| Some(k.service.as_str()));
        let service = resolve_part(&services, NameKind::Service, service, None)?;
        let types = names(&|k| (k.service.as_str() == service).then_some(k.terms_type.as_str()));
        let terms_type = resolve_part(
            &types,
            NameKind::TermsType,
            terms_type,
            Some(format!("`{service}`")),
        )?;
        let collections = names(&|k| {
            (k.service.as_str() == service && k.terms_type.as_str() == terms_type)
                .then_some(k.collection.as_str())
        });
        let collection = match collection {
            Some(typed) => resolve_part(
                &collections,
                NameKind::Collection,
                typed,
                Some(format!("`{service}` `{terms_type}`")),
            )?,
            None => match collections.iter().next() {
                Some(only) if collections.len() == 1 => only,
                _ => {
                    return Err(SearchError::SeveralCollections {
                        service: service.to_owned(),
                        terms_type: terms_type.to_owned(),
                        collections: collections.iter().map(|c| (*c).to_owned()).collect(),
                    });
                }
            },
        };
        Ok(DocKey::new(collection, service, terms_type)?)
    }

    /// Every version record of a document, in recorded order.
    pub(crate) fn version_records(
        &self,
        searcher: &Searcher,
        key: &DocKey,
    ) -> Result<Vec<VersionRecord>> {
        self.version_slots(searcher, key)?
            .into_iter()
            .map(|slot| self.version_record(searcher, slot.address))
            .collect()
    }

    /// The version records of a document, in ordinal (and recorded) order, from the version
    /// table: choosing a version needs no stored document.
    pub(crate) fn version_slots(
        &self,
        searcher: &Searcher,
        key: &DocKey,
    ) -> Result<Vec<VersionFact>> {
        let versions = self.version_table_of(searcher, std::slice::from_ref(key))?;
        Ok(versions
            .by_doc
            .get(&key.hash64())
            .cloned()
            .unwrap_or_default())
    }

    /// The source id of a document's latest version, from fast fields alone; read once per
    /// document and searcher generation.
    pub(crate) fn latest_version_id(&self, searcher: &Searcher, key: &DocKey) -> Result<String> {
        let hash = key.hash64();
        self.columns.latest_ids.get(searcher, hash, || {
            let versions = self.version_table_of(searcher, std::slice::from_ref(key))?;
            match versions.latest(hash) {
                Some(latest) => self.version_id_at(searcher, latest.address),
                None => Ok(String::new()),
            }
        })
    }

    fn version_record(&self, searcher: &Searcher, address: DocAddress) -> Result<VersionRecord> {
        let doc = searcher
            .doc(address)
            .map_err(SearchError::tantivy("cannot read version record"))?;
        Ok(version_from_document(&self.fields, &doc)?)
    }

    /// The versions of one document.
    pub fn versions(
        &self,
        service: &str,
        terms_type: &str,
        collection: Option<&str>,
    ) -> Result<VersionsResponse> {
        self.read(|searcher| self.versions_in(searcher, service, terms_type, collection))
    }

    fn versions_in(
        &self,
        searcher: &Searcher,
        service: &str,
        terms_type: &str,
        collection: Option<&str>,
    ) -> Result<VersionsResponse> {
        let key = self.resolve(searcher, service, terms_type, collection)?;
        let versions = self
            .version_records(searcher, &key)?
            .into_iter()
            .map(|r| VersionEntry {
                id: r.source_id,
                recorded_at: r.recorded_at,
                kind: r.kind,
            })
            .collect();
        Ok(VersionsResponse {
            service: key.service.to_string(),
            terms_type: key.terms_type.to_string(),
            collection: key.collection.to_string(),
            versions,
        })
    }

    /// The version in force at an instant (or the latest), rebuilt from its spans.
    pub fn show(&self, request: &ShowRequest) -> Result<VersionResponse> {
        self.read(|searcher| self.show_in(searcher, request))
    }

    fn show_in(&self, searcher: &Searcher, request: &ShowRequest) -> Result<VersionResponse> {
        if let Some(at) = request.at
            && at > Timestamp::now()
        {
            return Err(SearchError::InFuture { at });
        }
        let key = self.resolve(
            searcher,
            &request.service,
            &request.terms_type,
            request.collection.as_deref(),
        )?;
        let record = self.pick_record(searcher, &key, request.at, request.version.as_deref())?;
        self.deadline.check()?;
        self.version_response(searcher, &key, &record)
    }

    /// [`Engine::show`], with the words of `query` highlighted in each section as a search
    /// for it highlights them in its snippets (word forms and spellings included).
    pub fn show_matching(&self, request: &ShowRequest, query: &str) -> Result<VersionResponse> {
        self.read(|searcher| self.show_matching_in(searcher, request, query))
    }

    fn show_matching_in(
        &self,
        searcher: &Searcher,
        request: &ShowRequest,
        query: &str,
    ) -> Result<VersionResponse> {
        validate_query(query, &self.limits)?;
        let mut response = self.show(request)?;
        let text = text_query(
            searcher,
            &self.columns,
            query,
            Fields::Ranked,
            MatchMode::default(),
            self.limits.max_expansions,
        )?;
        for section in &mut response.sections {
            section.highlights = highlight_ranges(&text.highlight, &section.text);
        }
        Ok(response)
    }

    /// The version of a document named by a source id (or unique prefix), else the one in
    /// force at `at`, else the latest.
    pub(crate) fn pick_record(
        &self,
        searcher: &Searcher,
        key: &DocKey,
        at: Option<Timestamp>,
        version: Option<&str>,
    ) -> Result<VersionRecord> {
        if let Some(id) = version {
            let records = self.version_records(searcher, key)?;
            let record = find_version(&records, id).map_err(|message| match message {
                VersionLookup::Invalid(message) => SearchError::InvalidParameter {
                    name: "version",
                    message,
                },
                VersionLookup::Missing => SearchError::NotFound {
                    message: format!("{key} has no version `{}`", shorten(id, 100)),
                },
            })?;
            return Ok(record.clone());
        }
        // Without an instant, the version in force now: one recorded after the present (by a
        // clock that was wrong) is not in force yet, as in a search of what is in force.
        let at = at.unwrap_or_else(Timestamp::now);
        let slots = self.version_slots(searcher, key)?;
        let slot = slots.iter().rev().find(|s| s.recorded_at <= at.as_unix());
        let Some(slot) = slot else {
            let first = slots
                .first()
                .and_then(|s| Timestamp::from_unix(s.recorded_at))
                .map(|t| t.to_string())
                .unwrap_or_default();
            return Err(SearchError::NotFound {
                message: format!("{key} has no version at {at}: it was first recorded at {first}"),
            });
        };
        self.version_record(searcher, slot.address)
    }

    fn version_response(
        &self,
        searcher: &Searcher,
        key: &DocKey,
        record: &VersionRecord,
    ) -> Result<VersionResponse> {
        if record.kind == VersionKind::Deleted {
            return Err(SearchError::NotFound {
                message: format!(
                    "{key} was not tracked at that instant: it was removed from the archive at {}",
                    record.recorded_at
                ),
            });
        }
        let sections: Vec<VersionSection> = self
            .load_spans(searcher, key, &record.spans)?
            .into_iter()
            .map(|s| VersionSection {
                section: s.section.path,
                text: s.section.text.to_string(),
                span: s.id.to_string(),
                highlights: Vec::new(),
            })
            .collect();
        let content = sections.iter().map(|s| s.text.as_str()).collect();
        Ok(VersionResponse {
            service: key.service.to_string(),
            terms_type: key.terms_type.to_string(),
            collection: key.collection.to_string(),
            id: record.source_id.clone(),
            recorded_at: record.recorded_at,
            kind: record.kind,
            content,
            sections,
            source_url: None,
        })
    }

    /// The stored spans of document `key` with these ids, in the same order. One query finds
    /// the document's spans and their `span_id` column says which is which (not one search per
    /// id: a version may have a million sections); the stored documents are then read in
    /// index order, so each compressed block of the store is read once.
    pub(crate) fn load_spans(
        &self,
        searcher: &Searcher,
        key: &DocKey,
        ids: &[SpanId],
    ) -> Result<Vec<SpanRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut addresses = self.span_addresses(searcher, key, ids)?;
        addresses.sort_unstable();
        let mut spans: Vec<Option<SpanRecord>> = vec![None; ids.len()];
        let mut ticker = self.deadline.ticker();
        let mut texts = TextReader::new(searcher, &self.fields);
        for (address, position) in addresses {
            if !ticker.step() {
                break;
            }
            let doc = searcher
                .doc(address)
                .map_err(SearchError::tantivy("cannot read span"))?;
            spans[position] = Some(texts.span(key.hash64(), &doc)?);
        }
        ticker.check()?;
        spans
            .into_iter()
            .zip(ids)
            .map(|(span, id)| {
                span.ok_or_else(|| {
                    SearchError::Schema(palimpsest_schema::SchemaError::Inconsistent(format!(
                        "span {id} is missing"
                    )))
                })
            })
            .collect()
    }

    /// Where each of these spans of document `key` is, with its position in `ids`.
    fn span_addresses(
        &self,
        searcher: &Searcher,
        key: &DocKey,
        ids: &[SpanId],
    ) -> Result<Vec<(DocAddress, usize)>> {
        let mut positions: HashMap<u64, Vec<usize>> = HashMap::with_capacity(ids.len());
        for (position, id) in ids.iter().enumerate() {
            positions.entry(id.0).or_default().push(position);
        }
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                term(self.fields.doc_type, DocType::Span.as_str()),
            ),
            (Occur::Must, term(self.fields.doc_key, &key.term_text())),
        ]);
        let docs = searcher
            .search(&query, &DocSetCollector)
            .map_err(SearchError::tantivy("cannot list spans"))?;
        self.deadline.check()?;
        let mut columns = HashMap::new();
        let mut found = Vec::with_capacity(ids.len());
        let mut ticker = self.deadline.ticker();
        for address in docs {
            if !ticker.step() {
                break;
            }
            let column = match columns.entry(address.segment_ord) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => entry
                    .insert(self.segment_columns(searcher.segment_reader(address.segment_ord))?),
            };
            let id = column.span_id.first(address.doc_id);
            if let Some(at) = id.and_then(|id| positions.get(&id)) {
                found.extend(at.iter().map(|&position| (address, position)));
            }
        }
        ticker.check()?;
        Ok(found)
    }

    /// Index statistics.
    pub fn stats(&self) -> Result<StatsResponse> {
        self.read(|searcher| self.stats_in(searcher))
    }

    fn stats_in(&self, searcher: &Searcher) -> Result<StatsResponse> {
        let facts = self.doc_facts(searcher)?;
        let collections: HashSet<&str> = facts
            .keys()
            .filter_map(|k| k.split('\u{1f}').next())
            .collect();
        let spans = searcher
            .search(&*term(self.fields.doc_type, DocType::Span.as_str()), &Count)
            .map_err(SearchError::tantivy("cannot count spans"))?;
        let index_bytes = palimpsest_schema::index_bytes(self.dir());
        let mut without_rules = Vec::new();
        let mut skipped_pdfs = 0;
        for (collection, state) in self.payload()?.collections {
            skipped_pdfs += state.snapshots.skipped_pdfs.len() as u64;
            without_rules.extend(state.snapshots.without_rules.into_iter().map(
                |(service, terms_type)| DocumentName {
                    collection: collection.clone(),
                    service,
                    terms_type,
                },
            ));
        }
        without_rules.sort();
        Ok(StatsResponse {
            collections: collections.len() as u64,
            documents: facts.len() as u64,
            versions: facts.values().map(|f| f.versions).sum(),
            spans: spans as u64,
            index_bytes,
            segments: searcher.segment_readers().len() as u64,
            without_rules,
            skipped_pdfs,
        })
    }

    /// Each git collection and the path of its archive, as the last indexing run gave it.
    pub fn git_archives(&self) -> Result<Vec<(String, std::path::PathBuf)>> {
        Ok(self
            .payload()?
            .collections
            .into_iter()
            .filter(|(_, state)| state.kind == palimpsest_schema::SourceKind::Git)
            .map(|(collection, state)| (collection, std::path::PathBuf::from(state.path)))
            .collect())
    }

    /// The per-collection state saved with the last commit.
    fn payload(&self) -> Result<palimpsest_schema::Payload> {
        let metas = self
            .index
            .load_metas()
            .map_err(SearchError::tantivy("cannot read index metadata"))?;
        Ok(metas
            .payload
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default())
    }
}

enum VersionLookup {
    Invalid(String),
    Missing,
}

/// The record whose source id is `id` or starts with it (case-insensitively).
fn find_version<'a>(
    records: &'a [VersionRecord],
    id: &str,
) -> std::result::Result<&'a VersionRecord, VersionLookup> {
    let id = id.trim();
    if id.chars().count() < 4 {
        return Err(VersionLookup::Invalid(format!(
            "`{id}` is too short: give at least 4 characters of a version id"
        )));
    }
    if let Some(exact) = records.iter().find(|r| r.source_id == id) {
        return Ok(exact);
    }
    let lower = id.to_lowercase();
    let found: Vec<&VersionRecord> = records
        .iter()
        .filter(|r| r.source_id.to_lowercase().starts_with(&lower))
        .collect();
    match found.as_slice() {
        [] => Err(VersionLookup::Missing),
        [one] => Ok(one),
        many => Err(VersionLookup::Invalid(format!(
            "`{}` matches {} versions: give more characters",
            shorten(id, 100),
            many.len()
        ))),
    }
}

/// One name of a document resolved among `known`, or the error that offers the close names
/// (or, when none is close, every name there is for a terms type or a collection).
fn resolve_part<'k>(
    known: &BTreeSet<&'k str>,
    kind: NameKind,
    typed: &str,
    within: Option<String>,
) -> Result<&'k str> {
    resolve_name(known, kind, typed).map_err(|close| {
        let all = kind != NameKind::Service && close.is_empty();
        SearchError::UnknownDocument {
            parameter: kind.parameter(),
            name: typed.to_owned(),
            within,
            suggestions: match all {
                true => known.iter().map(|k| (*k).to_owned()).collect(),
                false => close,
            },
            close: !all,
        }
    })
}
