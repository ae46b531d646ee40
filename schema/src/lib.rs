//! The index contract of Palimpsest, shared by the write side (`indexer`) and the read side
//! (`search`): the Tantivy fields and their options, the tokenizer, and the domain types
//! (services, terms types, versions, sections, span ids, timestamps).
//!
//! Nothing here opens files: it names things, so that two crates that never import each
//! other agree on what is in the index, and reads stored text back through a `Searcher` the
//! caller holds ([`text_store`]), so that both read it the same way.
//!
//! ```
//! use palimpsest_schema::{DocKey, Timestamp};
//!
//! let key = DocKey::new("sample", "Acme Cloud", "Terms of Service").unwrap();
//! assert_eq!(key.service.as_str(), "Acme Cloud");
//! let at = Timestamp::parse("2024-03-01").unwrap();
//! assert_eq!(at.to_string(), "2024-03-01T00:00:00Z");
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod documents;
mod error;
mod fields;
mod names;
mod pairing;
mod printable;
mod spelling;
mod state;
mod substance;
pub mod text_store;
mod time;
mod version;

pub use documents::{span_document, span_from_document, version_document, version_from_document};
pub use error::SchemaError;
pub use fields::{
    DocType, IndexFields, OPEN_END, OPEN_ORDINAL, STEM_TOKENIZER, TOKENIZER, exact_analyzer,
    index_bytes, register_tokenizer, section_key, stem_analyzer,
};
pub use names::{CollectionName, DocKey, ServiceId, TermsType};
pub use pairing::{
    ChangeKind, PairedStep, Pairing, SectionKey, StepCounts, StepLink, StepSpan, is_minor,
    pair_sections, pair_step,
};
pub use printable::{is_invisible_format, needs_escape, printable};
pub use spelling::{
    EnglishStems, EnglishStemsFilter, EnglishStemsStream, english_stem, fold_spelling,
};
pub use state::{CollectionState, FORMAT, FilesSeen, Payload, SnapshotFacts, SourceKind};
pub use substance::substance_hash;
pub use text_store::{
    DocumentTexts, NewParagraph, RunRefs, TextReader, paragraphs, text_document, text_key,
};
pub use time::Timestamp;
pub use version::{
    PolicyVersion, Section, SpanId, SpanRecord, VersionKind, VersionRecord, content_hash,
    path_hash, section_hash,
};
