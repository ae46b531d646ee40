//! The per-collection state saved with each commit; its shape is part of the index contract
//! (`schema`), the indexer is its only writer.

pub use palimpsest_schema::{CollectionState, FORMAT, Payload, SnapshotFacts, SourceKind};
