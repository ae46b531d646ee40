//! Whole result sets: every hit of a search, every change, every document of a phrase
//! history, past the paging window. The order is found once, as for a page; the items are
//! then made and handed over a chunk at a time, each chunk within its own time budget, so
//! that memory holds one chunk of items (and a few bytes per entry of the order) however
//! long the list, and a reader that goes away stops the work at the next chunk.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::error::Result;

/// Where an export's items go.
pub trait ExportSink<T> {
    /// Told how many items will follow, before the first chunk; `Break` ends the export.
    fn begin(&mut self, total: u64) -> ControlFlow<()>;
    /// Takes the next chunk, in order; `Break` ends the export (its reader went away).
    fn chunk(&mut self, items: Vec<T>) -> ControlFlow<()>;
    /// Told, before [`ExportSink::begin`], what a change list leaves out by default (only
    /// change lists tell it).
    fn hidden(&mut self, hidden: &crate::HiddenChanges) {
        let _ = hidden;
    }
}

/// How an export is cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    /// Items per chunk.
    pub chunk: usize,
    /// Time each chunk may take once the order is found (the order takes the engine's own
    /// deadline, as a page does); none: no limit.
    pub chunk_budget: Option<Duration>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            chunk: 100,
            chunk_budget: None,
        }
    }
}

impl ExportOptions {
    /// The engine one chunk is made with: the engine's deadline, or a fresh one.
    fn chunk_engine(&self, engine: &Engine) -> Engine {
        match self.chunk_budget {
            Some(budget) => engine.until(Instant::now() + budget),
            None => engine.clone(),
        }
    }
}

/// Hands `entries` to `sink` made into items by `make` (which may skip one with `None`), a
/// chunk at a time.
pub(crate) fn stream<E, T>(
    engine: &Engine,
    options: &ExportOptions,
    entries: &[E],
    mut make: impl FnMut(&Engine, &E) -> Result<Option<T>>,
    sink: &mut dyn ExportSink<T>,
) -> Result<()> {
    if sink.begin(entries.len() as u64).is_break() {
        return Ok(());
    }
    for chunk in entries.chunks(options.chunk.max(1)) {
        let engine = options.chunk_engine(engine);
        let mut items = Vec::with_capacity(chunk.len());
        for entry in chunk {
            items.extend(make(&engine, entry)?);
            engine.deadline.check()?;
        }
        if sink.chunk(items).is_break() {
            break;
        }
    }
    Ok(())
}

/// A sink that keeps everything: for tests and small exports.
#[derive(Debug)]
pub struct Collected<T> {
    /// The total announced.
    pub total: u64,
    /// What a change list said it left out.
    pub hidden: Option<crate::HiddenChanges>,
    /// The items received, in order.
    pub items: Vec<T>,
    /// How many chunks they came in.
    pub chunks: usize,
}

impl<T> Default for Collected<T> {
    fn default() -> Self {
        Collected {
            total: 0,
            hidden: None,
            items: Vec::new(),
            chunks: 0,
        }
    }
}

impl<T> ExportSink<T> for Collected<T> {
    fn begin(&mut self, total: u64) -> ControlFlow<()> {
        self.total = total;
        ControlFlow::Continue(())
    }

    fn chunk(&mut self, items: Vec<T>) -> ControlFlow<()> {
        self.items.extend(items);
        self.chunks += 1;
        ControlFlow::Continue(())
    }

    fn hidden(&mut self, hidden: &crate::HiddenChanges) {
        self.hidden = Some(*hidden);
    }
}
