//! Snippets and highlights as data: plain text and the ranges of its matches. Each edge
//! renders them (the page with `<mark>`, the terminal with colours); nothing here is HTML.

use std::collections::BTreeMap;
use std::ops::{ControlFlow, Range};

use palimpsest_schema::stem_analyzer;
use pulldown_cmark::{Event, Options, Parser};
use serde::Serialize;
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;

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
    /// The best fragment of `source`'s focus for the generator's terms, or the text's start
    /// when no term occurs in it, cut to at most `max_chars` characters.
    pub(crate) fn of(generator: &SnippetGenerator, source: &Source, max_chars: usize) -> Snippet {
        let body = source.text.as_str();
        let offset = source.focus.start;
        let snippet = generator.snippet(&body[source.focus.clone()]);
        if snippet.highlighted().is_empty() {
            let end = body
                .char_indices()
                .nth(max_chars)
                .map_or(body.len(), |(i, _)| i);
            return tidy(body, 0..end, &[]);
        }
        let fragment = snippet.fragment_range();
        let window = fragment.start + offset..fragment.end + offset;
        let highlights: Vec<Range<usize>> = snippet
            .highlighted()
            .iter()
            .map(|h| h.start + window.start..h.end + window.start)
            .collect();
        tidy(body, window, &highlights)
    }
}

/// What a snippet is cut from: whole paragraphs of a section (Markdown is read over them),
/// and the byte range of `text` the best fragment is looked for in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    pub(crate) text: String,
    pub(crate) focus: Range<usize>,
}

/// The source of a section's snippet, read from its `paragraphs` in order: the first
/// paragraph holding every highlighted word (stems, as `TextQuery::highlight` holds them),
/// or when none does the one holding the most of their weight, and the paragraphs after it
/// as far as the snippet could reach; the focus starts a little before that paragraph's
/// first match. So a long section is read and tokenized only up to its first paragraph
/// that matches in full, and the fragment is looked for near it, not over the whole text.
pub(crate) fn source<E>(
    terms: &BTreeMap<String, f32>,
    mut paragraphs: impl Iterator<Item = Result<String, E>>,
    max_chars: usize,
) -> Result<Source, E> {
    let mut read = Vec::new();
    let mut best: Option<(usize, Held)> = None;
    if !terms.is_empty() {
        let mut analyzer = stem_analyzer();
        for paragraph in paragraphs.by_ref() {
            let paragraph = paragraph?;
            let held = Held::in_text(terms, &mut analyzer, &paragraph);
            read.push(paragraph);
            let full = held.words == terms.len();
            if held.words > 0 && best.as_ref().is_none_or(|(_, before)| held.beats(before)) {
                best = Some((read.len() - 1, held));
            }
            if full {
                break;
            }
        }
    }
    let (mut start, mut first) = best.map_or((0, 0), |(at, held)| (at, held.first));
    let lead = max_chars / 4;
    let before: usize = read[..start].iter().map(String::len).sum();
    if near_top(before + first, lead) {
        // A match near the section's top: the snippet starts where the section does.
        (start, first) = (0, before + first);
    }
    let mut text: String = read.drain(start..).collect();
    // Bytes, at least as many as the characters a fragment could take after its start.
    let reach = first + 3 * max_chars;
    while text.len() < reach {
        match paragraphs.next() {
            Some(paragraph) => text.push_str(&paragraph?),
            None => break,
        }
    }
    let focus = focus(&text, first, lead, reach);
    Ok(Source { text, focus })
}

/// Whether a match `at` bytes from the start is near enough to it for a snippet to start
/// there, `lead` being how far before a match a snippet otherwise starts.
fn near_top(at: usize, lead: usize) -> bool {
    at <= 3 * lead
}

/// From `text`'s start when `first` is [`near_top`], else from about `lead` bytes before
/// `first`, to `end`; both moved to word edges (after a space, before one) so that no cut
/// word reads as a match.
fn focus(text: &str, first: usize, lead: usize, end: usize) -> Range<usize> {
    let from = floor_boundary(text, first.saturating_sub(lead));
    let space = |c: char| c.is_ascii_whitespace();
    let start = if from == 0 || near_top(first, lead) {
        0
    } else {
        text[from..first]
            .find(space)
            .map_or(first, |at| from + at + 1)
    };
    let end = if end >= text.len() {
        text.len()
    } else {
        let to = floor_boundary(text, end);
        text[first..to].rfind(space).map_or(to, |at| first + at)
    };
    start..end.max(start)
}

/// The largest character boundary of `text` at or before `at`.
fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The highlighted words one paragraph holds: how many distinct ones, their weight, and
/// where the first starts (bytes). Reading stops once every word was seen.
struct Held {
    words: usize,
    weight: f32,
    first: usize,
}

impl Held {
    fn in_text(terms: &BTreeMap<String, f32>, analyzer: &mut TextAnalyzer, text: &str) -> Held {
        let mut seen = std::collections::BTreeSet::new();
        let mut first = None;
        each_match(terms, analyzer, text, |word, range| {
            first.get_or_insert(range.start);
            seen.insert(word);
            if seen.len() == terms.len() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        Held {
            words: seen.len(),
            weight: seen.iter().map(|word| terms[*word]).sum(),
            first: first.unwrap_or(0),
        }
    }

    /// More distinct words, then more weight.
    fn beats(&self, other: &Held) -> bool {
        (self.words, self.weight) > (other.words, other.weight)
    }
}

/// Calls `found` with each highlighted word of `text` (as `terms` spells it) and its byte
/// range, in order, until it breaks.
fn each_match<'t>(
    terms: &'t BTreeMap<String, f32>,
    analyzer: &mut TextAnalyzer,
    text: &str,
    mut found: impl FnMut(&'t str, Range<usize>) -> ControlFlow<()>,
) {
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        if let Some((word, _)) = terms.get_key_value(&token.text)
            && found(word, token.offset_from..token.offset_to).is_break()
        {
            return;
        }
    }
}

/// Where the highlighted words (stems, as `TextQuery::highlight` holds them) occur in
/// `text`: `[start, end)` in characters, in order.
pub(crate) fn highlight_ranges(terms: &BTreeMap<String, f32>, text: &str) -> Vec<[usize; 2]> {
    if terms.is_empty() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    each_match(terms, &mut stem_analyzer(), text, |_, range| {
        bytes.push(range);
        ControlFlow::Continue(())
    });
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

    /// The source of `paragraphs` for `words` (stems), and how many paragraphs it read.
    fn source_of(paragraphs: &[String], words: &[&str], max_chars: usize) -> (Source, usize) {
        let terms: BTreeMap<String, f32> = words.iter().map(|w| ((*w).to_owned(), 1.0)).collect();
        let mut read = 0;
        let pieces = paragraphs.iter().map(|p| {
            read += 1;
            Ok::<_, ()>(p.clone())
        });
        let source = source(&terms, pieces, max_chars).unwrap();
        (source, read)
    }

    #[test]
    fn a_snippet_is_looked_for_near_the_first_full_match_and_reading_stops_there() {
        let mut paragraphs = vec!["# Terms\n\n".to_owned()];
        paragraphs.extend((0..50).map(|i| format!("Clause {i} about payment terms.\n\n")));
        paragraphs[20] = format!(
            "{} cookies and tracking tags.\n\n",
            "Words before. ".repeat(20)
        );
        paragraphs[30] = "Only cookies here.\n\n".to_owned();
        paragraphs[40] = "Cookies are tracking you.\n\n".to_owned();

        let (source, read) = source_of(&paragraphs, &["cooki", "track"], 40);
        assert!(
            source.text.starts_with("Words before."),
            "{:?}",
            source.text
        );
        let focused = &source.text[source.focus.clone()];
        assert!(focused.starts_with("before.") && focused.contains("cookies and tracking"));
        // The matching paragraph, then the next ones up to three snippets' worth of bytes.
        assert!(read < 30, "read {read} paragraphs");

        // No paragraph holds both words: the one holding more weight, read to the end.
        let (source, read) = source_of(&paragraphs, &["cooki", "absent"], 40);
        assert!(source.text.starts_with("Words before."));
        assert_eq!(read, paragraphs.len());

        // A match near the top: from the section's start, heading included.
        let short = [
            "## Acceptable use\n\n".to_owned(),
            "Send no spam. Train no models.\n\n".to_owned(),
        ];
        let (source, _) = source_of(&short, &["model"], 240);
        assert_eq!(
            (source.text.as_str(), source.focus.start),
            ("## Acceptable use\n\nSend no spam. Train no models.\n\n", 0)
        );

        // No word at all: the section's start.
        let (source, _) = source_of(&paragraphs, &[], 40);
        assert!(source.text.starts_with("# Terms") && source.focus.start == 0);
    }

    proptest::proptest! {
        #[test]
        fn a_focus_cuts_at_word_edges(text in "[a é\\n]{0,80}", first in 0usize..80, before in 0usize..20, reach in 0usize..120) {
            let first = floor_boundary(&text, first.min(text.len()));
            let range = focus(&text, first, before, first + reach);
            proptest::prop_assert!(range.start <= range.end && range.end <= text.len());
            proptest::prop_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            proptest::prop_assert!(range.start <= first);
            let cut_before = range.start > 0 && !text[..range.start].ends_with(|c: char| c.is_ascii_whitespace());
            proptest::prop_assert!(!cut_before || range.start == first);
        }
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
