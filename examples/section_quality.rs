//! How well the splitter cuts real archives into sections.
//!
//!     cargo run --release --example section_quality -- ARCHIVE...
//!
//! For every archive (any layout `palimpsest index` reads) and every distinct content of
//! each document, splits the text as the indexer does and prints: sections per version
//! (median, 95th percentile); the share of long versions (over 1,000 words) cut into at
//! least 3 sections; the share of sections over 1,500 words; the share of versions without
//! any Markdown heading; and the long versions cut worst, for inspection. Statistics are
//! over distinct contents (a re-recorded identical text counts once) and, separately, over
//! the latest version of each document.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use anyhow::Context as _;
use palimpsest_corpus::{Archive, ReadOptions};
use palimpsest_indexer::split::split_sections;
use palimpsest_schema::{CollectionName, DocKey, VersionKind};

const LONG_VERSION_WORDS: usize = 1_000;
const LONG_SECTION_WORDS: usize = 1_500;

#[derive(Default)]
struct Tally {
    versions: usize,
    sections: Vec<usize>,
    long_versions: usize,
    long_versions_cut: usize,
    section_count: usize,
    long_sections: usize,
    without_markdown_headings: usize,
}

impl Tally {
    fn add(&mut self, text: &str) -> (usize, usize) {
        let sections = split_sections(text);
        let words = text.split_whitespace().count();
        self.versions += 1;
        self.sections.push(sections.len());
        if words > LONG_VERSION_WORDS {
            self.long_versions += 1;
            if sections.len() >= 3 {
                self.long_versions_cut += 1;
            }
        }
        for s in &sections {
            self.section_count += 1;
            if text[s.range.clone()].split_whitespace().count() > LONG_SECTION_WORDS {
                self.long_sections += 1;
            }
        }
        if !has_markdown_heading(text) {
            self.without_markdown_headings += 1;
        }
        (words, sections.len())
    }

    fn print(&mut self, label: &str) {
        self.sections.sort_unstable();
        let at = |q: f64| {
            self.sections
                .get(((self.sections.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0)
        };
        let share = |n: usize, d: usize| {
            if d == 0 {
                0.0
            } else {
                100.0 * n as f64 / d as f64
            }
        };
        println!(
            "  {label}: {} versions; sections per version median {}, p95 {}; long versions \
             (>{LONG_VERSION_WORDS} words) with >=3 sections {}/{} = {:.1}%; sections over \
             {LONG_SECTION_WORDS} words {}/{} = {:.2}%; without Markdown headings {:.1}%",
            self.versions,
            at(0.5),
            at(0.95),
            self.long_versions_cut,
            self.long_versions,
            share(self.long_versions_cut, self.long_versions),
            self.long_sections,
            self.section_count,
            share(self.long_sections, self.section_count),
            share(self.without_markdown_headings, self.versions),
        );
    }
}

/// An ATX heading or a setext underline outside the first line: a rough, independent check.
fn has_markdown_heading(text: &str) -> bool {
    let mut previous_blank = true;
    text.lines().any(|line| {
        let t = line.trim_start();
        let atx = t.starts_with('#') && t.trim_start_matches('#').starts_with(' ');
        let setext = !previous_blank
            && !t.is_empty()
            && (t.trim_end().chars().all(|c| c == '=') || t.trim_end().chars().all(|c| c == '-'))
            && t.trim_end().len() >= 2;
        previous_blank = t.trim().is_empty();
        atx || setext
    })
}

fn main() -> anyhow::Result<()> {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        anyhow::bail!("usage: section_quality ARCHIVE...");
    }
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("archive")
            .trim_end_matches("-versions")
            .to_string();
        let options = ReadOptions::new(CollectionName::new(&name)?);
        let archive = Archive::open(&path, &options)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let listing = archive.list(None)?;
        let mut reader = archive.reader()?;
        let mut all = Tally::default();
        let mut seen: HashSet<(DocKey, u64)> = HashSet::new();
        let mut latest: HashMap<DocKey, String> = HashMap::new();
        let mut worst: HashMap<DocKey, (usize, usize, String)> = HashMap::new();
        for version in &listing.versions {
            if version.kind == VersionKind::Deleted {
                latest.remove(&version.key);
                continue;
            }
            let Some(v) = reader.read_checked(version)?.version else {
                continue;
            };
            let hash = content_hash(&v.content);
            if seen.insert((v.key.clone(), hash)) {
                let (words, sections) = all.add(&v.content);
                if words > LONG_VERSION_WORDS && sections < 3 {
                    let entry = (words, sections, format!("{} {}", v.key, v.source_id));
                    worst.entry(v.key.clone()).or_insert(entry);
                }
            }
            latest.insert(v.key.clone(), v.content);
        }
        let mut current = Tally::default();
        for text in latest.values() {
            current.add(text);
        }
        println!("{name} ({} documents)", latest.len());
        all.print("distinct contents");
        current.print("latest versions ");
        let mut worst: Vec<_> = worst.into_values().collect();
        worst.sort_by_key(|w| std::cmp::Reverse(w.0));
        println!(
            "  long versions barely cut, in {} documents; the longest:",
            worst.len()
        );
        for (words, sections, what) in worst.iter().take(8) {
            println!("    {words} words, {sections} sections: {what}");
        }
    }
    Ok(())
}

fn content_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}
