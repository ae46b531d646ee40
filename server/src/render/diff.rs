//! A word diff rendered as the reader sees it. Each side's Markdown is parsed on its own,
//! so neither shows its syntax: the diff's parts only say which bytes of each side were
//! deleted, inserted or kept, and the visible text of each side is cut where they say.
//! Kept text is shown in the later side's elements, deleted text in the earlier side's,
//! placed in the later side's element that its kept neighbours map to (so a deleted word
//! stays in its paragraph, list item or link). A link whose words are kept but whose
//! address changed is one link marked as changed (`class="changed-link"`, the earlier
//! address in `data-before-href`), not its words deleted and inserted.

use std::collections::HashMap;
use std::ops::Range;

use palimpsest_search::{DiffOp, DiffPart};
use pulldown_cmark::{Event, Parser, Tag};

use super::{Mark, Writer, escape_char, join_link_cards, parser_options};

/// The HTML of a word diff ([`super::change`]).
pub(super) fn rendered(parts: &[DiffPart]) -> String {
    let (before, after) = (
        Side::of(parts, DiffOp::Delete),
        Side::of(parts, DiffOp::Insert),
    );
    let (old, new) = (Flat::of(&before), Flat::of(&after));
    let spans = PartSpan::all(parts);
    let mut merge = Merge::new(&old, &new, &spans);
    for span in &spans {
        merge.part(span);
    }
    merge.finish()
}

/// Where a part of the diff lies in each side's text.
struct PartSpan {
    op: DiffOp,
    before: Range<usize>,
    after: Range<usize>,
}

impl PartSpan {
    fn all(parts: &[DiffPart]) -> Vec<PartSpan> {
        let (mut b, mut a) = (0, 0);
        parts
            .iter()
            .map(|part| {
                let len = part.text.len();
                let (db, da) = match part.op {
                    DiffOp::Equal => (len, len),
                    DiffOp::Delete => (len, 0),
                    DiffOp::Insert => (0, len),
                };
                let span = PartSpan {
                    op: part.op,
                    before: b..b + db,
                    after: a..a + da,
                };
                (b, a) = (b + db, a + da);
                span
            })
            .collect()
    }
}

/// One side of a diff: its text (the equal parts and the parts of its op) and the byte
/// ranges that op covers.
struct Side {
    text: String,
    changed: Vec<Range<usize>>,
}

impl Side {
    fn of(parts: &[DiffPart], op: DiffOp) -> Side {
        let mut side = Side {
            text: String::new(),
            changed: Vec::new(),
        };
        for part in parts.iter().filter(|p| p.op == DiffOp::Equal || p.op == op) {
            let start = side.text.len();
            side.text.push_str(&part.text);
            if part.op == op {
                side.changed.push(start..side.text.len());
            }
        }
        side
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Which {
    Before,
    After,
}

/// What a piece of visible text is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Text(String),
    Code(String),
    HardBreak,
    Rule,
}

/// One run of visible text, cut where the diff's parts change: its bytes in the source, and
/// the elements it sits in (indexes into [`Flat::nodes`], outermost first).
#[derive(Debug, Clone)]
struct Piece {
    source: Range<usize>,
    content: Content,
    path: Vec<usize>,
    changed: bool,
}

/// A side parsed: its elements, and its visible text in order.
struct Flat {
    nodes: Vec<Tag<'static>>,
    pieces: Vec<Piece>,
}

impl Flat {
    fn of(side: &Side) -> Flat {
        let source = join_link_cards(&side.text);
        let mut flat = Flat {
            nodes: Vec::new(),
            pieces: Vec::new(),
        };
        let mut path: Vec<usize> = Vec::new();
        let mut images = 0usize;
        for (event, range) in Parser::new_ext(&source, parser_options()).into_offset_iter() {
            let content = match event {
                Event::Start(Tag::Image { .. }) => {
                    images += 1;
                    continue;
                }
                Event::End(pulldown_cmark::TagEnd::Image) => {
                    images = images.saturating_sub(1);
                    continue;
                }
                Event::Start(tag) if images == 0 => {
                    path.push(flat.nodes.len());
                    flat.nodes.push(tag.into_static());
                    continue;
                }
                Event::End(_) if images == 0 => {
                    path.pop();
                    continue;
                }
                Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                    Content::Text(text.into_string())
                }
                Event::Code(text) => Content::Code(text.into_string()),
                Event::SoftBreak => Content::Text("\n".to_owned()),
                Event::HardBreak if images == 0 => Content::HardBreak,
                Event::Rule => Content::Rule,
                _ => continue,
            };
            flat.push(&source, range, content, &path, &side.changed);
        }
        flat
    }

    /// Adds a piece, cut at the ends of the changed ranges it crosses when its text is its
    /// source's (not an escape or an entity, which stay whole, changed if any byte is).
    fn push(
        &mut self,
        source: &str,
        range: Range<usize>,
        content: Content,
        path: &[usize],
        changed: &[Range<usize>],
    ) {
        let verbatim =
            matches!(&content, Content::Text(t) if source.get(range.clone()) == Some(t.as_str()));
        let overlaps = |r: &Range<usize>| r.start < range.end && range.start < r.end;
        if !verbatim {
            let piece = Piece {
                changed: changed.iter().any(overlaps),
                source: range,
                content,
                path: path.to_vec(),
            };
            self.pieces.push(piece);
            return;
        }
        let mut cuts: Vec<usize> = changed
            .iter()
            .filter(|r| overlaps(r))
            .flat_map(|r| [r.start, r.end])
            .filter(|&at| at > range.start && at < range.end)
            .collect();
        cuts.push(range.end);
        let mut start = range.start;
        for end in cuts {
            let piece = Piece {
                changed: changed.iter().any(|r| r.start <= start && start < r.end),
                content: Content::Text(source[start..end].to_owned()),
                source: start..end,
                path: path.to_vec(),
            };
            self.pieces.push(piece);
            start = end;
        }
    }

    /// The pieces starting within `range`, in order.
    fn within(&self, range: &Range<usize>) -> &[Piece] {
        let from = self
            .pieces
            .partition_point(|p| p.source.start < range.start);
        let to = self.pieces.partition_point(|p| p.source.start < range.end);
        &self.pieces[from..to]
    }

    /// The piece holding byte `at`.
    fn at(&self, at: usize) -> Option<&Piece> {
        let i = self.pieces.partition_point(|p| p.source.end <= at);
        self.pieces.get(i).filter(|p| p.source.start <= at)
    }
}

/// An element of the merged rendering: one of either side's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct NodeRef {
    side: Which,
    index: usize,
}

/// The merged rendering: the earlier side's elements mapped to the later side's, the
/// elements and the mark open, and the HTML written so far.
struct Merge<'a> {
    old: &'a Flat,
    new: &'a Flat,
    /// Each earlier element holding kept text, and the later one first holding it.
    mapped: HashMap<usize, usize>,
    /// Later links whose words were kept but whose address differs, with the earlier one.
    changed_links: HashMap<usize, String>,
    open: Vec<NodeRef>,
    mark: Option<Mark>,
    writer: Writer,
}

impl<'a> Merge<'a> {
    fn new(old: &'a Flat, new: &'a Flat, spans: &[PartSpan]) -> Merge<'a> {
        let mut merge = Merge {
            old,
            new,
            mapped: HashMap::new(),
            changed_links: HashMap::new(),
            open: Vec::new(),
            mark: None,
            writer: Writer::default(),
        };
        for span in spans.iter().filter(|s| s.op == DiffOp::Equal) {
            for piece in new.within(&span.after).iter().filter(|p| !p.changed) {
                let at = span.before.start + (piece.source.start - span.after.start);
                if let Some(twin) = old.at(at) {
                    merge.map_kept(twin, piece);
                }
            }
        }
        merge
    }

    /// Maps the earlier elements of a kept piece to the later ones, level by level while
    /// their kinds agree, and notes a link whose address changed.
    fn map_kept(&mut self, twin: &Piece, piece: &Piece) {
        for (&b, &a) in twin.path.iter().zip(&piece.path) {
            let kinds = (&self.old.nodes[b], &self.new.nodes[a]);
            if std::mem::discriminant(kinds.0) != std::mem::discriminant(kinds.1) {
                break;
            }
            self.mapped.entry(b).or_insert(a);
        }
        let (old_link, new_link) = (link_of(self.old, twin), link_of(self.new, piece));
        if let Some((a, url)) = new_link
            && old_link.map(|(_, u)| u) != Some(url)
        {
            let before = old_link.map(|(_, u)| u.to_owned()).unwrap_or_default();
            self.changed_links.entry(a).or_insert(before);
        }
    }

    /// Writes the pieces one part of the diff covers: what it deleted, then what it kept or
    /// inserted (an escape or entity cut by a change counts as changed on its side).
    fn part(&mut self, span: &PartSpan) {
        let (old, new) = (self.old, self.new);
        for piece in old.within(&span.before).iter().filter(|p| p.changed) {
            self.piece(Which::Before, piece, Some(Mark::Delete));
        }
        for piece in new.within(&span.after) {
            let mark = piece.changed.then_some(Mark::Insert);
            self.piece(Which::After, piece, mark);
        }
    }

    fn piece(&mut self, side: Which, piece: &Piece, mark: Option<Mark>) {
        let path: Vec<NodeRef> = piece
            .path
            .iter()
            .map(|&index| match (side, self.mapped.get(&index)) {
                (Which::Before, Some(&mapped)) => NodeRef {
                    side: Which::After,
                    index: mapped,
                },
                _ => NodeRef { side, index },
            })
            .collect();
        self.enter(&path);
        if matches!(piece.content, Content::Rule) {
            self.set_mark(None);
            self.writer.out.push_str("<hr>");
            return;
        }
        self.set_mark(mark);
        match &piece.content {
            Content::Text(text) => escape_text(&mut self.writer.out, text),
            Content::Code(text) => {
                self.writer.out.push_str("<code>");
                escape_text(&mut self.writer.out, text);
                self.writer.out.push_str("</code>");
            }
            Content::HardBreak => self.writer.out.push_str("<br>"),
            Content::Rule => {}
        }
    }

    /// Closes the open elements not on `path` and opens those of `path` not open.
    fn enter(&mut self, path: &[NodeRef]) {
        let common = self
            .open
            .iter()
            .zip(path)
            .take_while(|(a, b)| a == b)
            .count();
        if common == self.open.len() && common == path.len() {
            return;
        }
        self.set_mark(None);
        while self.open.len() > common {
            if let Some(node) = self.open.pop() {
                let end = self.tag(node).to_end();
                self.writer.end(end);
            }
        }
        for &node in &path[common..] {
            let tag = self.tag(node).clone();
            match tag {
                Tag::Link { dest_url, .. } => {
                    let was = match node.side {
                        Which::After => self.changed_links.get(&node.index).cloned(),
                        Which::Before => None,
                    };
                    self.writer.open_link(&dest_url, was.as_deref());
                }
                tag => self.writer.start(tag),
            }
            self.open.push(node);
        }
    }

    fn tag(&self, node: NodeRef) -> &'a Tag<'static> {
        match node.side {
            Which::Before => &self.old.nodes[node.index],
            Which::After => &self.new.nodes[node.index],
        }
    }

    fn set_mark(&mut self, mark: Option<Mark>) {
        if self.mark == mark {
            return;
        }
        if let Some(open) = self.mark {
            self.writer.out.push_str(open.tags().1);
        }
        if let Some(new) = mark {
            self.writer.out.push_str(new.tags().0);
        }
        self.mark = mark;
    }

    fn finish(mut self) -> String {
        self.enter(&[]);
        self.set_mark(None);
        self.writer.out
    }
}

/// Escaped text; the characters that stand for marks elsewhere are not marks here.
fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        escape_char(out, if Mark::of(c).is_some() { '\u{FFFD}' } else { c });
    }
}

/// The innermost link a piece sits in: its index and its address.
fn link_of<'f>(flat: &'f Flat, piece: &Piece) -> Option<(usize, &'f str)> {
    piece.path.iter().rev().find_map(|&i| match &flat.nodes[i] {
        Tag::Link { dest_url, .. } => Some((i, dest_url.as_ref())),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use palimpsest_search::word_diff;
    use proptest::prelude::*;

    use super::super::{change, markdown};

    /// The text a reader sees in some HTML: tags left out, entities read.
    fn seen(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// The HTML without the elements named `tag` and what they hold.
    fn without(html: &str, tag: &str) -> String {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut out = html.to_owned();
        while let Some(start) = out.find(&open) {
            let end = out[start..]
                .find(&close)
                .map_or(out.len(), |e| start + e + close.len());
            out.replace_range(start..end, "");
        }
        out
    }

    fn diffed(before: &str, after: &str) -> String {
        change(Some(before), Some(after), Some(&word_diff(before, after)))
    }

    /// Instagram's privacy policy: a new printable version changes the link's address, and
    /// both layouts showed `View printable ~~version~~ version](https://…)`.
    #[test]
    fn a_link_whose_address_changed_is_one_changed_link_without_markdown_syntax() {
        let text = |n: u32| {
            format!(
                "Effective July {n}, 2026 | [View printable version](https://m.example/printable/{n}/) \
                 | [See previous versions](https://example.com/policy/{n}/?show_versions=1)"
            )
        };
        let html = diffed(&text(16), &text(23));
        let read = seen(&html);
        for syntax in ["](", "~~", "**", "[", "https://"] {
            assert!(!read.contains(syntax), "{syntax} in {read}");
        }
        assert_eq!(
            read,
            "Effective July 1623, 2026 | View printable version | See previous versions"
        );
        assert!(html.contains("<del>16</del><ins>23</ins>"), "{html}");
        assert!(
            html.contains(
                "<a href=\"https://m.example/printable/23/\" class=\"changed-link\" \
                 data-before-href=\"https://m.example/printable/16/\""
            ),
            "{html}"
        );
        assert!(!html.contains("<del>version"), "{html}");
    }

    /// Meta's link cards put a blank line inside a link's text: shown as `[Manage …` and
    /// `Privacy Center](https://…)`, two paragraphs of syntax.
    #[test]
    fn a_link_card_across_a_blank_line_renders_as_a_link() {
        let card = |to: &str| {
            format!(
                "Intro.\n\n[Manage the information we collect about you\n\nPrivacy Center]({to})\n"
            )
        };
        let html = markdown(&card("https://example.com/collection/"), &[]);
        assert_eq!(
            html,
            "<p>Intro.</p><p><a href=\"https://example.com/collection/\" rel=\"nofollow noopener \
             noreferrer\" target=\"_blank\">Manage the information we collect about you<br>\
             Privacy Center</a></p>"
        );
        let html = diffed(
            &card("https://example.com/a/"),
            &card("https://example.com/b/"),
        );
        assert!(!seen(&html).contains(']'), "{html}");
        assert!(html.contains("class=\"changed-link\""), "{html}");
        // Facebook's cards end with a rule: `[Title\n\n* * *](…)`; it shows as no syntax.
        let html = markdown(
            "[Turn on Page\n\n* * *](https://example.com/a)\n\nNext.",
            &[],
        );
        assert!(
            html.starts_with(
                "<p><a href=\"https://example.com/a\" rel=\"nofollow noopener noreferrer\" \
                 target=\"_blank\">Turn on Page"
            ) && html.ends_with("</a></p><p>Next.</p>")
                && !html.contains(['*', '[', ']']),
            "{html}"
        );
        // A bracket closed before the blank line is not a card.
        let text = "See [1] above.\n\nThen a](https://example.com/) stray one.";
        assert!(markdown(text, &[]).starts_with("<p>See [1] above.</p><p>Then a]("));
    }

    #[test]
    fn words_added_and_removed_inside_emphasis_lists_and_links_show_no_syntax() {
        let cases = [
            ("We **collect** data.", "We **collect and share** data."),
            ("- one\n- two\n- three\n", "- one\n- three\n"),
            (
                "Read [our policy](https://a.example/p).",
                "Read our policy.",
            ),
            (
                "Read our policy.",
                "Read [our policy](https://a.example/p).",
            ),
            ("*Terms* ~~old~~ apply.", "*Terms* apply now."),
            (
                "## Heading\n\nBody text.",
                "## New heading\n\nBody text, longer.",
            ),
        ];
        for (before, after) in cases {
            let html = diffed(before, after);
            let read = seen(&html);
            for syntax in ["](", "~~", "**", "[", "- ", "#"] {
                assert!(!read.contains(syntax), "{syntax} in {read} ({html})");
            }
            assert_eq!(
                seen(&without(&html, "del")),
                seen(&markdown(after, &[])),
                "{html}"
            );
        }
        let html = diffed("- one\n- two\n- three\n", "- one\n- three\n");
        assert_eq!(
            html,
            "<ul><li>one</li><li><del>two</del></li><li>three</li></ul>"
        );
    }

    proptest! {
        /// Whatever the parts cut through, the later side reads as its own rendering.
        #[test]
        fn the_later_side_of_a_rendered_diff_reads_as_the_later_text(
            before in "[ab \n*\\[\\]()#~-]{0,40}", after in "[ab \n*\\[\\]()#~-]{0,40}"
        ) {
            let html = diffed(&before, &after);
            prop_assert_eq!(seen(&without(&html, "del")), seen(&markdown(&after, &[])));
        }
    }
}
