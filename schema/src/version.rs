use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{DocKey, SchemaError, StepLink, Timestamp};

/// How a version came to be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// The first version recorded of a document.
    FirstRecord,
    /// A change at the source.
    Change,
    /// A re-extraction of unchanged source pages (new filters or declarations); not a change
    /// at the source, hidden from change views by default.
    TechnicalUpgrade,
    /// The document stopped being tracked: its file was deleted from the archive. Such a
    /// record has no content; nothing is in force after it until a later version.
    Deleted,
}

impl VersionKind {
    /// The snake_case name used in JSON and in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionKind::FirstRecord => "first_record",
            VersionKind::Change => "change",
            VersionKind::TechnicalUpgrade => "technical_upgrade",
            VersionKind::Deleted => "deleted",
        }
    }
}

impl fmt::Display for VersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VersionKind {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "first_record" => VersionKind::FirstRecord,
            "change" => VersionKind::Change,
            "technical_upgrade" => VersionKind::TechnicalUpgrade,
            "deleted" => VersionKind::Deleted,
            _ => {
                return Err(SchemaError::InvalidKind {
                    value: s.to_owned(),
                });
            }
        })
    }
}

/// One recorded version of one document, as read from an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// Which document.
    pub key: DocKey,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Where it came from in the archive: a commit id, or a path.
    pub source_id: String,
    /// How it came to be recorded.
    pub kind: VersionKind,
    /// The recorded text (empty for [`VersionKind::Deleted`]).
    pub content: String,
}

/// A titled part of a version: its heading path and its exact text, heading line included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Section {
    /// Headings from the outermost to this section's own; empty before the first heading.
    pub path: Vec<String>,
    /// The exact text of the section, heading line(s) included; shared, as the same text
    /// often stands in many spans (see `indexer::timeline::TextPool`).
    pub text: Arc<str>,
}

/// A span as it is written to the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRecord {
    /// Stable id, derived from the document, the version that opened it and its position.
    pub id: SpanId,
    /// The section's heading path and exact text.
    pub section: Section,
    /// Recorded instant of the first version that has it.
    pub valid_from: Timestamp,
    /// Recorded instant of the first later version without it; `None` while in force.
    pub valid_to: Option<Timestamp>,
    /// Source id of the first version that has it.
    pub first_version: String,
    /// Source id of the last version that has it; `None` while in force.
    pub last_version: Option<String>,
    /// Ordinal of the first version that has it (the version that opened it).
    pub opened: u64,
    /// Ordinal of the first later version without it (the version that closed it); `None`
    /// while in force.
    pub closed: Option<u64>,
    /// The change that opened it, as its step was paired.
    pub opened_link: Option<StepLink>,
    /// The change that closed it; `None` while in force.
    pub closed_link: Option<StepLink>,
    /// The first heading of its path is the title of the version that opened it (one
    /// top-level heading over the whole version): the section facet counts the span under
    /// its second heading instead.
    pub title_heading: bool,
}

impl SpanRecord {
    /// The top-level section the section facet counts the span under: its first heading, or
    /// its second when the first is the document's own title (empty before any heading).
    pub fn facet_heading(&self) -> &str {
        let level = usize::from(self.title_heading);
        self.section.path.get(level).map_or("", String::as_str)
    }
}

/// A version as it is written to the index: metadata and the ordered ids of its spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Position in the document's history, from 0.
    pub ordinal: u64,
    /// Commit id or path in the archive.
    pub source_id: String,
    /// How it came to be recorded.
    pub kind: VersionKind,
    /// The spans that make up its text, in order.
    pub spans: Vec<SpanId>,
    /// How many sections it added, removed, modified and moved ([`crate::pair_step`]).
    pub steps: crate::StepCounts,
}

/// Identifies a span in the index: stable across full and incremental builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanId(pub u64);

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A stable 64-bit hash of a heading path, kept in a fast field so that hits on the same
/// section can be grouped without loading stored documents.
pub fn path_hash(path: &[String]) -> u64 {
    let mut joined = String::new();
    for heading in path {
        joined.push_str(heading);
        joined.push('\u{1f}');
    }
    xxhash_rust::xxh3::xxh3_64(joined.as_bytes())
}

/// A stable 64-bit hash of a section's heading path and exact text: equal for two spans of
/// one document that the index searches as one text.
pub fn section_hash(section: &Section) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(section.text.as_bytes(), path_hash(&section.path))
}

/// A stable 64-bit hash of a section's content without its heading line: equal for a section
/// that keeps its text under a renamed or moved heading. 0 for a section with no content
/// besides its heading (such sections are not matched by content).
pub fn content_hash(section: &Section) -> u64 {
    let text = &section.text;
    let mut normalized = String::with_capacity(text.len() + 1);
    for word in text[body_start(section)..].split_whitespace() {
        normalized.push_str(word);
        normalized.push(' ');
    }
    if normalized.is_empty() {
        return 0;
    }
    xxhash_rust::xxh3::xxh3_64(normalized.as_bytes()).max(1)
}

/// Where a section's content starts: after its leading blank lines and, under a heading
/// path, the heading line and a setext underline below it.
fn body_start(section: &Section) -> usize {
    let mut lines = section.text.split_inclusive('\n');
    let mut start = 0;
    let mut line = lines.next();
    while let Some(blank) = line.filter(|l| l.trim().is_empty()) {
        start += blank.len();
        line = lines.next();
    }
    if !section.path.is_empty()
        && let Some(heading) = line
    {
        start += heading.len();
        if let Some(underline) = lines.next().filter(|l| is_setext_underline(l)) {
            start += underline.len();
        }
    }
    start
}

fn is_setext_underline(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The content hash read line by line.
    fn reference_content_hash(section: &Section) -> u64 {
        let mut lines = section.text.lines().skip_while(|l| l.trim().is_empty());
        let mut body: Vec<&str> = Vec::new();
        if section.path.is_empty() {
            body.extend(lines);
        } else {
            lines.next();
            let mut rest = lines.peekable();
            if rest.peek().is_some_and(|l| is_setext_underline(l)) {
                rest.next();
            }
            body.extend(rest);
        }
        let words: Vec<&str> = body.iter().flat_map(|l| l.split_whitespace()).collect();
        if words.is_empty() {
            return 0;
        }
        xxhash_rust::xxh3::xxh3_64(format!("{} ", words.join(" ")).as_bytes()).max(1)
    }

    proptest::proptest! {
        #[test]
        fn content_hashes_skip_the_heading_as_read_line_by_line(
            text in "([ \\t\\r\\n]|==|--|#|a|b c|\\PC){0,30}",
            titled in proptest::bool::ANY,
        ) {
            let section = Section {
                path: if titled { vec!["A".into()] } else { Vec::new() },
                text: text.into(),
            };
            proptest::prop_assert_eq!(content_hash(&section), reference_content_hash(&section));
        }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in [
            VersionKind::FirstRecord,
            VersionKind::Change,
            VersionKind::TechnicalUpgrade,
            VersionKind::Deleted,
        ] {
            assert_eq!(kind.as_str().parse::<VersionKind>().unwrap(), kind);
        }
        assert!("update".parse::<VersionKind>().is_err());
    }

    #[test]
    fn content_hash_ignores_the_heading_line() {
        let section = |path: &[&str], text: &str| Section {
            path: path.iter().map(|s| s.to_string()).collect(),
            text: text.into(),
        };
        let a = content_hash(&section(
            &["Termination"],
            "## Termination\n\nWe may end it.\n",
        ));
        let b = content_hash(&section(
            &["Ending"],
            "Ending\n------\n\nWe  may end it.\n\n",
        ));
        let c = content_hash(&section(&["Ending"], "## Ending\n\nWe may not end it.\n"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(content_hash(&section(&["Empty"], "## Empty\n\n")), 0);
        assert_ne!(content_hash(&section(&[], "Preamble.\n")), 0);
    }

    #[test]
    fn path_hash_separates_levels() {
        let a = path_hash(&["a b".into()]);
        let b = path_hash(&["a".into(), "b".into()]);
        assert_ne!(a, b);
        assert_ne!(path_hash(&[]), path_hash(&["".into()]));
    }
}
