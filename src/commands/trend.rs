//! `palimpsest trend`: how many documents contained a match, month by month.

use palimpsest_schema::Timestamp;
use palimpsest_search::{TrendBucket, TrendRequest, TrendResponse};

use crate::Context;
use crate::output::{self, Style};

/// Count, per month or year, the documents in which text matching QUERY was in force, and
/// their share of the documents tracked then
///
/// A document counts in a period when a matching section was in force at some time in it;
/// it is tracked in a period when some version of it was in force. Filters choose the
/// documents; --section narrows what counts as a match.
///
/// Examples:
///   palimpsest trend arbitration --terms-type "Terms of Service" --by year
///   palimpsest trend '"artificial intelligence"' --from 2023-01-01
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The query (same syntax as `search`).
    query: String,
    #[command(flatten)]
    filters: super::FilterArgs,
    /// Period: month or year.
    #[arg(long, value_enum, default_value_t = By::Month)]
    by: By,
    /// First instant charted (default: the first version recorded)
    /// (RFC 3339; YYYY-MM-DD for 00:00 UTC; a month YYYY-MM or a year YYYY for its first day).
    #[arg(long, value_name = "A", value_parser = super::parse_time)]
    from: Option<Timestamp>,
    /// Instant the chart stops before (default: just after the last version recorded).
    #[arg(long, value_name = "B", value_parser = super::parse_time)]
    to: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    Month,
    Year,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let request = TrendRequest {
        query: args.query,
        filters: args.filters.into(),
        by: match args.by {
            By::Month => TrendBucket::Month,
            By::Year => TrendBucket::Year,
        },
        from: args.from,
        to: args.to,
    };
    let response = engine.trend(&request)?;
    if let Some(format) = context.list_format {
        return output::listing(&response, format);
    }
    print(&response);
    Ok(())
}

fn print(response: &TrendResponse) {
    let style = Style::detect();
    outln!("{}", style.dim("period   matching / tracked   share"));
    for point in &response.points {
        let Some(share) = point.share else {
            // Not a share of 0: nothing was recorded of these documents then.
            outln!(
                "{:<8} {:>8} / {:<7} {}",
                point.period,
                "-",
                0,
                style.dim("not tracked yet")
            );
            continue;
        };
        let bar = "█".repeat((share * 40.0).round() as usize);
        outln!(
            "{:<8} {:>8} / {:<7} {:>6.1}% {bar}",
            point.period,
            point.documents,
            point.tracked,
            share * 100.0
        );
    }
}
