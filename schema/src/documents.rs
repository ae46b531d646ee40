//! The stored documents of spans and version records, and their conversion to and from
//! Tantivy documents (paragraphs of text: [`crate::text_store`]).

use crate::{
    DocKey, DocType, IndexFields, OPEN_END, OPEN_ORDINAL, Section, SpanId, StepCounts, StepLink,
    StepSpan, Timestamp, VersionKind, section_hash, section_key,
};
use tantivy::TantivyDocument;
use tantivy::schema::Value;

use crate::{RunRefs, SchemaError, SpanRecord, VersionRecord};

type Result<T> = std::result::Result<T, SchemaError>;

fn key_fields(fields: &IndexFields, doc: &mut TantivyDocument, key: &DocKey, doc_type: DocType) {
    doc.add_text(fields.doc_type, doc_type.as_str());
    doc.add_text(fields.doc_key, key.term_text());
    doc.add_u64(fields.doc_hash, key.hash64());
    doc.add_text(fields.collection, key.collection.as_str());
    doc.add_text(fields.service, key.service.as_str());
    doc.add_text(fields.terms_type, key.terms_type.as_str());
}

/// The index document of a span, with its hashes ([`StepSpan::of`] the span) and the
/// numbers of its paragraphs ([`crate::DocumentTexts::refs`] of its text). `indexed_as` is
/// the earlier span of the document whose document indexes the same path and text, if any:
/// this one then stores its facts and not its words.
pub fn span_document(
    fields: &IndexFields,
    key: &DocKey,
    span: &SpanRecord,
    step: &StepSpan,
    runs: &RunRefs,
    indexed_as: Option<SpanId>,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    key_fields(fields, &mut doc, key, DocType::Span);
    let path = &span.section.path;
    doc.add_text(fields.section_top, span.facet_heading());
    doc.add_u64(fields.title_heading, u64::from(span.title_heading));
    doc.add_text(fields.section_key, section_key(path));
    for heading in path {
        doc.add_text(fields.heading, heading);
    }
    match indexed_as {
        Some(carrier) => {
            doc.add_u64(fields.indexed_as, carrier.0);
        }
        None => {
            let title = path.join(" \u{203a} ");
            doc.add_text(fields.title_stem, &title);
            doc.add_text(fields.title, title);
            doc.add_text(fields.body, &span.section.text);
            doc.add_text(fields.body_stem, &span.section.text);
        }
    }
    doc.add_u64(fields.section_hash, section_hash(&span.section));
    doc.add_bytes(fields.body_runs, &runs.encode());
    doc.add_u64(fields.span_id, span.id.0);
    doc.add_u64(fields.path_hash, step.path_hash);
    doc.add_i64(fields.valid_from, span.valid_from.as_unix());
    doc.add_i64(
        fields.valid_to,
        span.valid_to.map_or(OPEN_END, Timestamp::as_unix),
    );
    doc.add_u64(fields.year, span.valid_from.year().max(0) as u64);
    doc.add_text(fields.first_version, &span.first_version);
    doc.add_u64(fields.opened, span.opened);
    doc.add_u64(fields.closed, span.closed.unwrap_or(OPEN_ORDINAL));
    for (link_fields, link) in [
        (fields.opened_link, span.opened_link),
        (fields.closed_link, span.closed_link),
    ] {
        for (field, value) in link_fields.into_iter().zip(StepLink::encode(link)) {
            doc.add_u64(field, value);
        }
    }
    doc.add_u64(fields.content_hash, step.content_hash);
    doc.add_u64(fields.substance_hash, step.substance_hash);
    if let Some(last) = &span.last_version {
        doc.add_text(fields.last_version, last);
    }
    doc
}

/// The index document of a version record.
pub fn version_document(
    fields: &IndexFields,
    key: &DocKey,
    version: &VersionRecord,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    key_fields(fields, &mut doc, key, DocType::Version);
    doc.add_i64(fields.recorded_at, version.recorded_at.as_unix());
    doc.add_u64(fields.ordinal, version.ordinal);
    doc.add_text(fields.version_id, &version.source_id);
    doc.add_text(fields.version_kind, version.kind.as_str());
    let mut ids = Vec::with_capacity(version.spans.len() * 8);
    for id in &version.spans {
        ids.extend_from_slice(&id.0.to_le_bytes());
    }
    doc.add_bytes(fields.span_ids, &ids);
    for (field, count) in fields.steps.iter().zip(version.steps.to_array()) {
        doc.add_u64(*field, count);
    }
    doc
}

fn missing(field: &str) -> SchemaError {
    SchemaError::Inconsistent(format!("stored document without {field}"))
}

fn text(doc: &TantivyDocument, field: tantivy::schema::Field, name: &str) -> Result<String> {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| missing(name))
}

fn instant(doc: &TantivyDocument, field: tantivy::schema::Field, name: &str) -> Result<i64> {
    doc.get_first(field)
        .and_then(|v| v.as_i64())
        .ok_or_else(|| missing(name))
}

fn timestamp(seconds: i64) -> Result<Timestamp> {
    Timestamp::from_unix(seconds)
        .ok_or_else(|| SchemaError::Inconsistent(format!("instant out of range: {seconds}")))
}

/// Reads a stored span document back, with its text as [`crate::TextReader::span_text`]
/// read it.
pub fn span_from_document(
    fields: &IndexFields,
    doc: &TantivyDocument,
    body: String,
) -> Result<SpanRecord> {
    let path = doc
        .get_all(fields.heading)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let valid_to = instant(doc, fields.valid_to, "valid_to")?;
    let ordinal = |field, name| {
        doc.get_first(field)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| missing(name))
    };
    let closed = ordinal(fields.closed, "closed")?;
    let opened_link = [0, 1].map(|i| {
        doc.get_first(fields.opened_link[i])
            .and_then(|v| v.as_u64())
    });
    let opened_link = match opened_link {
        [Some(head), Some(partner)] => StepLink::decode([head, partner]),
        _ => return Err(missing("opened_link")),
    };
    Ok(SpanRecord {
        opened_link,
        // Not stored: a span is read back to be resumed while in force, and closing it
        // pairs it again.
        closed_link: None,
        opened: ordinal(fields.opened, "opened")?,
        closed: (closed != OPEN_ORDINAL).then_some(closed),
        id: SpanId(
            doc.get_first(fields.span_id)
                .and_then(|v| v.as_u64())
                .ok_or_else(|| missing("span_id"))?,
        ),
        section: Section {
            path,
            text: body.into(),
        },
        valid_from: timestamp(instant(doc, fields.valid_from, "valid_from")?)?,
        valid_to: if valid_to == OPEN_END {
            None
        } else {
            Some(timestamp(valid_to)?)
        },
        title_heading: doc.get_first(fields.title_heading).and_then(|v| v.as_u64()) == Some(1),
        first_version: text(doc, fields.first_version, "first_version")?,
        last_version: doc
            .get_first(fields.last_version)
            .and_then(|v| v.as_str())
            .map(str::to_owned),
    })
}

/// Reads a stored version record back.
pub fn version_from_document(fields: &IndexFields, doc: &TantivyDocument) -> Result<VersionRecord> {
    let bytes = doc
        .get_first(fields.span_ids)
        .and_then(|v| v.as_bytes())
        .ok_or_else(|| missing("span_ids"))?;
    let kind = text(doc, fields.version_kind, "version_kind")?;
    Ok(VersionRecord {
        recorded_at: timestamp(instant(doc, fields.recorded_at, "recorded_at")?)?,
        ordinal: doc
            .get_first(fields.ordinal)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| missing("ordinal"))?,
        source_id: text(doc, fields.version_id, "version_id")?,
        kind: kind
            .parse::<VersionKind>()
            .map_err(|e| SchemaError::Inconsistent(e.to_string()))?,
        spans: bytes
            .chunks_exact(8)
            .map(|c| SpanId(u64::from_le_bytes(c.try_into().expect("8 bytes"))))
            .collect(),
        steps: StepCounts::from_array(
            fields
                .steps
                .map(|field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0)),
        ),
    })
}
