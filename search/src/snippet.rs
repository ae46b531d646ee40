//! Snippets and highlights as data: plain text and the ranges of its matches. Each edge
//! renders them (the page with `<mark>`, the terminal with colours); nothing here is HTML.

use std::collections::BTreeMap;
use std::ops::Range;

use palimpsest_schema::stem_analyzer;
use pulldown_cmark::{Event, Options, Parser};
use serde::Serialize;
use tantivy::snippet::SnippetGenerator;

/// A piece of a section's text with the query's matches marked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snippet {
    /// Plain text on one line: no HTML escaping, no Markdown line syntax (heading markers,
    /// underlines, rules, bullets, `**`), whitespace collapsed.
    pub text: String,
    /// The matches, `[start, end)` in characters (Unicode scalar values) of `text`, in
    /// order and not overlapping.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<u64>>, example = json!([[4, 11]])))]
    pub highlights: Vec<[usize; 2]>,
}

impl Snippet {
    /// The best fragment of `body` for the generator's terms, or its start when no term
    /// occurs in it, cut to at most `max_chars` characters.
    pub(crate) fn of(generator: &SnippetGenerator, body: &str, max_chars: usize) -> Snippet {
        let snippet = generator.snippet(body);
        if snippet.highlighted().is_empty() {
            let end = body
                .char_indices()
                .nth(max_chars)
                .map_or(body.len(), |(i, _)| i);
            return tidy(body, 0..end, &[]);
        }
        let window = snippet.fragment_range();
        let highlights: Vec<Range<usize>> = snippet
            .highlighted()
            .iter()
            .map(|h| h.start + window.start..h.end + window.start)
            .collect();
        tidy(body, window, &highlights)
    }
}

/// Where the highlighted words (stems, as `TextQuery::highlight` holds them) occur in
/// `text`: `[start, end)` in characters, in order.
pub(crate) fn highlight_ranges(terms: &BTreeMap<String, f32>, text: &str) -> Vec<[usize; 2]> {
    if terms.is_empty() {
        return Vec::new();
    }
    let mut analyzer = stem_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut bytes = Vec::new();
    while let Some(token) = stream.next() {
        if terms.contains_key(&token.text) {
            bytes.push(token.offset_from..token.offset_to);
        }
    }
    let mut counter = CharCounter::new(text);
    bytes
        .into_iter()
        .map(|r| [counter.at(r.start), counter.at(r.end)])
        .collect()
}

/// Byte offsets to character offsets, for offsets asked in increasing order.
struct CharCounter<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharCounter<'a> {
    fn new(text: &'a str) -> Self {
        CharCounter {
            text,
            byte: 0,
            chars: 0,
        }
    }

    fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            return self.text[..byte].chars().count();
        }
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

/// Text for a result list: the Markdown of `text` read as text (heading markers,
/// underlines, rules, bullets, emphasis markers and link targets left out, a link's text
/// and raw HTML kept), only what lies in `window` (a byte range), whitespace and line breaks collapsed to
/// single spaces; `highlights` (byte ranges of `text`) follow the characters they covered.
fn tidy(text: &str, window: Range<usize>, highlights: &[Range<usize>]) -> Snippet {
    let mut chars = Chars::default();
    for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
        match event {
            // Raw HTML is text, as the page shows it.
            Event::Text(piece)
            | Event::Code(piece)
            | Event::Html(piece)
            | Event::InlineHtml(piece) => {
                if range.end <= window.start || range.start >= window.end {
                    continue;
                }
                if *piece == text[range.clone()] {
                    let clipped = range.start.max(window.start)..range.end.min(window.end);
                    for (i, c) in text[clipped.clone()].char_indices() {
                        let at = clipped.start + i;
                        chars.push(c, highlights.iter().position(|h| h.contains(&at)));
                    }
                } else {
                    // An escape or an entity: marked when a highlight touches it.
                    let source = highlights
                        .iter()
                        .position(|h| h.start < range.end && range.start < h.end);
                    piece.chars().for_each(|c| chars.push(c, source));
                }
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) | Event::Rule => {
                chars.push(' ', None);
            }
            _ => {}
        }
    }
    chars.snippet()
}

/// Characters of a snippet, each with the highlight it came from, whitespace collapsed.
#[derive(Default)]
struct Chars(Vec<(char, Option<usize>)>);

impl Chars {
    fn push(&mut self, c: char, source: Option<usize>) {
        if !c.is_whitespace() {
            self.0.push((c, source));
            return;
        }
        match self.0.last_mut() {
            None => {}
            // Whitespace in a row is one space, in a highlight only when all of it is.
            Some((' ', s)) if *s != source => *s = None,
            Some((' ', _)) => {}
            Some(_) => self.0.push((' ', source)),
        }
    }

    fn snippet(mut self) -> Snippet {
        if self.0.last().is_some_and(|(c, _)| *c == ' ') {
            self.0.pop();
        }
        // A space between two characters of one highlight (a phrase over a line break) is
        // in it.
        for i in 1..self.0.len().saturating_sub(1) {
            let (before, after) = (self.0[i - 1].1, self.0[i + 1].1);
            if self.0[i].0 == ' ' && before.is_some() && before == after {
                self.0[i].1 = before;
            }
        }
        let mut snippet = Snippet {
            text: self.0.iter().map(|(c, _)| c).collect(),
            highlights: Vec::new(),
        };
        let mut run: Option<(usize, usize)> = None;
        for (i, &(_, source)) in self.0.iter().enumerate() {
            let same = matches!((run, source), (Some((_, r)), Some(s)) if r == s);
            if !same {
                if let Some((start, _)) = run.take() {
                    snippet.highlights.push(trimmed(&self.0, start, i));
                }
                run = source.map(|s| (i, s));
            }
        }
        if let Some((start, _)) = run {
            snippet
                .highlights
                .push(trimmed(&self.0, start, self.0.len()));
        }
        snippet.highlights.retain(|[s, e]| s < e);
        snippet
    }
}

/// A highlight without the spaces at its ends.
fn trimmed(chars: &[(char, Option<usize>)], mut start: usize, mut end: usize) -> [usize; 2] {
    while start < end && chars[start].0 == ' ' {
        start += 1;
    }
    while end > start && chars[end - 1].0 == ' ' {
        end -= 1;
    }
    [start, end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(snippet: &Snippet) -> String {
        let chars: Vec<char> = snippet.text.chars().collect();
        let mut out = String::new();
        let mut at = 0;
        for [s, e] in &snippet.highlights {
            out.extend(&chars[at..*s]);
            out.push('[');
            out.extend(&chars[*s..*e]);
            out.push(']');
            at = *e;
        }
        out.extend(&chars[at..]);
        out
    }

    fn ranges(text: &str, words: &[&str]) -> Vec<Range<usize>> {
        words
            .iter()
            .map(|w| {
                let s = text.find(w).expect("word in text");
                s..s + w.len()
            })
            .collect()
    }

    fn all(text: &str, words: &[&str]) -> Snippet {
        tidy(text, 0..text.len(), &ranges(text, words))
    }

    #[test]
    fn snippets_lose_markdown_syntax_and_keep_highlights() {
        let text = "Birdsong Privacy Policy\n=======\n\n## What we **collect**\n\n- your \
                    e-mail\n* * *\n#hashtag stays, [see our site](https://example.com/very/long) \
                    [](https://example.com/empty)";
        let snippet = all(text, &["Privacy", "collect", "e-mail", "site"]);
        assert_eq!(
            marked(&snippet),
            "Birdsong [Privacy] Policy What we [collect] your [e-mail] #hashtag stays, see our \
             [site]"
        );
        assert_eq!(all("", &[]), Snippet::default());
    }

    #[test]
    fn highlights_count_characters_and_text_is_not_escaped() {
        let text = "Café's <rules> & données personnelles";
        let snippet = all(text, &["données"]);
        assert_eq!(snippet.text, text);
        assert_eq!(snippet.highlights, vec![[17, 24]]);
    }

    #[test]
    fn a_highlight_across_a_line_break_stays_one_and_the_window_cuts() {
        let text = "personal\n   data here";
        let snippet = tidy(text, 0..text.len(), &ranges(text, &["personal\n   data"]));
        assert_eq!(marked(&snippet), "[personal data] here");
        let snippet = tidy(text, 12..text.len(), &[]);
        assert_eq!(marked(&snippet), "data here");
    }

    #[test]
    fn highlight_ranges_find_word_forms_in_characters() {
        let terms = BTreeMap::from([("delet".to_owned(), 1.0), ("account".to_owned(), 1.0)]);
        let text = "Élan: deleting your Accounts";
        let found = highlight_ranges(&terms, text);
        let chars: Vec<char> = text.chars().collect();
        let words: Vec<String> = found
            .iter()
            .map(|[s, e]| chars[*s..*e].iter().collect())
            .collect();
        assert_eq!(words, ["deleting", "Accounts"]);
        assert!(highlight_ranges(&BTreeMap::new(), text).is_empty());
    }
}
