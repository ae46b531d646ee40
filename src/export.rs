//! `--all`: a whole result set streamed to stdout as the engine makes it, in the format
//! asked for (JSON Lines, CSV, a JSON array) or as text, one item after the other.

use std::io::Write;
use std::ops::ControlFlow;

use palimpsest_export::{Format, ItemStream, Record};
use palimpsest_search::{ExportOptions, ExportSink, SearchError};

/// Prints an item as text: its number in the list (from 1) and the item.
pub type TextItem<'a, T> = &'a mut dyn FnMut(usize, &T);

/// Runs an export into stdout: `format` with `columns` for CSV, or text (`heading` with the
/// total, then `text` per item).
pub fn to_stdout<T: Record>(
    format: Option<Format>,
    columns: &'static [&'static str],
    heading: &dyn Fn(u64),
    text: TextItem<T>,
    export: impl FnOnce(&ExportOptions, &mut dyn ExportSink<T>) -> Result<(), SearchError>,
) -> anyhow::Result<()> {
    let mut sink = StdoutSink {
        stream: format.map(|f| ItemStream::new(f, columns)),
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        heading,
        text,
        printed: 0,
        error: None,
    };
    export(&ExportOptions::default(), &mut sink)?;
    if let Some(error) = sink.error {
        return Err(error.into());
    }
    if let Some(stream) = &sink.stream {
        let end = stream.end();
        sink.out.write_all(&end)?;
    }
    sink.out.flush()?;
    Ok(())
}

struct StdoutSink<'a, T, W: Write> {
    stream: Option<ItemStream>,
    out: W,
    heading: &'a dyn Fn(u64),
    text: TextItem<'a, T>,
    printed: usize,
    /// Why writing stopped (a closed stdout is reported as such and ends quietly).
    error: Option<std::io::Error>,
}

impl<T, W: Write> StdoutSink<'_, T, W> {
    fn write(&mut self, bytes: Result<Vec<u8>, palimpsest_export::ExportError>) -> ControlFlow<()> {
        let written = bytes
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|bytes| self.out.write_all(&bytes));
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => {
                self.error = Some(error);
                ControlFlow::Break(())
            }
        }
    }
}

impl<T: Record, W: Write> ExportSink<T> for StdoutSink<'_, T, W> {
    fn begin(&mut self, total: u64) -> ControlFlow<()> {
        match &self.stream {
            Some(stream) => {
                let bytes = stream.begin();
                self.write(bytes)
            }
            None => {
                (self.heading)(total);
                ControlFlow::Continue(())
            }
        }
    }

    fn chunk(&mut self, items: Vec<T>) -> ControlFlow<()> {
        match &mut self.stream {
            Some(stream) => {
                let bytes = stream.chunk(&items);
                self.write(bytes)
            }
            None => {
                for item in &items {
                    self.printed += 1;
                    (self.text)(self.printed, item);
                }
                ControlFlow::Continue(())
            }
        }
    }
}
