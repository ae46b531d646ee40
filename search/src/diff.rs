//! Section-level difference between two versions of one document.

use std::collections::HashSet;

use palimpsest_schema::{
    SpanRecord, Timestamp, VersionKind, VersionRecord, content_hash, path_hash,
};
use serde::Serialize;
use tantivy::Searcher;

use crate::compare::{ChangeKind, DiffPart, SectionKey, pair_sections, timed_word_diff};
use crate::documents::VersionEntry;
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::request::AnswerBytes;

/// Which two versions of which document to compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffRequest {
    /// Service name (matched case-insensitively when not exact).
    pub service: String,
    /// Terms type (matched case-insensitively when not exact).
    pub terms_type: String,
    /// Collection, needed only when several hold the document.
    pub collection: Option<String>,
    /// The earlier side: the version in force at this instant.
    pub from: Option<Timestamp>,
    /// The later side: the version in force at this instant (default: the latest).
    pub to: Option<Timestamp>,
    /// The earlier side by source id or unique prefix, instead of `from`.
    pub from_version: Option<String>,
    /// The later side by source id or unique prefix, instead of `to`.
    pub to_version: Option<String>,
}

/// How one section differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionChange {
    /// `added`, `removed`, `modified` or `moved`.
    pub kind: ChangeKind,
    /// Heading path (in the later version; in the earlier one when removed).
    pub section: Vec<String>,
    /// Heading path in the earlier version, for `moved`.
    pub previous_section: Option<Vec<String>>,
    /// Text in the earlier version (none when added).
    pub before: Option<String>,
    /// Text in the later version (none when removed).
    pub after: Option<String>,
    /// Word-level diff, for `modified` and `moved`.
    pub diff: Option<Vec<DiffPart>>,
}

impl SectionChange {
    /// Bytes of text it holds, as an answer's budget counts them.
    fn bytes(&self) -> usize {
        let sides = [&self.before, &self.after]
            .into_iter()
            .flatten()
            .map(String::len);
        sides
            .chain(self.diff.iter().flatten().map(|p| p.text.len()))
            .sum()
    }
}

/// The difference between two versions, section by section, in the later version's order
/// (removed sections where they stood).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffResponse {
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// The earlier version.
    pub from: VersionEntry,
    /// The later version.
    pub to: VersionEntry,
    /// Sections identical in both.
    pub unchanged: u64,
    /// Sections that differ.
    pub changes: Vec<SectionChange>,
}

fn entry(record: &VersionRecord) -> VersionEntry {
    VersionEntry {
        id: record.source_id.clone(),
        recorded_at: record.recorded_at,
        kind: record.kind,
    }
}

fn section_key(span: &SpanRecord) -> SectionKey {
    let mut exact = path_hash(&span.section.path).to_le_bytes().to_vec();
    exact.extend_from_slice(span.section.text.as_bytes());
    SectionKey {
        path: path_hash(&span.section.path),
        content: content_hash(&span.section),
        exact: xxhash_rust::xxh3::xxh3_64(&exact),
    }
}

impl Engine {
    /// Compares the versions of a document in force at two instants (or named by id).
    pub fn diff(&self, request: &DiffRequest) -> Result<DiffResponse> {
        self.read(|searcher| self.diff_in(searcher, request))
    }

    fn diff_in(&self, searcher: &Searcher, request: &DiffRequest) -> Result<DiffResponse> {
        for at in [request.from, request.to].into_iter().flatten() {
            if at > Timestamp::now() {
                return Err(SearchError::InFuture { at });
            }
        }
        if request.from.is_some() && request.from_version.is_some() {
            return Err(SearchError::parameter(
                "from_version",
                "give `from` or `from_version`, not both",
            ));
        }
        if request.to.is_some() && request.to_version.is_some() {
            return Err(SearchError::parameter(
                "to_version",
                "give `to` or `to_version`, not both",
            ));
        }
        if request.from.is_none() && request.from_version.is_none() {
            return Err(SearchError::parameter(
                "from",
                "missing: the instant (or `from_version`) of the earlier version",
            ));
        }
        let key = self.resolve(
            searcher,
            &request.service,
            &request.terms_type,
            request.collection.as_deref(),
        )?;
        let from = self.pick_record(
            searcher,
            &key,
            request.from,
            request.from_version.as_deref(),
        )?;
        self.deadline.check()?;
        let to = self.pick_record(searcher, &key, request.to, request.to_version.as_deref())?;
        self.deadline.check()?;
        for record in [&from, &to] {
            if record.kind == VersionKind::Deleted {
                return Err(SearchError::NotFound {
                    message: format!(
                        "{key} was not tracked then: it was removed from the archive at {}",
                        record.recorded_at
                    ),
                });
            }
        }
        let later: HashSet<_> = to.spans.iter().collect();
        let shared: HashSet<_> = from
            .spans
            .iter()
            .filter(|id| later.contains(id))
            .copied()
            .collect();
        let only = |record: &VersionRecord| -> Vec<_> {
            record
                .spans
                .iter()
                .filter(|id| !shared.contains(id))
                .copied()
                .collect()
        };
        self.deadline.check()?;
        let before = self.load_spans(searcher, &key, &only(&from))?;
        let after = self.load_spans(searcher, &key, &only(&to))?;
        let before_keys: Vec<SectionKey> = before.iter().map(section_key).collect();
        let after_keys: Vec<SectionKey> = after.iter().map(section_key).collect();
        let pairings = pair_sections(&before_keys, &after_keys);

        // Order: by position in the later version; a removed section goes right after the
        // later position of whatever preceded it in the earlier version.
        let mut anchor: Vec<Option<usize>> = vec![None; before.len()];
        for p in &pairings {
            if let (Some(i), Some(j)) = (p.before, p.after) {
                anchor[i] = Some(j);
            }
        }
        let mut running = None;
        let anchors: Vec<Option<usize>> = anchor
            .iter()
            .map(|a| {
                running = a.or(running);
                running
            })
            .collect();
        let mut ordered: Vec<((usize, usize), SectionChange)> = Vec::new();
        let mut unchanged = shared.len() as u64;
        let mut ticker = self.deadline.ticker();
        let answer = AnswerBytes::new(&self.limits);
        for p in pairings {
            if !ticker.step() {
                break;
            }
            let Some(kind) = p.kind else {
                unchanged += 1;
                continue;
            };
            let b = p.before.map(|i| &before[i]);
            let a = p.after.map(|j| &after[j]);
            let order = match (p.after, p.before) {
                (Some(j), _) => (j * 2 + 1, 0),
                (None, Some(i)) => (anchors[i].map_or(0, |j| j * 2 + 2), i),
                (None, None) => (0, 0),
            };
            let change = SectionChange {
                kind,
                section: a.or(b).map(|s| s.section.path.clone()).unwrap_or_default(),
                previous_section: (kind == ChangeKind::Moved)
                    .then(|| b.map(|s| s.section.path.clone()))
                    .flatten(),
                diff: match (kind, b, a) {
                    (ChangeKind::Modified | ChangeKind::Moved, Some(b), Some(a)) => Some(
                        timed_word_diff(&b.section.text, &a.section.text, self.deadline)?,
                    ),
                    _ => None,
                },
                before: b.map(|s| s.section.text.to_string()),
                after: a.map(|s| s.section.text.to_string()),
            };
            answer.take(change.bytes())?;
            ordered.push((order, change));
        }
        ticker.check()?;
        ordered.sort_by_key(|(order, _)| *order);
        Ok(DiffResponse {
            service: key.service.to_string(),
            terms_type: key.terms_type.to_string(),
            collection: key.collection.to_string(),
            from: entry(&from),
            to: entry(&to),
            unchanged,
            changes: ordered.into_iter().map(|(_, c)| c).collect(),
        })
    }
}
