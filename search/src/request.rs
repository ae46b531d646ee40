//! Search requests: what a user may ask, validated before anything runs.

use palimpsest_schema::Timestamp;

use crate::error::{Result, SearchError};

/// Which spans a search looks at, by their validity in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeMode {
    /// Spans in force now (no `valid_to`).
    #[default]
    Current,
    /// Spans in force at an instant: `valid_from <= T < valid_to`.
    AsOf(Timestamp),
    /// Spans whose validity overlaps `[from, to)`; either end may be open.
    Between {
        /// Start of the window, inclusive.
        from: Option<Timestamp>,
        /// End of the window, exclusive.
        to: Option<Timestamp>,
    },
    /// Every span ever recorded; hits on one section over adjacent spans are grouped.
    History,
}

/// Filters common to every operation. Values of one filter are alternatives (OR); different
/// filters must all hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Service names.
    pub services: Vec<String>,
    /// Terms types.
    pub terms_types: Vec<String>,
    /// Collections.
    pub collections: Vec<String>,
    /// Heading-path prefix, one string per level, compared case-insensitively; the last level
    /// may be the start of a heading.
    pub section: Vec<String>,
}

/// Bounds on what one request may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest query, in bytes.
    pub max_query_bytes: usize,
    /// Deepest nesting of parentheses.
    pub max_nesting: usize,
    /// Most terms (words and phrases) in a query.
    pub max_terms: usize,
    /// Most indexed words the query's wildcards (`privac*`) may stand for, in all.
    pub max_expansions: usize,
    /// Largest page.
    pub max_limit: usize,
    /// Deepest result reachable: `offset + limit` at most this.
    pub max_window: usize,
    /// Most bytes of section text (`before`, `after`, `diff`) one answer holds: a change
    /// list or a diff that would hold more is refused as it is built
    /// ([`crate::SearchError::AnswerTooLarge`]), not once it is whole.
    pub max_answer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_query_bytes: 1024,
            max_nesting: 20,
            max_terms: 64,
            max_expansions: 1024,
            max_limit: 100,
            max_window: 10_000,
            max_answer_bytes: 128 << 20,
        }
    }
}

/// What is left of [`Limits::max_answer_bytes`] while an answer is built.
#[derive(Debug)]
pub(crate) struct AnswerBytes {
    limit: usize,
    left: std::cell::Cell<usize>,
}

impl AnswerBytes {
    pub(crate) fn new(limits: &Limits) -> AnswerBytes {
        AnswerBytes {
            limit: limits.max_answer_bytes,
            left: std::cell::Cell::new(limits.max_answer_bytes),
        }
    }

    /// Counts `bytes` more; fails once the answer holds more than the limit.
    pub(crate) fn take(&self, bytes: usize) -> Result<()> {
        match self.left.get().checked_sub(bytes) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(SearchError::AnswerTooLarge { limit: self.limit }),
        }
    }
}

/// A section search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// The query (see [`crate::MatchMode`] for how its words match); `*` matches everything.
    pub query: String,
    /// How many of the query's words a section must hold.
    pub matching: crate::MatchMode,
    /// Filters.
    pub filters: Filters,
    /// Time mode.
    pub time: TimeMode,
    /// Only sections whose text first appeared (`valid_from`) in this calendar year (UTC),
    /// the year the `year` facet counts them under.
    pub year: Option<i16>,
    /// Page size.
    pub limit: usize,
    /// Hits to skip.
    pub offset: usize,
}

impl SearchRequest {
    /// A request for `query` with default filters, time mode and paging (20 hits).
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            matching: crate::MatchMode::Most,
            filters: Filters::default(),
            time: TimeMode::Current,
            year: None,
            limit: 20,
            offset: 0,
        }
    }

    /// Checks the request against `limits`.
    pub fn validate(&self, limits: &Limits) -> Result<()> {
        validate_page(self.limit, self.offset, limits)?;
        if let Some(year) = self.year
            && !(1..=9998).contains(&year)
        {
            return Err(SearchError::parameter(
                "year",
                format!("{year} is not a year between 1 and 9998"),
            ));
        }
        if let TimeMode::Between {
            from: Some(from),
            to: Some(to),
        } = self.time
        {
            validate_window(from, to)?;
        }
        self.filters.validate(limits)?;
        validate_query(&self.query, limits)
    }
}

impl Filters {
    /// Checks the section prefix against `limits`.
    pub fn validate(&self, limits: &Limits) -> Result<()> {
        let section_bytes: usize = self.section.iter().map(String::len).sum();
        if section_bytes > limits.max_query_bytes {
            return Err(SearchError::parameter(
                "section",
                format!(
                    "the section prefix is {section_bytes} bytes long; the limit is {}",
                    limits.max_query_bytes
                ),
            ));
        }
        if self.section.len() > MAX_SECTION_LEVELS {
            return Err(SearchError::parameter(
                "section",
                format!("at most {MAX_SECTION_LEVELS} heading levels"),
            ));
        }
        Ok(())
    }
}

/// Checks a page: `limit` from 1 to the maximum, `offset + limit` within the window.
pub(crate) fn validate_page(limit: usize, offset: usize, limits: &Limits) -> Result<()> {
    if limit == 0 || limit > limits.max_limit {
        return Err(SearchError::parameter(
            "limit",
            format!("must be between 1 and {}", limits.max_limit),
        ));
    }
    if offset.saturating_add(limit) > limits.max_window {
        return Err(SearchError::parameter(
            "offset",
            format!(
                "offset + limit must be at most {}; narrow the query or the filters",
                limits.max_window
            ),
        ));
    }
    Ok(())
}

/// Checks that a window's start comes before its end.
pub(crate) fn validate_window(from: Timestamp, to: Timestamp) -> Result<()> {
    if from >= to {
        return Err(SearchError::parameter(
            "from",
            format!("{from} is not before `to` {to}"),
        ));
    }
    Ok(())
}

/// Deepest heading path a section filter may name (Markdown has 6 levels; clause numbers
/// nest deeper in some documents).
const MAX_SECTION_LEVELS: usize = 16;

/// Checks a query's size and shape before it reaches the parser.
pub(crate) fn validate_query(query: &str, limits: &Limits) -> Result<()> {
    let invalid = |message: String| Err(SearchError::InvalidQuery { message });
    if query.trim().is_empty() {
        return invalid("the query is empty; use * to match everything".into());
    }
    if query.len() > limits.max_query_bytes {
        return invalid(format!(
            "the query is {} bytes long; the limit is {}",
            query.len(),
            limits.max_query_bytes
        ));
    }
    if query.contains('\0') {
        return invalid("the query contains a NUL character".into());
    }
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut in_quotes = false;
    // Terms: phrases, and words outside quotes; stop words (and so the operators AND, OR,
    // NOT) are not counted, as they never decide what matches.
    let mut terms = 0usize;
    let mut current = String::new();
    let mut end_term = |current: &mut String| {
        let word = current
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if !word.is_empty() && !crate::query::strategy::is_stop_word(&word) {
            terms += 1;
        }
        current.clear();
    };
    for c in query.chars() {
        match c {
            '"' => {
                end_term(&mut current);
                in_quotes = !in_quotes;
            }
            '(' | ')' if !in_quotes => {
                if c == '(' {
                    depth += 1;
                    deepest = deepest.max(depth);
                } else {
                    depth = depth.saturating_sub(1);
                }
                end_term(&mut current);
            }
            c if c.is_whitespace() && !in_quotes => end_term(&mut current),
            c => current.push(c),
        }
    }
    end_term(&mut current);
    if deepest > limits.max_nesting {
        return invalid(format!(
            "parentheses are nested {deepest} deep; the limit is {}",
            limits.max_nesting
        ));
    }
    if terms > limits.max_terms {
        return invalid(format!(
            "the query has {terms} terms; the limit is {}",
            limits.max_terms
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced() {
        let limits = Limits::default();
        let mut r = SearchRequest::new("x");
        assert!(r.validate(&limits).is_ok());
        r.limit = 0;
        assert!(r.validate(&limits).is_err());
        r.limit = 101;
        assert!(r.validate(&limits).is_err());
        r.limit = 100;
        r.offset = 9_900;
        assert!(r.validate(&limits).is_ok());
        r.offset = 9_901;
        assert!(r.validate(&limits).is_err());
        r.offset = usize::MAX;
        assert!(r.validate(&limits).is_err());
    }

    #[test]
    fn nesting_and_size_are_bounded() {
        let limits = Limits::default();
        let nested = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert!(validate_query(&nested(20), &limits).is_ok());
        assert!(validate_query(&nested(21), &limits).is_err());
        assert!(validate_query(&nested(10_000), &limits).is_err());
        assert!(validate_query(&"a ".repeat(600), &limits).is_err());
        assert!(validate_query(&"x OR ".repeat(100), &limits).is_err());
        assert!(validate_query("\"( ( (\" a", &limits).is_ok());
        assert!(validate_query("  ", &limits).is_err());
    }
}
