//! What a text query may name, checked on the parsed query before anything is built: words,
//! phrases and wildcards, in the headings (`title:`) or the text (`body:`) or both. Ranges
//! (`body:[a TO z]`) and term sets (`body: IN [a b]`) are refused: on a text field each stands
//! for every indexed word between its bounds, outside the wildcard budget. Other field names
//! are refused too: the index's internal fields (`doc_type`, `section_key`, `valid_to`…) are
//! not part of the query language, and filters cover what users may select.

use tantivy::query_grammar::{UserInputAst, UserInputLeaf};

use crate::error::{Result, SearchError, shorten};

/// The fields a query may name, as `field:word`.
pub(crate) const QUERYABLE_FIELDS: [&str; 2] = ["title", "body"];

/// Fails on the first range, set or field name a query may not use.
pub(crate) fn check_query_ast(ast: &UserInputAst) -> Result<()> {
    match ast {
        UserInputAst::Clause(clauses) => {
            clauses.iter().try_for_each(|(_, ast)| check_query_ast(ast))
        }
        UserInputAst::Boost(ast, _) => check_query_ast(ast),
        UserInputAst::Leaf(leaf) => check_leaf(leaf),
    }
}

fn check_leaf(leaf: &UserInputLeaf) -> Result<()> {
    match leaf {
        UserInputLeaf::Literal(literal) => check_field(literal.field_name.as_deref()),
        UserInputLeaf::All => Ok(()),
        UserInputLeaf::Range { field, .. } => {
            check_field(field.as_deref())?;
            Err(refused(
                "ranges ([a TO z]) are not supported: on text they stand for every indexed \
                 word between the bounds; use words, \"phrases\" or a wildcard (privac*)",
            ))
        }
        UserInputLeaf::Set { field, .. } => {
            check_field(field.as_deref())?;
            Err(refused(
                "term sets (IN [a b]) are not supported; join words with OR instead",
            ))
        }
        UserInputLeaf::Exists { field } => {
            check_field(Some(field))?;
            Err(refused(&format!(
                "`{}:*` is not supported: * works alone (it matches everything) or at the end \
                 of a word (privac*)",
                shorten(field, 64)
            )))
        }
        UserInputLeaf::Regex { field, .. } => {
            check_field(field.as_deref())?;
            Err(refused(
                "regular expressions are not supported; use a wildcard (privac*)",
            ))
        }
    }
}

fn check_field(field: Option<&str>) -> Result<()> {
    match field {
        None => Ok(()),
        Some(name) if QUERYABLE_FIELDS.contains(&name) => Ok(()),
        Some(name) => Err(refused(&format!(
            "unknown field `{}`: a query may name only title: (headings) or body: (text); use \
             filters (service, terms_type, collection, section) for the rest",
            shorten(name, 64)
        ))),
    }
}

fn refused(message: &str) -> SearchError {
    SearchError::InvalidQuery {
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::query_grammar::parse_query;

    fn check(query: &str) -> Result<()> {
        check_query_ast(&parse_query(query).unwrap())
    }

    #[test]
    fn words_phrases_and_the_text_fields_pass() {
        for query in [
            "privacy",
            "\"personal data\" AND (cookies OR ads^2)",
            "title:cookies body:\"third parties\"",
            "-tracking +consent",
            "privac*",
            "*",
        ] {
            assert!(check(query).is_ok(), "{query}");
        }
    }

    #[test]
    fn ranges_sets_and_internal_fields_are_refused() {
        // Found by a review: each of these expanded to every indexed term of its field.
        for query in [
            "body:[a TO zzzz]",
            "title:{a TO z}",
            "data OR body:[a TO *]",
            "body: IN [a b c]",
            "section_key:[a TO z]",
            "doc_type:version",
            "valid_to:[0 TO 9]",
            "span_id:1",
            "(privacy AND (service:Acme))",
            "title:*",
        ] {
            let error = check(query).err();
            assert!(
                matches!(error, Some(SearchError::InvalidQuery { .. })),
                "{query}: {error:?}"
            );
        }
    }
}
