//! `--all`: a whole result set streamed to stdout as the engine makes it, in the format
//! asked for (JSON Lines, CSV, a JSON array) or as text, one item after the other.

use std::io::Write;
use std::ops::ControlFlow;

use palimpsest_export::{Format, ItemStream, Record};
use palimpsest_search::{ExportOptions, ExportSink, HiddenChanges, SearchError};

/// Prints an item as text: its number in the list (from 1) and the item.
pub type TextItem<'a, T> = &'a mut dyn FnMut(usize, &T);

/// The line that says what a list left out, if it left anything out.
pub type HiddenLine<'a> = &'a dyn Fn(&HiddenChanges) -> Option<String>;

/// Runs an export into stdout: `format` with `columns` for CSV, or text (`heading` with the
/// total, then `text` per item). What a change list leaves out (`hidden`) is said after the
/// heading in text, and on standard error after the items in a format, so that the data
/// stays as it is.
pub fn to_stdout<T: Record>(
    format: Option<Format>,
    columns: &'static [&'static str],
    heading: &dyn Fn(u64),
    hidden: HiddenLine,
    text: TextItem<T>,
    export: impl FnOnce(&ExportOptions, &mut dyn ExportSink<T>) -> Result<(), SearchError>,
) -> anyhow::Result<()> {
    let mut sink = StdoutSink {
        stream: format.map(|f| ItemStream::new(f, columns)),
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        heading,
        hidden_line: hidden,
        hidden: None,
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
        if let Some(line) = sink.hidden.as_ref().and_then(sink.hidden_line) {
            sink.out.flush()?;
            eprintln!("{line}");
        }
    }
    sink.out.flush()?;
    Ok(())
}

struct StdoutSink<'a, T, W: Write> {
    stream: Option<ItemStream>,
    out: W,
    heading: &'a dyn Fn(u64),
    hidden_line: HiddenLine<'a>,
    hidden: Option<HiddenChanges>,
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
                if let Some(line) = self.hidden.as_ref().and_then(self.hidden_line) {
                    outln!("{line}");
                }
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

    fn hidden(&mut self, hidden: &HiddenChanges) {
        self.hidden = Some(*hidden);
    }
}
