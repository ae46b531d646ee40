//! HTML snapshots into Markdown-like text.
//!
//! A page is decoded (UTF-8, or the charset it declares when its bytes are not UTF-8),
//! flattened past [`MAX_DEPTH`] levels of nesting, cut to [`MAX_ATTRIBUTES`] attributes per
//! element, parsed with scraper, cut down to what its
//! declaration selects (or to the fallback's choice), and written as Markdown so the splitter
//! finds its sections: `#`..`######` for h1-h6, `- ` or `1. ` for list items (nested lists
//! indented), `| a | b |` for table rows, `**bold**`, link text without the link, paragraphs
//! separated by blank lines, whitespace collapsed. Scripts, styles, `noscript`, `template`,
//! `svg` and elements with the `hidden` attribute give no text.

use std::borrow::Cow;
use std::collections::HashSet;

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use scraper::{Html, Node, Selector};

use crate::declarations::{Lookup, Rule, Target};

/// Deepest element nesting passed to the HTML parser. html5ever's tree builder is quadratic in
/// depth and overflows its stack near 40,000 levels; real pages stay under 100.
pub(crate) const MAX_DEPTH: usize = 512;

/// Most attributes passed to the HTML parser per element (for `html` and `body`, whose
/// repeated start tags add their attributes to one element, over all of them). html5ever
/// checks each attribute against the element's earlier ones, so a tag's cost is quadratic
/// in its attributes; real pages stay under 50.
pub(crate) const MAX_ATTRIBUTES: usize = 100;

/// The text of one snapshot.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    /// Markdown-like text; empty when the rules selected nothing.
    pub text: String,
    /// Whether the text was chosen by the fallback instead of a declaration.
    pub without_rules: bool,
    /// Whether the declaration's `select` matched nothing in the page.
    pub nothing_selected: bool,
    /// What was imperfect (decoding, nesting).
    pub warnings: Vec<String>,
}

/// Extracts the text of an HTML page under the rule found for it.
pub(crate) fn extract(bytes: &[u8], lookup: Lookup<'_>) -> Extracted {
    let mut out = Extracted::default();
    let (html, decode_warning) = decode(bytes);
    out.warnings.extend(decode_warning);
    let (html, capped) = cap_markup(&html, MAX_DEPTH, MAX_ATTRIBUTES);
    if capped.tags > 0 {
        out.warnings.push(format!(
            "elements nested deeper than {MAX_DEPTH} levels: {} tags ignored (their text is kept)",
            capped.tags
        ));
    }
    if capped.attributes > 0 {
        out.warnings.push(format!(
            "elements with more than {MAX_ATTRIBUTES} attributes: {} attributes ignored",
            capped.attributes
        ));
    }
    let document = Html::parse_document(&html);
    match lookup {
        Lookup::Rule(rule) => {
            out.text = with_rule(&document, rule);
            out.nothing_selected = out.text.is_empty();
        }
        Lookup::Undeclared | Lookup::Invalid => {
            out.text = fallback(&document);
            out.without_rules = true;
        }
    }
    out
}

/// Page text: UTF-8 when the bytes are UTF-8 (whatever the page declares: archives store
/// fetched pages re-encoded), else the declared charset, else UTF-8 with replacements.
pub(crate) fn decode(bytes: &[u8]) -> (String, Option<String>) {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        let warning = errors.then(|| format!("invalid {} replaced with U+FFFD", encoding.name()));
        return (text.into_owned(), warning);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), None);
    }
    match declared_charset(bytes) {
        Some(label) => decode_declared(bytes, &label),
        None => (
            String::from_utf8_lossy(bytes).into_owned(),
            Some("invalid UTF-8 replaced with U+FFFD".into()),
        ),
    }
}

/// Page text in the charset its markup declares, as the WHATWG encoding rules read a
/// declaration found by the prescan: UTF-16 (LE or BE) means UTF-8, since markup whose
/// declaration could be read as ASCII is not UTF-16; `x-user-defined` means windows-1252;
/// `replacement` (the label of ISO-2022-KR, HZ-GB-2312, ISO-2022-CN and their aliases,
/// encodings browsers refuse) would give one U+FFFD for the whole page, so it is read as
/// UTF-8, with a warning.
fn decode_declared(bytes: &[u8], label: &str) -> (String, Option<String>) {
    use encoding_rs::{REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};
    let as_utf8 = |why: String| {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let warning = format!("{why}; read as UTF-8, invalid bytes replaced with U+FFFD");
        (text, Some(warning))
    };
    let encoding = match encoding_rs::Encoding::for_label(label.as_bytes()) {
        None => return as_utf8(format!("unknown charset `{label}`")),
        Some(e) if e == UTF_16LE || e == UTF_16BE => {
            return as_utf8(format!(
                "charset `{label}` declared in the page itself means UTF-8 (WHATWG encoding \
                 rules)"
            ));
        }
        Some(e) if e == REPLACEMENT => {
            return as_utf8(format!(
                "charset `{label}` is an encoding browsers refuse to decode (WHATWG \
                 `replacement`)"
            ));
        }
        Some(e) if e == UTF_8 => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            return (text, Some("invalid UTF-8 replaced with U+FFFD".into()));
        }
        Some(e) if e == X_USER_DEFINED => WINDOWS_1252,
        Some(e) => e,
    };
    let (text, errors) = encoding.decode_without_bom_handling(bytes);
    let warning = errors.then(|| format!("invalid {} replaced with U+FFFD", encoding.name()));
    (text.into_owned(), warning)
}

/// The charset named by a `<meta charset>` or `<meta http-equiv content="…; charset=…">` in
/// the first 4 KiB, as HTML's prescan looks for it.
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(found) = find(&lower[from..], b"<meta") {
        let start = from + found;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |p| start + p);
        let tag = &lower[start..end];
        if let Some(at) = find(tag, b"charset") {
            let rest = &tag[at + b"charset".len()..];
            let rest = rest.trim_ascii_start();
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = rest.trim_ascii_start();
                let rest = rest
                    .strip_prefix(b"\"")
                    .or_else(|| rest.strip_prefix(b"'"))
                    .unwrap_or(rest);
                let value: Vec<u8> = rest
                    .iter()
                    .copied()
                    .take_while(|b| {
                        !matches!(b, b'"' | b'\'' | b';' | b'/' | b'>') && !b.is_ascii_whitespace()
                    })
                    .collect();
                if !value.is_empty() {
                    return Some(String::from_utf8_lossy(&value).into_owned());
                }
            }
        }
        from = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr",
];
/// Elements the parser closes implicitly (`<p>`, `<li>`…): they never nest deeply, and long
/// runs of them without end tags are common.
const SELF_CLOSING_SIBLINGS: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "rb",
    "rt", "rtc", "rp", "colgroup", "caption", "html", "head", "body",
];
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
];

/// What [`cap_markup`] removed from a page.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Capped {
    /// Start and end tags dropped for nesting too deep.
    pub tags: usize,
    /// Attributes dropped past the limit of their element.
    pub attributes: usize,
}

/// Drops start tags that would nest elements deeper than `max_depth` (and as many end tags
/// after them), and the attributes of a start tag past its first `max_attributes`, keeping
/// all text. Returns the page and what was dropped.
pub(crate) fn cap_markup(
    html: &str,
    max_depth: usize,
    max_attributes: usize,
) -> (Cow<'_, str>, Capped) {
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut capped = Capped::default();
    // Attributes already given to `html` and `body`: their repeated tags add to one element.
    let (mut html_attributes, mut body_attributes) = (0, 0);
    let mut depth = 0usize;
    let mut dropped_open = 0usize;
    let mut foreign = 0usize;
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + offset;
        let rest = &bytes[start..];
        if rest.starts_with(b"<!--") {
            i = find(&rest[4..], b"-->").map_or(bytes.len(), |p| start + 4 + p + 3);
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            i = rest
                .iter()
                .position(|&b| b == b'>')
                .map_or(bytes.len(), |p| start + p + 1);
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            i = start + 1;
            continue;
        }
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        let end = tag_end(bytes, name_start + name_len);
        let self_closing = end >= 2 && bytes[end - 2] == b'/';
        let mut drop = false;
        if closing {
            if name == "svg" || name == "math" {
                foreign = foreign.saturating_sub(1);
            }
            if counts(&name) {
                if dropped_open > 0 {
                    dropped_open -= 1;
                    drop = true;
                } else {
                    depth = depth.saturating_sub(1);
                }
            }
        } else if counts(&name) && !(self_closing && foreign > 0) {
            if depth >= max_depth {
                dropped_open += 1;
                drop = true;
            } else {
                depth += 1;
                if name == "svg" || name == "math" {
                    foreign += 1;
                }
            }
        }
        if drop {
            out.push_str(&html[copied..start]);
            copied = end;
            capped.tags += 1;
        } else {
            // End tags count too: the tokenizer reads their attributes before it drops them.
            let given = match name.as_str() {
                _ if closing => None,
                "html" => Some(&mut html_attributes),
                "body" => Some(&mut body_attributes),
                _ => None,
            };
            let budget = max_attributes - given.as_ref().map_or(0, |n| **n);
            let close = tag_close(bytes, end);
            let (cut, total) = attribute_cut(bytes, name_start + name_len, close, budget);
            if let Some(cut) = cut {
                out.push_str(&html[copied..cut]);
                copied = close;
                capped.attributes += total - budget;
            }
            if let Some(given) = given {
                *given += total.min(budget);
            }
        }
        i = end;
        if !closing && RAW_TEXT.contains(&name.as_str()) && !self_closing {
            // Skip to the matching end tag: its content is text, not markup.
            i = find_end_tag(bytes, i, name.as_bytes());
        }
    }
    if capped == Capped::default() {
        return (Cow::Borrowed(html), capped);
    }
    out.push_str(&html[copied..]);
    (Cow::Owned(out), capped)
}

/// Where a tag ending at `end` (the byte after its `>`) closes: its `>` or `/>`.
fn tag_close(bytes: &[u8], end: usize) -> usize {
    if end == 0 || bytes[end - 1] != b'>' {
        return end;
    }
    if end >= 2 && bytes[end - 2] == b'/' {
        end - 2
    } else {
        end - 1
    }
}

/// Counts the attributes of a start tag between the end of its name and `close`, as the
/// HTML tokenizer separates them, and says where the one after the first `keep` starts.
fn attribute_cut(bytes: &[u8], from: usize, close: usize, keep: usize) -> (Option<usize>, usize) {
    let space = |b: u8| b.is_ascii_whitespace() || b == b'/';
    let (mut i, mut total, mut cut) = (from, 0, None);
    loop {
        while i < close && space(bytes[i]) {
            i += 1;
        }
        if i >= close {
            return (cut, total);
        }
        if total == keep {
            cut.get_or_insert(i);
        }
        total += 1;
        // The name (a leading `=` belongs to it), then an optional `= value`.
        i += 1;
        while i < close && !space(bytes[i]) && bytes[i] != b'=' {
            i += 1;
        }
        let mut j = i;
        while j < close && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < close && bytes[j] == b'=' {
            j += 1;
            while j < close && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            i = match bytes.get(j) {
                Some(&quote) if j < close && (quote == b'"' || quote == b'\'') => bytes
                    [j + 1..close]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(close, |p| j + 1 + p + 1),
                _ => {
                    let mut k = j;
                    while k < close && !bytes[k].is_ascii_whitespace() {
                        k += 1;
                    }
                    k
                }
            };
        }
    }
}

/// Where `</name` next starts (ASCII case-insensitively), or the end.
fn find_end_tag(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(p) = find(&bytes[i..], b"</") {
        let at = i + p;
        let candidate = &bytes[at + 2..];
        if candidate.len() >= name.len() && candidate[..name.len()].eq_ignore_ascii_case(name) {
            return at;
        }
        i = at + 2;
    }
    bytes.len()
}

fn counts(name: &str) -> bool {
    !VOID.contains(&name) && !SELF_CLOSING_SIBLINGS.contains(&name)
}

/// The byte after a tag's `>`, skipping quoted attribute values.
fn tag_end(bytes: &[u8], mut i: usize) -> usize {
    let mut quote = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return i + 1,
            None => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Nodes (with their subtrees) inside a range: from the first match of `start` to the first
/// match of `end`, in document order.
fn range_nodes(
    document: &Html,
    start: &Selector,
    start_before: bool,
    end: &Selector,
    end_before: bool,
) -> HashSet<NodeId> {
    let mut inside = HashSet::new();
    let (Some(start), Some(end)) = (
        document.select(start).next().map(|e| e.id()),
        document.select(end).next().map(|e| e.id()),
    ) else {
        return inside;
    };
    let mut open = false;
    for edge in document.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if node.id() == end && end_before {
                    break;
                }
                if node.id() == start && start_before {
                    open = true;
                }
                if open {
                    inside.insert(node.id());
                }
            }
            Edge::Close(node) => {
                if node.id() == end && !end_before {
                    break;
                }
                if node.id() == start && !start_before {
                    open = true;
                }
            }
        }
    }
    inside
}

fn with_rule(document: &Html, rule: &Rule) -> String {
    let mut removed = HashSet::new();
    for target in &rule.remove {
        match target {
            Target::Css(selector) => removed.extend(document.select(selector).map(|e| e.id())),
            Target::Range {
                start,
                start_before,
                end,
                end_before,
            } => removed.extend(range_nodes(
                document,
                start,
                *start_before,
                end,
                *end_before,
            )),
        }
    }
    let mut writer = Writer::default();
    for target in &rule.select {
        match target {
            Target::Css(selector) => {
                for element in document.select(selector) {
                    writer.render(*element, &removed, None);
                }
            }
            Target::Range {
                start,
                start_before,
                end,
                end_before,
            } => {
                let only = range_nodes(document, start, *start_before, end, *end_before);
                writer.render(document.tree.root(), &removed, Some(&only));
            }
        }
    }
    writer.finish()
}

/// Without a declaration: `main`, else `article`, else `[role=main]`, else the element
/// holding the most paragraph text, else `body`.
fn fallback(document: &Html) -> String {
    let none = HashSet::new();
    for css in ["main", "article", "[role=main]"] {
        let selector = Selector::parse(css).expect("valid fallback selector");
        if let Some(element) = document.select(&selector).next() {
            let mut writer = Writer::default();
            writer.render(*element, &none, None);
            let text = writer.finish();
            if !text.is_empty() {
                return text;
            }
        }
    }
    let root = largest_block(document).unwrap_or_else(|| document.tree.root());
    let mut writer = Writer::default();
    writer.render(root, &none, None);
    writer.finish()
}

/// The element whose paragraphs hold the most text: each paragraph-like element gives its
/// text length to its parent, and half of it to its grandparent.
fn largest_block(document: &Html) -> Option<NodeRef<'_, Node>> {
    let mut scores: std::collections::HashMap<NodeId, usize> = std::collections::HashMap::new();
    let paragraphs = Selector::parse("p, pre, li, td, blockquote").expect("valid selector");
    for paragraph in document.select(&paragraphs) {
        if skipped(paragraph.value())
            || paragraph
                .ancestors()
                .any(|a| a.value().as_element().is_some_and(skipped))
        {
            continue;
        }
        let length: usize = paragraph.text().map(|t| t.trim().len()).sum();
        if let Some(parent) = paragraph.parent() {
            *scores.entry(parent.id()).or_default() += 2 * length;
            if let Some(grandparent) = parent.parent() {
                *scores.entry(grandparent.id()).or_default() += length;
            }
        }
    }
    let (best, _) = scores
        .into_iter()
        .filter(|(_, score)| *score > 0)
        .max_by_key(|(id, score)| (*score, std::cmp::Reverse(*id)))?;
    document.tree.get(best)
}

fn skipped(element: &scraper::node::Element) -> bool {
    matches!(
        element.name(),
        "script" | "style" | "noscript" | "template" | "head" | "svg" | "iframe" | "object"
    ) || element.attr("hidden").is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Paragraph,
    /// A list item of the n-th outermost list: items of one list are on consecutive lines.
    Item(u32),
    /// A row of the n-th outermost table.
    Row(u32),
}

#[derive(Debug)]
struct Item {
    marker: String,
    flushed: bool,
}

#[derive(Debug)]
struct List {
    ordered: bool,
    next: u32,
}

/// Builds Markdown-like text from document traversal events.
#[derive(Debug, Default)]
struct Writer {
    blocks: Vec<(BlockKind, String)>,
    inline: String,
    pending_space: bool,
    lists: Vec<List>,
    items: Vec<Item>,
    heading: Option<usize>,
    quote: usize,
    pre: usize,
    /// Rows written per open table.
    tables: Vec<usize>,
    row: Option<Vec<String>>,
    cell: usize,
    /// Where the open `<strong>` started in `inline`, when one is open.
    bold: Option<usize>,
    bold_depth: usize,
    /// Outermost lists and tables opened so far.
    groups: u32,
}

impl Writer {
    /// Writes the subtree of `root`, leaving out `removed` nodes and, when `only` is given,
    /// the text of nodes not in it.
    fn render(
        &mut self,
        root: NodeRef<'_, Node>,
        removed: &HashSet<NodeId>,
        only: Option<&HashSet<NodeId>>,
    ) {
        let mut skip: Option<NodeId> = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skip.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Text(text) if only.is_none_or(|o| o.contains(&node.id())) => {
                            self.text(text);
                        }
                        Node::Element(element) => {
                            if removed.contains(&node.id()) || skipped(element) {
                                skip = Some(node.id());
                                continue;
                            }
                            self.open(element.name());
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if let Some(id) = skip {
                        if id == node.id() {
                            skip = None;
                        }
                        continue;
                    }
                    if let Node::Element(element) = node.value() {
                        self.close(element.name());
                    }
                }
            }
        }
        self.flush();
        self.reset();
    }

    fn reset(&mut self) {
        self.lists.clear();
        self.items.clear();
        self.heading = None;
        self.quote = 0;
        self.pre = 0;
        self.tables.clear();
        self.row = None;
        self.cell = 0;
        self.bold = None;
        self.bold_depth = 0;
    }

    fn text(&mut self, text: &str) {
        if self.pre > 0 && self.cell == 0 && self.heading.is_none() {
            self.inline.push_str(text);
            return;
        }
        for (n, word) in text.split(char::is_whitespace).enumerate() {
            if n > 0 {
                self.pending_space = true;
            }
            if word.is_empty() {
                continue;
            }
            if self.pending_space && !self.inline.is_empty() && !self.inline.ends_with([' ', '\n'])
            {
                self.inline.push(' ');
            }
            self.pending_space = false;
            self.inline.push_str(word);
        }
    }

    fn open(&mut self, name: &str) {
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                if self.cell == 0 && self.heading.is_none() {
                    self.heading = Some(usize::from(name.as_bytes()[1] - b'0'));
                }
            }
            "ul" | "ol" | "menu" => {
                self.flush();
                if self.lists.is_empty() {
                    self.groups += 1;
                }
                self.lists.push(List {
                    ordered: name == "ol",
                    next: 1,
                });
            }
            "li" => {
                self.flush();
                let marker = match self.lists.last_mut() {
                    Some(list) if list.ordered => {
                        list.next += 1;
                        format!("{}. ", list.next - 1)
                    }
                    _ => "- ".to_owned(),
                };
                self.items.push(Item {
                    marker,
                    flushed: false,
                });
            }
            "table" => {
                self.flush();
                if self.tables.is_empty() {
                    self.groups += 1;
                }
                self.tables.push(0);
            }
            "tr" => {
                self.flush();
                if self.cell == 0 {
                    self.row = Some(Vec::new());
                }
            }
            "td" | "th" => {
                if self.row.is_some() && self.cell == 0 {
                    self.flush();
                }
                self.cell += 1;
                self.space();
            }
            "pre" => {
                self.flush();
                self.pre += 1;
            }
            "blockquote" => {
                self.flush();
                self.quote += 1;
            }
            "br" if self.pre > 0 && self.cell == 0 && self.heading.is_none() => {
                self.inline.push('\n');
            }
            "br" => {
                if self.cell > 0 || self.heading.is_some() {
                    self.space();
                } else {
                    self.inline.push('\n');
                    self.pending_space = false;
                }
            }
            "strong" | "b" => {
                self.bold_depth += 1;
                if self.bold_depth == 1 && self.heading.is_none() && self.pre == 0 {
                    if self.pending_space && !self.inline.is_empty() {
                        self.inline.push(' ');
                        self.pending_space = false;
                    }
                    self.bold = Some(self.inline.len());
                }
            }
            _ if is_block(name) => self.flush(),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                self.heading = None;
            }
            "ul" | "ol" | "menu" => {
                self.flush();
                self.lists.pop();
            }
            "li" => {
                self.flush();
                self.items.pop();
            }
            "td" | "th" => {
                self.cell = self.cell.saturating_sub(1);
                if self.cell == 0
                    && let Some(row) = &mut self.row
                {
                    let text = std::mem::take(&mut self.inline);
                    self.pending_space = false;
                    row.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
                } else {
                    self.space();
                }
            }
            "tr" => {
                if self.cell > 0 {
                    self.space();
                    return;
                }
                self.flush();
                if let Some(cells) = self.row.take()
                    && cells.iter().any(|c| !c.is_empty())
                {
                    let line = format!("| {} |", cells.join(" | "));
                    let rows = self.tables.last_mut();
                    let first = rows.as_ref().is_some_and(|r| **r == 0);
                    if let Some(rows) = rows {
                        *rows += 1;
                    }
                    let columns = cells.len();
                    self.blocks.push((BlockKind::Row(self.groups), line));
                    if first {
                        let rule = format!("|{}", " --- |".repeat(columns));
                        self.blocks.push((BlockKind::Row(self.groups), rule));
                    }
                }
            }
            "table" => {
                self.flush();
                self.tables.pop();
            }
            "pre" => {
                self.flush();
                self.pre = self.pre.saturating_sub(1);
            }
            "blockquote" => {
                self.flush();
                self.quote = self.quote.saturating_sub(1);
            }
            "strong" | "b" => {
                self.bold_depth = self.bold_depth.saturating_sub(1);
                if self.bold_depth == 0
                    && let Some(start) = self.bold.take()
                    && start <= self.inline.len()
                {
                    let segment = &self.inline[start..];
                    let inner = segment.trim();
                    if !inner.is_empty() && !inner.contains('\n') {
                        let lead = &segment[..segment.len() - segment.trim_start().len()];
                        let wrapped = format!("{lead}**{inner}**");
                        self.inline.truncate(start);
                        self.inline.push_str(&wrapped);
                    }
                }
            }
            _ if is_block(name) => self.flush(),
            _ => {}
        }
    }

    fn space(&mut self) {
        if !self.inline.is_empty() && !self.inline.ends_with(' ') {
            self.pending_space = true;
        }
    }

    /// Ends the current block of inline text.
    fn flush(&mut self) {
        self.bold = None;
        if self.cell > 0 {
            self.space();
            return;
        }
        let inline = std::mem::take(&mut self.inline);
        self.pending_space = false;
        if self.pre > 0 && self.heading.is_none() {
            let text = inline.trim_matches('\n').trim_end();
            if !text.is_empty() {
                let longest = longest_run(text, '`');
                let fence = "`".repeat(longest.max(2) + 1);
                self.push_block(BlockKind::Paragraph, format!("{fence}\n{text}\n{fence}"));
            }
            return;
        }
        let lines: Vec<&str> = inline
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        if let Some(level) = self.heading {
            let text = lines.join(" ");
            self.push_block(
                BlockKind::Paragraph,
                format!("{} {}", "#".repeat(level), text),
            );
            return;
        }
        let escaped: Vec<Cow<'_, str>> = lines.iter().map(|l| escape_line(l)).collect();
        if let Some(item) = self.items.last() {
            let outer: usize = self.items[..self.items.len() - 1]
                .iter()
                .map(|i| i.marker.len())
                .sum();
            let indent = " ".repeat(outer);
            let continuation = " ".repeat(outer + item.marker.len());
            let first = !item.flushed;
            let mut text = String::new();
            for (n, line) in escaped.iter().enumerate() {
                if n > 0 {
                    text.push('\n');
                }
                if n == 0 && first {
                    text.push_str(&indent);
                    text.push_str(&item.marker);
                } else {
                    text.push_str(&continuation);
                }
                text.push_str(line);
            }
            if let Some(item) = self.items.last_mut() {
                item.flushed = true;
            }
            self.push_block(
                if first {
                    BlockKind::Item(self.groups)
                } else {
                    BlockKind::Paragraph
                },
                text,
            );
            return;
        }
        self.push_block(BlockKind::Paragraph, escaped.join("\n"));
    }

    fn push_block(&mut self, kind: BlockKind, text: String) {
        let text = if self.quote > 0 {
            text.lines()
                .map(|l| format!("{} {l}", ">".repeat(self.quote)))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            text
        };
        self.blocks.push((kind, text));
    }

    fn finish(mut self) -> String {
        self.flush();
        let mut out = String::new();
        let mut previous: Option<BlockKind> = None;
        for (kind, text) in &self.blocks {
            if let Some(previous) = previous {
                let tight = previous == *kind && *kind != BlockKind::Paragraph;
                out.push_str(if tight { "\n" } else { "\n\n" });
            }
            out.push_str(text);
            previous = Some(*kind);
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }
}

fn longest_run(text: &str, c: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for ch in text.chars() {
        if ch == c {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// A line of text that would read as Markdown structure gets a backslash: `#` at its start
/// (a heading) or only `=`/`-` (a setext underline).
fn escape_line(line: &str) -> Cow<'_, str> {
    if line.starts_with('#') || line.chars().all(|c| c == '=' || c == '-') {
        Cow::Owned(format!("\\{line}"))
    } else {
        Cow::Borrowed(line)
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "body"
            | "caption"
            | "dd"
            | "details"
            | "dialog"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "legend"
            | "main"
            | "nav"
            | "p"
            | "section"
            | "summary"
            | "tbody"
            | "thead"
            | "tfoot"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declarations::Declarations;

    fn rule_lookup(json: &str) -> (tempfile::TempDir, Declarations) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Acme.json"),
            format!(r#"{{"name": "Acme", "terms": {{"Terms of Service": {json}}}}}"#),
        )
        .unwrap();
        let (declarations, warnings) = Declarations::load(dir.path()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        (dir, declarations)
    }

    fn with(json: &str, html: &str) -> Extracted {
        let (_dir, declarations) = rule_lookup(json);
        let at = palimpsest_schema::Timestamp::parse("2025-01-01").unwrap();
        extract(
            html.as_bytes(),
            declarations.rule("Acme", "Terms of Service", at),
        )
    }

    fn without(html: &str) -> Extracted {
        extract(html.as_bytes(), Lookup::Undeclared)
    }

    const PAGE: &str = r#"<!doctype html><html><head><title>Acme</title>
        <style>body { color: red }</style><script>var token = "abc123";</script></head>
        <body><nav><a href="/">Home</a> <a href="/blog">Blog</a></nav>
        <div id="terms"><h1>Terms of   Service</h1>
          <p>Welcome to <a href="https://acme.test">Acme</a>.
             Read   carefully.</p>
          <div class="ad">Buy now!</div>
          <h2>Accounts</h2>
          <ul><li>One account per person.</li>
              <li>Keep it safe:<ul><li>strong password</li><li>two factors</li></ul></li></ul>
          <ol><li>First</li><li>Second</li></ol>
          <table><tr><th>Data</th><th>Kept</th></tr><tr><td>Logs</td><td>30 days</td></tr></table>
          <p><strong>Liability</strong></p>
          <noscript>Enable JavaScript</noscript><template><p>hidden template</p></template>
          <p hidden>hidden paragraph</p>
        </div>
        <div id="privacy"><h1>Privacy</h1><p>We keep little.</p></div>
        <footer>© Acme</footer></body></html>"#;

    #[test]
    fn select_and_remove_give_markdown_like_text() {
        let out = with(
            r##"{"fetch": "x", "select": "#terms", "remove": ".ad"}"##,
            PAGE,
        );
        assert!(!out.without_rules);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            out.text,
            "# Terms of Service\n\n\
             Welcome to Acme. Read carefully.\n\n\
             ## Accounts\n\n\
             - One account per person.\n\
             - Keep it safe:\n  \
               - strong password\n  \
               - two factors\n\n\
             1. First\n\
             2. Second\n\n\
             | Data | Kept |\n\
             | --- | --- |\n\
             | Logs | 30 days |\n\n\
             **Liability**\n"
        );
    }

    #[test]
    fn select_arrays_keep_selector_order_and_ranges_take_what_lies_between() {
        let out = with(r##"{"fetch": "x", "select": ["#privacy", "h2"]}"##, PAGE);
        assert_eq!(out.text, "# Privacy\n\nWe keep little.\n\n## Accounts\n");
        let out = with(
            r##"{"fetch": "x", "select": {"startAfter": "h2", "endBefore": "ol"}, "remove": ["ul ul"]}"##,
            PAGE,
        );
        assert_eq!(out.text, "- One account per person.\n- Keep it safe:\n");
        let out = with(
            r##"{"fetch": "x", "select": "#terms", "remove": {"startBefore": "h2", "endAfter": "table"}}"##,
            PAGE,
        );
        assert!(
            out.text.starts_with("# Terms of Service\n\nWelcome"),
            "{}",
            out.text
        );
        assert!(
            !out.text.contains("Accounts") && !out.text.contains("Logs"),
            "{}",
            out.text
        );
        assert!(out.text.ends_with("**Liability**\n"), "{}", out.text);
    }

    #[test]
    fn a_select_matching_nothing_is_reported() {
        let out = with(r##"{"fetch": "x", "select": "#missing"}"##, PAGE);
        assert!(out.nothing_selected);
        assert!(out.text.is_empty());
    }

    #[test]
    fn fallback_order_main_article_role_main_then_largest_block() {
        let page = |body: &str| format!("<html><body><p>Cookie banner</p>{body}</body></html>");
        let main = without(&page(
            "<article>Article</article><main><p>Main text</p></main><div role=main>Role</div>",
        ));
        assert!(main.without_rules);
        assert_eq!(main.text, "Main text\n");
        let article = without(&page(
            "<div role=main>Role</div><article><p>Article</p></article>",
        ));
        assert_eq!(article.text, "Article\n");
        let role = without(&page("<div role=\"main\"><p>Role text</p></div>"));
        assert_eq!(role.text, "Role text\n");
        let largest = without(&page(
            "<div id=side><p>Short.</p></div>\
             <div id=body><h2>Terms</h2><p>A long paragraph of real terms text.</p>\
             <p>Another paragraph of terms.</p></div>",
        ));
        assert_eq!(
            largest.text,
            "## Terms\n\nA long paragraph of real terms text.\n\nAnother paragraph of terms.\n"
        );
        let bare = without("just text, no markup");
        assert_eq!(bare.text, "just text, no markup\n");
    }

    #[test]
    fn invalid_rule_falls_back() {
        let out = extract(PAGE.as_bytes(), Lookup::Invalid);
        assert!(out.without_rules);
        assert!(out.text.contains("Terms of Service"));
    }

    #[test]
    fn scripts_styles_and_unclosed_tags_do_not_leak_or_break() {
        let out = without(
            "<main><p>One<p>Two <b>bold<i> and italic</main>\
             <script>document.write('<p>injected</p>')</script><style>p{}</style>",
        );
        assert_eq!(out.text, "One\n\nTwo **bold and italic**\n");
        let out = without("<main><ul><li>a<li>b</ul><table><tr><td>x<td>y</table><h2>Open");
        assert_eq!(
            out.text,
            "- a\n- b\n\n| x | y |\n| --- | --- |\n\n## Open\n"
        );
    }

    #[test]
    fn lines_that_would_read_as_markdown_structure_are_escaped() {
        let out = without("<main><p>#1 rule</p><p>Title<br>---</p></main>");
        assert_eq!(out.text, "\\#1 rule\n\nTitle\n\\---\n");
    }

    #[test]
    fn deep_nesting_is_flattened_with_a_warning() {
        let depth = 20_000;
        let html = format!(
            "<html><body><main>{}<p>deep text</p>{}</main><p>after</p></body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let (capped, dropped) = cap_markup(&html, MAX_DEPTH, MAX_ATTRIBUTES);
        let dropped = dropped.tags;
        assert!(dropped >= 2 * (depth - MAX_DEPTH), "{dropped}");
        assert!(capped.len() < html.len());
        let out = without(&html);
        assert_eq!(out.text, "deep text\n");
        assert!(
            out.warnings[0].contains("nested deeper than 512"),
            "{:?}",
            out.warnings
        );
        // Unclosed, too.
        let unclosed = format!("<main>{}text", "<span><div>".repeat(10_000));
        assert_eq!(without(&unclosed).text, "text\n");
        // Long runs of implicitly closed elements are not nesting.
        let items = format!("<ul>{}</ul>", "<li>item".repeat(2_000));
        let (_, dropped) = cap_markup(&items, MAX_DEPTH, MAX_ATTRIBUTES);
        assert_eq!(dropped, Capped::default());
    }

    #[test]
    fn depth_scan_skips_comments_scripts_and_quoted_brackets() {
        let html = format!(
            "<!-- <div><div> --><script>{}</script><div title='a>b'><p>x</p></div>",
            "<div>".repeat(1000)
        );
        assert_eq!(cap_markup(&html, 2, MAX_ATTRIBUTES).1, Capped::default());
    }

    #[test]
    fn invalid_utf8_and_declared_charsets() {
        let out = without("<main><p>caf\u{e9} ok</p></main>");
        assert_eq!(out.text, "café ok\n");
        assert!(out.warnings.is_empty());
        let mut latin = b"<html><head><meta charset=\"windows-1252\"></head><main><p>caf".to_vec();
        latin.extend_from_slice(b"\xe9 \x93quoted\x94</p></main>");
        let out = extract(&latin, Lookup::Undeclared);
        assert_eq!(out.text, "café “quoted”\n");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let mut iso =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\"><main>na"
                .to_vec();
        iso.extend_from_slice(b"\xefve</main>");
        assert_eq!(extract(&iso, Lookup::Undeclared).text, "naïve\n");
        let out = extract(b"<main>bad \xff\xfe bytes</main>", Lookup::Undeclared);
        assert_eq!(out.text, "bad \u{fffd}\u{fffd} bytes\n");
        assert!(
            out.warnings[0].contains("invalid UTF-8"),
            "{:?}",
            out.warnings
        );
        let out = extract(
            b"<meta charset=klingon><main>x\xff</main>",
            Lookup::Undeclared,
        );
        assert!(
            out.warnings[0].contains("unknown charset `klingon`"),
            "{:?}",
            out.warnings
        );
        // A page stored as UTF-8 that still declares its original charset is read as UTF-8.
        let out = without("<meta charset=iso-8859-1><main>café</main>");
        assert_eq!(out.text, "café\n");
    }

    #[test]
    fn a_page_declaring_utf16_or_a_replacement_charset_is_read_as_utf8() {
        // Bytes that are not UTF-8 (a Latin-1 é) under a declaration they cannot match: the
        // markup was once decoded as UTF-16LE garbage, or as one U+FFFD for the whole page.
        for label in ["utf-16", "UTF-16LE", "utf-16be", "unicodefffe", "ucs-2"] {
            let mut page = format!("<meta charset=\"{label}\"><main><p>caf").into_bytes();
            page.extend_from_slice(b"\xe9 ok</p></main>");
            let out = extract(&page, Lookup::Undeclared);
            assert_eq!(out.text, "caf\u{fffd} ok\n", "{label}");
            assert!(
                out.warnings[0].contains(&format!("charset `{}`", label.to_ascii_lowercase()))
                    && out.warnings[0].contains("means UTF-8"),
                "{label}: {:?}",
                out.warnings
            );
        }
        for label in [
            "replacement",
            "csiso2022kr",
            "hz-gb-2312",
            "iso-2022-cn",
            "iso-2022-cn-ext",
            "iso-2022-kr",
        ] {
            let mut page = format!("<meta charset={label}><main><p>kept text ").into_bytes();
            page.extend_from_slice(b"\xff</p></main>");
            let out = extract(&page, Lookup::Undeclared);
            assert_eq!(out.text, "kept text \u{fffd}\n", "{label}");
            assert!(
                out.warnings[0].contains("browsers refuse to decode"),
                "{label}: {:?}",
                out.warnings
            );
        }
        // `x-user-defined` means windows-1252 in a page's declaration.
        let out = extract(
            b"<meta charset=x-user-defined><main>caf\xe9</main>",
            Lookup::Undeclared,
        );
        assert_eq!(out.text, "caf\u{e9}\n");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    /// `<p a0 a1 …>` with `n` attributes named from `first`.
    fn many_attributes(tag: &str, first: usize, n: usize) -> String {
        let names: String = (first..first + n).map(|i| format!(" a{i}")).collect();
        format!("<{tag}{names}>")
    }

    #[test]
    fn attributes_past_the_cap_are_dropped_before_parsing_with_a_warning() {
        // 200,000 attributes on one element took 15 s to parse: html5ever compares each one
        // with all the earlier ones.
        let html = format!(
            "<main>{}text</p><p>after</p></main>",
            many_attributes("p", 0, 200_000)
        );
        let out = without(&html);
        assert_eq!(out.text, "text\n\nafter\n");
        assert_eq!(
            out.warnings,
            ["elements with more than 100 attributes: 199900 attributes ignored"]
        );
        let (capped, dropped) = cap_markup(&html, MAX_DEPTH, 100);
        assert_eq!(dropped.attributes, 199_900);
        let kept = many_attributes("p", 0, 100).replace('>', " >");
        assert!(
            capped.starts_with(&format!("<main>{kept}text</p>")),
            "{capped:.2000}"
        );
        // The first attributes are the ones kept: `hidden` first hides the element, past the
        // cap it is dropped.
        let others = &many_attributes("p", 0, 300)[2..];
        let first = format!("<main><p hidden {others}secret</p><p>shown</p></main>");
        assert_eq!(without(&first).text, "shown\n");
        let last = format!(
            "<main><p {} hidden>late</p></main>",
            &others[..others.len() - 1]
        );
        assert_eq!(without(&last).text, "late\n");
    }

    #[test]
    fn attribute_cap_reads_values_and_closes_tags_as_the_tokenizer_does() {
        let tag = "<p a=\"x y > z\" b='q r' c=d/e f g=\"\"/>text";
        let (capped, dropped) = cap_markup(tag, MAX_DEPTH, 3);
        assert_eq!(capped, "<p a=\"x y > z\" b='q r' c=d/e />text");
        assert_eq!(dropped.attributes, 2);
        assert_eq!(cap_markup(tag, MAX_DEPTH, 5).1, Capped::default());
        // End tags' attributes are read (and dropped) by the tokenizer: capped too.
        let end = format!("<p>x{}", many_attributes("/p", 0, 150));
        assert_eq!(cap_markup(&end, MAX_DEPTH, 100).1.attributes, 50);
        // Repeated `body` tags add their attributes to one element: capped over all of them.
        let bodies: String = (0..1_000).map(|i| many_attributes("body", i, 1)).collect();
        assert_eq!(cap_markup(&bodies, MAX_DEPTH, 100).1.attributes, 900);
        let paragraphs: String = (0..1_000).map(|i| many_attributes("p", i, 1)).collect();
        assert_eq!(cap_markup(&paragraphs, MAX_DEPTH, 100).1, Capped::default());
    }

    #[test]
    fn pre_keeps_its_lines() {
        let out = without("<main><pre>line 1\n  line 2</pre></main>");
        assert_eq!(out.text, "```\nline 1\n  line 2\n```\n");
    }
}
