//! [`Listing`] for each list answer: its CSV columns and its items.

use palimpsest_search::{
    Change, ChangeEntry, ChangeGrouping, ChangesResponse, DiffOp, DiffPart, DocumentHistory,
    HistoryResponse, Hit, Interval, SearchResponse, ServicesResponse, TrendResponse,
    VersionChanges, VersionsResponse,
};
use serde::Serialize;
use std::io::Write;

use crate::{ExportError, Listing, Record, lines};

fn path(section: &[String]) -> String {
    section.join(" > ")
}

fn list(values: &[String]) -> String {
    values.join("; ")
}

fn intervals(intervals: &[Interval]) -> String {
    let pair = |i: &Interval| {
        let to = i.to.map(|t| t.to_string()).unwrap_or_default();
        format!("{}/{to}", i.from)
    };
    intervals.iter().map(pair).collect::<Vec<_>>().join("; ")
}

/// The text a diff inserted or deleted, pieces joined with ` … `.
fn diff_text(diff: Option<&[DiffPart]>, op: DiffOp) -> String {
    let pieces: Vec<&str> = diff
        .unwrap_or_default()
        .iter()
        .filter(|part| part.op == op)
        .map(|part| part.text.trim())
        .filter(|text| !text.is_empty())
        .collect();
    pieces.join(" … ")
}

/// CSV columns of a search hit.
pub const HIT_COLUMNS: &[&str] = &[
    "service",
    "terms_type",
    "collection",
    "collections",
    "section",
    "snippet",
    "valid_from",
    "valid_to",
    "intervals",
    "first_version",
    "last_version",
    "matched_terms",
    "spans",
    "score",
    "valid_from_by_collection",
];

impl Listing for SearchResponse {
    fn columns(&self) -> &'static [&'static str] {
        HIT_COLUMNS
    }

    fn rows(&self) -> Vec<Vec<String>> {
        self.hits.iter().map(Record::row).collect()
    }

    fn write_lines(&self, out: &mut dyn Write) -> Result<(), ExportError> {
        lines(&self.hits, out)
    }
}

impl Record for Hit {
    fn row(&self) -> Vec<String> {
        let hit = self;
        vec![
            hit.service.clone(),
            hit.terms_type.clone(),
            hit.collection.clone(),
            list(&hit.collections),
            path(&hit.section),
            hit.snippet.text.clone(),
            hit.valid_from.to_string(),
            hit.valid_to.map(|t| t.to_string()).unwrap_or_default(),
            intervals(&hit.intervals),
            hit.first_version.clone(),
            hit.last_version.clone(),
            list(&hit.matched_terms),
            hit.spans.to_string(),
            hit.score.to_string(),
            hit.by_collection
                .iter()
                .map(|r| format!("{}={}", r.collection, r.valid_from))
                .collect::<Vec<_>>()
                .join("; "),
        ]
    }
}

/// CSV columns of a change.
pub const CHANGE_COLUMNS: &[&str] = &[
    "id",
    "date",
    "kind",
    "service",
    "terms_type",
    "collection",
    "section",
    "previous_section",
    "version",
    "version_kind",
    "previous_version",
    "minor",
    "inserted",
    "deleted",
    "before",
    "after",
    "truncated",
    "score",
];

/// CSV columns of a version with its changes (changes grouped by version).
pub const VERSION_CHANGE_COLUMNS: &[&str] = &[
    "date",
    "service",
    "terms_type",
    "collection",
    "version",
    "version_kind",
    "previous_version",
    "sections",
    "words_inserted",
    "words_deleted",
    "minor",
    "score",
];

/// CSV columns of a change list grouped as asked.
pub fn change_columns(group: ChangeGrouping) -> &'static [&'static str] {
    match group {
        ChangeGrouping::Section => CHANGE_COLUMNS,
        ChangeGrouping::Version => VERSION_CHANGE_COLUMNS,
    }
}

impl Listing for ChangesResponse {
    fn columns(&self) -> &'static [&'static str] {
        match self.versions {
            Some(_) => VERSION_CHANGE_COLUMNS,
            None => CHANGE_COLUMNS,
        }
    }

    fn rows(&self) -> Vec<Vec<String>> {
        match &self.versions {
            Some(versions) => versions.iter().map(Record::row).collect(),
            None => self.changes.iter().map(Record::row).collect(),
        }
    }

    fn write_lines(&self, out: &mut dyn Write) -> Result<(), ExportError> {
        match &self.versions {
            Some(versions) => lines(versions, out),
            None => lines(&self.changes, out),
        }
    }
}

impl Record for Change {
    fn row(&self) -> Vec<String> {
        let change = self;
        let diff = change.diff.as_deref();
        vec![
            change.id.clone(),
            change.date.to_string(),
            change.kind.as_str().to_owned(),
            change.service.clone(),
            change.terms_type.clone(),
            change.collection.clone(),
            path(&change.section),
            change
                .previous_section
                .as_deref()
                .map(path)
                .unwrap_or_default(),
            change.version.clone(),
            change.version_kind.to_string(),
            change.previous_version.clone().unwrap_or_default(),
            change.minor.to_string(),
            diff_text(diff, DiffOp::Insert),
            diff_text(diff, DiffOp::Delete),
            change.before.clone().unwrap_or_default(),
            change.after.clone().unwrap_or_default(),
            change.truncated.to_string(),
            change.score.to_string(),
        ]
    }
}

impl Record for ChangeEntry {
    fn row(&self) -> Vec<String> {
        match self {
            ChangeEntry::Section(change) => change.row(),
            ChangeEntry::Version(version) => version.row(),
        }
    }
}

impl Record for VersionChanges {
    fn row(&self) -> Vec<String> {
        let version = self;
        let sections: Vec<String> = version
            .sections
            .iter()
            .map(|s| format!("{} {}", s.kind.as_str(), path(&s.section)))
            .collect();
        vec![
            version.date.to_string(),
            version.service.clone(),
            version.terms_type.clone(),
            version.collection.clone(),
            version.version.clone(),
            version.version_kind.to_string(),
            version.previous_version.clone().unwrap_or_default(),
            list(&sections),
            version.words_inserted.to_string(),
            version.words_deleted.to_string(),
            version.minor.to_string(),
            version.score.to_string(),
        ]
    }
}

/// CSV columns of a document of a phrase history.
pub const DOCUMENT_COLUMNS: &[&str] = &[
    "service",
    "terms_type",
    "collection",
    "first_seen",
    "last_seen",
    "present",
    "intervals",
    "gaps",
    "spans",
    "tracked_since",
    "brief_absences",
];

impl Listing for HistoryResponse {
    fn columns(&self) -> &'static [&'static str] {
        DOCUMENT_COLUMNS
    }

    fn rows(&self) -> Vec<Vec<String>> {
        self.documents.iter().map(Record::row).collect()
    }

    fn write_lines(&self, out: &mut dyn Write) -> Result<(), ExportError> {
        lines(&self.documents, out)
    }
}

impl Record for DocumentHistory {
    fn row(&self) -> Vec<String> {
        let doc = self;
        vec![
            doc.service.clone(),
            doc.terms_type.clone(),
            doc.collection.clone(),
            doc.first_seen.to_string(),
            doc.last_seen.to_string(),
            doc.present.to_string(),
            intervals(&doc.intervals),
            intervals(&doc.gaps),
            doc.spans.to_string(),
            doc.tracked_since.to_string(),
            doc.runs
                .iter()
                .map(|r| r.brief_absences.len())
                .sum::<usize>()
                .to_string(),
        ]
    }
}

impl Listing for TrendResponse {
    fn columns(&self) -> &'static [&'static str] {
        &["period", "start", "documents", "tracked", "share"]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let row = |p: &palimpsest_search::TrendPoint| {
            vec![
                p.period.clone(),
                p.start.to_string(),
                p.documents.to_string(),
                p.tracked.to_string(),
                p.share.map(|s| s.to_string()).unwrap_or_default(),
            ]
        };
        self.points.iter().map(row).collect()
    }

    fn write_lines(&self, out: &mut dyn Write) -> Result<(), ExportError> {
        lines(&self.points, out)
    }
}

/// One version with the names of its document, as a JSON Lines item.
#[derive(Serialize)]
struct NamedVersion<'a> {
    service: &'a str,
    terms_type: &'a str,
    collection: &'a str,
    #[serde(flatten)]
    version: &'a palimpsest_search::VersionEntry,
}

impl Listing for VersionsResponse {
    fn columns(&self) -> &'static [&'static str] {
        &[
            "service",
            "terms_type",
            "collection",
            "id",
            "recorded_at",
            "kind",
        ]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let row = |v: &palimpsest_search::VersionEntry| {
            vec![
                self.service.clone(),
                self.terms_type.clone(),
                self.collection.clone(),
                v.id.clone(),
                v.recorded_at.to_string(),
                v.kind.to_string(),
            ]
        };
        self.versions.iter().map(row).collect()
    }

    fn write_lines(&self, out: &mut dyn Write) -> Result<(), ExportError> {
        let named: Vec<NamedVersion> = self
            .versions
            .iter()
            .map(|version| NamedVersion {
                service: &self.service,
                terms_type: &self.terms_type,
                collection: &self.collection,
                version,
            })
            .collect();
        lines(&named, out)
    }
}

/// One document of a service, as a JSON Lines item.
#[derive(Serialize)]
struct NamedDocument<'a> {
    service: &'a str,
    #[serde(flatten)]
    document: &'a palimpsest_search::DocumentSummary,
}

/// Every document of every service, with its service's name.
fn documents(services: &ServicesResponse) -> Vec<NamedDocument<'_>> {
    services
        .services
        .iter()
        .flat_map(|s| {
            s.documents.iter().map(|document| NamedDocument {
                service: &s.service,
                document,
            })
        })
        .collect()
}

impl Listing for ServicesResponse {
    fn columns(&self) -> &'static [&'static str] {
        &[
            "service",
            "terms_type",
            "collection",
            "versions",
            "first_recorded",
            "last_recorded",
        ]
    }

    fn rows(&self) -> Vec<Vec<String>> {
        let row = |d: &NamedDocument| {
            vec![
                d.service.to_owned(),
                d.document.terms_type.clone(),
                d.document.collection.clone(),
                d.document.versions.to_string(),
                d.document.first_recorded.to_string(),
                d.document.last_recorded.to_string(),
            ]
        };
        documents(self).iter().map(row).collect()
    }

    fn write_lines(&self, out: &mut dyn Write) -> Result<(), ExportError> {
        lines(&documents(self), out)
    }
}
