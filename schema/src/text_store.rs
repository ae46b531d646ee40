//! Section text stored once per document, by paragraph.
//!
//! A section's text is cut after each blank line into paragraphs ([`paragraphs`]; the
//! pieces concatenated are the text, byte for byte). Each distinct paragraph of a document is
//! one **text document** of the index, numbered in the order the document first wrote it
//! (`text_seq`), looked up by its [`text_key`] (the document's hash and that number). A span
//! stores the numbers of its paragraphs in order ([`RunRefs`]) instead of its text, so a
//! section that changes by one word stores one paragraph again, not the whole section.
//!
//! The numbers are the document's own and internal: an incremental run may number a
//! document's paragraphs in another order than a rebuild (spans are written when they close),
//! and every span's text is the same either way. Text documents carry the document key, so
//! deleting a document's key (a replay) deletes its texts with its spans and version records.

use std::collections::HashMap;

use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument, Term};

use crate::{DocKey, DocType, IndexFields, SchemaError};

type Result<T> = std::result::Result<T, SchemaError>;

/// The paragraphs of a text: cut after every run of two or more line feeds, nothing dropped.
pub fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let end = match text[start..].find("\n\n") {
            Some(at) => {
                let blank = start + at;
                blank + text[blank..].bytes().take_while(|&b| b == b'\n').count()
            }
            None => text.len(),
        };
        let piece = &text[start..end];
        start = end;
        Some(piece)
    })
}

/// The hash a document's paragraphs are told apart by when it writes them.
fn paragraph_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// The indexed key of a document's paragraph number `seq`.
pub fn text_key(doc_hash: u64, seq: u32) -> [u8; 12] {
    let mut key = [0; 12];
    key[..8].copy_from_slice(&doc_hash.to_be_bytes());
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The ordered paragraph numbers of one span, as stored: each number's difference from the
/// one before, zigzag varints (consecutive paragraphs take one byte each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunRefs(pub Vec<u32>);

impl RunRefs {
    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() + 4);
        let mut previous = 0i64;
        for &seq in &self.0 {
            let delta = i64::from(seq) - previous;
            previous = i64::from(seq);
            let mut zigzag = ((delta << 1) ^ (delta >> 63)) as u64;
            loop {
                let byte = (zigzag & 0x7f) as u8;
                zigzag >>= 7;
                if zigzag == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }

    /// Reads stored bytes back; `None` when they are not a list of numbers.
    pub fn decode(bytes: &[u8]) -> Option<RunRefs> {
        let mut refs = Vec::new();
        let (mut previous, mut value, mut shift) = (0i64, 0u64, 0u32);
        for &byte in bytes {
            if shift > 63 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 != 0 {
                shift += 7;
                continue;
            }
            let delta = ((value >> 1) as i64) ^ -((value & 1) as i64);
            previous = previous.checked_add(delta)?;
            refs.push(u32::try_from(previous).ok()?);
            (value, shift) = (0, 0);
        }
        (shift == 0).then_some(RunRefs(refs))
    }
}

/// A new paragraph a document writes: its number, hash and text.
#[derive(Debug)]
pub struct NewParagraph<'a> {
    /// Its number within the document.
    pub seq: u32,
    /// Its [`paragraph_hash`].
    pub hash: u64,
    /// Its text.
    pub text: &'a str,
}

/// The paragraphs one document has written, for the write side: which text has which
/// number, and the next number.
#[derive(Debug, Default, Clone)]
pub struct DocumentTexts {
    by_hash: HashMap<u64, u32>,
    next: u32,
}

impl DocumentTexts {
    /// The numbers of `text`'s paragraphs, numbering the ones this document has not written
    /// yet; those are handed to `write` (in order) to be stored.
    pub fn refs<'a, E>(
        &mut self,
        text: &'a str,
        mut write: impl FnMut(NewParagraph<'a>) -> std::result::Result<(), E>,
    ) -> std::result::Result<RunRefs, E> {
        let mut refs = Vec::new();
        for piece in paragraphs(text) {
            let hash = paragraph_hash(piece);
            let seq = match self.by_hash.get(&hash) {
                Some(&seq) => seq,
                None => {
                    let seq = self.next;
                    self.next += 1;
                    self.by_hash.insert(hash, seq);
                    write(NewParagraph {
                        seq,
                        hash,
                        text: piece,
                    })?;
                    seq
                }
            };
            refs.push(seq);
        }
        Ok(RunRefs(refs))
    }

    /// The paragraphs document `key` has in the index `searcher` sees.
    pub fn committed(searcher: &Searcher, fields: &IndexFields, key: &DocKey) -> Result<Self> {
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                term_query(fields.doc_type, DocType::Text.as_str()),
            ),
            (Occur::Must, term_query(fields.doc_key, &key.term_text())),
        ]);
        let docs = searcher
            .search(&query, &DocSetCollector)
            .map_err(|e| tantivy_error("cannot look up a document's paragraphs", e))?;
        let mut texts = DocumentTexts::default();
        let mut columns = HashMap::new();
        for address in docs {
            let reader = searcher.segment_reader(address.segment_ord);
            let (hashes, seqs) = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    let open = |field| {
                        fields
                            .u64_column(reader, field)
                            .map_err(|e| tantivy_error("cannot open a paragraph column", e))
                    };
                    entry.insert((open(fields.text_hash)?, open(fields.text_seq)?))
                }
            };
            let (Some(hash), Some(seq)) =
                (hashes.first(address.doc_id), seqs.first(address.doc_id))
            else {
                return Err(SchemaError::Inconsistent(
                    "a paragraph without its hash or number".into(),
                ));
            };
            let seq = u32::try_from(seq)
                .map_err(|_| SchemaError::Inconsistent(format!("paragraph number {seq}")))?;
            texts.by_hash.insert(hash, seq);
            texts.next = texts.next.max(seq + 1);
        }
        Ok(texts)
    }
}

/// The index document of one paragraph of document `key`.
pub fn text_document(
    fields: &IndexFields,
    key: &DocKey,
    paragraph: &NewParagraph<'_>,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_text(fields.doc_type, DocType::Text.as_str());
    doc.add_text(fields.doc_key, key.term_text());
    doc.add_bytes(fields.text_key, &text_key(key.hash64(), paragraph.seq));
    doc.add_u64(fields.text_hash, paragraph.hash);
    doc.add_u64(fields.text_seq, u64::from(paragraph.seq));
    doc.add_text(fields.text, paragraph.text);
    doc
}

/// Reads paragraphs back by number, for the read side. Holds the paragraphs it read, so the
/// spans of one version that share paragraphs read each once.
pub struct TextReader<'s> {
    searcher: &'s Searcher,
    fields: &'s IndexFields,
    read: HashMap<(u64, u32), String>,
    segment_hint: Option<u32>,
}

impl<'s> TextReader<'s> {
    /// A reader of the paragraphs `searcher` sees.
    pub fn new(searcher: &'s Searcher, fields: &'s IndexFields) -> Self {
        TextReader {
            searcher,
            fields,
            read: HashMap::new(),
            segment_hint: None,
        }
    }

    /// The text of paragraphs `refs` of the document whose hash is `doc_hash`, concatenated.
    pub fn text(&mut self, doc_hash: u64, refs: &RunRefs) -> Result<String> {
        let mut text = String::new();
        for &seq in &refs.0 {
            text.push_str(self.paragraph_text(doc_hash, seq)?);
        }
        Ok(text)
    }

    /// The stored text of the span document `doc` of the document whose hash is `doc_hash`.
    pub fn span_text(&mut self, doc_hash: u64, doc: &TantivyDocument) -> Result<String> {
        let refs = self.span_refs(doc)?;
        self.text(doc_hash, &refs)
    }

    /// The paragraph numbers of the span document `doc`, for a reader that needs only some
    /// of its text ([`TextReader::paragraph_text`]).
    pub fn span_refs(&self, doc: &TantivyDocument) -> Result<RunRefs> {
        doc.get_first(self.fields.body_runs)
            .and_then(|v| v.as_bytes())
            .and_then(RunRefs::decode)
            .ok_or_else(|| SchemaError::Inconsistent("a span without its paragraphs".into()))
    }

    /// Paragraph `seq` of the document whose hash is `doc_hash`.
    pub fn paragraph_text(&mut self, doc_hash: u64, seq: u32) -> Result<&str> {
        if !self.read.contains_key(&(doc_hash, seq)) {
            let piece = self.paragraph(doc_hash, seq)?;
            self.read.insert((doc_hash, seq), piece);
        }
        Ok(&self.read[&(doc_hash, seq)])
    }

    /// The span stored as `doc`, of the document whose hash is `doc_hash`, with its text.
    pub fn span(&mut self, doc_hash: u64, doc: &TantivyDocument) -> Result<crate::SpanRecord> {
        let text = self.span_text(doc_hash, doc)?;
        crate::span_from_document(self.fields, doc, text)
    }

    fn paragraph(&mut self, doc_hash: u64, seq: u32) -> Result<String> {
        let address = self.address(doc_hash, seq)?.ok_or_else(|| {
            SchemaError::Inconsistent(format!(
                "paragraph {seq} of document {doc_hash:016x} is missing"
            ))
        })?;
        let doc: TantivyDocument = self
            .searcher
            .doc(address)
            .map_err(|e| tantivy_error("cannot read a paragraph", e))?;
        doc.get_first(self.fields.text)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| SchemaError::Inconsistent("a paragraph without text".into()))
    }

    /// The live text document with this key, in whichever segment holds it: first the
    /// segment the last paragraph came from (a span's paragraphs mostly share one).
    fn address(&mut self, doc_hash: u64, seq: u32) -> Result<Option<DocAddress>> {
        let term = Term::from_field_bytes(self.fields.text_key, &text_key(doc_hash, seq));
        let segments = self.searcher.segment_readers().len() as u32;
        let hint = self.segment_hint.filter(|&ord| ord < segments);
        let rest = (0..segments).filter(|&ord| Some(ord) != hint);
        for ord in hint.into_iter().chain(rest) {
            if let Some(doc) = self.live_in(ord, &term)? {
                self.segment_hint = Some(ord);
                return Ok(Some(DocAddress::new(ord, doc)));
            }
        }
        Ok(None)
    }

    /// The live document of segment `ord` holding `term`, if any.
    fn live_in(&self, ord: u32, term: &Term) -> Result<Option<tantivy::DocId>> {
        let reader = self.searcher.segment_reader(ord);
        let index = reader
            .inverted_index(self.fields.text_key)
            .map_err(|e| tantivy_error("cannot open the paragraph keys", e))?;
        let Some(mut postings) = index
            .read_postings(term, IndexRecordOption::Basic)
            .map_err(|e| tantivy_error("cannot read the paragraph keys", e.into()))?
        else {
            return Ok(None);
        };
        let mut doc = postings.doc();
        while doc != tantivy::TERMINATED {
            if reader
                .alive_bitset()
                .is_none_or(|alive| alive.is_alive(doc))
            {
                return Ok(Some(doc));
            }
            doc = postings.advance();
        }
        Ok(None)
    }
}

fn term_query(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn tantivy_error(action: &str, error: tantivy::TantivyError) -> SchemaError {
    SchemaError::Inconsistent(format!("{action}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paragraphs_are_cut_after_blank_lines() {
        let pieces: Vec<&str> = paragraphs("# A\n\nOne.\nTwo.\n\n\nThree.\n").collect();
        assert_eq!(pieces, ["# A\n\n", "One.\nTwo.\n\n\n", "Three.\n"]);
        assert_eq!(paragraphs("").count(), 0);
        assert_eq!(paragraphs("\n\n").collect::<Vec<_>>(), ["\n\n"]);
    }

    #[test]
    fn a_document_numbers_each_paragraph_once() {
        let mut texts = DocumentTexts::default();
        let mut written = Vec::new();
        let mut write = |p: NewParagraph<'_>| -> std::result::Result<(), ()> {
            written.push((p.seq, p.text.to_owned()));
            Ok(())
        };
        let first = texts.refs("A\n\nB\n\nC", &mut write).unwrap();
        let second = texts.refs("A\n\nB2\n\nC", &mut write).unwrap();
        assert_eq!(first, RunRefs(vec![0, 1, 2]));
        assert_eq!(second, RunRefs(vec![0, 3, 2]));
        assert_eq!(written.len(), 4);
        assert_eq!(written[3], (3, "B2\n\n".to_owned()));
    }

    #[test]
    fn malformed_refs_are_refused() {
        assert_eq!(RunRefs::decode(&[0x80]), None);
        assert_eq!(RunRefs::decode(&[0xff; 11]), None);
        // A delta below zero from the start.
        assert_eq!(RunRefs::decode(&[1]), None);
    }

    proptest! {
        #[test]
        fn paragraphs_concatenate_to_the_text(text in "[a-c\\n ]{0,60}") {
            let joined: String = paragraphs(&text).collect();
            prop_assert_eq!(joined, text.clone());
            prop_assert!(paragraphs(&text).all(|p| !p.is_empty()));
        }

        #[test]
        fn refs_read_back_as_written(seqs in proptest::collection::vec(any::<u32>(), 0..40)) {
            let refs = RunRefs(seqs);
            prop_assert_eq!(RunRefs::decode(&refs.encode()), Some(refs.clone()));
        }
    }
}
