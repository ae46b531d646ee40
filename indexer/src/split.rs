//! Lossless splitting of a Markdown version into sections with heading paths.
//!
//! Real headings are ATX (`## Title`) and setext (`Title` underlined with `===` or `---`)
//! outside fenced code. Many recorded policies have no Markdown headings at all, so
//! heading-like lines also open sections: bold-only lines (`**Cookies**`) and numbered clause
//! titles (`4. Termination`, `Article 7 Liability`) anywhere, and short standalone lines
//! without final punctuation (`What information do we collect?`) in documents that have at
//! most one real heading. A heading-like line must stand alone between blank lines.
//!
//! Every byte of the input belongs to exactly one section, in order, so concatenating the
//! sections gives back the text.

use std::ops::Range;

/// A section as a byte range of the version text, with its heading path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRange {
    /// Headings from the outermost to this section's own; empty before the first heading.
    pub path: Vec<String>,
    /// The section's bytes in the version text, heading line included.
    pub range: Range<usize>,
}

/// Longest line considered as a heading-like line, in characters.
const MAX_TITLE_CHARS: usize = 100;
/// Most words in a heading-like line.
const MAX_TITLE_WORDS: usize = 14;
/// Longest paragraph accepted as a setext heading, in bytes.
const MAX_SETEXT_BYTES: usize = 300;

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    start: usize,
    /// Text without the line ending.
    text: &'a str,
    in_fence: bool,
}

impl Line<'_> {
    fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }
}

#[derive(Debug)]
struct Heading {
    /// Byte where the section it opens starts.
    start: usize,
    level: usize,
    title: String,
}

/// Most sections a version is split into. Each section of each version is a document of the
/// index, so a text of a million one-line headings would cost minutes and gigabytes; real
/// policies have at most a few hundred. The text past the last section allowed stays in it.
pub const MAX_SECTIONS: usize = 5_000;

/// Splits `text` into at most [`MAX_SECTIONS`] sections. The ranges are contiguous, in
/// order, and cover `text`.
pub fn split_sections(text: &str) -> Vec<SectionRange> {
    split_sections_capped(text, MAX_SECTIONS).sections
}

/// Sections of a text, with how many it would have without a cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Contiguous, in order, covering the text.
    pub sections: Vec<SectionRange>,
    /// Sections found before the cap: more than `sections.len()` when the last one holds
    /// the text of the sections past the cap.
    pub found: usize,
}

/// Splits `text` into at most `max` sections (at least one): the sections past the cap are
/// merged into the last one, so splitting stays lossless.
pub fn split_sections_capped(text: &str, max: usize) -> Split {
    let lines = lines(text);
    let mut headings = real_headings(&lines);
    let plain_lines_allowed = headings.len() <= 1;
    headings.extend(pseudo_headings(&lines, &headings, plain_lines_allowed));
    headings.sort_by_key(|h| h.start);
    headings.dedup_by_key(|h| h.start);

    let first_start = headings.first().map_or(text.len(), |h| h.start);
    let preamble = first_start > 0 || headings.is_empty() && !text.is_empty();
    let found = headings.len() + usize::from(preamble);
    // The last heading kept opens a section that runs to the end of the text.
    headings.truncate(max.max(1) - usize::from(preamble));
    let mut sections = Vec::with_capacity(headings.len() + 1);
    if preamble {
        sections.push(SectionRange {
            path: Vec::new(),
            range: 0..if headings.is_empty() {
                text.len()
            } else {
                first_start
            },
        });
    }
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (i, heading) in headings.iter().enumerate() {
        while stack
            .last()
            .is_some_and(|(level, _)| *level >= heading.level)
        {
            stack.pop();
        }
        stack.push((heading.level, heading.title.clone()));
        let end = headings.get(i + 1).map_or(text.len(), |next| next.start);
        sections.push(SectionRange {
            path: stack.iter().map(|(_, title)| title.clone()).collect(),
            range: heading.start..end,
        });
    }
    Split { sections, found }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut fence: Option<(char, usize)> = None;
    for raw in text.split_inclusive('\n') {
        let content = raw.trim_end_matches(['\n', '\r']);
        let marker = fence_marker(content);
        let in_fence = match (fence, marker) {
            (None, Some(open)) => {
                fence = Some(open);
                true
            }
            (Some((c, n)), Some((c2, n2))) if c == c2 && n2 >= n => {
                fence = None;
                true
            }
            (Some(_), _) => true,
            (None, None) => false,
        };
        lines.push(Line {
            start,
            text: content,
            in_fence,
        });
        start += raw.len();
    }
    lines
}

/// A fence line (```` ``` ```` or `~~~`, at least three, indented at most three spaces).
fn fence_marker(line: &str) -> Option<(char, usize)> {
    let body = strip_indent(line)?;
    let c = body.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = body.chars().take_while(|&x| x == c).count();
    (n >= 3).then_some((c, n))
}

/// The line without up to three leading spaces, or `None` if indented four or more.
fn strip_indent(line: &str) -> Option<&str> {
    let spaces = line.bytes().take_while(|&b| b == b' ').count();
    (spaces <= 3 && !line[spaces..].starts_with('\t')).then(|| &line[spaces..])
}

/// The line without leading spaces: headings nested in list items are indented, and real
/// policies have no indented code for them to be confused with.
fn strip_any_indent(line: &str) -> &str {
    line.trim_start_matches(' ')
}

fn atx_heading(line: &str) -> Option<(usize, String)> {
    let mut body = strip_any_indent(line);
    // `*   ### Key Definitions`: a heading as the whole content of a bullet item.
    if let Some(rest) = body.strip_prefix(['*', '-', '+'])
        && rest.starts_with([' ', '\t'])
        && rest.trim_start().starts_with('#')
    {
        body = rest.trim_start();
    }
    let level = body.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &body[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut rest = rest.trim();
    // A closing sequence of `#` preceded by a space is not part of the title.
    let without_closing = rest.trim_end_matches('#');
    if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        rest = without_closing.trim_end();
    }
    let title = clean_title(rest);
    (!title.is_empty()).then_some((level, title))
}

fn setext_level(line: &str) -> Option<usize> {
    let body = strip_any_indent(line).trim_end();
    let c = body.chars().next()?;
    if (c == '=' || c == '-') && body.chars().all(|x| x == c) {
        Some(if c == '=' { 1 } else { 2 })
    } else {
        None
    }
}

/// Lines that cannot continue a paragraph into a setext heading.
fn starts_other_block(line: &str) -> bool {
    let Some(body) = strip_indent(line) else {
        return true;
    };
    body.starts_with(['>', '|', '<'])
        || body.starts_with("- ")
        || body.starts_with("* ")
        || body.starts_with("+ ")
        || atx_heading(line).is_some()
        || fence_marker(line).is_some()
}

fn real_headings(lines: &[Line<'_>]) -> Vec<Heading> {
    let mut headings = Vec::new();
    let mut paragraph_start: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        if line.in_fence {
            paragraph_start = None;
            continue;
        }
        if let Some((level, title)) = atx_heading(line.text) {
            headings.push(Heading {
                start: line.start,
                level,
                title,
            });
            paragraph_start = None;
            continue;
        }
        if line.is_blank() {
            paragraph_start = None;
            continue;
        }
        if let (Some(first), Some(level)) = (paragraph_start, setext_level(line.text)) {
            let title_lines = &lines[first..i];
            let bytes: usize = title_lines.iter().map(|l| l.text.len()).sum();
            let joined: Vec<&str> = title_lines.iter().map(|l| l.text.trim()).collect();
            let title = clean_title(&joined.join(" "));
            if bytes <= MAX_SETEXT_BYTES && !title.is_empty() {
                headings.push(Heading {
                    start: lines[first].start,
                    level,
                    title,
                });
                paragraph_start = None;
                continue;
            }
        }
        if paragraph_start.is_none() && !starts_other_block(line.text) {
            paragraph_start = Some(i);
        } else if starts_other_block(line.text) {
            paragraph_start = None;
        }
    }
    headings
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    /// `**Title**`: always a heading, one level below the enclosing real heading.
    Bold,
    /// `4.2 Title` or `Article 4 Title`: always a heading; its depth is the count of numbers.
    Numbered(usize),
    /// A short standalone line: a heading only in documents without real headings.
    Plain,
}

fn pseudo_headings(lines: &[Line<'_>], real: &[Heading], plain_allowed: bool) -> Vec<Heading> {
    let real_starts: std::collections::HashSet<usize> = real.iter().map(|h| h.start).collect();
    let candidates: Vec<Option<(Candidate, String)>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            if line.in_fence || line.is_blank() || real_starts.contains(&line.start) {
                return None;
            }
            let standalone = (i == 0 || lines[i - 1].is_blank())
                && lines.get(i + 1).is_none_or(|next| next.is_blank());
            if !standalone {
                return None;
            }
            // A setext underline is part of a real heading, never a candidate.
            if setext_level(line.text).is_some() {
                return None;
            }
            candidate(line.text)
        })
        .collect();

    let mut headings = Vec::new();
    let mut base_level = 0;
    let mut real_iter = real.iter().peekable();
    for (i, line) in lines.iter().enumerate() {
        while real_iter.peek().is_some_and(|h| h.start <= line.start) {
            base_level = real_iter.next().map_or(0, |h| h.level);
        }
        let Some((kind, title)) = &candidates[i] else {
            continue;
        };
        let level = match kind {
            Candidate::Bold => base_level + 1,
            Candidate::Numbered(depth) => base_level + depth,
            Candidate::Plain => {
                if !plain_allowed {
                    continue;
                }
                // In a run of short lines (a list of names, an address), only the last one
                // before real text titles what follows.
                let next = (i + 1..lines.len()).find(|&j| !lines[j].is_blank());
                match next {
                    None => continue,
                    Some(j) if matches!(candidates[j], Some((Candidate::Plain, _))) => continue,
                    // `1 Main Street` is no title, but still a short line of the same run.
                    Some(j)
                        if candidates[j].is_none()
                            && lines.get(j + 1).is_none_or(|l| l.is_blank())
                            && title_like(&clean_title(lines[j].text.trim())) =>
                    {
                        continue;
                    }
                    Some(_) => base_level + 1,
                }
            }
        };
        // Headings deeper than any Markdown level would only fragment the text.
        let level = level.clamp(1, 9);
        headings.push(Heading {
            start: line.start,
            level,
            title: title.clone(),
        });
    }
    headings
}

fn candidate(line: &str) -> Option<(Candidate, String)> {
    let body = strip_indent(line)?.trim();
    if body.chars().count() > MAX_TITLE_CHARS + 4 {
        return None;
    }
    for marker in ["**", "__"] {
        if let Some(inner) = body
            .strip_prefix(marker)
            .and_then(|rest| rest.strip_suffix(marker))
        {
            if inner.contains(marker) {
                return None;
            }
            let title = clean_title(inner);
            return title_like(&title).then_some((Candidate::Bold, title));
        }
    }
    if let Some(depth) = clause_number_depth(body) {
        let title = clean_title(body);
        return title_like(&title).then_some((Candidate::Numbered(depth), title));
    }
    if body.starts_with([
        '-', '*', '+', '>', '|', '[', '!', '#', '<', '(', '`', '"', '\'',
    ]) || body.contains("](")
        || body.contains("://")
    {
        return None;
    }
    let title = clean_title(body);
    let first = title.chars().next()?;
    (first.is_uppercase() && title_like(&title)).then_some((Candidate::Plain, title))
}

/// `4. Title`, `4.2 Title`, `4.2. Title`, `Article 4 Title`, `Section 4: Title`: how many
/// numbers the clause number has.
fn clause_number_depth(body: &str) -> Option<usize> {
    let lower = body.to_lowercase();
    for word in ["article ", "section ", "clause ", "chapter ", "part "] {
        if let Some(rest) = lower.strip_prefix(word) {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            return (digits > 0).then_some(1);
        }
    }
    let mut depth = 0;
    let mut rest = body;
    loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        depth += 1;
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
            Some(after) => {
                rest = after;
                break;
            }
            // `4 Termination` is too much like `1 Main Street`: one number needs its dot.
            None if depth == 1 => return None,
            None => break,
        }
    }
    // `1. **ABOUT THIS AGREEMENT**`: the title may be emphasized.
    let title = rest
        .strip_prefix([' ', '\t'])?
        .trim_start()
        .trim_start_matches(['*', '_']);
    title
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
        .then_some(depth)
}

/// Short, a few words, at least one letter, no final sentence punctuation.
fn title_like(title: &str) -> bool {
    let chars = title.chars().count();
    (2..=MAX_TITLE_CHARS).contains(&chars)
        && title.split_whitespace().count() <= MAX_TITLE_WORDS
        && title.chars().any(char::is_alphabetic)
        && !title.ends_with(['.', ',', ';', ':', '!', '…'])
}

/// Heading text as a reader sees it: emphasis and link syntax removed, spaces collapsed.
fn clean_title(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '`' => {}
            '_' if out.is_empty()
                || out.ends_with(' ')
                || chars.peek().is_none_or(|n| *n == '_' || n.is_whitespace()) => {}
            // An escaped space is still a space: collapsed, never leading.
            // CommonMark escapes ASCII punctuation only: before anything else a backslash is
            // itself (`\n` stays `\n`).
            '\\' => match chars.peek().copied() {
                Some(next) if next.is_ascii_punctuation() => {
                    chars.next();
                    out.push(next);
                }
                Some(next) if next.is_whitespace() => {
                    chars.next();
                    if !out.is_empty() && !out.ends_with(' ') {
                        out.push(' ');
                    }
                }
                _ => out.push('\\'),
            },
            ']' if chars.peek() == Some(&'(') => {
                // Drop the link target: `[text](url)` keeps `text`.
                let mut depth = 0;
                for n in chars.by_ref() {
                    match n {
                        '(' => depth += 1,
                        ')' if depth <= 1 => break,
                        ')' => depth -= 1,
                        _ => {}
                    }
                }
            }
            '[' | ']' => {}
            c if c.is_whitespace() => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    let trimmed = out.trim_end();
    trimmed.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn paths(text: &str) -> Vec<Vec<String>> {
        split_sections(text).into_iter().map(|s| s.path).collect()
    }

    fn rejoin(text: &str) -> String {
        split_sections(text)
            .iter()
            .map(|s| &text[s.range.clone()])
            .collect()
    }

    fn p(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn atx_headings_nest_by_level() {
        let text = "Intro\n\n# A\n\ntext\n\n## B\n\nmore\n\n# C ##\n\nend\n";
        assert_eq!(
            paths(text),
            vec![p(&[]), p(&["A"]), p(&["A", "B"]), p(&["C"])]
        );
        assert_eq!(rejoin(text), text);
    }

    #[test]
    fn setext_headings_start_at_their_title_line() {
        let text = "Terms\n=====\n\nWelcome.\n\nYour data\n---------\n\nWe keep it.\n";
        let sections = split_sections(text);
        assert_eq!(sections[0].path, p(&["Terms"]));
        assert_eq!(sections[1].path, p(&["Terms", "Your data"]));
        assert!(text[sections[1].range.clone()].starts_with("Your data\n---"));
    }

    #[test]
    fn thematic_break_after_blank_line_is_not_a_heading() {
        let text = "# A\n\nSome text here.\n\n---\n\nMore text here.\n";
        assert_eq!(paths(text), vec![p(&["A"])]);
    }

    #[test]
    fn empty_headings_are_ignored() {
        let text = "# A\n\ntext\n\n#\n\n##   \n\nmore\n";
        assert_eq!(paths(text), vec![p(&["A"])]);
    }

    #[test]
    fn headings_inside_code_fences_are_text() {
        let text = "# A\n\n```\n# not a heading\n```\n\n# B\n";
        assert_eq!(paths(text), vec![p(&["A"]), p(&["B"])]);
    }

    #[test]
    fn heading_less_documents_split_on_title_lines() {
        let text = "Privacy Policy\n\nWe respect your privacy and explain here what we do.\n\n\
                    What information do we collect?\n\nWe collect your name, e-mail and more.\n\n\
                    How do we use it\n\nTo run the service, as described below.\n";
        assert_eq!(
            paths(text),
            vec![
                p(&["Privacy Policy"]),
                p(&["What information do we collect?"]),
                p(&["How do we use it"])
            ]
        );
        assert_eq!(rejoin(text), text);
    }

    #[test]
    fn runs_of_short_lines_title_only_what_follows() {
        let text =
            "Acme Inc\n\n1 Main Street\n\nSpringfield\n\nWe are a company that does things.\n";
        assert_eq!(paths(text), vec![p(&[]), p(&["Springfield"])]);
    }

    #[test]
    fn bold_and_numbered_titles_are_headings() {
        assert_eq!(clause_number_depth("1 Main Street"), None);
        assert_eq!(clause_number_depth("1. **ABOUT THIS AGREEMENT**"), Some(1));
        assert_eq!(clause_number_depth("2. _Eligibility_"), Some(1));
        let text = "**Definitions**\n\nWords mean things.\n\n4. Termination\n\nWe may end it.\n\n\
                    4.1 Notice\n\nWe will tell you.\n\nArticle 5 Liability\n\nNone.\n";
        assert_eq!(
            paths(text),
            vec![
                p(&["Definitions"]),
                p(&["4. Termination"]),
                p(&["4. Termination", "4.1 Notice"]),
                p(&["Article 5 Liability"])
            ]
        );
    }

    #[test]
    fn sentences_and_list_items_are_not_titles() {
        let text = "# Terms\n\nThis is a sentence.\n\n- A list item\n\n1. we collect data\n\n\
                    Contact us at the address below:\n";
        assert_eq!(paths(text), vec![p(&["Terms"])]);
    }

    #[test]
    fn headings_nested_in_list_items_are_headings() {
        let text = "Agreement\n=========\n\nIntro.\n\n1. Introduction\n    ------------\n    \n    \
                    ### 1.1 Contract\n    \n    You agree.\n    \n    *   #### Services\n    \n    \
                    This applies.\n\n2. Obligations\n    -----------\n\n    Be nice.\n";
        assert_eq!(
            paths(text),
            vec![
                p(&["Agreement"]),
                p(&["Agreement", "1. Introduction"]),
                p(&["Agreement", "1. Introduction", "1.1 Contract"]),
                p(&["Agreement", "1. Introduction", "1.1 Contract", "Services"]),
                p(&["Agreement", "2. Obligations"]),
            ]
        );
        assert_eq!(rejoin(text), text);
    }

    #[test]
    fn plain_title_lines_are_ignored_when_real_headings_exist() {
        let text =
            "# A\n\nShort line here\n\nBody text follows.\n\n## B\n\nOther Short Line\n\nx.\n";
        assert_eq!(paths(text), vec![p(&["A"]), p(&["A", "B"])]);
    }

    #[test]
    fn bold_titles_nest_under_the_enclosing_real_heading() {
        let text = "# A\n\n**Cookies**\n\nWe use cookies.\n\n# B\n\nx\n";
        assert_eq!(
            paths(text),
            vec![p(&["A"]), p(&["A", "Cookies"]), p(&["B"])]
        );
    }

    #[test]
    fn titles_lose_markup() {
        assert_eq!(
            clean_title("[Your **rights**](https://x.y/(a))  now"),
            "Your rights now"
        );
        assert_eq!(clean_title("snake_case_name"), "snake_case_name");
    }

    #[test]
    fn escaped_spaces_neither_start_nor_double_a_title() {
        // Found by the `split` fuzz target: `# \ B` had the title " B".
        assert_eq!(clean_title("\\ B #**Dune**"), "B #Dune");
        assert_eq!(clean_title("a \\  b\\\t"), "a b");
        assert_eq!(paths("# \\ B\n\ntext\n"), vec![p(&["B"])]);
    }

    #[test]
    fn a_backslash_before_a_letter_stays_in_the_title() {
        // `# Epoch\nnsecond` was titled "Epochnnsecond": only punctuation is escaped.
        assert_eq!(clean_title("Epoch\\nnsecond"), "Epoch\\nnsecond");
        assert_eq!(
            paths("# Epoch\\nnsecond\n\ntext\n"),
            vec![p(&["Epoch\\nnsecond"])]
        );
        assert_eq!(clean_title("C:\\Users \\é"), "C:\\Users \\é");
        assert_eq!(
            clean_title("\\*not bold\\* \\\\ end\\"),
            "*not bold* \\ end\\"
        );
    }

    #[test]
    fn sections_past_the_cap_stay_in_the_last_one() {
        let headings = "# a\n".repeat(10);
        for (text, found) in [(headings.clone(), 10), (format!("intro\n\n{headings}"), 11)] {
            for max in [1, 2, 4, 10, 11, 50] {
                let split = split_sections_capped(&text, max);
                assert_eq!(split.found, found);
                assert_eq!(
                    split.sections.len(),
                    found.min(max),
                    "{text:?} at most {max}"
                );
                let rejoined: String = split
                    .sections
                    .iter()
                    .map(|s| &text[s.range.clone()])
                    .collect();
                assert_eq!(rejoined, text);
                assert_eq!(split.sections.last().unwrap().range.end, text.len());
            }
        }
        let many = "# a\n".repeat(MAX_SECTIONS + 7);
        assert_eq!(split_sections(&many).len(), MAX_SECTIONS);
    }

    #[test]
    fn crlf_and_missing_final_newline_are_kept() {
        let text = "# A\r\n\r\ntext\r\n# B\r\nend";
        assert_eq!(rejoin(text), text);
        assert_eq!(paths(text), vec![p(&["A"]), p(&["B"])]);
    }

    #[test]
    fn empty_text_has_no_sections() {
        assert!(split_sections("").is_empty());
        assert_eq!(paths("\n"), vec![p(&[])]);
    }

    fn markdown_line() -> impl Strategy<Value = String> {
        prop_oneof![
            "[#]{1,7} ?[A-Za-z ]{0,12}",
            "[A-Z][a-z ]{0,20}[?.]?",
            "(=|-){1,5}",
            "\\*\\*[A-Za-z ]{0,10}\\*\\*",
            "[0-9]{1,2}(\\.[0-9])? [A-Z][a-z]{0,8}",
            "```|~~~",
            "[ \t]{0,5}",
            "(- |\\* |> )?[a-z ,.]{0,30}",
            "\\PC{0,20}",
        ]
    }

    proptest! {
        #[test]
        fn splitting_is_lossless(lines in proptest::collection::vec(markdown_line(), 0..40),
                                 crlf in any::<bool>()) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let text = lines.join(eol);
            let sections = split_sections(&text);
            let mut at = 0;
            for s in &sections {
                prop_assert_eq!(s.range.start, at);
                prop_assert!(s.range.end > s.range.start || text.is_empty());
                at = s.range.end;
            }
            prop_assert_eq!(at, text.len());
            prop_assert_eq!(rejoin(&text), text);
        }

        #[test]
        fn splitting_any_text_is_lossless(text in "\\PC{0,400}") {
            prop_assert_eq!(rejoin(&text), text);
        }
    }
}
