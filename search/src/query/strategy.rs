//! Free-text matching: how a query typed as a description becomes a Tantivy query.
//!
//! A query's top level is *free text* unless it joins clauses with `OR`. Its plain words
//! (not quoted, no field, no wildcard) are optional: a section matches when it holds at
//! least [`min_should_match`] of the informative ones, and ranks by how much of the query it
//! covers first (each word it holds adds [`COVERAGE_WEIGHT`] times the word's inverse
//! document frequency, so missing a rare word costs more than missing a common one), then by
//! BM25; when that finds nothing, one word fewer is required at a time, down to one, then
//! quoted text is read as words ([`search_relaxing`]). Stop words ([`is_stop_word`]) never
//! decide whether a section matches; parentheses around plain words group nothing. Everything
//! else keeps its meaning: `"quoted phrases"`, `+word`, `field:value`, groups in parentheses
//! and `AND` are required, `-word` and `NOT` exclude, and a query with `OR` is a Boolean
//! expression whose every clause is required unless joined by `OR`. With [`MatchMode::All`]
//! every word is required, as in a Boolean search.
//!
//! Plain words match their word forms and spellings (the stemmed fields: `deleting accounts`
//! finds `delete account`, `personalised` finds `personalized`); quoted phrases match the
//! exact words, case and accents folded. A plain word no section holds in any form is
//! matched by the indexed words within one or two edits of it ([`crate::typos`]), and the
//! corrected query is suggested.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use palimpsest_schema::{IndexFields, exact_analyzer, stem_analyzer};

use crate::shared_texts::{SharedTextQuery, SharedTexts};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, QueryParser,
    QueryParserError,
};
use tantivy::query_grammar::{self, Delimiter, UserInputAst, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocSet, Searcher, Term};

use crate::error::{Result, SearchError};
use crate::query::check::check_query_ast;
use crate::query::clauses::{Fields, TITLE_BOOST, describe_parse_error};
use crate::query::expand::expand_wildcards;
use crate::query::typos;

/// How many of a query's words a section must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    /// Most of them: see [`min_should_match`]; sections holding all rank first.
    #[default]
    Most,
    /// All of them, stop words included (a strict Boolean conjunction).
    All,
}

impl MatchMode {
    /// `most` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Most => "most",
            MatchMode::All => "all",
        }
    }
}

/// Score a section gains per query word it holds, times the word's inverse document
/// frequency: large enough that covering more of the query outweighs BM25's differences.
const COVERAGE_WEIGHT: f32 = 10.0;

/// Least number of a query's `n` informative optional words a section must hold: all of one
/// or two words; half of up to eight words (rounded up); a quarter of longer ones, at least
/// four: a pasted description names far more than any one section says.
pub fn min_should_match(n: usize) -> usize {
    match n {
        0..=2 => n,
        3..=8 => n.div_ceil(2),
        _ => n.div_ceil(4).max(4),
    }
}

/// Function words of English that say nothing about a section's subject.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "s",
    "t",
    "d",
    "ll",
    "m",
    "re",
    "ve",
];

/// Whether a lowercased word is a stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// One unit of a query the response reports on: a word, or a phrase, as the index reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryWord {
    /// The word or phrase as typed.
    pub text: String,
    /// Its stems; a section holds the unit when it holds them all.
    pub stems: Vec<String>,
    /// Inverse document frequency of its rarest stem among the sections.
    pub idf: f32,
}

/// A text query built for one search.
pub(crate) struct TextQuery {
    /// What matches, ranked.
    pub query: Box<dyn Query>,
    /// The same query with every word required, when some were optional.
    pub strict: Option<Box<dyn Query>>,
    /// The query with fewer optional words required, one fewer each, down to one: what a
    /// search falls back to when the strategy's minimum finds nothing.
    pub relaxed: Vec<Box<dyn Query>>,
    /// The query's positive words and phrases, for `matched_terms`.
    pub words: Vec<QueryWord>,
    /// Stems to highlight, with their weights (rarer words weigh more).
    pub highlight: BTreeMap<String, f32>,
    /// Words no section holds, each with the indexed word suggested instead.
    pub corrections: Vec<(String, String)>,
    /// Which spans share another's indexed text, for reading a span's words.
    pub shared: Arc<SharedTexts>,
    /// The query with those words corrected ("did you mean").
    pub suggestion: Option<String>,
}

/// Runs `search` with the query `build` makes of `text`; while it finds nothing, again with
/// the query's relaxations (fewer words required, down to one, as Meilisearch's `last`
/// strategy drops words), then, when the query quotes phrases, with its quotes taken as words
/// (then suggested as `did_you_mean`). `search` says whether it found something; the answer
/// of the last run is returned. With [`MatchMode::All`] the query runs once, as written.
pub(crate) fn search_relaxing<T>(
    text: &str,
    mode: MatchMode,
    build: &dyn Fn(&str) -> Result<TextQuery>,
    search: &mut dyn FnMut(&TextQuery) -> Result<(T, bool)>,
) -> Result<T> {
    let mut built = build(text)?;
    let (mut answer, found) = search(&built)?;
    if found || mode == MatchMode::All {
        return Ok(answer);
    }
    for relaxed in std::mem::take(&mut built.relaxed) {
        built.query = relaxed;
        let (relaxed_answer, found) = search(&built)?;
        answer = relaxed_answer;
        if found {
            return Ok(answer);
        }
    }
    if text.contains('"') {
        let words: Vec<&str> = text
            .split(|c: char| c == '"' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        let unquoted = words.join(" ");
        let suggest = |built: &str| -> Result<TextQuery> {
            let mut query = build(built)?;
            query.suggestion.get_or_insert_with(|| built.to_owned());
            Ok(query)
        };
        return search_relaxing(&unquoted, mode, &suggest, search);
    }
    Ok(answer)
}

/// The query with each misspelt word replaced by its correction, if there is one.
fn suggest(text: &str, corrections: &[(String, String)]) -> Option<String> {
    if corrections.is_empty() {
        return None;
    }
    let mut suggested = text.to_owned();
    for (typed, correction) in corrections {
        suggested = suggested.replacen(typed.as_str(), correction, 1);
    }
    Some(suggested)
}

impl TextQuery {
    /// Which of the query's words the span at `address` holds (its text, headings included),
    /// read from the stemmed postings.
    pub fn matched_in(
        &self,
        searcher: &Searcher,
        fields: &IndexFields,
        address: tantivy::DocAddress,
    ) -> Result<Vec<String>> {
        let address = self.shared.indexed_by(address);
        let segment = searcher.segment_reader(address.segment_ord);
        let inverted = segment
            .inverted_index(fields.body_stem)
            .map_err(SearchError::tantivy("cannot read the term dictionary"))?;
        let holds = |stem: &str| -> Result<bool> {
            let term = Term::from_field_text(fields.body_stem, stem);
            let postings = inverted
                .read_postings(&term, IndexRecordOption::Basic)
                .map_err(|e| SearchError::tantivy("cannot read postings")(e.into()))?;
            // A fresh posting list stands on its first document, which may come after ours.
            Ok(postings.is_some_and(|mut p| {
                let doc = address.doc_id;
                p.doc() == doc || (p.doc() < doc && p.seek(doc) == doc)
            }))
        };
        let mut matched = Vec::new();
        for word in &self.words {
            let mut all = true;
            for stem in &word.stems {
                all = all && holds(stem)?;
            }
            if all {
                matched.push(word.text.clone());
            }
        }
        Ok(matched)
    }
}

/// Builds the query for `text` (see the module documentation).
pub(crate) fn build(
    searcher: &Searcher,
    fields: &IndexFields,
    texts: &Arc<SharedTexts>,
    text: &str,
    searched: Fields,
    mode: MatchMode,
    max_expansions: usize,
) -> Result<TextQuery> {
    let mut builder = Builder::new(searcher, fields, texts, searched);
    if text.trim() == "*" {
        return Ok(builder.finish(Box::new(AllQuery), None));
    }
    let ast = parse(text)?;
    check_query_ast(&ast)?;
    let (expanded, used) = expand_wildcards(&ast, searcher, fields.body, max_expansions)?;
    builder.budget = max_expansions.saturating_sub(used);
    let matching = builder.top(expanded.unwrap_or(ast), mode)?;
    let mut built = builder.finish(matching.query, matching.strict);
    built.relaxed = matching
        .relaxed
        .into_iter()
        .map(|q| SharedTextQuery::wrap(q, texts))
        .collect();
    built.suggestion = suggest(text, &built.corrections);
    Ok(built)
}

/// Parses the query; prose punctuation that the grammar would read as syntax (an apostrophe,
/// a colon before a space, a stray bracket) is taken as text first.
fn parse(text: &str) -> Result<UserInputAst> {
    let invalid = |e: QueryParserError| SearchError::InvalidQuery {
        message: describe_parse_error(&e),
    };
    let syntax_error = |_| invalid(QueryParserError::SyntaxError(text.to_owned()));
    match query_grammar::parse_query(&escape_prose(text)) {
        Ok(ast) => Ok(ast),
        // A query written with operators is Boolean: its mistakes are reported.
        Err(e) if uses_operators(text) => Err(syntax_error(e)),
        Err(_) => query_grammar::parse_query(&escape_all(text)).map_err(syntax_error),
    }
}

/// Whether the query spells an operator: `AND`, `OR` or `NOT` as a word.
fn uses_operators(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .any(|word| matches!(word, "AND" | "OR" | "NOT"))
}

/// Every character the grammar reads as syntax escaped: the query as plain words, for text
/// whose punctuation does not parse (an unbalanced parenthesis in pasted prose).
fn escape_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if "+-^`:{}\"[]()<>!~*/\\'".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes what the query grammar would take as syntax where a person writing prose means
/// punctuation: apostrophes (`don't`, `Instagram's`), a colon that ends a word (`Update:`),
/// and `^`, `!`, `` ` ``, `{`, `}`, `[`, `]`, `~`, `/` unless a field name comes right
/// before the bracket (`year:[2020 TO 2022]` stays a range).
pub(crate) fn escape_prose(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_quotes = false;
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let escape = match c {
            '"' => {
                in_quotes = !in_quotes;
                false
            }
            _ if in_quotes => false,
            '\'' | '^' | '!' | '`' | '/' => true,
            '~' => previous != Some('"'),
            ':' => next.is_none_or(char::is_whitespace),
            '[' | '{' => previous != Some(':'),
            ']' | '}' => !field_range_open(&chars[..i]),
            '\\' => true,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    if in_quotes {
        // An unclosed quote: the phrase runs to the end.
        out.push('"');
    }
    out
}

/// Whether the text before a closing bracket opened a range right after a field name.
fn field_range_open(before: &[char]) -> bool {
    let open = before.iter().rposition(|&c| c == '[' || c == '{');
    open.is_some_and(|i| i > 0 && before[i - 1] == ':')
}

struct Builder<'a> {
    searcher: &'a Searcher,
    fields: &'a IndexFields,
    texts: &'a Arc<SharedTexts>,
    searched: Fields,
    parser: QueryParser,
    exact: TextAnalyzer,
    stem: TextAnalyzer,
    words: Vec<QueryWord>,
    /// Indexed words typo corrections may still stand for.
    budget: usize,
    corrections: Vec<(String, String)>,
}

/// The query a strategy built, its strict form when some words were optional, and its
/// relaxations (fewer optional words required, down to one).
struct Matching {
    query: Box<dyn Query>,
    strict: Option<Box<dyn Query>>,
    relaxed: Vec<Box<dyn Query>>,
}

/// An optional word of a free-text query.
struct Optional {
    query: Box<dyn Query>,
    idf: f32,
}

impl<'a> Builder<'a> {
    fn new(
        searcher: &'a Searcher,
        fields: &'a IndexFields,
        texts: &'a Arc<SharedTexts>,
        searched: Fields,
    ) -> Builder<'a> {
        let index = searcher.index();
        let mut parser = match searched {
            Fields::Ranked => {
                let mut parser = QueryParser::for_index(index, vec![fields.title, fields.body]);
                parser.set_field_boost(fields.title, TITLE_BOOST);
                parser
            }
            Fields::Body => QueryParser::for_index(index, vec![fields.body]),
        };
        parser.set_conjunction_by_default();
        Builder {
            searcher,
            fields,
            texts,
            searched,
            parser,
            exact: exact_analyzer(),
            stem: stem_analyzer(),
            words: Vec::new(),
            budget: 0,
            corrections: Vec::new(),
        }
    }

    fn finish(self, query: Box<dyn Query>, strict: Option<Box<dyn Query>>) -> TextQuery {
        let mut highlight = BTreeMap::new();
        let mut stem = stem_analyzer();
        let (body, body_stem) = (self.fields.body, self.fields.body_stem);
        let (searcher, texts) = (self.searcher, self.texts);
        query.query_terms(&mut |term, _| {
            let field = term.field();
            let value = term.value();
            let Some(text) = value.as_str() else {
                return;
            };
            let weight = |stemmed: &str| {
                let df = texts
                    .doc_freq(searcher, &Term::from_field_text(body_stem, stemmed))
                    .unwrap_or(0);
                1.0 / (1.0 + df as f32)
            };
            if field == body_stem {
                highlight.insert(text.to_owned(), weight(text));
            } else if field == body {
                stem.token_stream(text).process(&mut |t| {
                    highlight.insert(t.text.clone(), weight(&t.text));
                });
            }
        });
        TextQuery {
            query: SharedTextQuery::wrap(query, self.texts),
            strict: strict.map(|q| SharedTextQuery::wrap(q, self.texts)),
            shared: Arc::clone(self.texts),
            words: self.words,
            highlight,
            corrections: self.corrections,
            suggestion: None,
            relaxed: Vec::new(),
        }
    }

    /// The top level: free text unless it holds `OR`.
    fn top(&mut self, ast: UserInputAst, mode: MatchMode) -> Result<Matching> {
        let clauses = match ast {
            UserInputAst::Clause(clauses) => clauses,
            other => vec![(None, other)],
        };
        let clauses = flatten_plain_groups(clauses);
        if clauses
            .iter()
            .any(|(occur, _)| *occur == Some(Occur::Should))
        {
            return Ok(Matching {
                query: self.node(UserInputAst::Clause(clauses))?,
                strict: None,
                relaxed: Vec::new(),
            });
        }
        let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut optional: Vec<Optional> = Vec::new();
        let mut stop_words: Vec<Box<dyn Query>> = Vec::new();
        let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
        for (occur, ast) in clauses {
            let unit = match occur {
                Some(Occur::MustNot) => {
                    required.push((Occur::MustNot, self.node(ast)?));
                    continue;
                }
                Some(_) => Unit::Required,
                None => self.unit(&ast),
            };
            match unit {
                Unit::Nothing => {}
                Unit::Required => required.push((Occur::Must, self.node(ast)?)),
                Unit::Word { exact, stem, typed } => {
                    if !seen.insert(vec![stem.clone()]) {
                        continue;
                    }
                    if is_stop_word(&exact) {
                        stop_words.push(self.word_query(&stem));
                        continue;
                    }
                    let (query, word) = self.word_or_correction(&exact, &stem, &typed, mode)?;
                    optional.push(Optional {
                        query,
                        idf: word.idf,
                    });
                    self.words.push(word);
                }
                Unit::Phrase { stems } => {
                    if !seen.insert(stems.clone()) {
                        continue;
                    }
                    let idf = self.rarest(&stems);
                    let query = self.node(ast)?;
                    optional.push(Optional { query, idf });
                }
            }
        }
        self.strategy(required, optional, stop_words, mode)
    }

    /// Combines required, optional and stop-word clauses as the match mode says.
    fn strategy(
        &self,
        mut required: Vec<(Occur, Box<dyn Query>)>,
        optional: Vec<Optional>,
        stop_words: Vec<Box<dyn Query>>,
        mode: MatchMode,
    ) -> Result<Matching> {
        if mode == MatchMode::All {
            required.extend(optional.into_iter().map(|o| (Occur::Must, o.query)));
            required.extend(stop_words.into_iter().map(|q| (Occur::Must, q)));
            return Ok(Matching {
                query: all_or(required),
                strict: None,
                relaxed: Vec::new(),
            });
        }
        let positive = required.iter().any(|(o, _)| *o == Occur::Must);
        if optional.is_empty() && !positive && stop_words.is_empty() && !required.is_empty() {
            return Err(SearchError::InvalidQuery {
                message: describe_parse_error(&QueryParserError::AllButQueryForbidden),
            });
        }
        if optional.is_empty() && !positive {
            // Only stop words (or nothing but exclusions): everything, as `*`, minus those.
            required.push((Occur::Must, Box::new(AllQuery)));
            return Ok(Matching {
                query: all_or(required),
                strict: None,
                relaxed: Vec::new(),
            });
        }
        let n = optional.len();
        let minimum = min_should_match(n);
        let strict = (minimum < n).then(|| {
            let mut all: Vec<(Occur, Box<dyn Query>)> =
                required.iter().map(|(o, q)| (*o, q.box_clone())).collect();
            all.extend(optional.iter().map(|o| (Occur::Must, o.query.box_clone())));
            all_or(all)
        });
        let query: Box<dyn Query> = match &strict {
            Some(_) => Box::new(BooleanQuery::with_minimum_required_clauses(
                covered(&required, &optional),
                minimum,
            )),
            // Every word is required: the coverage bonus would be the same for every match.
            None => {
                let mut all: Vec<(Occur, Box<dyn Query>)> =
                    required.iter().map(|(o, q)| (*o, q.box_clone())).collect();
                all.extend(optional.iter().map(|o| (Occur::Must, o.query.box_clone())));
                all_or(all)
            }
        };
        let relaxed = (1..minimum)
            .rev()
            .map(|m| {
                let clauses = covered(&required, &optional);
                Box::new(BooleanQuery::with_minimum_required_clauses(clauses, m)) as Box<dyn Query>
            })
            .collect();
        Ok(Matching {
            query,
            strict,
            relaxed,
        })
    }

    /// A clause of a Boolean expression: words stemmed, everything else as the parser reads it.
    fn node(&mut self, ast: UserInputAst) -> Result<Box<dyn Query>> {
        match ast {
            UserInputAst::Clause(clauses) => {
                let mut built = Vec::with_capacity(clauses.len());
                for (occur, ast) in clauses {
                    built.push((occur.unwrap_or(Occur::Must), self.node(ast)?));
                }
                if !built.is_empty() && built.iter().all(|(o, _)| *o == Occur::MustNot) {
                    return Err(SearchError::InvalidQuery {
                        message: describe_parse_error(&QueryParserError::AllButQueryForbidden),
                    });
                }
                Ok(Box::new(BooleanQuery::new(built)))
            }
            UserInputAst::Boost(ast, boost) => Ok(Box::new(BoostQuery::new(
                self.node(*ast)?,
                boost.into_inner() as f32,
            ))),
            UserInputAst::Leaf(leaf) => {
                let ast = UserInputAst::Leaf(leaf);
                if let Unit::Word { stem, typed, .. } = self.unit(&ast) {
                    let idf = self.idf(&stem);
                    self.words.push(QueryWord {
                        text: typed,
                        stems: vec![stem.clone()],
                        idf,
                    });
                    return Ok(self.word_query(&stem));
                }
                self.report_phrase(&ast);
                self.parser
                    .build_query_from_user_input_ast(ast)
                    .map_err(|e| SearchError::InvalidQuery {
                        message: describe_parse_error(&e),
                    })
            }
        }
    }

    /// An optional word's query and weight: the word itself, or when no section holds it in
    /// any form, the indexed words within its allowed edits ([`crate::typos`]).
    fn word_or_correction(
        &mut self,
        exact: &str,
        stem: &str,
        typed: &str,
        mode: MatchMode,
    ) -> Result<(Box<dyn Query>, QueryWord)> {
        let word = |stems: Vec<String>, idf: f32| QueryWord {
            text: typed.to_owned(),
            stems,
            idf,
        };
        let as_typed = |this: &Self| {
            let query = this.word_query(stem);
            (query, word(vec![stem.to_owned()], this.idf(stem)))
        };
        let held = self
            .searcher
            .doc_freq(&Term::from_field_text(self.fields.body_stem, stem))
            .map_err(SearchError::tantivy("cannot read word frequencies"))?;
        if held > 0 || mode == MatchMode::All {
            return Ok(as_typed(self));
        }
        let Some(found) = typos::correct(self.searcher, self.fields.body, exact, self.budget)?
        else {
            return Ok(as_typed(self));
        };
        let Some(best) = found.best() else {
            return Ok(as_typed(self));
        };
        self.budget = self.budget.saturating_sub(found.words.len());
        self.corrections.push((typed.to_owned(), best.to_owned()));
        let mut stems: Vec<String> = Vec::new();
        for (word, _) in &found.words {
            for s in tokens(&mut self.stem, word) {
                if !stems.contains(&s) {
                    stems.push(s);
                }
            }
        }
        let best_stems = tokens(&mut self.stem, best);
        let idf = self.rarest(&best_stems);
        let alternatives = stems
            .iter()
            .map(|s| (Occur::Should, self.word_query(s)))
            .collect();
        Ok((
            Box::new(BooleanQuery::new(alternatives)),
            word(best_stems, idf),
        ))
    }

    /// What a top-level clause is to the matching strategy.
    fn unit(&mut self, ast: &UserInputAst) -> Unit {
        let Some(literal) = text_literal(ast) else {
            return Unit::Required;
        };
        if literal.delimiter != Delimiter::None || literal.prefix || literal.slop > 0 {
            return Unit::Required;
        }
        let exact = tokens(&mut self.exact, &literal.phrase);
        let stems = tokens(&mut self.stem, &literal.phrase);
        match (exact.as_slice(), stems.as_slice()) {
            ([], _) => Unit::Nothing,
            ([exact], [stem]) => Unit::Word {
                exact: exact.clone(),
                stem: stem.clone(),
                typed: literal.phrase.clone(),
            },
            _ => Unit::Phrase { stems },
        }
    }

    /// Records a phrase (or a word of several tokens) for `matched_terms`.
    fn report_phrase(&mut self, ast: &UserInputAst) {
        if let Some(literal) = text_literal(ast) {
            let stems = tokens(&mut self.stem, &literal.phrase);
            if !stems.is_empty() {
                let idf = self.rarest(&stems);
                self.words.push(QueryWord {
                    text: literal.phrase.clone(),
                    stems,
                    idf,
                });
            }
        }
    }

    /// A plain word: its stem in the stemmed body, and in the stemmed headings (boosted) when
    /// ranking sections.
    fn word_query(&self, stem: &str) -> Box<dyn Query> {
        let body = stem_term(self.fields.body_stem, stem);
        match self.searched {
            Fields::Body => body,
            Fields::Ranked => Box::new(BooleanQuery::new(vec![
                (Occur::Should, body),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        stem_term(self.fields.title_stem, stem),
                        TITLE_BOOST,
                    )),
                ),
            ])),
        }
    }

    /// The inverse document frequency of the rarest of several stems.
    fn rarest(&self, stems: &[String]) -> f32 {
        stems.iter().map(|s| self.idf(s)).fold(0.0, f32::max)
    }

    /// BM25's inverse document frequency of a stem among the sections.
    fn idf(&self, stem: &str) -> f32 {
        let term = Term::from_field_text(self.fields.body_stem, stem);
        let df = self.texts.doc_freq(self.searcher, &term).unwrap_or(0) as f32;
        let n = self
            .searcher
            .num_docs()
            .saturating_sub(crate::query::clauses::paragraph_docs(
                self.searcher,
                self.fields,
            )) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }
}

/// The required clauses, then each optional one as a `Should` that adds a coverage bonus
/// (its weight times [`COVERAGE_WEIGHT`]) when it matches.
fn covered(
    required: &[(Occur, Box<dyn Query>)],
    optional: &[Optional],
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        required.iter().map(|(o, q)| (*o, q.box_clone())).collect();
    for Optional { query, idf } in optional {
        let bonus: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            query.box_clone(),
            COVERAGE_WEIGHT * idf,
        ));
        let covered = BooleanQuery::new(vec![
            (Occur::Must, query.box_clone()),
            (Occur::Should, bonus),
        ]);
        clauses.push((Occur::Should, Box::new(covered)));
    }
    clauses
}

/// What a clause of a free-text query is.
enum Unit {
    /// A plain word: one token; optional.
    Word {
        exact: String,
        stem: String,
        typed: String,
    },
    /// An unquoted word of several tokens (`don't`, `e-mail`): an optional phrase.
    Phrase { stems: Vec<String> },
    /// Punctuation alone: no token.
    Nothing,
    /// A quoted phrase, a field, a wildcard or a group: required.
    Required,
}

/// Parentheses around plain words without operators (prose: "AI (artificial intelligence)")
/// group nothing: their words join the free text.
fn flatten_plain_groups(
    clauses: Vec<(Option<Occur>, UserInputAst)>,
) -> Vec<(Option<Occur>, UserInputAst)> {
    let mut flat = Vec::with_capacity(clauses.len());
    for (occur, ast) in clauses {
        match (occur, ast) {
            (None, UserInputAst::Clause(inner)) if inner.iter().all(|(o, _)| o.is_none()) => {
                flat.extend(flatten_plain_groups(inner));
            }
            (occur, ast) => flat.push((occur, ast)),
        }
    }
    flat
}

/// The literal of a leaf searching the text fields, if the clause is one.
fn text_literal(ast: &UserInputAst) -> Option<&tantivy::query_grammar::UserInputLiteral> {
    match ast {
        UserInputAst::Leaf(leaf) => match leaf.as_ref() {
            UserInputLeaf::Literal(literal) if literal.field_name.is_none() => Some(literal),
            _ => None,
        },
        _ => None,
    }
}

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    analyzer
        .token_stream(text)
        .process(&mut |t| out.push(t.text.clone()));
    out
}

fn stem_term(field: Field, stem: &str) -> Box<dyn Query> {
    Box::new(tantivy::query::TermQuery::new(
        Term::from_field_text(field, stem),
        IndexRecordOption::WithFreqs,
    ))
}

fn all_or(clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(clauses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_function_words() {
        assert!(is_stop_word("the") && is_stop_word("does") && !is_stop_word("privacy"));
    }

    #[test]
    fn half_the_words_of_a_short_query_and_a_quarter_of_a_long_one_must_match() {
        let table: Vec<usize> = (0..=10).map(min_should_match).collect();
        assert_eq!(table, [0, 1, 2, 2, 2, 3, 3, 4, 4, 4, 4]);
        assert_eq!(min_should_match(20), 5);
        assert_eq!(min_should_match(30), 8);
    }

    #[test]
    fn prose_punctuation_is_escaped_and_syntax_kept() {
        assert_eq!(escape_prose("don't sell"), "don\\'t sell");
        assert_eq!(escape_prose("Update: terms"), "Update\\: terms");
        assert_eq!(escape_prose("service:Acme"), "service:Acme");
        assert_eq!(escape_prose("year:[2020 TO 2022]"), "year:[2020 TO 2022]");
        assert_eq!(escape_prose("see [1]"), "see \\[1\\]");
        assert_eq!(escape_prose("\"it's\" x"), "\"it's\" x");
        assert_eq!(escape_prose("\"unclosed"), "\"unclosed\"");
        for text in [
            "don't sell",
            "What's new?",
            "a [b] {c} ^d !e `f` ~g h/i",
            "x: y",
            "\\",
        ] {
            assert!(
                query_grammar::parse_query(&escape_prose(text)).is_ok(),
                "{text:?}"
            );
        }
    }
}
