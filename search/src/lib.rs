//! The read side of Palimpsest: section search with filters, time modes, facets and snippets;
//! services, version lists, the version in force at any instant rebuilt from its spans; index
//! statistics; and time travel: changes to sections (with word diffs and an Atom feed), the
//! history of a phrase per document, trends per month or year, and section diffs of two
//! versions. Every answer is a serde type whose JSON is the interface contract shared by the
//! CLI (`--json`) and the HTTP API.
//!
//! ```no_run
//! use palimpsest_search::{Engine, SearchRequest};
//!
//! let engine = Engine::open(std::path::Path::new("palimpsest-index")).unwrap();
//! let response = engine.search(&SearchRequest::new("\"personal data\" AND cookies")).unwrap();
//! for hit in &response.hits {
//!     println!("{} {} {:?}: {}", hit.service, hit.terms_type, hit.section, hit.snippet.text);
//! }
//! ```
#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod changes;
mod collectors;
mod compare;
mod coverage;
mod deadline;
mod diff;
mod documents;
mod engine;
mod error;
mod export;
mod facts;
mod feed;
mod history;
mod integrity;
mod names;
mod query;
mod read_only;
mod request;
mod search;
mod shared_texts;
mod snippet;
mod twins;

pub use changes::grouped::{ChangeGrouping, SectionTouched, VersionChanges};
pub use changes::{
    CHANGE_TEXT_BYTES, Change, ChangeEntry, ChangeFacets, ChangeOrder, ChangesRequest,
    ChangesResponse, HiddenChanges,
};
pub use compare::{
    ChangeKind, DIFF_LINES, DIFF_LINES_TOTAL, DIFF_PARAGRAPHS, DiffOp, DiffPart, WORD_DIFF_CHARS,
    WORD_DIFF_TOTAL_CHARS, word_diff,
};
pub use coverage::Coverage;
pub use diff::{DiffRequest, DiffResponse, SectionChange};
pub use documents::{
    DocumentName, DocumentSummary, ServiceSummary, ServicesResponse, ShowRequest, StatsResponse,
    VersionEntry, VersionResponse, VersionSection, VersionsResponse,
};
pub use engine::Engine;
pub use error::{ErrorKind, SearchError};
pub use export::{Collected, ExportOptions, ExportSink};
pub use feed::{FeedInfo, encode_component};
pub use history::{
    BRIEF_ABSENCE_HOURS, DocumentHistory, HistoryRequest, HistoryResponse, Interval, Run,
    TrendBucket, TrendPoint, TrendRequest, TrendResponse,
};
pub use query::strategy::{MatchMode, is_stop_word, min_should_match};
pub use request::{Filters, Limits, SearchRequest, TimeMode};
pub use search::{CollectionRecord, FacetCount, Facets, Hit, SearchResponse};
pub use snippet::Snippet;
