//! Names as people type them: the service, terms-type and collection filters of every
//! operation resolved to the names the index holds, as `show` resolves a document's names.
//! A name the index holds is kept; else the one name equal to it but for case; else the
//! request is refused with the close names, so a filter never silently finds nothing.

use std::collections::BTreeSet;

use tantivy::schema::Field;
use tantivy::{Searcher, Term};
use unicode_normalization::UnicodeNormalization;

use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::request::Filters;

/// Most close names an error suggests.
const MAX_SUGGESTIONS: usize = 5;

impl Engine {
    /// `filters` with each service, terms type and collection as the index spells it.
    pub(crate) fn resolve_filters(
        &self,
        searcher: &Searcher,
        filters: &Filters,
    ) -> Result<Filters> {
        let f = &self.fields;
        Ok(Filters {
            services: resolve_all(searcher, f.service, "service", &filters.services)?,
            terms_types: resolve_all(searcher, f.terms_type, "terms_type", &filters.terms_types)?,
            collections: resolve_all(searcher, f.collection, "collection", &filters.collections)?,
            section: filters.section.clone(),
        })
    }
}

fn resolve_all(
    searcher: &Searcher,
    field: Field,
    parameter: &'static str,
    names: &[String],
) -> Result<Vec<String>> {
    let mut known: Option<BTreeSet<String>> = None;
    let mut resolved = Vec::with_capacity(names.len());
    for name in names {
        if holds(searcher, field, name)? {
            resolved.push(name.clone());
            continue;
        }
        let known = match &mut known {
            Some(known) => known,
            None => known.insert(field_names(searcher, field)?),
        };
        resolved.push(resolve(known, parameter, name)?);
    }
    Ok(resolved)
}

/// Whether some document has exactly this name: one term lookup per segment.
fn holds(searcher: &Searcher, field: Field, name: &str) -> Result<bool> {
    let term = Term::from_field_text(field, name);
    let count = searcher
        .doc_freq(&term)
        .map_err(SearchError::tantivy("cannot read the names"))?;
    Ok(count > 0)
}

/// Every name of a field, from the term dictionaries.
fn field_names(searcher: &Searcher, field: Field) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let index = segment
            .inverted_index(field)
            .map_err(SearchError::tantivy("cannot read the names"))?;
        let mut terms = index
            .terms()
            .stream()
            .map_err(|e| SearchError::tantivy("cannot read the names")(e.into()))?;
        while terms.advance() {
            names.insert(String::from_utf8_lossy(terms.key()).into_owned());
        }
    }
    Ok(names)
}

/// The one known name equal to `name` but for case, else an error with the close names.
fn resolve(known: &BTreeSet<String>, parameter: &'static str, name: &str) -> Result<String> {
    let lower = folded(name);
    let same: Vec<&String> = known.iter().filter(|k| folded(k) == lower).collect();
    if let [one] = same.as_slice() {
        return Ok((*one).clone());
    }
    let suggestions = if same.is_empty() {
        close_names(known, &lower)
    } else {
        same.into_iter().cloned().collect()
    };
    Err(SearchError::UnknownName {
        parameter,
        name: name.to_owned(),
        suggestions,
    })
}

/// A name as compared with what people type: lower case, in Unicode's composed form (NFC), so
/// `Café` typed with a combining accent finds the service the archive names with `é`.
pub(crate) fn folded(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// Known names that hold `lower` or are held by it, or lie within a few edits of it, the
/// closest first.
fn close_names(known: &BTreeSet<String>, lower: &str) -> Vec<String> {
    let budget = (lower.chars().count() / 3).clamp(1, 3);
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .filter_map(|k| {
            let candidate = folded(k);
            let contains =
                !lower.is_empty() && (candidate.contains(lower) || lower.contains(&candidate));
            let distance = edit_distance(&candidate, lower);
            (contains || distance <= budget).then_some((if contains { 0 } else { distance }, k))
        })
        .collect();
    close.sort();
    close
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, k)| k.clone())
        .collect()
}

/// Levenshtein distance over characters; names are short.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> BTreeSet<String> {
        ["Instagram", "Acme Cloud", "ACME", "Acme", "Birdsong"]
            .map(str::to_owned)
            .into()
    }

    #[test]
    fn a_name_in_another_case_resolves_when_unambiguous() {
        assert_eq!(
            resolve(&known(), "service", "instagram").unwrap(),
            "Instagram"
        );
        assert_eq!(
            resolve(&known(), "service", "acme cloud").unwrap(),
            "Acme Cloud"
        );
    }

    #[test]
    fn an_unknown_name_lists_the_close_ones() {
        let error = resolve(&known(), "service", "instagarm").unwrap_err();
        let SearchError::UnknownName { suggestions, .. } = &error else {
            panic!("{error}");
        };
        assert_eq!(suggestions, &["Instagram"]);
        assert_eq!(
            error.to_string(),
            "unknown service `instagarm`; did you mean `Instagram`?"
        );
        let error = resolve(&known(), "service", "acme").unwrap_err();
        assert!(
            matches!(&error, SearchError::UnknownName { suggestions, .. } if suggestions == &["ACME", "Acme"]),
            "{error}"
        );
        let error = resolve(&known(), "service", "zzz").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`palimpsest services` lists them"),
            "{error}"
        );
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("données", "donnees"), 1);
    }
}
