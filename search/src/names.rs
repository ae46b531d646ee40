//! Names as people type them: the service, terms type and collection of every operation
//! (the filters of lists, the document of `show`, `versions` and `diff`) resolved to the
//! names the index holds, one way everywhere ([`resolve_name`]). A name the index holds is
//! kept; else the one name equal to it but for case; else, for a terms type, the one its
//! abbreviation stands for ([`TERMS_TYPE_ABBREVIATIONS`]); else the request is refused with
//! the close names, so a name never silently finds nothing.

use std::collections::BTreeSet;

use tantivy::schema::Field;
use tantivy::{Searcher, Term};
use unicode_normalization::UnicodeNormalization;

use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::request::Filters;

/// Most close names an error suggests.
const MAX_SUGGESTIONS: usize = 5;

/// Short names people type for terms types, and the terms type each stands for (compared
/// without case). Only the abbreviations and other names in common use for the terms types
/// most documents of the Open Terms Archive collections have; a short name stands for its
/// terms type only where the index holds that terms type and no terms type of its own name.
pub const TERMS_TYPE_ABBREVIATIONS: &[(&str, &str)] = &[
    ("ToS", "Terms of Service"),
    ("TOU", "Terms of Service"),
    ("T&C", "Terms of Service"),
    ("T&Cs", "Terms of Service"),
    ("Terms of Use", "Terms of Service"),
    ("Terms and Conditions", "Terms of Service"),
    ("PP", "Privacy Policy"),
    ("AUP", "Acceptable Use Policy"),
    ("CG", "Community Guidelines"),
    ("DPA", "Data Processor Agreement"),
    ("SLA", "Service Level Agreement"),
];

/// What a typed name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    Service,
    TermsType,
    Collection,
}

impl NameKind {
    /// The parameter that takes it.
    pub(crate) fn parameter(self) -> &'static str {
        match self {
            NameKind::Service => "service",
            NameKind::TermsType => "terms_type",
            NameKind::Collection => "collection",
        }
    }
}

/// A typed name as one of `known`, or the known names to offer instead, closest first
/// (those equal to it but for case when several are).
pub(crate) fn resolve_name<'k>(
    known: &BTreeSet<&'k str>,
    kind: NameKind,
    typed: &str,
) -> std::result::Result<&'k str, Vec<String>> {
    if let Some(&name) = known.get(typed) {
        return Ok(name);
    }
    let lower = folded(typed);
    let same: Vec<&str> = known
        .iter()
        .copied()
        .filter(|k| folded(k) == lower)
        .collect();
    match same.as_slice() {
        [one] => return Ok(one),
        [] => {}
        several => return Err(several.iter().map(|s| (*s).to_owned()).collect()),
    }
    if kind == NameKind::TermsType
        && let Some(name) = abbreviated(known, &lower)
    {
        return Ok(name);
    }
    Err(close_names(known, &lower))
}

/// The known terms type a short name stands for.
fn abbreviated<'k>(known: &BTreeSet<&'k str>, lower: &str) -> Option<&'k str> {
    let (_, full) = TERMS_TYPE_ABBREVIATIONS
        .iter()
        .find(|(short, _)| folded(short) == lower)?;
    let full = folded(full);
    known.iter().copied().find(|k| folded(k) == full)
}

impl Engine {
    /// `filters` with each service, terms type and collection as the index spells it.
    pub(crate) fn resolve_filters(
        &self,
        searcher: &Searcher,
        filters: &Filters,
    ) -> Result<Filters> {
        let f = &self.fields;
        Ok(Filters {
            services: resolve_all(searcher, f.service, NameKind::Service, &filters.services)?,
            terms_types: resolve_all(
                searcher,
                f.terms_type,
                NameKind::TermsType,
                &filters.terms_types,
            )?,
            collections: resolve_all(
                searcher,
                f.collection,
                NameKind::Collection,
                &filters.collections,
            )?,
            section: filters.section.clone(),
        })
    }
}

fn resolve_all(
    searcher: &Searcher,
    field: Field,
    kind: NameKind,
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
        let names: BTreeSet<&str> = known.iter().map(String::as_str).collect();
        match resolve_name(&names, kind, name) {
            Ok(found) => resolved.push(found.to_owned()),
            Err(suggestions) => {
                return Err(SearchError::UnknownName {
                    parameter: kind.parameter(),
                    name: name.clone(),
                    suggestions,
                });
            }
        }
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

/// A name as compared with what people type: lower case, in Unicode's composed form (NFC), so
/// `Café` typed with a combining accent finds the service the archive names with `é`.
pub(crate) fn folded(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// Known names that hold `lower` or are held by it, or lie within a few edits of it, the
/// closest first.
fn close_names(known: &BTreeSet<&str>, lower: &str) -> Vec<String> {
    let budget = (lower.chars().count() / 3).clamp(1, 3);
    let mut close: Vec<(usize, &str)> = known
        .iter()
        .filter_map(|k| {
            let candidate = folded(k);
            let contains =
                !lower.is_empty() && (candidate.contains(lower) || lower.contains(&candidate));
            let distance = edit_distance(&candidate, lower);
            (contains || distance <= budget).then_some((if contains { 0 } else { distance }, *k))
        })
        .collect();
    close.sort();
    close
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, k)| k.to_owned())
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

    const KNOWN: [&str; 5] = ["Instagram", "Acme Cloud", "ACME", "Acme", "Birdsong"];

    fn known() -> BTreeSet<&'static str> {
        KNOWN.into()
    }

    fn resolve(kind: NameKind, typed: &str) -> std::result::Result<&'static str, Vec<String>> {
        resolve_name(&known(), kind, typed)
    }

    #[test]
    fn a_name_in_another_case_resolves_when_unambiguous() {
        assert_eq!(resolve(NameKind::Service, "instagram"), Ok("Instagram"));
        assert_eq!(resolve(NameKind::Service, "acme cloud"), Ok("Acme Cloud"));
    }

    #[test]
    fn an_unknown_name_lists_the_close_ones() {
        assert_eq!(
            resolve(NameKind::Service, "instagarm"),
            Err(vec!["Instagram".to_owned()])
        );
        assert_eq!(
            resolve(NameKind::Service, "acme"),
            Err(vec!["ACME".to_owned(), "Acme".to_owned()])
        );
        assert_eq!(resolve(NameKind::Service, "zzz"), Err(Vec::new()));
        let error = SearchError::UnknownName {
            parameter: "service",
            name: "instagarm".into(),
            suggestions: vec!["Instagram".into()],
        };
        assert_eq!(
            error.to_string(),
            "unknown service `instagarm`; did you mean `Instagram`?"
        );
    }

    #[test]
    fn terms_type_abbreviations_stand_for_the_terms_types_the_index_holds() {
        let known: BTreeSet<&str> = ["Terms of Service", "Privacy Policy", "DPA"].into();
        let resolve = |typed| resolve_name(&known, NameKind::TermsType, typed);
        assert_eq!(resolve("ToS"), Ok("Terms of Service"));
        assert_eq!(resolve("tos"), Ok("Terms of Service"));
        assert_eq!(resolve("T&C"), Ok("Terms of Service"));
        assert_eq!(resolve("PP"), Ok("Privacy Policy"));
        // A terms type named like an abbreviation is itself; one the index lacks is unknown.
        assert_eq!(resolve("dpa"), Ok("DPA"));
        assert_eq!(resolve("AUP"), Err(Vec::new()));
        // Abbreviations are for terms types only.
        let services: BTreeSet<&str> = ["Privacy Policy"].into();
        assert!(resolve_name(&services, NameKind::Service, "PP").is_err());
        for (short, full) in TERMS_TYPE_ABBREVIATIONS {
            assert_ne!(folded(short), folded(full), "{short}");
        }
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("données", "donnees"), 1);
    }
}
