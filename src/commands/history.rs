//! `palimpsest history`: when a phrase was in force, per document.

use palimpsest_schema::Timestamp;
use palimpsest_search::{
    BRIEF_ABSENCE_HOURS, DocumentHistory, HistoryRequest, HistoryResponse, Interval, Run,
};

use crate::Context;
use crate::output::{self, Style, day};

/// Show when text matching QUERY was in force in each document, first appearance first
///
/// For every document where some version of some section matched: when it first appeared,
/// when it was last seen, whether it is still there, and the intervals (and gaps) in between.
/// Absences shorter than 72 hours (text an extraction glitch took away for a recording
/// run or a few) are counted within one interval, "briefly absent N times"; --json lists
/// them (`runs`), and every interval as recorded (`intervals`).
///
/// Examples:
///   palimpsest history '"artificial intelligence"'
///   palimpsest history '"AI at Meta"' --service Instagram --terms-type "Privacy Policy"
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The query (same syntax as `search`); quote a phrase: '"binding arbitration"'.
    query: String,
    #[command(flatten)]
    filters: super::FilterArgs,
    /// Documents per page (1 to 100).
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Documents to skip.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Every document, past the paging window, streamed as found (with --format jsonl or
    /// csv, ready for analysis): what every page lists, one after the other.
    #[arg(long, conflicts_with_all = ["limit", "offset"])]
    all: bool,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let request = HistoryRequest {
        query: args.query,
        filters: args.filters.into(),
        limit: args.limit,
        offset: args.offset,
    };
    if args.all {
        let style = Style::detect();
        return crate::export::to_stdout(
            context.list_format,
            palimpsest_export::DOCUMENT_COLUMNS,
            &|total| heading(&style, total, &request.query),
            &|_| None,
            &mut |_, doc| print_document(&style, doc),
            |options, sink| engine.export_history(&request, options, sink),
        );
    }
    let response = engine.history(&request)?;
    if let Some(format) = context.list_format {
        return output::listing(&response, format);
    }
    print(&request, &response);
    Ok(())
}

fn heading(style: &Style, total: u64, query: &str) {
    outln!(
        "{} {} where {query} was in force",
        style.bold(&total.to_string()),
        output::noun(total, "document", "documents")
    );
}

fn print(request: &HistoryRequest, response: &HistoryResponse) {
    let style = Style::detect();
    heading(&style, response.total, &request.query);
    for doc in &response.documents {
        print_document(&style, doc);
    }
    style.more(request.offset + response.documents.len(), response.total);
}

/// One document of a history: still present or gone, first and last seen, when in force
/// (brief absences counted, not listed: `--json` lists them), and since when the document
/// is tracked.
fn print_document(style: &Style, doc: &DocumentHistory) {
    outln!();
    outln!(
        "{} · {} [{}]  {}",
        style.bold(&doc.service),
        doc.terms_type,
        doc.collection,
        if doc.present {
            "still present".to_owned()
        } else {
            format!(
                "gone since {}",
                doc.intervals
                    .last()
                    .and_then(|i| i.to)
                    .map(day)
                    .unwrap_or_default()
            )
        }
    );
    let first = if doc.first_seen == doc.tracked_since {
        format!(
            "there when tracking began, {} (it may be older)",
            day(doc.first_seen)
        )
    } else {
        format!(
            "first seen {} (tracked since {})",
            day(doc.first_seen),
            day(doc.tracked_since)
        )
    };
    outln!("     {first}, last seen {}", day(doc.last_seen));
    outln!(
        "     {}",
        style.dim(&format!("in force: {}", runs(&doc.runs)))
    );
}

/// The runs of a history: `2024-08-16 → now (briefly absent 9 times)`.
fn runs(runs: &[Run]) -> String {
    let text: Vec<String> = runs
        .iter()
        .map(|run| {
            let absent = match run.brief_absences.len() {
                0 => String::new(),
                1 => format!(
                    " (briefly absent once: {})",
                    absence(&run.brief_absences[0])
                ),
                n => format!(" (briefly absent {n} times, each under {BRIEF_ABSENCE_HOURS} h)"),
            };
            format!("{}{absent}", output::interval(run.from, run.to))
        })
        .collect();
    text.join(", ")
}

fn absence(gap: &Interval) -> String {
    let minute = |t: Timestamp| t.to_string()[..16].replace('T', " ");
    match gap.to {
        Some(to) if day(gap.from) == day(to) => output::interval(gap.from, gap.to),
        Some(to) => format!("{} → {} UTC", minute(gap.from), minute(to)),
        None => output::interval(gap.from, None),
    }
}
