//! A byte budget on the documents waiting for Tantivy's indexing threads.
//!
//! Tantivy queues up to 10,000 added documents for its indexing threads, however large they
//! are; when sections are megabytes long (one crafted 5 MB text shared by 200 documents), the
//! queue alone held gigabytes. Each document is sent with a [`Ticket`] for its text bytes,
//! which the indexing thread releases when it drops the document, indexed; adding waits while
//! the tickets out exceed [`QUEUE_BYTES`].

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use tantivy::TantivyDocument;
use tantivy::schema::document::{Document, Value};

/// Text bytes of the documents added and not yet indexed, at most (one larger document is
/// let through alone).
pub const QUEUE_BYTES: usize = 64 << 20;

/// How long adding waits for the queue to move before letting one document through anyway:
/// an indexing thread that failed (a full disk) releases nothing, and the next add must reach
/// the writer to return its error. A writer alive but slower than that lets the queue grow
/// by one document each time, which keeps memory bounded by the pace of the writer.
const STALL: Duration = Duration::from_secs(2);

/// The bytes out, shared by the writer's side and the tickets.
#[derive(Debug)]
pub struct Meter {
    out: Mutex<usize>,
    released: Condvar,
    budget: usize,
}

impl Meter {
    /// A meter letting `budget` bytes out at once.
    pub fn new(budget: usize) -> Arc<Meter> {
        Arc::new(Meter {
            out: Mutex::new(0),
            released: Condvar::new(),
            budget,
        })
    }

    /// `document` with a ticket for its text, once the queue has room for it.
    pub fn admit(self: &Arc<Self>, document: TantivyDocument) -> MeteredDocument {
        let bytes = text_bytes(&document);
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        while *out > 0 && *out + bytes > self.budget {
            let (guard, waited) = self
                .released
                .wait_timeout(out, STALL)
                .unwrap_or_else(PoisonError::into_inner);
            out = guard;
            if waited.timed_out() {
                break;
            }
        }
        *out += bytes;
        MeteredDocument {
            document,
            _ticket: Ticket {
                meter: Arc::clone(self),
                bytes,
            },
        }
    }

    /// Bytes sent and not yet indexed.
    #[cfg(test)]
    fn out(&self) -> usize {
        *self.out.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A claim on the meter, released when the document holding it is dropped.
#[derive(Debug)]
struct Ticket {
    meter: Arc<Meter>,
    bytes: usize,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut out = self
            .meter
            .out
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *out = out.saturating_sub(self.bytes);
        self.meter.released.notify_all();
    }
}

/// A document on its way to the index, holding its ticket.
#[derive(Debug)]
pub struct MeteredDocument {
    document: TantivyDocument,
    _ticket: Ticket,
}

impl Document for MeteredDocument {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.document.iter_fields_and_values()
    }
}

/// The bytes of a document's text and byte values: what the queue holds of it.
fn text_bytes(document: &TantivyDocument) -> usize {
    document
        .iter_fields_and_values()
        .map(|(_, value)| {
            let text = value.as_str().map_or(0, str::len);
            let bytes = value.as_bytes().map_or(0, <[u8]>::len);
            text + bytes + 16
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STORED, Schema, TEXT};

    fn document(text: &str) -> TantivyDocument {
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT | STORED);
        let mut document = TantivyDocument::new();
        document.add_text(body, text);
        document
    }

    #[test]
    fn tickets_return_their_bytes_when_documents_are_dropped() {
        let meter = Meter::new(1 << 20);
        let first = meter.admit(document(&"a".repeat(1000)));
        let second = meter.admit(document(&"b".repeat(500)));
        assert_eq!(meter.out(), 1000 + 500 + 32);
        drop(first);
        assert_eq!(meter.out(), 500 + 16);
        drop(second);
        assert_eq!(meter.out(), 0);
    }

    #[test]
    fn adding_waits_until_the_queue_has_room() {
        let meter = Meter::new(1000);
        let held = meter.admit(document(&"a".repeat(900)));
        let (sent, received) = std::sync::mpsc::channel();
        let waiting = {
            let meter = Arc::clone(&meter);
            std::thread::spawn(move || {
                let document = meter.admit(document(&"b".repeat(900)));
                sent.send(()).expect("the test waits");
                drop(document);
            })
        };
        let early = received.recv_timeout(Duration::from_millis(200));
        assert!(early.is_err(), "a document past the budget was let through");
        drop(held);
        received
            .recv_timeout(Duration::from_secs(10))
            .expect("the document waiting is let through once the first is indexed");
        waiting.join().expect("no panic");
        assert_eq!(meter.out(), 0);
    }

    #[test]
    fn a_document_larger_than_the_budget_goes_alone() {
        let meter = Meter::new(100);
        let large = meter.admit(document(&"a".repeat(1000)));
        assert_eq!(meter.out(), 1016);
        drop(large);
    }
}
