//! Streamed exports: an export's items go from a blocking thread to the connection through a
//! bounded channel, formatted a chunk at a time, so that a slow reader slows the work, one
//! that goes away stops it, and memory holds a few chunks whatever the list's length.

use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use palimpsest_export::{Format, ItemStream, Record};
use palimpsest_search::{Engine, ExportOptions, ExportSink, HiddenChanges, SearchError};
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;
use crate::state::{AppState, Slot};

/// Chunks formatted and not yet written, per export.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Items per chunk.
const CHUNK_ITEMS: usize = 100;

/// Name of the header that carries the number of items an export lists.
pub const TOTAL_HEADER: &str = "x-total-count";

type Piece = Result<Bytes, std::io::Error>;

/// What an export is: its file name (without extension), format and CSV columns.
pub(crate) struct ExportKind {
    pub name: &'static str,
    pub format: Format,
    pub columns: &'static [&'static str],
}

/// Runs `work` and answers with its items as they come: the headers once the order is found
/// (within the time budget, holding a slot like any request), then the chunks, each made
/// within the time budget.
pub(crate) async fn export<T, F>(
    state: &AppState,
    kind: ExportKind,
    work: F,
) -> Result<Response, ApiError>
where
    T: Record + Send + 'static,
    F: FnOnce(&Engine, &ExportOptions, &mut dyn ExportSink<T>) -> Result<(), SearchError>
        + Send
        + 'static,
{
    let budget = state.options().time_budget;
    let (slot, export_slot, engine) = state.admit_export().await?;
    let (pieces, body) = mpsc::channel::<Piece>(CHUNKS_IN_FLIGHT);
    let (started, begun) = oneshot::channel::<Begun>();
    let stream = ItemStream::new(kind.format, kind.columns);
    let task = tokio::task::spawn_blocking(move || {
        let options = ExportOptions {
            chunk: CHUNK_ITEMS,
            chunk_budget: Some(budget),
        };
        let mut sink = ChannelSink {
            stream,
            pieces,
            started: Some((started, slot)),
            export_slot: Some(export_slot),
            hidden: None,
        };
        let result = work(&engine, &options, &mut sink);
        sink.finish(result)
    });
    let Begun { total, hidden } = match tokio::time::timeout(budget, begun).await {
        Ok(Ok(begun)) => begun,
        // The work ended before it began to list: its error is the answer.
        Ok(Err(_)) => {
            return match task.await {
                Ok(Err(SearchError::Timeout)) => Err(ApiError::time_budget(budget)),
                Ok(Err(error)) => Err(ApiError::from(error)),
                Ok(Ok(())) => Err(ApiError::internal("the export", "ended without a list")),
                Err(join) => Err(ApiError::internal("the export failed", join)),
            };
        }
        Err(_) => return Err(ApiError::time_budget(budget)),
    };
    let file = format!(
        "attachment; filename=\"palimpsest-{}.{}\"",
        kind.name,
        kind.format.as_str()
    );
    let headers = [
        (
            CONTENT_TYPE,
            HeaderValue::from_static(kind.format.content_type()),
        ),
        (
            CONTENT_DISPOSITION,
            HeaderValue::from_str(&file).map_err(|e| ApiError::internal("the export", e))?,
        ),
        (
            axum::http::HeaderName::from_static(TOTAL_HEADER),
            HeaderValue::from(total),
        ),
    ];
    let hidden = hidden.as_ref().map(crate::routes::changes::hidden_headers);
    Ok((headers, hidden, Body::new(ChannelBody(body))).into_response())
}

/// What the headers of an export say, known once its order is found.
struct Begun {
    total: u64,
    /// For a change list: what it leaves out.
    hidden: Option<HiddenChanges>,
}

/// Formats chunks and sends them to the connection; the slot taken to find the order is
/// given back as the list begins, the export's own slot before its last piece is sent (so
/// that a client which read a whole export may start another at once).
struct ChannelSink {
    stream: ItemStream,
    pieces: mpsc::Sender<Piece>,
    started: Option<(oneshot::Sender<Begun>, Slot)>,
    export_slot: Option<Slot>,
    hidden: Option<HiddenChanges>,
}

impl ChannelSink {
    fn send(&self, bytes: Result<Vec<u8>, palimpsest_export::ExportError>) -> ControlFlow<()> {
        let piece = bytes
            .map(Bytes::from)
            .map_err(|e| std::io::Error::other(e.to_string()));
        let failed = piece.is_err();
        // A closed channel: the connection is gone (the client left or stopped reading for
        // the write timeout).
        match self.pieces.blocking_send(piece) {
            Ok(()) if !failed => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    }

    /// Ends the body: with the closing bytes, or cut off with an error, so that the client
    /// sees an incomplete answer rather than a short one that looks whole.
    fn finish(mut self, result: Result<(), SearchError>) -> Result<(), SearchError> {
        drop(self.export_slot.take());
        if self.started.is_some() {
            return result;
        }
        match &result {
            Ok(()) => {
                let _ = self
                    .pieces
                    .blocking_send(Ok(Bytes::from(self.stream.end())));
            }
            Err(error) => {
                let error = error.to_string();
                tracing::warn!(
                    "an export stopped part way: {}",
                    palimpsest_schema::printable(&error)
                );
                let _ = self
                    .pieces
                    .blocking_send(Err(std::io::Error::other(error.to_string())));
            }
        }
        result
    }
}

impl<T: Record> ExportSink<T> for ChannelSink {
    fn begin(&mut self, total: u64) -> ControlFlow<()> {
        if let Some((started, slot)) = self.started.take() {
            drop(slot);
            let begun = Begun {
                total,
                hidden: self.hidden,
            };
            if started.send(begun).is_err() {
                return ControlFlow::Break(());
            }
        }
        self.send(self.stream.begin())
    }

    fn chunk(&mut self, items: Vec<T>) -> ControlFlow<()> {
        let bytes = self.stream.chunk(&items);
        self.send(bytes)
    }

    fn hidden(&mut self, hidden: &HiddenChanges) {
        self.hidden = Some(*hidden);
    }
}

/// The receiving end of an export, as a response body.
struct ChannelBody(mpsc::Receiver<Piece>);

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }
}
