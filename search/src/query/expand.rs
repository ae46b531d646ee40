//! Trailing wildcards: `privac*` stands for every word of the index that starts with
//! `privac`, as a disjunction of those words (ranked and highlighted like the words
//! themselves), within a budget of expanded words for the whole query.
//!
//! Tantivy's parser reads `privac*` as the word `privac` and rejects `"privac"*` (a phrase
//! prefix needs two words), so the parsed query is rewritten before it is built.

use std::collections::BTreeSet;

use tantivy::Searcher;
use tantivy::query_grammar::{Delimiter, Occur, UserInputAst, UserInputLeaf, UserInputLiteral};
use tantivy::schema::Field;
use tantivy::tokenizer::TextAnalyzer;

use crate::error::{Result, SearchError};

/// Words a phrase prefix (`"data prot"*`) expands its last word to: Tantivy's default.
const PHRASE_PREFIX_EXPANSIONS: usize = 50;

/// Rewrites the wildcard words of a parsed query (`None` when it has none), and says how
/// many words of the budget the expansions took.
pub(crate) fn expand_wildcards(
    ast: &UserInputAst,
    searcher: &Searcher,
    field: Field,
    max_expansions: usize,
) -> Result<(Option<UserInputAst>, usize)> {
    let analyzer = searcher
        .index()
        .tokenizer_for_field(field)
        .map_err(SearchError::tantivy(
            "cannot read the text field's tokenizer",
        ))?;
    let mut expander = Expander {
        searcher,
        field,
        analyzer,
        max: max_expansions,
        used: 0,
        changed: false,
    };
    let rewritten = expander.ast(ast.clone())?;
    Ok((expander.changed.then_some(rewritten), expander.used))
}

struct Expander<'a> {
    searcher: &'a Searcher,
    field: Field,
    analyzer: TextAnalyzer,
    max: usize,
    used: usize,
    changed: bool,
}

impl Expander<'_> {
    fn ast(&mut self, ast: UserInputAst) -> Result<UserInputAst> {
        Ok(match ast {
            UserInputAst::Clause(clauses) => UserInputAst::Clause(
                clauses
                    .into_iter()
                    .map(|(occur, ast)| Ok((occur, self.ast(ast)?)))
                    .collect::<Result<_>>()?,
            ),
            UserInputAst::Boost(ast, boost) => {
                UserInputAst::Boost(Box::new(self.ast(*ast)?), boost)
            }
            UserInputAst::Leaf(leaf) => match *leaf {
                // A named field is a filter field or an unknown one: the parser reports it.
                UserInputLeaf::Literal(literal) if literal.field_name.is_none() => {
                    self.literal(literal)?
                }
                leaf => UserInputAst::Leaf(Box::new(leaf)),
            },
        })
    }

    fn literal(&mut self, literal: UserInputLiteral) -> Result<UserInputAst> {
        let quoted = literal.delimiter != Delimiter::None;
        let stem = match (quoted, literal.phrase.strip_suffix('*')) {
            // Quoted text is taken as written: `"a*b"` is the phrase `a b`.
            (true, _) if !literal.prefix => return Ok(literal.into_ast()),
            (true, _) => literal.phrase.clone(),
            (false, Some(stem)) if !stem.is_empty() && !stem.contains('*') => stem.to_owned(),
            (false, None) if !literal.phrase.contains('*') && !literal.prefix => {
                return Ok(literal.into_ast());
            }
            (false, None) if literal.prefix && !literal.phrase.is_empty() => literal.phrase.clone(),
            _ => {
                return Err(invalid(format!(
                    "`{}`: * works at the end of a word (privac* finds privacy and private) \
                     or alone (* matches everything)",
                    literal.phrase
                )));
            }
        };
        let words = self.words(&stem);
        self.changed = true;
        match words.as_slice() {
            [] => Err(invalid(format!(
                "`{stem}*`: the text before * has no letters or digits to complete"
            ))),
            [word] => {
                let completions = self.completions(word, self.max - self.used + 1)?;
                self.charge(completions.len(), &stem)?;
                if completions.is_empty() {
                    // No word starts so: the word itself, which the index does not hold.
                    return Ok(plain(word.clone()));
                }
                Ok(UserInputAst::Clause(
                    completions
                        .into_iter()
                        .map(|w| (Some(Occur::Should), plain(w)))
                        .collect(),
                ))
            }
            [.., last] => {
                let cap = PHRASE_PREFIX_EXPANSIONS.min(self.max - self.used + 1);
                let completions = self.completions(last, cap)?;
                self.charge(completions.len(), &stem)?;
                Ok(UserInputLiteral {
                    field_name: None,
                    phrase: stem,
                    delimiter: Delimiter::DoubleQuotes,
                    slop: 0,
                    prefix: true,
                }
                .into_ast())
            }
        }
    }

    fn charge(&mut self, words: usize, stem: &str) -> Result<()> {
        self.used += words;
        if self.used > self.max {
            return Err(invalid(format!(
                "`{stem}*` and the query's other wildcards match more than {} words; the limit \
                 is {}: lengthen the text before *",
                self.max, self.max
            )));
        }
        Ok(())
    }

    /// The words the field's tokenizer makes of `text`.
    fn words(&mut self, text: &str) -> Vec<String> {
        let mut words = Vec::new();
        self.analyzer
            .token_stream(text)
            .process(&mut |token| words.push(token.text.clone()));
        words
    }

    /// Up to `at_most` distinct indexed words starting with `prefix`, over every segment.
    fn completions(&self, prefix: &str, at_most: usize) -> Result<Vec<String>> {
        let mut found = BTreeSet::new();
        for segment in self.searcher.segment_readers() {
            let inverted = segment
                .inverted_index(self.field)
                .map_err(SearchError::tantivy("cannot read the term dictionary"))?;
            let mut terms = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .into_stream()
                .map_err(|e| SearchError::tantivy("cannot read the term dictionary")(e.into()))?;
            while terms.advance() {
                let key = terms.key();
                if !key.starts_with(prefix.as_bytes()) {
                    break;
                }
                // The tokenizer wrote the key: UTF-8, but a lossy read never fails.
                found.insert(String::from_utf8_lossy(key).into_owned());
                if found.len() >= at_most {
                    return Ok(found.into_iter().collect());
                }
            }
        }
        Ok(found.into_iter().collect())
    }
}

trait IntoAst {
    fn into_ast(self) -> UserInputAst;
}

impl IntoAst for UserInputLiteral {
    fn into_ast(self) -> UserInputAst {
        UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(self)))
    }
}

/// One word, searched as written (it is already a token).
fn plain(word: String) -> UserInputAst {
    UserInputLiteral {
        field_name: None,
        phrase: word,
        delimiter: Delimiter::DoubleQuotes,
        slop: 0,
        prefix: false,
    }
    .into_ast()
}

fn invalid(message: String) -> SearchError {
    SearchError::InvalidQuery { message }
}
