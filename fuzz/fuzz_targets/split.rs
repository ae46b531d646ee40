//! The Markdown splitter on arbitrary text: it never panics, and its sections are what
//! `split_sections` documents: contiguous, in order, non-empty, covering the text (so they
//! give it back), with heading paths that nest like a stack of headings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palimpsest_indexer::split::split_sections;

/// Deepest heading path: Markdown levels 1-6, heading-like lines clamped to 9.
const MAX_DEPTH: usize = 9;

fuzz_target!(|data: &[u8]| {
    // Versions are UTF-8 by the time they are split; invalid bytes become U+FFFD first.
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let sections = split_sections(text);

    if text.is_empty() {
        assert!(sections.is_empty(), "sections of empty text: {sections:?}");
        return;
    }
    let mut at = 0;
    let mut rebuilt = String::with_capacity(text.len());
    for (i, section) in sections.iter().enumerate() {
        let range = section.range.clone();
        assert_eq!(
            range.start,
            at,
            "section {i} does not start where {} ended",
            i.max(1) - 1
        );
        assert!(range.end > range.start, "section {i} is empty: {range:?}");
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        // Sections start at the start of a line: a heading line is never cut.
        assert!(
            range.start == 0 || text.as_bytes()[range.start - 1] == b'\n',
            "section {i} starts inside a line at byte {}",
            range.start
        );
        rebuilt.push_str(&text[range.clone()]);
        at = range.end;

        // Only the text before the first heading has no heading path.
        assert!(
            i == 0 || !section.path.is_empty(),
            "section {i} has no heading path"
        );
        assert!(
            section.path.len() <= MAX_DEPTH,
            "path too deep: {:?}",
            section.path
        );
        for title in &section.path {
            assert!(!title.is_empty(), "empty title in {:?}", section.path);
            assert_eq!(title.trim(), title, "untrimmed title in {:?}", section.path);
            // Spaces collapsed: one plain space between words.
            assert!(
                !title.contains("  ") && title.chars().all(|c| c == ' ' || !c.is_whitespace()),
                "uncollapsed spaces in title {title:?}"
            );
        }
        // Paths nest as a stack: a section keeps a prefix of the previous path and adds its own
        // heading.
        if i > 0 && !section.path.is_empty() {
            let parent = &section.path[..section.path.len() - 1];
            let previous = &sections[i - 1].path;
            assert!(
                previous.starts_with(parent),
                "path {:?} does not follow {previous:?}",
                section.path
            );
        }
    }
    assert_eq!(at, text.len(), "sections do not reach the end of the text");
    assert_eq!(rebuilt, text, "sections do not give the text back");
    assert_eq!(
        split_sections(text),
        sections,
        "splitting is not deterministic"
    );
});
