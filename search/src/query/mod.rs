//! Queries: free text to a Tantivy query and the clauses around it.
//!
//! - `strategy`: the matching strategy (optional stemmed words, `min_should_match`, coverage
//!   before BM25, stop words, relaxation);
//! - `clauses`: filter, time and document clauses, and the query helpers the operations share;
//! - `expand`: wildcard and prefix expansion within limits;
//! - `typos`: corrections within one or two edits;
//! - `check`: what a parsed query may hold (depth, terms, fields).

pub(crate) mod check;
pub(crate) mod clauses;
pub(crate) mod expand;
pub(crate) mod strategy;
pub(crate) mod typos;
