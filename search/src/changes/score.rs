//! Ranking changes by what changed: a change scores on the query's words that it inserted or
//! deleted first, then on those in its heading path, then on those in its unchanged context.
//!
//! Nothing is diffed: the stemmed body field keeps each word's frequency per span, so the
//! number of times a word was inserted or deleted is the difference of its frequencies in the
//! section before and after (a word moved within the section counts as unchanged), read from
//! the postings of the query's words alone.
//!
//! A word counts as inserted or deleted by a change at most as often as its version as a
//! whole inserted or deleted it: text moved between sections, or a section split or renamed
//! (which re-extractions do to whole documents), leaves the version's count unchanged, so it
//! is context and not change. Likewise a section added or removed whole counts as changed only
//! the share of its words that its version did not remove or add elsewhere. The sums are over
//! the changes the request lists (its query, kinds and filters), so a `kind` filter that
//! leaves out a version's removed sections also leaves them out of these sums.

use rustc_hash::{FxHashMap, FxHashSet};

use palimpsest_schema::IndexFields;
use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, Term};

use crate::error::{Result, SearchError};
use crate::query::strategy::QueryWord;
use crate::shared_texts::SharedTexts;

/// Weight of a word inserted or deleted, relative to one in the heading path or the context.
const CHANGED: f32 = 3.0;
/// Weight of a word in the section's heading path.
const HEADING: f32 = 1.0;
/// Weight of a word present before and after: the context tells what the section is about,
/// which a description names as much as what changed.
const CONTEXT: f32 = 1.0;
/// Each word inserted or deleted also adds this multiple of its idf, whatever its frequency,
/// so that changes touching more of the query's words rank first.
const COVERAGE: f32 = 1.0;
/// BM25's term-frequency saturation.
const K1: f32 = 1.2;
/// BM25's length normalization, applied to the size of what changed.
const B: f32 = 0.75;

/// What the index holds of the query's words in one span.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanTerms {
    /// The section's length in words.
    length: u32,
    /// Frequency of each query stem in the section text (heading line included).
    body: Vec<u32>,
    /// Frequency of each query stem in the heading path.
    title: Vec<u32>,
}

/// What one version changed in all, summed over its changes: what it inserted (positive)
/// or deleted (negative) of each query stem, and the words of the sections it removed and
/// added whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetChange {
    stems: Vec<i64>,
    removed_words: u64,
    added_words: u64,
}

impl NetChange {
    /// Adds a change of the version, from its two sides.
    pub(crate) fn add(&mut self, before: Option<&SpanTerms>, after: Option<&SpanTerms>) {
        let empty = SpanTerms::default();
        let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
        let n = b.body.len().max(a.body.len());
        self.stems.resize(n.max(self.stems.len()), 0);
        for (i, net) in self.stems.iter_mut().enumerate() {
            let at = |v: &[u32]| v.get(i).copied().unwrap_or(0) as i64;
            *net += at(&a.body) - at(&b.body);
        }
        match (before, after) {
            (Some(side), None) => self.removed_words += u64::from(side.length),
            (None, Some(side)) => self.added_words += u64::from(side.length),
            _ => {}
        }
    }

    /// How many of stem `i` the version inserted or deleted in all.
    fn of(&self, i: usize) -> f32 {
        self.stems.get(i).map_or(0.0, |n| n.unsigned_abs() as f32)
    }

    /// The share of a section removed (or, `added`, added) whole that the version did not
    /// add (remove) elsewhere: 1 when nothing moved, 0 when a section was only renamed.
    fn whole_share(&self, added: bool) -> f32 {
        let (this, other) = if added {
            (self.added_words, self.removed_words)
        } else {
            (self.removed_words, self.added_words)
        };
        if this == 0 {
            return 1.0;
        }
        this.saturating_sub(other) as f32 / this as f32
    }
}

/// The query's stems, each with the inverse document frequency of its word.
pub(crate) struct ScoredStems {
    stems: Vec<String>,
    idf: Vec<f32>,
}

impl ScoredStems {
    /// Every stem of the query's positive words.
    pub(crate) fn new(words: &[QueryWord]) -> ScoredStems {
        let mut stems = Vec::new();
        let mut idf = Vec::new();
        for word in words {
            for stem in &word.stems {
                if !stems.contains(stem) {
                    stems.push(stem.clone());
                    idf.push(word.idf);
                }
            }
        }
        ScoredStems { stems, idf }
    }

    /// Reads the frequencies of the stems in the spans at `addresses`, from the span that
    /// indexes each one's text.
    pub(crate) fn read(
        &self,
        searcher: &Searcher,
        fields: &IndexFields,
        texts: &SharedTexts,
        addresses: &FxHashSet<DocAddress>,
    ) -> Result<FxHashMap<DocAddress, SpanTerms>> {
        let indexing: FxHashSet<DocAddress> =
            addresses.iter().map(|a| texts.indexed_by(*a)).collect();
        let found = self.read_indexed(searcher, fields, &indexing)?;
        Ok(addresses
            .iter()
            .filter_map(|a| Some((*a, found.get(&texts.indexed_by(*a))?.clone())))
            .collect())
    }

    /// Reads the frequencies of the stems in the spans at `addresses`, which hold their words.
    fn read_indexed(
        &self,
        searcher: &Searcher,
        fields: &IndexFields,
        addresses: &FxHashSet<DocAddress>,
    ) -> Result<FxHashMap<DocAddress, SpanTerms>> {
        let n = self.stems.len();
        let mut found: FxHashMap<DocAddress, SpanTerms> = FxHashMap::default();
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let ordinal = ordinal as u32;
            let lengths = segment
                .get_fieldnorms_reader(fields.body_stem)
                .map_err(SearchError::tantivy("cannot read field lengths"))?;
            for address in addresses.iter().filter(|a| a.segment_ord == ordinal) {
                found.insert(
                    *address,
                    SpanTerms {
                        length: lengths.fieldnorm(address.doc_id),
                        body: vec![0; n],
                        title: vec![0; n],
                    },
                );
            }
            for (field, title) in [(fields.body_stem, false), (fields.title_stem, true)] {
                let inverted = segment
                    .inverted_index(field)
                    .map_err(SearchError::tantivy("cannot read the term dictionary"))?;
                for (i, stem) in self.stems.iter().enumerate() {
                    let term = Term::from_field_text(field, stem);
                    let Some(mut postings) = inverted
                        .read_postings(&term, IndexRecordOption::WithFreqs)
                        .map_err(|e| SearchError::tantivy("cannot read postings")(e.into()))?
                    else {
                        continue;
                    };
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        let address = DocAddress::new(ordinal, doc);
                        if let Some(terms) = found.get_mut(&address) {
                            let slot = if title {
                                &mut terms.title
                            } else {
                                &mut terms.body
                            };
                            slot[i] = postings.term_freq();
                        }
                        doc = postings.advance();
                    }
                }
            }
        }
        Ok(found)
    }

    /// How many words a change touched, as far as the index tells: the difference of the
    /// two lengths or the query words inserted or deleted, whichever is more; for a section
    /// added or removed whole, its length, less the share its version moved from or to other
    /// sections.
    pub(crate) fn changed_length(
        &self,
        before: Option<&SpanTerms>,
        after: Option<&SpanTerms>,
        version: &NetChange,
    ) -> f32 {
        let words = |b: &SpanTerms, a: &SpanTerms| -> u32 {
            (0..self.stems.len())
                .map(|i| {
                    let at = |v: &[u32]| v.get(i).copied().unwrap_or(0);
                    at(&b.body).abs_diff(at(&a.body)).min(version.of(i) as u32)
                })
                .sum()
        };
        let empty = SpanTerms::default();
        match (before, after) {
            (Some(b), Some(a)) => a.length.abs_diff(b.length).max(words(b, a)).max(1) as f32,
            (Some(side), None) => whole(side, version.whole_share(false), words(side, &empty)),
            (None, Some(side)) => whole(side, version.whole_share(true), words(&empty, side)),
            (None, None) => 1.0,
        }
    }

    /// The score of a change from its two sides (none for an added or removed section), what
    /// its version changed in all, its [`ScoredStems::changed_length`] and the average of
    /// that over the changes ranked.
    pub(crate) fn score(
        &self,
        before: Option<&SpanTerms>,
        after: Option<&SpanTerms>,
        version: &NetChange,
        average_changed: f32,
    ) -> f32 {
        let empty = SpanTerms::default();
        let changed_length = self.changed_length(before, after, version);
        let norm = 1.0 - B + B * changed_length / average_changed.max(1.0);
        let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
        let at = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0) as f32;
        let saturate = |tf: f32| tf * (K1 + 1.0) / (tf + K1);
        let saturate_changed = |tf: f32| tf * (K1 + 1.0) / (tf + K1 * norm);
        (0..self.stems.len())
            .map(|i| {
                let (tf_before, tf_after) = (at(&b.body, i), at(&a.body, i));
                let changed = (tf_after - tf_before).abs().min(version.of(i));
                let context = tf_before.min(tf_after) + (tf_after - tf_before).abs() - changed;
                let heading = at(&a.title, i).max(at(&b.title, i)).min(1.0);
                let covered = if changed > 0.0 { COVERAGE } else { 0.0 };
                self.idf[i]
                    * (CHANGED * saturate_changed(changed)
                        + covered
                        + HEADING * heading
                        + CONTEXT * saturate(context))
            })
            .sum()
    }
}

/// The changed length of a section added or removed whole: its length times `share`, at
/// least the query words it changed, at least 1.
fn whole(side: &SpanTerms, share: f32, words: u32) -> f32 {
    (side.length as f32 * share).max(words as f32).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(n: usize) -> ScoredStems {
        ScoredStems {
            stems: (0..n).map(|i| format!("w{i}")).collect(),
            idf: vec![1.0; n],
        }
    }

    /// A version that inserted and deleted as much as any change of it.
    fn open() -> NetChange {
        NetChange {
            stems: vec![1_000; 4],
            ..NetChange::default()
        }
    }

    fn terms(body: &[u32], title: &[u32]) -> SpanTerms {
        SpanTerms {
            length: 100,
            body: body.to_vec(),
            title: title.to_vec(),
        }
    }

    #[test]
    fn a_word_inserted_outranks_a_word_merely_present() {
        let s = stems(1);
        let inserted = s.score(
            Some(&terms(&[0], &[0])),
            Some(&terms(&[1], &[0])),
            &open(),
            10.0,
        );
        let present = s.score(
            Some(&terms(&[3], &[0])),
            Some(&terms(&[3], &[0])),
            &open(),
            10.0,
        );
        let in_heading = s.score(
            Some(&terms(&[1], &[1])),
            Some(&terms(&[1], &[1])),
            &open(),
            10.0,
        );
        assert!(
            inserted > in_heading && in_heading > present,
            "{inserted} {in_heading} {present}"
        );
    }

    #[test]
    fn touching_more_of_the_query_ranks_first() {
        let s = stems(2);
        let both = s.score(
            Some(&terms(&[0, 0], &[0, 0])),
            Some(&terms(&[1, 1], &[0, 0])),
            &open(),
            10.0,
        );
        let one_often = s.score(
            Some(&terms(&[0, 0], &[0, 0])),
            Some(&terms(&[9, 0], &[0, 0])),
            &open(),
            10.0,
        );
        assert!(both > one_often, "{both} {one_often}");
    }

    #[test]
    fn added_and_removed_sections_count_their_whole_text_as_changed() {
        let s = stems(1);
        let added = s.score(None, Some(&terms(&[2], &[0])), &open(), 10.0);
        let removed = s.score(Some(&terms(&[2], &[0])), None, &open(), 10.0);
        assert_eq!(added, removed);
        assert!(added > 0.0);
    }

    #[test]
    fn a_word_added_to_a_long_list_outranks_a_long_section_added_whole() {
        let s = stems(1);
        let long = |tf: u32| SpanTerms {
            length: 5_000,
            body: vec![tf],
            title: vec![0],
        };
        let added_to_list = s.score(Some(&long(0)), Some(&long(1)), &open(), 50.0);
        let added_whole = s.score(None, Some(&long(1)), &open(), 50.0);
        assert!(added_to_list > added_whole, "{added_to_list} {added_whole}");
    }

    #[test]
    fn words_moved_between_sections_are_context_not_change() {
        let s = stems(1);
        let (old, new) = (terms(&[2], &[0]), terms(&[2], &[0]));
        let mut renamed = NetChange::default();
        renamed.add(Some(&old), None);
        renamed.add(None, Some(&new));
        let mut inserted = NetChange::default();
        inserted.add(None, Some(&new));
        let moved = s.score(None, Some(&new), &renamed, 10.0);
        let added = s.score(None, Some(&new), &inserted, 10.0);
        assert!(added > moved && moved > 0.0, "{added} {moved}");
    }

    #[test]
    fn a_renamed_section_counts_only_what_its_version_did_not_move_as_changed() {
        let s = stems(1);
        let old = SpanTerms {
            length: 1_000,
            body: vec![2],
            title: vec![0],
        };
        let new = SpanTerms {
            length: 1_010,
            body: vec![3],
            title: vec![0],
        };
        let mut renamed = NetChange::default();
        renamed.add(Some(&old), None);
        renamed.add(None, Some(&new));
        let mut added = NetChange::default();
        added.add(None, Some(&new));
        assert_eq!(s.changed_length(None, Some(&new), &added), 1_010.0);
        let moved = s.changed_length(None, Some(&new), &renamed);
        assert!((1.0..=10.0).contains(&moved), "{moved}");
        // What it gained still ranks it: one more of the word than before.
        let same = SpanTerms {
            body: vec![3],
            ..old.clone()
        };
        let mut moved_only = NetChange::default();
        moved_only.add(Some(&same), None);
        moved_only.add(None, Some(&new));
        let gained = s.score(None, Some(&new), &renamed, 100.0);
        let nothing = s.score(None, Some(&new), &moved_only, 100.0);
        assert!(gained > nothing, "{gained} {nothing}");
    }
}
