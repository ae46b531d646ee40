use tantivy::SegmentReader;
use tantivy::columnar::{Column, StrColumn};
use tantivy::schema::{
    BytesOptions, FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};

use crate::spelling::EnglishStems;

/// Name of the tokenizer used for titles and bodies (exact words); register it with
/// [`register_tokenizer`] on every index opened or created.
pub const TOKENIZER: &str = "palimpsest";

/// Name of the tokenizer of the stemmed fields: [`TOKENIZER`]'s words with British and
/// American spellings folded ([`crate::fold_spelling`]) and reduced to their English stem
/// (Snowball), so that `deleting accounts` matches `delete account`.
pub const STEM_TOKENIZER: &str = "palimpsest_stem";

/// `valid_to` of a span still in force: later than any real instant, so that
/// `valid_from <= T < valid_to` holds for every `T` after `valid_from`.
pub const OPEN_END: i64 = i64::MAX;

/// `closed` of a span still in force.
pub const OPEN_ORDINAL: u64 = u64::MAX;

/// The three kinds of documents stored in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocType {
    /// A span: one section with identical content over a run of versions; searched.
    Span,
    /// A version record: metadata and the ordered span ids of one version.
    Version,
    /// One paragraph of a document's text, stored once however many spans hold it
    /// ([`crate::text_store`]).
    Text,
}

impl DocType {
    /// The indexed value of the `doc_type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Span => "span",
            DocType::Version => "version",
            DocType::Text => "text",
        }
    }
}

/// Registers the Palimpsest tokenizers: words split on non-alphanumerics, lowercased and
/// folded to ASCII (so `données` matches `donnees`), over-long tokens dropped; and the same
/// words folded and stemmed ([`STEM_TOKENIZER`]).
pub fn register_tokenizer(index: &tantivy::Index) {
    index.tokenizers().register(TOKENIZER, exact_analyzer());
    index.tokenizers().register(STEM_TOKENIZER, stem_analyzer());
}

/// The analyzer of [`TOKENIZER`].
pub fn exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzer of [`STEM_TOKENIZER`].
pub fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(EnglishStems)
        .build()
}

/// The section filter key of a heading path: headings lowercased, joined by U+001F.
/// A prefix of this key selects a section and its subsections.
pub fn section_key(path: &[impl AsRef<str>]) -> String {
    let mut key = String::new();
    for (i, heading) in path.iter().enumerate() {
        if i > 0 {
            key.push('\u{1f}');
        }
        key.push_str(&heading.as_ref().trim().to_lowercase());
    }
    key
}

/// The names of the [`IndexFields::steps`] fields, in their order.
const STEP_FIELDS: [&str; 5] = [
    "steps_added",
    "steps_removed",
    "steps_modified",
    "steps_minor",
    "steps_moved",
];

/// Every field of the index, built once from the schema. Span documents and version records
/// share the index so that one Tantivy commit publishes both atomically.
#[derive(Debug, Clone)]
pub struct IndexFields {
    /// The Tantivy schema.
    pub schema: Schema,
    /// `span` or `version` (see [`DocType`]).
    pub doc_type: Field,
    /// The document key ([`crate::DocKey::term_text`]): deletes and lookups by document.
    pub doc_key: Field,
    /// [`crate::DocKey::hash64`], fast, for grouping hits by document.
    pub doc_hash: Field,
    /// Collection name: filter, facet, stored.
    pub collection: Field,
    /// Service name: filter, facet, stored.
    pub service: Field,
    /// Terms type: filter, facet, stored.
    pub terms_type: Field,
    /// Span: [`crate::SpanRecord::facet_heading`], for the section facet.
    pub section_top: Field,
    /// Span: 1 when [`crate::SpanRecord::title_heading`], stored.
    pub title_heading: Field,
    /// Span: [`section_key`] of the path, for `section` prefix filters.
    pub section_key: Field,
    /// Span: the heading path, one stored value per level, in order.
    pub heading: Field,
    /// Span: the headings as searchable text, weighted above the body.
    pub title: Field,
    /// Span: the exact section text, searched with positions; not stored (its paragraphs
    /// are, once per document: `body_runs`).
    pub body: Field,
    /// Span: the numbers of its paragraphs in order ([`crate::RunRefs`]), stored.
    pub body_runs: Field,
    /// Span: the headings again, stemmed ([`STEM_TOKENIZER`]), without positions: unquoted
    /// words match here.
    pub title_stem: Field,
    /// Span: the section text again, stemmed, without positions.
    pub body_stem: Field,
    /// Span: its [`crate::SpanId`].
    pub span_id: Field,
    /// Span: [`crate::path_hash`] of its heading path, fast, for grouping.
    pub path_hash: Field,
    /// Span: Unix seconds of the first version that has it.
    pub valid_from: Field,
    /// Span: Unix seconds of the first later version without it, or [`OPEN_END`].
    pub valid_to: Field,
    /// Span: calendar year of `valid_from`, for the year facet.
    pub year: Field,
    /// Span: source id of the first version that has it.
    pub first_version: Field,
    /// Span: ordinal of the version that opened it.
    pub opened: Field,
    /// Span: ordinal of the version that closed it, or [`OPEN_ORDINAL`] while in force.
    pub closed: Field,
    /// Span: the change that opened it ([`crate::StepLink::encode`]: kind and position, the
    /// span it replaced), fast and stored (a run that closes the span writes it again).
    pub opened_link: [Field; 2],
    /// Span: the change that closed it ([`crate::StepLink::encode`]), fast; `[0, 0]` while in
    /// force.
    pub closed_link: [Field; 2],
    /// Span: [`crate::content_hash`] of its section, fast, to tell moved sections.
    pub content_hash: Field,
    /// Span: [`crate::substance_hash`] of its section, fast, to tell minor changes.
    pub substance_hash: Field,
    /// Span: [`crate::section_hash`] of its path and exact text, fast: an indexing run
    /// resuming a document finds the texts it has indexed.
    pub section_hash: Field,
    /// Span whose text an earlier span of its document indexes (the text came back): that
    /// span's id, fast. Such a span leaves `title`, `body` and their stemmed twins empty and
    /// is matched through that span.
    pub indexed_as: Field,
    /// Span: source id of the last version that has it (empty while in force).
    pub last_version: Field,
    /// Version record: Unix seconds of `recorded_at`.
    pub recorded_at: Field,
    /// Version record: position within its document's history, from 0.
    pub ordinal: Field,
    /// Version record: source id (commit id or path).
    pub version_id: Field,
    /// Version record: [`crate::VersionKind`] name.
    pub version_kind: Field,
    /// Version record: ordered span ids, 8 little-endian bytes each.
    pub span_ids: Field,
    /// Version record: its [`crate::StepCounts`], fast and stored, in the order added,
    /// removed, modified, minor, moved.
    pub steps: [Field; 5],
    /// Text: [`crate::text_key`], indexed, to read a paragraph by number.
    pub text_key: Field,
    /// Text: the hash of the paragraph, fast, to resume numbering a document.
    pub text_hash: Field,
    /// Text: its number within the document, fast.
    pub text_seq: Field,
    /// Text: the paragraph, stored only.
    pub text: Field,
}

impl IndexFields {
    /// The schema of a new index.
    pub fn new() -> IndexFields {
        let mut builder = Schema::builder();
        let with_positions = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let doc_type = builder.add_text_field("doc_type", STRING);
        let doc_key = builder.add_text_field("doc_key", STRING | FAST);
        let doc_hash = builder.add_u64_field("doc_hash", FAST);
        let collection = builder.add_text_field("collection", STRING | STORED | FAST);
        let service = builder.add_text_field("service", STRING | STORED | FAST);
        let terms_type = builder.add_text_field("terms_type", STRING | STORED | FAST);
        let section_top = builder.add_text_field("section_top", STRING | FAST);
        let title_heading = builder.add_u64_field("title_heading", STORED);
        let section_key = builder.add_text_field("section_key", STRING);
        let heading = builder.add_text_field("heading", STORED);
        let title = builder.add_text_field("title", with_positions.clone());
        let body = builder.add_text_field("body", with_positions);
        let body_runs = builder.add_bytes_field("body_runs", BytesOptions::default().set_stored());
        let stemmed = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(STEM_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let title_stem = builder.add_text_field("title_stem", stemmed.clone());
        let body_stem = builder.add_text_field("body_stem", stemmed);
        let span_id = builder.add_u64_field("span_id", INDEXED | FAST | STORED);
        let path_hash = builder.add_u64_field("path_hash", FAST);
        let valid_from = builder.add_i64_field("valid_from", INDEXED | FAST | STORED);
        let valid_to = builder.add_i64_field("valid_to", INDEXED | FAST | STORED);
        let year = builder.add_u64_field("year", FAST);
        let first_version = builder.add_text_field("first_version", STORED);
        let opened = builder.add_u64_field("opened", FAST | STORED);
        let closed = builder.add_u64_field("closed", FAST | STORED);
        let opened_link = ["opened_link", "opened_partner"]
            .map(|name| builder.add_u64_field(name, FAST | STORED));
        let closed_link =
            ["closed_link", "closed_partner"].map(|name| builder.add_u64_field(name, FAST));
        let content_hash = builder.add_u64_field("content_hash", FAST);
        let substance_hash = builder.add_u64_field("substance_hash", FAST);
        let section_hash = builder.add_u64_field("section_hash", FAST);
        let indexed_as = builder.add_u64_field("indexed_as", FAST);
        let last_version = builder.add_text_field("last_version", STORED);
        let recorded_at = builder.add_i64_field("recorded_at", INDEXED | FAST | STORED);
        let ordinal = builder.add_u64_field("ordinal", FAST | STORED);
        let version_id = builder.add_text_field("version_id", STRING | STORED | FAST);
        let version_kind = builder.add_text_field("version_kind", STRING | STORED | FAST);
        let span_ids = builder.add_bytes_field("span_ids", BytesOptions::default().set_stored());
        let steps = STEP_FIELDS.map(|name| builder.add_u64_field(name, FAST | STORED));
        let text_key = builder.add_bytes_field("text_key", BytesOptions::default().set_indexed());
        let text_hash = builder.add_u64_field("text_hash", FAST);
        let text_seq = builder.add_u64_field("text_seq", FAST);
        let text_field = builder.add_text_field("text", STORED);
        IndexFields {
            schema: builder.build(),
            doc_type,
            doc_key,
            doc_hash,
            collection,
            service,
            terms_type,
            section_top,
            title_heading,
            section_key,
            heading,
            title,
            body,
            body_runs,
            title_stem,
            body_stem,
            span_id,
            path_hash,
            valid_from,
            valid_to,
            year,
            first_version,
            opened,
            closed,
            opened_link,
            closed_link,
            content_hash,
            substance_hash,
            section_hash,
            indexed_as,
            last_version,
            recorded_at,
            ordinal,
            version_id,
            version_kind,
            span_ids,
            steps,
            text_key,
            text_hash,
            text_seq,
            text: text_field,
        }
    }
}

/// Reading the fast-field columns of a segment by field: the one place their names are read.
impl IndexFields {
    /// The string fields counted as facets, in output order: service, terms type,
    /// collection, top heading.
    pub fn facets(&self) -> [Field; 4] {
        [
            self.service,
            self.terms_type,
            self.collection,
            self.section_top,
        ]
    }

    /// The `u64` column of `field` in a segment (empty where no document has a value).
    pub fn u64_column(&self, reader: &SegmentReader, field: Field) -> tantivy::Result<Column<u64>> {
        reader.fast_fields().u64(self.schema.get_field_name(field))
    }

    /// The `i64` column of `field` in a segment.
    pub fn i64_column(&self, reader: &SegmentReader, field: Field) -> tantivy::Result<Column<i64>> {
        reader.fast_fields().i64(self.schema.get_field_name(field))
    }

    /// The string column of `field` in a segment, if any document of it has a value.
    pub fn str_column(
        &self,
        reader: &SegmentReader,
        field: Field,
    ) -> tantivy::Result<Option<StrColumn>> {
        reader.fast_fields().str(self.schema.get_field_name(field))
    }
}

impl Default for IndexFields {
    fn default() -> Self {
        IndexFields::new()
    }
}

/// Total size of the files of an index folder (not recursive: an index is flat); 0 when the
/// folder cannot be read.
pub fn index_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_key_lowercases_and_separates_levels() {
        assert_eq!(section_key(&["How We Use", " Ads "]), "how we use\u{1f}ads");
        let empty: [&str; 0] = [];
        assert_eq!(section_key(&empty), "");
    }
}
