//! The naive baseline the indexing figures are ratios to: one Tantivy document per version
//! (service, terms type, recorded date, and the whole text indexed with positions), nothing
//! stored, no sections, no spans, no history. Versions are read with the same archive reader
//! as `palimpsest index`, so the two differ only in what they index.
//!
//! ```text
//! cargo run --release --example naive_index -- ARCHIVE INDEX_DIR
//! ```
//! INDEX_DIR is created (it must not exist); the run prints versions, bytes and seconds.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use palimpsest_corpus::{Archive, ReadOptions};
use palimpsest_schema::CollectionName;
use tantivy::schema::{FAST, INDEXED, STRING, Schema, TEXT};
use tantivy::{Index, TantivyDocument};

/// Memory of the index writer, as `palimpsest index` gives its own.
const WRITER_BYTES: usize = 256 << 20;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [archive, index_dir] = args.as_slice() else {
        bail!("usage: naive_index ARCHIVE INDEX_DIR");
    };
    let index_dir = PathBuf::from(index_dir);
    if index_dir.exists() {
        bail!("{} exists: give a new folder", index_dir.display());
    }
    let started = Instant::now();
    let options = ReadOptions::new(CollectionName::new("naive")?);
    let archive = Archive::open(archive.as_ref(), &options).context("cannot open the archive")?;
    let listing = archive.list(None)?;
    let mut reader = archive.reader()?;

    let mut builder = Schema::builder();
    let service = builder.add_text_field("service", STRING);
    let terms_type = builder.add_text_field("terms_type", STRING);
    let recorded_at = builder.add_i64_field("recorded_at", INDEXED | FAST);
    let body = builder.add_text_field("body", TEXT);
    std::fs::create_dir_all(&index_dir)?;
    let index = Index::create_in_dir(&index_dir, builder.build())?;
    let mut writer = index.writer::<TantivyDocument>(WRITER_BYTES)?;

    let (mut versions, mut bytes) = (0u64, 0u64);
    for version in &listing.versions {
        let Ok(read) = reader.read(version) else {
            continue;
        };
        let mut doc = TantivyDocument::new();
        doc.add_text(service, read.key.service.as_str());
        doc.add_text(terms_type, read.key.terms_type.as_str());
        doc.add_i64(recorded_at, read.recorded_at.as_unix());
        doc.add_text(body, &read.content);
        writer.add_document(doc)?;
        versions += 1;
        bytes += read.content.len() as u64;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    println!(
        "naive index: {versions} versions, {} MiB of text, {:.2} s",
        bytes >> 20,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
