//! Typos: a plain word that no section holds in any form is matched within one edit (words
//! of 5 to 8 letters) or two (9 letters and more) of the indexed words, as Meilisearch does,
//! and the response suggests the query with the most frequent of those words instead.
//! Shorter words are never corrected: one edit turns them into too many other words.

use std::collections::BTreeMap;

use tantivy::query::FuzzyTermQuery;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use crate::error::{Result, SearchError};

/// Most indexed words one misspelt word stands for.
const MAX_CANDIDATES: usize = 64;

/// The edits allowed in a word of `letters` letters, if any.
pub(crate) fn allowed_edits(letters: usize) -> Option<u8> {
    match letters {
        0..=4 => None,
        5..=8 => Some(1),
        _ => Some(2),
    }
}

/// Indexed words near a misspelt one, most frequent first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Correction {
    /// The words, each with the number of sections holding it, most frequent first.
    pub words: Vec<(String, u64)>,
}

impl Correction {
    /// The most frequent word, the one the response suggests.
    pub fn best(&self) -> Option<&str> {
        self.words.first().map(|(w, _)| w.as_str())
    }
}

/// The indexed words of `field` within the allowed edits of `word` (an exact token), at most
/// `budget` of them; `None` when the word is too short to correct.
pub(crate) fn correct(
    searcher: &Searcher,
    field: Field,
    word: &str,
    budget: usize,
) -> Result<Option<Correction>> {
    let Some(edits) = allowed_edits(word.chars().count()) else {
        return Ok(None);
    };
    let automaton = FuzzyTermQuery::new(Term::from_field_text(field, word), edits, true)
        .automaton()
        .map_err(SearchError::tantivy("cannot build the typo automaton"))?;
    let cap = budget.min(MAX_CANDIDATES);
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    for segment in searcher.segment_readers() {
        let inverted = segment
            .inverted_index(field)
            .map_err(SearchError::tantivy("cannot read the term dictionary"))?;
        let mut terms = inverted
            .terms()
            .search(&automaton)
            .into_stream()
            .map_err(|e| SearchError::tantivy("cannot read the term dictionary")(e.into()))?;
        while terms.advance() {
            let key = String::from_utf8_lossy(terms.key()).into_owned();
            let known = found.contains_key(&key);
            if !known && found.len() >= cap {
                break;
            }
            *found.entry(key).or_default() += u64::from(terms.value().doc_freq);
        }
    }
    let mut words: Vec<(String, u64)> = found.into_iter().filter(|(w, _)| w != word).collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Some(Correction { words }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palimpsest_schema::{IndexFields, register_tokenizer};
    use tantivy::{Index, TantivyDocument};

    #[test]
    fn short_words_are_never_corrected_long_ones_within_two_edits() {
        assert_eq!(allowed_edits(4), None);
        assert_eq!(allowed_edits(5), Some(1));
        assert_eq!(allowed_edits(8), Some(1));
        assert_eq!(allowed_edits(9), Some(2));
    }

    #[test]
    fn a_misspelt_word_finds_the_indexed_words_near_it() {
        let fields = IndexFields::new();
        let index = Index::create_in_ram(fields.schema.clone());
        register_tokenizer(&index);
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for text in [
            "arbitration clause",
            "arbitration",
            "arbitrator",
            "celebration",
        ] {
            let mut doc = TantivyDocument::new();
            doc.add_text(fields.body, text);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let found = correct(&searcher, fields.body, "arbitraton", 1024)
            .unwrap()
            .unwrap();
        assert_eq!(found.best(), Some("arbitration"));
        assert!(found.words.iter().all(|(w, _)| w != "celebration"));
        assert!(
            correct(&searcher, fields.body, "cla", 1024)
                .unwrap()
                .is_none()
        );
    }
}
