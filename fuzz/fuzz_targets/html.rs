//! HTML extraction on arbitrary bytes, with and without a declaration's rule, then the
//! splitter on its text, as the archive reader and the indexer run them on a snapshot.
//!
//! Input: when the first line is a JSON object, it is the rule (`{"select": …, "remove": …}`,
//! CSS selectors or `startBefore`/`startAfter`/`endBefore`/`endAfter` ranges, as in a
//! declaration file) and the rest is the page; otherwise the whole input is the page,
//! extracted without a rule (the fallback).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palimpsest_corpus::fuzzing::extract_html;
use palimpsest_indexer::split::split_sections;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (rule, page) = match data.iter().position(|&b| b == b'\n') {
        Some(end) if data.first() == Some(&b'{') => {
            match serde_json::from_slice::<Value>(&data[..end]) {
                Ok(rule) => (Some(rule), &data[end + 1..]),
                Err(_) => (None, data),
            }
        }
        _ => (None, data),
    };
    let out = extract_html(page, rule.as_ref());

    let text = &out.text;
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "text without a final newline: {text:?}"
    );
    assert!(
        !text.starts_with('\n'),
        "text starts with a blank line: {text:?}"
    );
    if out.nothing_selected {
        assert!(text.is_empty() && !out.without_rules);
    }
    // The text is what the indexer splits next: the same contract as for any version.
    let sections = split_sections(text);
    let mut at = 0;
    for section in &sections {
        assert_eq!(section.range.start, at);
        assert!(section.range.end > at);
        at = section.range.end;
    }
    assert_eq!(at, text.len());
});
