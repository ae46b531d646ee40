//! `palimpsest services`: what the index holds.

use crate::Context;
use crate::output::{self, Style};

/// List services and their documents, with version counts and recorded dates.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(context: &Context, _args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let response = engine.services()?;
    if let Some(format) = context.list_format {
        return output::listing(&response, format);
    }
    let style = Style::detect();
    for service in &response.services {
        outln!("{}", style.bold(&service.service));
        for doc in &service.documents {
            outln!(
                "  {:<40} {:>5} {:<8}  {} → {}  {}",
                doc.terms_type,
                doc.versions,
                output::noun(doc.versions, "version", "versions"),
                &doc.first_recorded.to_string()[..10],
                &doc.last_recorded.to_string()[..10],
                style.dim(&doc.collection)
            );
        }
    }
    Ok(())
}
