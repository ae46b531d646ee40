//! Markdown to safe HTML for the web page: the texts of versions, diffs and changes as the
//! page shows them, with the query's matches in `<mark>` and a word diff's parts in `<ins>`
//! and `<del>`.
//!
//! Safe by construction (an allow-list, not a clean-up afterwards): the HTML is written here
//! from pulldown-cmark's events, so the only elements are the ones below and the only
//! attributes are `href` on links to `http`, `https` and `mailto` URLs (with `rel="nofollow
//! noopener noreferrer"`), `start` on ordered lists and `class` on marks. Raw HTML in the
//! source is shown as text; images are shown as their description.

mod diff;

use std::ops::Range;

use palimpsest_search::{DiffPart, VersionResponse};
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::Value;

/// A version as JSON with each section's `html`: its text rendered, its highlights marked.
pub fn version(response: &VersionResponse) -> Value {
    let html: Vec<String> = response
        .sections
        .iter()
        .map(|section| {
            let marks: Vec<(Range<usize>, Mark)> = char_ranges(&section.text, &section.highlights)
                .into_iter()
                .map(|r| (r, Mark::Match))
                .collect();
            markdown(&section.text, &marks)
        })
        .collect();
    let mut value = json(response);
    add_html(value.get_mut("sections"), html);
    value
}

/// An answer as a JSON value, its numbers as the typed answer writes them: through text,
/// because `serde_json::to_value` widens an `f32` score to `f64` digits (`0.3` becomes
/// `0.30000001192092896`).
pub fn json<T: serde::Serialize>(answer: &T) -> Value {
    serde_json::to_string(answer)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// A change of `changes` or `diff`: its two texts and its word diff.
pub trait ChangeText {
    /// Text before, text after, word diff.
    fn sides(&self) -> (Option<&str>, Option<&str>, Option<&[DiffPart]>);
}

impl ChangeText for palimpsest_search::Change {
    fn sides(&self) -> (Option<&str>, Option<&str>, Option<&[DiffPart]>) {
        (
            self.before.as_deref(),
            self.after.as_deref(),
            self.diff.as_deref(),
        )
    }
}

impl ChangeText for palimpsest_search::SectionChange {
    fn sides(&self) -> (Option<&str>, Option<&str>, Option<&[DiffPart]>) {
        (
            self.before.as_deref(),
            self.after.as_deref(),
            self.diff.as_deref(),
        )
    }
}

/// An answer as JSON whose `changes` each carry their `html` ([`change`]).
pub fn with_change_html<T: serde::Serialize, C: ChangeText>(answer: &T, changes: &[C]) -> Value {
    let html = changes
        .iter()
        .map(|c| {
            let (before, after, diff) = c.sides();
            change(before, after, diff)
        })
        .collect();
    let mut value = json(answer);
    add_html(value.get_mut("changes"), html);
    value
}

/// The `html` of a change (of `changes` or `diff`): the word diff rendered with its
/// insertions and deletions marked, or the whole text added or removed.
pub fn change(before: Option<&str>, after: Option<&str>, diff: Option<&[DiffPart]>) -> String {
    if let Some(parts) = diff {
        return diff::rendered(parts);
    }
    match (after, before) {
        (Some(text), _) => markdown(text, &[(0..text.len(), Mark::Insert)]),
        (None, Some(text)) => markdown(text, &[(0..text.len(), Mark::Delete)]),
        (None, None) => String::new(),
    }
}

/// The HTML of a change as an Atom entry's content: as the page renders it.
pub fn feed_content(change: &palimpsest_search::Change) -> String {
    let (before, after, diff) = change.sides();
    self::change(before, after, diff)
}

/// Sets `html` on each object of a JSON list, in order.
pub fn add_html(list: Option<&mut Value>, html: Vec<String>) {
    let Some(Value::Array(items)) = list else {
        return;
    };
    for (item, html) in items.iter_mut().zip(html) {
        if let Value::Object(fields) = item {
            fields.insert("html".to_owned(), Value::String(html));
        }
    }
}

/// What a marked range of the source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A match of the query.
    Match,
    /// Words a change inserted.
    Insert,
    /// Words a change deleted.
    Delete,
}

impl Mark {
    const ALL: [Mark; 3] = [Mark::Match, Mark::Insert, Mark::Delete];

    /// The private-use characters that stand for the mark's ends in the source while it is
    /// parsed: three bytes each in UTF-8, like U+FFFD, which replaces them in the source.
    fn sentinels(self) -> (char, char) {
        match self {
            Mark::Match => ('\u{E000}', '\u{E001}'),
            Mark::Insert => ('\u{E002}', '\u{E003}'),
            Mark::Delete => ('\u{E004}', '\u{E005}'),
        }
    }

    fn tags(self) -> (&'static str, &'static str) {
        match self {
            Mark::Match => ("<mark>", "</mark>"),
            Mark::Insert => ("<ins>", "</ins>"),
            Mark::Delete => ("<del>", "</del>"),
        }
    }

    fn of(c: char) -> Option<(Mark, bool)> {
        Mark::ALL.into_iter().find_map(|mark| {
            let (open, close) = mark.sentinels();
            (c == open)
                .then_some((mark, true))
                .or((c == close).then_some((mark, false)))
        })
    }
}

/// `text` (Markdown) as HTML, with `marks` (byte ranges of `text`, in order, not
/// overlapping) around the words they cover.
pub fn markdown(text: &str, marks: &[(Range<usize>, Mark)]) -> String {
    let source = with_sentinels(&join_link_cards(text), marks);
    let mut writer = Writer::default();
    for event in Parser::new_ext(&source, parser_options()) {
        writer.event(event);
    }
    writer.out
}

/// The Markdown the page reads: tables and strikethrough besides CommonMark.
fn parser_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Farthest back, in bytes, the text of a link is looked for from its `](`.
const LINK_CARD_BYTES: usize = 1_000;

/// `text` with the blank lines inside a link's text written as line breaks, byte for byte
/// as long (so offsets into `text` hold): Meta's "link cards" put a blank line between a
/// link's title and its label (`[Manage the information we collect\n\nPrivacy
/// Center](https://…)`), which CommonMark reads as two paragraphs of text with the syntax
/// showing. Each blank line (its line feeds and the spaces between) becomes a backslash and a
/// line feed, a hard line break, and spaces.
fn join_link_cards(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut from = 0;
    while let Some(found) = text[from..].find("](") {
        let close = from + found;
        from = close + 2;
        let Some(open) = link_text_start(&text.as_bytes()[..close]) else {
            continue;
        };
        let inner = &text[open + 1..close];
        let blank_line = inner.lines().skip(1).any(|l| l.trim().is_empty());
        if !blank_line || inner.lines().skip(1).any(starts_block) {
            continue;
        }
        blank_rules(&mut bytes[open + 1..close]);
        join_blank_lines(&mut bytes[open + 1..close]);
    }
    // Only ASCII bytes were replaced by ASCII bytes.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

/// Where the `[` opening the link text that ends at the end of `before` is: the nearest
/// unmatched one, not escaped, within [`LINK_CARD_BYTES`].
fn link_text_start(before: &[u8]) -> Option<usize> {
    let floor = before.len().saturating_sub(LINK_CARD_BYTES);
    let mut depth = 0usize;
    for at in (floor..before.len()).rev() {
        let escaped = at > 0 && before[at - 1] == b'\\';
        match before[at] {
            b']' if !escaped => depth += 1,
            b'[' if !escaped && depth == 0 => return Some(at),
            b'[' if !escaped => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Whether a line would start a block of its own after a line break (a list item, a quote,
/// a heading, a table row): a link card holding one is left as it is.
fn starts_block(line: &str) -> bool {
    let line = line.trim_start();
    !is_rule(line)
        && (list_marker(line).is_some()
            || heading_marker(line).is_some()
            || line.starts_with(['>', '|']))
}

/// Whether a line is a thematic break (`* * *`, `---`): a card's separator, not its words.
fn is_rule(line: &str) -> bool {
    let line = line.trim();
    ['*', '-', '_'].into_iter().any(|mark| {
        line.chars().filter(|&c| c == mark).count() >= 3
            && line.chars().all(|c| c == mark || c == ' ' || c == '\t')
    })
}

/// The thematic breaks among the lines of `text` after its first written as spaces.
fn blank_rules(text: &mut [u8]) {
    let mut rules = Vec::new();
    let mut start = 0;
    for line in text.split(|&c| c == b'\n') {
        let end = start + line.len();
        if start > 0 && std::str::from_utf8(line).is_ok_and(is_rule) {
            rules.push(start..end);
        }
        start = end + 1;
    }
    for rule in rules {
        text[rule].fill(b' ');
    }
}

/// Each run of a line feed, blank space and a line feed in `text` written as `\`, a line
/// feed and spaces; a run of blank space that ends `text` as spaces.
fn join_blank_lines(text: &mut [u8]) {
    let mut at = 0;
    while at < text.len() {
        if text[at] != b'\n' {
            at += 1;
            continue;
        }
        let blank = text[at + 1..]
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t' || c == b'\n')
            .count();
        if at + 1 + blank == text.len() {
            text[at..].fill(b' ');
            break;
        }
        let run = &text[at..at + 1 + blank];
        let Some(last) = run.iter().rposition(|&c| c == b'\n').filter(|&l| l > 0) else {
            at += 1 + blank;
            continue;
        };
        text[at] = b'\\';
        text[at + 1] = b'\n';
        for c in &mut text[at + 2..=at + last] {
            *c = b' ';
        }
        at += 1 + blank;
    }
}

/// Character offsets (as the API gives highlights) to byte ranges of `text`.
pub fn char_ranges(text: &str, ranges: &[[usize; 2]]) -> Vec<Range<usize>> {
    let mut bytes: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    bytes.push(text.len());
    let at = |c: usize| bytes[c.min(bytes.len() - 1)];
    ranges.iter().map(|&[s, e]| at(s)..at(e)).collect()
}

/// The source with each mark's ends written as its sentinels. A mark starting a line
/// starts after the line's block syntax (`## `, `- `, `1. `, `> `, `|`, a setext
/// underline) and ends before trailing whitespace and before an underline, so that marks
/// never change how a line reads.
fn with_sentinels(text: &str, marks: &[(Range<usize>, Mark)]) -> String {
    let clean: String = text
        .chars()
        .map(|c| if Mark::of(c).is_some() { '\u{FFFD}' } else { c })
        .collect();
    let mut out = String::with_capacity(clean.len() + marks.len() * 6);
    let mut at = 0;
    for (range, mark) in marks {
        let (Some(start), Some(end)) = (clean.get(range.start..), clean.get(..range.end)) else {
            continue;
        };
        let end = range.end - (end.len() - end.trim_end().len()).min(range.len());
        let end = before_underlines(&clean, range.start, end);
        let start = block_content(
            &clean,
            range.start + (start.len() - start.trim_start().len()),
        );
        if start < at || start >= end {
            continue;
        }
        let (open, close) = mark.sentinels();
        out.push_str(&clean[at..start]);
        out.push(open);
        out.push_str(&clean[start..end]);
        out.push(close);
        at = end;
    }
    out.push_str(&clean[at..]);
    out
}

/// Where the content of the line at `at` starts when `at` is at its start (past spaces):
/// after its block markers; on a setext underline (anywhere in it), on the next line with
/// content.
fn block_content(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    if is_underline(text, line_start, line_end) {
        // All of the line is syntax: the content starts on the next line that has some.
        let next = text[line_end..].trim_start();
        return if next.is_empty() {
            text.len()
        } else {
            block_content(text, text.len() - next.len())
        };
    }
    if !text[line_start..at].trim().is_empty() {
        return at;
    }
    let mut rest = &text[at..];
    loop {
        let before = rest.len();
        rest = rest.trim_start_matches([' ', '\t']);
        if let Some(r) = rest.strip_prefix('>').or_else(|| rest.strip_prefix('|')) {
            rest = r;
        } else if let Some(r) = list_marker(rest).or_else(|| heading_marker(rest)) {
            rest = r;
        }
        if rest.len() == before {
            return text.len() - rest.len();
        }
    }
}

/// `end` moved back over the setext underlines after `start` (a sentinel after `=====`
/// would make it text), and the whitespace before them.
fn before_underlines(text: &str, start: usize, mut end: usize) -> usize {
    while let Some(line_start) = text[..end].rfind('\n').map(|i| i + 1) {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        if line_start <= start || !is_underline(text, line_start, line_end) {
            break;
        }
        end = text[..line_start].trim_end().len();
    }
    end
}

/// Whether the line `start..end` underlines the text line above it: only `=` or only `-`
/// (spaces around). Such a line alone, after a blank line, is text, and its marks stay.
fn is_underline(text: &str, start: usize, end: usize) -> bool {
    let line = text[start..end].trim();
    let above = text[..start.saturating_sub(1)]
        .rsplit('\n')
        .next()
        .unwrap_or_default();
    start > 0
        && !above.trim().is_empty()
        && !line.is_empty()
        && (line.chars().all(|c| c == '=') || line.chars().all(|c| c == '-'))
}

fn list_marker(line: &str) -> Option<&str> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return Some(rest);
        }
    }
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = &line[digits..];
    (1..=9).contains(&digits).then_some(())?;
    rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") "))
}

fn heading_marker(line: &str) -> Option<&str> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    (1..=6).contains(&hashes).then_some(())?;
    line[hashes..].strip_prefix(' ')
}

/// Writes HTML from events, keeping track of open marks and links.
#[derive(Default)]
struct Writer {
    out: String,
    /// The mark open in the source, closed at the end of each text and reopened at the
    /// next, so elements and marks always nest.
    mark: Option<Mark>,
    /// Where each open link's start tag begins, and whether it is written (`None` for a
    /// link whose URL is not allowed, shown as its text).
    links: Vec<Option<usize>>,
    in_table_head: bool,
    in_image: usize,
}

impl Writer {
    fn event(&mut self, event: Event) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => self.text(&text),
            Event::Code(text) => {
                self.out.push_str("<code>");
                self.text(&text);
                self.out.push_str("</code>");
            }
            Event::SoftBreak => self.text("\n"),
            Event::HardBreak if self.in_image == 0 => self.out.push_str("<br>"),
            Event::Rule => self.out.push_str("<hr>"),
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag) {
        if self.in_image > 0 {
            if let Tag::Image { .. } = tag {
                self.in_image += 1;
            }
            return;
        }
        let html = match tag {
            Tag::Paragraph => "<p>".to_owned(),
            // The page's own title is the h1: the document's headings start at h2.
            Tag::Heading { level, .. } => format!("<h{}>", heading(level)),
            Tag::BlockQuote(_) => "<blockquote>".to_owned(),
            Tag::CodeBlock(CodeBlockKind::Fenced(_) | CodeBlockKind::Indented) => {
                "<pre><code>".to_owned()
            }
            Tag::List(Some(1)) => "<ol>".to_owned(),
            Tag::List(Some(start)) => format!("<ol start=\"{start}\">"),
            Tag::List(None) => "<ul>".to_owned(),
            Tag::Item => "<li>".to_owned(),
            Tag::Table(_) => "<table>".to_owned(),
            Tag::TableHead => {
                self.in_table_head = true;
                "<thead><tr>".to_owned()
            }
            Tag::TableRow => "<tr>".to_owned(),
            Tag::TableCell if self.in_table_head => "<th>".to_owned(),
            Tag::TableCell => "<td>".to_owned(),
            Tag::Emphasis => "<em>".to_owned(),
            Tag::Strong => "<strong>".to_owned(),
            Tag::Strikethrough => "<s>".to_owned(),
            Tag::Link { dest_url, .. } => return self.open_link(&dest_url, None),
            Tag::Image { .. } => {
                self.in_image = 1;
                return;
            }
            _ => return,
        };
        self.out.push_str(&html);
    }

    fn end(&mut self, tag: TagEnd) {
        if self.in_image > 0 {
            if let TagEnd::Image = tag {
                self.in_image -= 1;
            }
            return;
        }
        let html = match tag {
            TagEnd::Paragraph => "</p>".to_owned(),
            TagEnd::Heading(level) => format!("</h{}>", heading(level)),
            TagEnd::BlockQuote(_) => "</blockquote>".to_owned(),
            TagEnd::CodeBlock => "</code></pre>".to_owned(),
            TagEnd::List(true) => "</ol>".to_owned(),
            TagEnd::List(false) => "</ul>".to_owned(),
            TagEnd::Item => "</li>".to_owned(),
            TagEnd::Table => "</tbody></table>".to_owned(),
            TagEnd::TableHead => {
                self.in_table_head = false;
                "</tr></thead><tbody>".to_owned()
            }
            TagEnd::TableRow => "</tr>".to_owned(),
            TagEnd::TableCell if self.in_table_head => "</th>".to_owned(),
            TagEnd::TableCell => "</td>".to_owned(),
            TagEnd::Emphasis => "</em>".to_owned(),
            TagEnd::Strong => "</strong>".to_owned(),
            TagEnd::Strikethrough => "</s>".to_owned(),
            TagEnd::Link => return self.close_link(),
            _ => return,
        };
        self.out.push_str(&html);
    }

    /// Opens a link; `was` is the address it had before, in a diff where only that changed
    /// (empty when it was not a link), which the page shows on the earlier side.
    fn open_link(&mut self, url: &str, was: Option<&str>) {
        let url: String = url.chars().filter(|&c| Mark::of(c).is_none()).collect();
        if !allowed_url(&url) {
            self.links.push(None);
            return;
        }
        self.links.push(Some(self.out.len()));
        self.out.push_str("<a href=\"");
        escape_into(&mut self.out, &url);
        self.out.push('"');
        if let Some(was) = was {
            let was = if allowed_url(was) { was } else { "" };
            self.out
                .push_str(" class=\"changed-link\" data-before-href=\"");
            escape_into(&mut self.out, was);
            self.out.push_str("\" title=\"");
            match was {
                "" => self.out.push_str("Link added"),
                _ => {
                    self.out.push_str("Address changed; before: ");
                    escape_into(&mut self.out, was);
                }
            }
            self.out.push('"');
        }
        self.out
            .push_str(" rel=\"nofollow noopener noreferrer\" target=\"_blank\">");
    }

    /// Closes a link; a link with no text (`[](…)`) is left out.
    fn close_link(&mut self) {
        let Some(Some(start)) = self.links.pop() else {
            return;
        };
        let empty = self.out[start..]
            .find('>')
            .is_some_and(|end| self.out[start + end + 1..].trim().is_empty());
        if empty {
            self.out.truncate(start);
        } else {
            self.out.push_str("</a>");
        }
    }

    /// Escaped text, the sentinels written as the tags of their marks.
    fn text(&mut self, text: &str) {
        let mut pending = self.mark;
        for c in text.chars() {
            match Mark::of(c) {
                Some((mark, true)) => {
                    self.mark = Some(mark);
                    pending = Some(mark);
                }
                Some((mark, false)) => {
                    if pending.is_none() && self.mark == Some(mark) {
                        self.out.push_str(mark.tags().1);
                    }
                    self.mark = None;
                    pending = None;
                }
                None => {
                    if let Some(mark) = pending.take() {
                        self.out.push_str(mark.tags().0);
                    }
                    escape_char(&mut self.out, c);
                }
            }
        }
        // Still open and written: closed here, reopened at the next text.
        if pending.is_none()
            && let Some(mark) = self.mark
        {
            self.out.push_str(mark.tags().1);
        }
    }
}

fn heading(level: HeadingLevel) -> usize {
    (level as usize + 1).min(6)
}

/// Links go only to web pages and mail addresses: not `javascript:`, not `data:`, not
/// relative URLs, which would point into this server.
fn allowed_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
        && !url.chars().any(char::is_control)
}

fn escape_into(out: &mut String, text: &str) {
    text.chars().for_each(|c| escape_char(out, c));
}

fn escape_char(out: &mut String, c: char) {
    match c {
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        markdown(text, &[])
    }

    #[test]
    fn markdown_renders_headings_lists_links_and_emphasis() {
        assert_eq!(
            plain("# Title\n\nSome **bold** and *em*."),
            "<h2>Title</h2><p>Some <strong>bold</strong> and <em>em</em>.</p>"
        );
        assert_eq!(plain("- one\n- two"), "<ul><li>one</li><li>two</li></ul>");
        assert_eq!(plain("3. three"), "<ol start=\"3\"><li>three</li></ol>");
        assert_eq!(
            plain("[our site](https://example.com/a?b=1&c=\"2\")"),
            "<p><a href=\"https://example.com/a?b=1&amp;c=&quot;2&quot;\" rel=\"nofollow noopener \
             noreferrer\" target=\"_blank\">our site</a></p>"
        );
        assert_eq!(plain("Title\n=====\n\n* * *"), "<h2>Title</h2><hr>");
        assert_eq!(
            plain("| a | b |\n|---|---|\n| 1 | 2 |"),
            "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td>\
             </tr></tbody></table>"
        );
    }

    #[test]
    fn markdown_shows_raw_html_as_text_and_drops_unsafe_links() {
        assert_eq!(
            plain("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            plain("a <img src=x onerror=alert(1)> b"),
            "<p>a &lt;img src=x onerror=alert(1)&gt; b</p>"
        );
        assert_eq!(plain("[x](javascript:alert(1))"), "<p>x</p>");
        assert_eq!(plain("[x](/api/v1/stats)"), "<p>x</p>");
        assert_eq!(plain("![alt](https://tracker.example/p.png)"), "<p>alt</p>");
        assert_eq!(
            plain("before [](https://example.com) after"),
            "<p>before  after</p>"
        );
    }

    #[test]
    fn marks_wrap_their_words_and_keep_elements_nested() {
        let text = "## Data\n\n- we **collect** your data\n- more";
        let at = |w: &str| {
            let s = text.find(w).unwrap();
            s..s + w.len()
        };
        let html = markdown(text, &[(at("collect** your"), Mark::Match)]);
        assert_eq!(
            html,
            "<h3>Data</h3><ul><li>we <strong><mark>collect</mark></strong><mark> your</mark> \
             data</li><li>more</li></ul>"
        );
        // A mark from the start of a line keeps the line's list marker working.
        let html = markdown(text, &[(at("- more"), Mark::Insert)]);
        assert!(html.ends_with("<li><ins>more</ins></li></ul>"), "{html}");
        // Sentinels in the source are not marks.
        assert_eq!(plain("a\u{E000}b"), "<p>a\u{FFFD}b</p>");
    }

    /// A word diff of a retitled setext heading showed its underline as text: the mark's
    /// sentinel after `=====` made the line a paragraph.
    #[test]
    fn marks_leave_setext_underlines_as_syntax() {
        let text = "Terms | Policy\n==============\n\nBody";
        let policy = text.find(" | ").unwrap();
        let html = markdown(text, &[(policy..text.find("\n\n").unwrap(), Mark::Delete)]);
        assert_eq!(html, "<h2>Terms <del>| Policy</del></h2><p>Body</p>");
        let underline = text.find('=').unwrap();
        let html = markdown(text, &[(underline - 1..text.len(), Mark::Insert)]);
        assert_eq!(html, "<h2>Terms | Policy</h2><p><ins>Body</ins></p>");
        // A line of `=` after a blank line is text: its change stays marked.
        let html = markdown("a\n\n=====\n", &[(3..8, Mark::Insert)]);
        assert_eq!(html, "<p>a</p><p><ins>=====</ins></p>");
        // Longer underline: the insertion is in the middle of the line.
        let html = markdown(text, &[(underline + 4..underline + 8, Mark::Insert)]);
        assert_eq!(html, "<h2>Terms | Policy</h2><p>Body</p>");
    }

    #[test]
    fn char_ranges_are_byte_ranges_of_characters() {
        assert_eq!(
            char_ranges("Éa données", &[[3, 10], [20, 30]]),
            vec![4..12, 12..12]
        );
    }
}
