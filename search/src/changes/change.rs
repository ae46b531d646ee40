//! One change to one section, as every change list answers it.

use palimpsest_schema::{Timestamp, VersionKind};
use serde::Serialize;

use crate::compare::{ChangeKind, DiffPart};

/// One change to one section.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Stable identifier: the same change has the same id in every build of the index.
    pub id: String,
    /// When the version that made the change was recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub date: Timestamp,
    /// `added`, `removed`, `modified` or `moved`.
    pub kind: ChangeKind,
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// Heading path of the section (after the change; before it when removed).
    pub section: Vec<String>,
    /// Heading path before the change, for `moved`.
    pub previous_section: Option<Vec<String>>,
    /// Source id of the version that made the change.
    pub version: String,
    /// How that version was recorded (`change`, `technical_upgrade`, `first_record`, `deleted`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "change"))]
    pub version_kind: VersionKind,
    /// Source id of the version before it (none for a first record).
    pub previous_version: Option<String>,
    /// The section's text before (none when added).
    pub before: Option<String>,
    /// The section's text after (none when removed).
    pub after: Option<String>,
    /// Word-level diff of `before` and `after`, for `modified` and `moved`.
    pub diff: Option<Vec<DiffPart>>,
    /// Whether only dates, punctuation, quote marks, whitespace (inside words too) or link
    /// targets changed; such changes rank after the others by relevance.
    pub minor: bool,
    /// Whether `before`, `after` or `diff` was cut at [`super::CHANGE_TEXT_BYTES`] (ask for full
    /// texts to have them whole).
    pub truncated: bool,
    /// Relevance to the query (0 without one).
    pub score: f32,
}
