//! `palimpsest show`: a version rebuilt from the index.

use palimpsest_schema::Timestamp;
use palimpsest_search::ShowRequest;

use crate::Context;
use crate::output;

/// Print the version of a document in force at an instant (default: the latest), rebuilt
/// from the index alone. The text goes to stdout, a line about the version to stderr.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service, e.g. Instagram.
    service: String,
    /// Terms type, e.g. "Privacy Policy".
    terms_type: String,
    /// The instant (RFC 3339; YYYY-MM-DD for 00:00 UTC; a month YYYY-MM or a year YYYY for its first day).
    #[arg(long, value_name = "T", value_parser = super::parse_time)]
    at: Option<Timestamp>,
    /// A version id as `versions` lists it (a commit id for git archives), or a unique
    /// prefix of at least 4 characters.
    #[arg(long, value_name = "ID", conflicts_with = "at")]
    version: Option<String>,
    /// Collection, when several hold the document.
    #[arg(long)]
    collection: Option<String>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let response = engine.show(&ShowRequest {
        service: args.service,
        terms_type: args.terms_type,
        collection: args.collection,
        at: args.at,
        version: args.version,
    })?;
    if context.json {
        return output::json(&response);
    }
    if context.progress {
        eprintln!(
            "{} · {} [{}], {} recorded at {} ({})",
            response.service,
            response.terms_type,
            response.collection,
            response.kind,
            response.recorded_at,
            response.id
        );
    }
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(response.content.as_bytes())?;
    out.flush()?;
    Ok(())
}
