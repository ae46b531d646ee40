//! `palimpsest stats`: what the index holds, in numbers.

use crate::Context;
use crate::output;

/// Count collections, documents, versions and spans, and measure the index; list the
/// documents whose HTML snapshots were extracted without declaration rules.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also check the checksum of every index file; fail if one is damaged.
    #[arg(long)]
    verify: bool,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    if args.verify {
        let damaged = engine.verify()?;
        if !damaged.is_empty() {
            let list: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
            anyhow::bail!(
                "{} damaged file(s) in {}: {}; index again with --rebuild",
                damaged.len(),
                engine.dir().display(),
                list.join(", ")
            );
        }
    }
    let stats = engine.stats()?;
    if context.json {
        return output::json(&stats);
    }
    outln!("collections  {}", stats.collections);
    outln!("documents    {}", stats.documents);
    outln!("versions     {}", stats.versions);
    outln!("spans        {}", stats.spans);
    outln!(
        "index size   {} ({})",
        output::bytes(stats.index_bytes),
        output::count(stats.segments, "segment", "segments")
    );
    if stats.skipped_pdfs > 0 {
        outln!("PDF skipped  {}", stats.skipped_pdfs);
    }
    if !stats.without_rules.is_empty() {
        outln!(
            "extracted without declaration rules ({}):",
            stats.without_rules.len()
        );
        for d in &stats.without_rules {
            outln!("  {} / {} ({})", d.service, d.terms_type, d.collection);
        }
    }
    Ok(())
}
