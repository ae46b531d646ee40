//! `palimpsest diff`: what differs between two versions of a document, section by section.

use palimpsest_schema::Timestamp;
use palimpsest_search::{DiffRequest, DiffResponse};

use super::changes::{SectionView, describe, print_change};
use crate::Context;
use crate::output::{self, Style};

/// Compare the versions of a document in force at two instants, section by section
///
/// Sections are added, removed, modified (with a word-level diff) or moved (the same content
/// under a new heading path). Versions can also be named by id, as `versions` lists them.
///
/// Examples:
///   palimpsest diff "Acme Cloud" "Terms of Service" --from 2023-01-01 --to 2024-06-01
///   palimpsest diff Birdsong "Privacy Policy" --from 2023-03-01   (to the latest version)
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Service, e.g. Instagram.
    service: String,
    /// Terms type, e.g. "Privacy Policy".
    terms_type: String,
    /// The earlier version: the one in force at this instant
    /// (RFC 3339; YYYY-MM-DD for 00:00 UTC; a month YYYY-MM or a year YYYY for its first day).
    #[arg(long, value_name = "A", value_parser = super::parse_time, required_unless_present = "from_version")]
    from: Option<Timestamp>,
    /// The later version: the one in force at this instant (default: the latest).
    #[arg(long, value_name = "B", value_parser = super::parse_time)]
    to: Option<Timestamp>,
    /// The earlier version by id (or a unique prefix of at least 4 characters).
    #[arg(long, value_name = "ID", conflicts_with = "from")]
    from_version: Option<String>,
    /// The later version by id.
    #[arg(long, value_name = "ID", conflicts_with = "to")]
    to_version: Option<String>,
    /// Collection, when several hold the document.
    #[arg(long)]
    collection: Option<String>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let response = engine.diff(&DiffRequest {
        service: args.service,
        terms_type: args.terms_type,
        collection: args.collection,
        from: args.from,
        to: args.to,
        from_version: args.from_version,
        to_version: args.to_version,
    })?;
    if context.json {
        return output::json(&response);
    }
    print(&response);
    Ok(())
}

fn print(response: &DiffResponse) {
    let style = Style::detect();
    outln!(
        "{} · {} [{}]",
        style.bold(&response.service),
        response.terms_type,
        response.collection
    );
    for (label, v) in [("from", &response.from), ("to", &response.to)] {
        outln!(
            "{}",
            style.dim(&format!(
                "{label:>4} {} {} ({})",
                v.recorded_at, v.id, v.kind
            ))
        );
    }
    let changed = response.changes.len() as u64;
    outln!(
        "{} {} changed, {} unchanged",
        style.bold(&changed.to_string()),
        output::noun(changed, "section", "sections"),
        response.unchanged
    );
    for change in &response.changes {
        outln!();
        let heading = format!(
            "  {}  {}",
            output::section(&change.section),
            style.bold(&describe(change.kind, change.previous_section.as_deref()))
        );
        print_change(
            &style,
            &heading,
            &SectionView {
                diff: change.diff.as_deref(),
                before: change.before.as_deref(),
                after: change.after.as_deref(),
            },
        );
    }
}
