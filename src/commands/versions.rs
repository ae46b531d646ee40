//! `palimpsest versions`: the recorded versions of one document.

use crate::Context;
use crate::output::{self, Style};

/// List the versions of one document, oldest first.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service, e.g. Instagram.
    service: String,
    /// Terms type, e.g. "Privacy Policy".
    terms_type: String,
    /// Collection, when several hold the document.
    #[arg(long)]
    collection: Option<String>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let response = engine.versions(&args.service, &args.terms_type, args.collection.as_deref())?;
    if let Some(format) = context.list_format {
        return output::listing(&response, format);
    }
    let style = Style::detect();
    outln!(
        "{} · {} [{}]",
        style.bold(&response.service),
        response.terms_type,
        response.collection
    );
    for v in &response.versions {
        outln!(
            "  {}  {:<18} {}",
            v.recorded_at,
            v.kind.as_str(),
            style.dim(&v.id)
        );
    }
    Ok(())
}
