//! [`ItemStream`]: a list written a chunk of items at a time, for exports whose items do
//! not fit in one answer.

use serde::Serialize;

use crate::{ExportError, Format, Record, safe_cell};

/// Writes a list in pieces: what comes before the items, each chunk of items, and what
/// comes after, as bytes to send or print. The pieces joined are what [`crate::write`]
/// writes for the same items, except that JSON is an array of the items (an export has no
/// totals or facets to wrap them in).
#[derive(Debug)]
pub struct ItemStream {
    format: Format,
    columns: &'static [&'static str],
    items: u64,
}

impl ItemStream {
    /// A list in `format` whose CSV rows have `columns`.
    pub fn new(format: Format, columns: &'static [&'static str]) -> ItemStream {
        ItemStream {
            format,
            columns,
            items: 0,
        }
    }

    /// How many items were written.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// What comes before the first item: the CSV header, or `[` of a JSON array.
    pub fn begin(&self) -> Result<Vec<u8>, ExportError> {
        match self.format {
            Format::Json => Ok(b"[".to_vec()),
            Format::Jsonl => Ok(Vec::new()),
            Format::Csv => csv_rows(std::iter::once(
                self.columns.iter().map(|c| (*c).to_owned()).collect(),
            )),
        }
    }

    /// The next items.
    pub fn chunk<T: Record>(&mut self, items: &[T]) -> Result<Vec<u8>, ExportError> {
        let mut out = Vec::new();
        match self.format {
            Format::Json => {
                for (i, item) in items.iter().enumerate() {
                    if self.items + i as u64 > 0 {
                        out.push(b',');
                    }
                    out.push(b'\n');
                    json(item, &mut out)?;
                }
            }
            Format::Jsonl => crate::lines(items, &mut out)?,
            Format::Csv => out = csv_rows(items.iter().map(Record::row))?,
        }
        self.items += items.len() as u64;
        Ok(out)
    }

    /// What comes after the last item: `]` of a JSON array.
    pub fn end(&self) -> Vec<u8> {
        match self.format {
            Format::Json if self.items > 0 => b"\n]\n".to_vec(),
            Format::Json => b"]\n".to_vec(),
            Format::Jsonl | Format::Csv => Vec::new(),
        }
    }
}

fn json<T: Serialize>(item: &T, out: &mut Vec<u8>) -> Result<(), ExportError> {
    serde_json::to_writer(out, item)?;
    Ok(())
}

/// Rows as CSV, every cell safe for a spreadsheet.
fn csv_rows(rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, ExportError> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    for row in rows {
        csv.write_record(row.iter().map(|cell| safe_cell(cell).into_owned()))?;
    }
    csv.into_inner()
        .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palimpsest_schema::Timestamp;
    use palimpsest_search::{DocumentHistory, HistoryResponse};

    fn document(service: &str) -> DocumentHistory {
        DocumentHistory {
            service: service.to_owned(),
            terms_type: "Terms of Service".to_owned(),
            collection: "c".to_owned(),
            first_seen: Timestamp::MIN,
            last_seen: Timestamp::MIN,
            present: true,
            intervals: Vec::new(),
            gaps: Vec::new(),
            spans: 1,
            tracked_since: Timestamp::MIN,
            runs: Vec::new(),
        }
    }

    /// The pieces of a stream of `documents` in chunks of two, joined.
    fn streamed(format: Format, documents: &[DocumentHistory]) -> Vec<u8> {
        let mut stream = ItemStream::new(format, crate::DOCUMENT_COLUMNS);
        let mut out = stream.begin().unwrap();
        for chunk in documents.chunks(2) {
            out.extend(stream.chunk(chunk).unwrap());
        }
        out.extend(stream.end());
        out
    }

    #[test]
    fn chunks_joined_are_the_list_written_at_once() {
        let documents: Vec<DocumentHistory> = ["A", "=B", "C"].into_iter().map(document).collect();
        let answer = HistoryResponse {
            total: 3,
            documents: documents.clone(),
        };
        for format in [Format::Jsonl, Format::Csv] {
            let mut whole = Vec::new();
            crate::write(&answer, format, &mut whole).unwrap();
            assert_eq!(streamed(format, &documents), whole, "{format:?}");
        }
        let array: Vec<DocumentHistory> = Vec::new();
        let json: serde_json::Value =
            serde_json::from_slice(&streamed(Format::Json, &documents)).unwrap();
        assert_eq!(json, serde_json::to_value(&answer.documents).unwrap());
        let empty: serde_json::Value =
            serde_json::from_slice(&streamed(Format::Json, &array)).unwrap();
        assert_eq!(empty, serde_json::json!([]));
    }
}
