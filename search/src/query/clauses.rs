//! Turning a request into a Tantivy query: the text query, filters and time mode.

use std::ops::Bound;

use palimpsest_schema::{DocKey, DocType, IndexFields, OPEN_END, section_key};
use tantivy::query::{
    BooleanQuery, EnableScoring, Occur, Query, QueryParserError, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, TantivyError, Term};

use crate::error::{Result, SearchError};
use crate::facts::ColumnCache;
use crate::query::strategy::{self, MatchMode, TextQuery};
use crate::request::{Filters, TimeMode};
use crate::shared_texts::SharedTexts;

/// Weight of heading matches relative to body matches.
pub(crate) const TITLE_BOOST: f32 = 2.5;

pub(crate) fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// BM25 statistics over spans and version records: the paragraphs of text
/// ([`DocType::Text`]) are documents of the index too, and would otherwise lower every
/// section's average length and raise every word's idf. Spans sharing another's indexed text
/// count as if they held their words ([`SharedTexts`]).
struct SectionStatistics<'s> {
    searcher: &'s Searcher,
    texts: &'s SharedTexts,
    docs: u64,
}

impl tantivy::query::Bm25StatisticsProvider for SectionStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.texts.total_num_tokens(self.searcher, field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.texts.doc_freq(self.searcher, term)
    }
}

/// How many paragraph documents the index holds (deleted ones included until a merge drops
/// them, as Tantivy's own document counts do).
pub(crate) fn paragraph_docs(searcher: &Searcher, fields: &IndexFields) -> u64 {
    searcher
        .doc_freq(&Term::from_field_text(
            fields.doc_type,
            DocType::Text.as_str(),
        ))
        .unwrap_or(0)
}

/// `searcher.search`, scoring as if the index held only spans and version records, each
/// span with its words.
pub(crate) fn scored<C: tantivy::collector::Collector>(
    searcher: &Searcher,
    columns: &ColumnCache,
    query: &dyn Query,
    collector: &C,
) -> tantivy::Result<C::Fruit> {
    let all: u64 = searcher
        .segment_readers()
        .iter()
        .map(|r| u64::from(r.max_doc()))
        .sum();
    let texts = columns
        .shared_texts(searcher)
        .map_err(|e| TantivyError::InternalError(e.to_string()))?;
    let statistics = SectionStatistics {
        searcher,
        texts: &texts,
        docs: all.saturating_sub(paragraph_docs(searcher, columns.fields())),
    };
    searcher.search_with_statistics_provider(query, collector, &statistics)
}

/// Which fields a text query searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fields {
    /// Headings (boosted) and bodies: for ranked section search.
    Ranked,
    /// Bodies only, which hold the heading lines too: a match is the same set of spans, and
    /// one field keeps phrase queries cheap inside narrow filters (no union of two phrase
    /// scorers to advance through the whole index).
    Body,
}

/// Builds the user's text query (see [`crate::query::strategy`]), matching spans that share another
/// span's indexed text too ([`crate::shared_texts::SharedTextQuery`]). Words ending in `*` are expanded to the
/// indexed words they start, at most `max_expansions` in all.
pub(crate) fn text_query(
    searcher: &Searcher,
    columns: &ColumnCache,
    query: &str,
    searched: Fields,
    mode: MatchMode,
    max_expansions: usize,
) -> Result<TextQuery> {
    let texts = columns.shared_texts(searcher)?;
    let fields = columns.fields();
    let built = strategy::build(
        searcher,
        fields,
        &texts,
        query,
        searched,
        mode,
        max_expansions,
    )?;
    // `name:*` parses whatever the name and fails only when searched (an unknown field, or
    // one without a fast column): the user's mistake, to be told as such, not a failed read.
    match built.query.weight(EnableScoring::disabled_from_schema(
        &searcher.index().schema(),
    )) {
        Err(TantivyError::FieldNotFound(field)) => Err(SearchError::InvalidQuery {
            message: unknown_field(&field),
        }),
        Err(TantivyError::SchemaError(reason)) => Err(SearchError::InvalidQuery {
            message: format!(
                "field:value works only on filter fields ({reason}): use filters (service, \
                 terms_type, collection, section) instead"
            ),
        }),
        _ => Ok(built),
    }
}

fn unknown_field(field: &str) -> String {
    format!(
        "unknown field `{field}`: use filters (service, terms_type, collection, section) \
         instead of field:value"
    )
}

pub(crate) fn describe_parse_error(error: &QueryParserError) -> String {
    use QueryParserError as E;
    match error {
        E::SyntaxError(_) => "syntax error: check quotes, parentheses and operators \
                              (words, \"exact phrase\", AND, OR, NOT, +word, -word)"
            .into(),
        E::FieldDoesNotExist(field) => unknown_field(field),
        E::AllButQueryForbidden => "a query cannot consist only of excluded terms".into(),
        E::NoDefaultFieldDeclared => "no field to search".into(),
        other => other.to_string(),
    }
}

/// Spans or version records of any of these documents; `None` when there are none.
pub(crate) fn any_document<'k>(
    fields: &IndexFields,
    keys: impl IntoIterator<Item = &'k DocKey>,
) -> Option<Box<dyn Query>> {
    let texts: Vec<String> = keys.into_iter().map(DocKey::term_text).collect();
    any_of(fields.doc_key, &texts)
}

fn any_of(field: Field, values: &[String]) -> Option<Box<dyn Query>> {
    match values {
        [] => None,
        [one] => Some(term(field, one)),
        many => Some(Box::new(BooleanQuery::new(
            many.iter()
                .map(|v| (Occur::Should, term(field, v)))
                .collect(),
        ))),
    }
}

pub(crate) fn i64_range(field: Field, lower: Bound<i64>, upper: Bound<i64>) -> Box<dyn Query> {
    let map = |b: Bound<i64>| match b {
        Bound::Included(v) => Bound::Included(Term::from_field_i64(field, v)),
        Bound::Excluded(v) => Bound::Excluded(Term::from_field_i64(field, v)),
        Bound::Unbounded => Bound::Unbounded,
    };
    Box::new(RangeQuery::new(map(lower), map(upper)))
}

/// Spans whose text first appeared in calendar year `year` (UTC, 1 to 9998).
pub(crate) fn year_clause(fields: &IndexFields, year: i16) -> Box<dyn Query> {
    let start = |y: i16| {
        palimpsest_schema::Timestamp::parse(&format!("{y:04}-01-01"))
            .map_or(i64::MAX, palimpsest_schema::Timestamp::as_unix)
    };
    i64_range(
        fields.valid_from,
        Bound::Included(start(year)),
        Bound::Excluded(start(year + 1)),
    )
}

/// Terms of a string field that start with `prefix`: the range from `prefix` to the first
/// string after every string it starts (a range of the term dictionary, not a regex, whose
/// compiled size would grow with every character of the prefix).
fn prefix_range(field: Field, prefix: &str) -> Box<dyn Query> {
    let upper = match prefix_successor(prefix) {
        Some(next) => Bound::Excluded(Term::from_field_text(field, &next)),
        None => Bound::Unbounded,
    };
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_text(field, prefix)),
        upper,
    ))
}

/// The least string greater than every string starting with `prefix` (UTF-8 orders strings
/// as their code points): its last character that has a successor, incremented.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Documents of one type that pass the service, terms type and collection filters.
pub(crate) fn document_clauses(
    fields: &IndexFields,
    doc_type: DocType,
    filters: &Filters,
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, term(fields.doc_type, doc_type.as_str()))];
    for (field, values) in [
        (fields.service, &filters.services),
        (fields.terms_type, &filters.terms_types),
        (fields.collection, &filters.collections),
    ] {
        if let Some(q) = any_of(field, values) {
            clauses.push((Occur::Must, q));
        }
    }
    clauses
}

/// The section filter: spans whose heading path starts with `section` (none when empty).
pub(crate) fn section_clause(
    fields: &IndexFields,
    section: &[String],
) -> Result<Option<Box<dyn Query>>> {
    let levels: Vec<&str> = section
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if levels.is_empty() {
        return Ok(None);
    }
    Ok(Some(prefix_range(
        fields.section_key,
        &section_key(&levels),
    )))
}

/// The filter and time clauses every span search adds to its text query; the first is the
/// `doc_type` clause.
pub(crate) fn span_clauses(
    fields: &IndexFields,
    filters: &Filters,
    time: TimeMode,
) -> Result<Vec<(Occur, Box<dyn Query>)>> {
    let mut clauses = document_clauses(fields, DocType::Span, filters);
    if let Some(section) = section_clause(fields, &filters.section)? {
        clauses.push((Occur::Must, section));
    }
    match time {
        TimeMode::Current => clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_i64(fields.valid_to, OPEN_END),
                IndexRecordOption::Basic,
            )),
        )),
        TimeMode::AsOf(at) => {
            clauses.push((
                Occur::Must,
                i64_range(
                    fields.valid_from,
                    Bound::Unbounded,
                    Bound::Included(at.as_unix()),
                ),
            ));
            clauses.push((
                Occur::Must,
                i64_range(
                    fields.valid_to,
                    Bound::Excluded(at.as_unix()),
                    Bound::Unbounded,
                ),
            ));
        }
        TimeMode::Between { from, to } => {
            if let Some(to) = to {
                clauses.push((
                    Occur::Must,
                    i64_range(
                        fields.valid_from,
                        Bound::Unbounded,
                        Bound::Excluded(to.as_unix()),
                    ),
                ));
            }
            if let Some(from) = from {
                clauses.push((
                    Occur::Must,
                    i64_range(
                        fields.valid_to,
                        Bound::Excluded(from.as_unix()),
                        Bound::Unbounded,
                    ),
                ));
            }
        }
        TimeMode::History => {}
    }
    Ok(clauses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::Index;

    #[test]
    fn prefix_successor_is_the_next_string_after_the_prefix() {
        assert_eq!(prefix_successor("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_successor("a\u{d7ff}").as_deref(), Some("a\u{e000}"));
        assert_eq!(prefix_successor("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{10ffff}"), None);
        assert_eq!(prefix_successor(""), None);
    }

    #[test]
    fn any_value_of_an_unknown_or_text_field_is_an_invalid_query() {
        // Found by the `search_request` fuzz target: `q=%04:*` was a 500.
        let fields = IndexFields::new();
        let index = Index::create_in_ram(fields.schema.clone());
        palimpsest_schema::register_tokenizer(&index);
        let searcher = index.reader().unwrap().searcher();
        let columns = ColumnCache::new(fields);
        for query in [
            "\u{4}:*",
            "nosuchfield:*",
            "data OR x:*",
            "title:*",
            "body:*",
        ] {
            for searched in [Fields::Ranked, Fields::Body] {
                let error =
                    text_query(&searcher, &columns, query, searched, MatchMode::Most, 1024).err();
                assert!(
                    matches!(error, Some(SearchError::InvalidQuery { .. })),
                    "{query:?}: {error:?}"
                );
            }
        }
        assert!(
            text_query(
                &searcher,
                &columns,
                "data AND \"personal data\"",
                Fields::Ranked,
                MatchMode::Most,
                1024
            )
            .is_ok()
        );
    }
}
