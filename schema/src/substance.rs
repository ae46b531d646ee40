//! What a section says, without what a minor edit touches: a hash of its words with dates,
//! punctuation and quote marks, whitespace (inside words too) and link targets taken out.
//! Two sides of a change with the same substance hash make a *minor* change: the noise of
//! "last updated" lines, typography and moved links that readers of change feeds want apart.

use crate::Section;

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

/// One run of letters and digits, and the character right before it.
struct Token<'a> {
    before: Option<char>,
    source: &'a str,
}

/// The hash of a section's substance (its heading line included: a renamed heading is not
/// minor). Equal hashes on both sides of a change mean only dates, punctuation, quote marks,
/// whitespace or link targets changed.
pub fn substance_hash(section: &Section) -> u64 {
    let text = without_link_targets(&section.text);
    let tokens = tokenize(&text);
    let shapes: Vec<Shape> = tokens.iter().map(Shape::of).collect();
    let mut kept = String::with_capacity(text.len());
    for (i, token) in tokens.iter().enumerate() {
        if is_date_part(&tokens, &shapes, i) {
            continue;
        }
        if token.source.is_ascii() {
            let start = kept.len();
            kept.push_str(token.source);
            kept[start..].make_ascii_lowercase();
        } else {
            kept.extend(token.source.chars().flat_map(char::to_lowercase));
        }
    }
    xxhash_rust::xxh3::xxh3_64(kept.as_bytes())
}

/// What a token may be in a date, worked out once per token.
#[derive(Clone, Copy)]
struct Shape {
    digits: bool,
    year: bool,
    month: bool,
    day: bool,
}

impl Shape {
    fn of(token: &Token) -> Shape {
        // Every token starts with a letter or a digit: a word is neither a day nor a year,
        // and a number is no month name.
        let numeric = token.source.as_bytes()[0].is_ascii_digit();
        Shape {
            digits: numeric && digits(token),
            year: numeric && is_year(token),
            month: !numeric && is_month(token),
            day: numeric && is_day(token),
        }
    }
}

/// Markdown links keep their text: `[terms](https://…)` → `[terms]`; autolinks `<https://…>`
/// go whole.
fn without_link_targets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = memchr::memchr2(b'(', b'<', rest.as_bytes()) {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let target_end = match tail.as_bytes()[0] {
            b'(' if head.ends_with(']') => tail.find(')'),
            b'<' if tail[1..].starts_with("http") => tail.find('>'),
            _ => None,
        };
        match target_end {
            Some(end) => rest = &tail[end + 1..],
            None => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    // The character before position `i`.
    let mut last: Option<char> = None;
    let mut i = 0;
    while i < bytes.len() {
        let (c, width) = char_at(text, i);
        if !c.is_alphanumeric() {
            last = Some(c);
            i += width;
            continue;
        }
        let start = i;
        let mut end = i + width;
        loop {
            // Runs of ASCII letters and digits, the bulk of any text, byte by byte.
            while bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                end += 1;
            }
            match (end < bytes.len()).then(|| char_at(text, end)) {
                Some((c, width)) if c.is_alphanumeric() => end += width,
                _ => break,
            }
        }
        tokens.push(Token {
            before: last,
            source: &text[start..end],
        });
        last = text[start..end].chars().next_back();
        i = end;
    }
    tokens
}

/// The character at byte `i` of `text` (a character boundary) and its length in bytes.
fn char_at(text: &str, i: usize) -> (char, usize) {
    match text.as_bytes()[i] {
        b if b.is_ascii() => (char::from(b), 1),
        _ => {
            let c = text[i..].chars().next().expect("i is a character boundary");
            (c, c.len_utf8())
        }
    }
}

fn is_month(token: &Token) -> bool {
    let source = token.source.as_bytes();
    // Every month name and abbreviation starts with one of these letters.
    (3..=9).contains(&source.len())
        && b"jfmasondJFMASOND".contains(&source[0])
        && MONTHS.iter().any(|m| m.eq_ignore_ascii_case(token.source))
}

fn digits(token: &Token) -> bool {
    token.source.bytes().all(|b| b.is_ascii_digit())
}

/// A day of the month: `5`, `05`, `5th`, `21st`.
fn is_day(token: &Token) -> bool {
    let number = token
        .source
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &token.source[number.len()..];
    !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
        && ["", "st", "nd", "rd", "th"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(suffix))
}

fn is_year(token: &Token) -> bool {
    digits(token) && token.source.len() == 4 && {
        let year: u32 = token.source.parse().unwrap_or(0);
        (1900..=2099).contains(&year)
    }
}

/// Whether token `i` is part of a date: a year (1900–2099), a month name next to a day or a
/// year (`may` alone is a verb), a day next to a month name, or a part of a numeric date
/// (`2024-01-05`, `05/01/2024`, `5.1.24`).
fn is_date_part(tokens: &[Token], shapes: &[Shape], i: usize) -> bool {
    let shape = shapes[i];
    let near = |test: fn(&Shape) -> bool| {
        [i.checked_sub(1), Some(i + 1)]
            .iter()
            .any(|j| j.and_then(|j| shapes.get(j)).is_some_and(test))
    };
    shape.year
        || (shape.month && (near(|s| s.day) || near(|s| s.year)))
        || (shape.day && near(|s| s.month))
        || numeric_date_group(tokens, shapes, i)
}

/// Whether token `i` is one of three digit runs joined by the same `-`, `/` or `.`.
fn numeric_date_group(tokens: &[Token], shapes: &[Shape], i: usize) -> bool {
    let joined = |a: usize| {
        let b = a + 1;
        b < tokens.len()
            && shapes[a].digits
            && shapes[b].digits
            && matches!(tokens[b].before, Some('-' | '/' | '.'))
            && tokens[a].source.len() <= 4
    };
    let first = i.saturating_sub(2);
    (first..=i).any(|start| {
        start + 2 < tokens.len()
            && start + 2 >= i
            && joined(start)
            && joined(start + 1)
            && tokens[start + 1].before == tokens[start + 2].before
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> u64 {
        substance_hash(&Section {
            path: vec!["Terms".into()],
            text: text.into(),
        })
    }

    #[test]
    fn dates_punctuation_quotes_whitespace_and_link_targets_are_minor() {
        for (a, b) in [
            (
                "# Terms\n\nLast updated: January 5, 2024.\n",
                "# Terms\n\nLast updated: 3rd March 2025\n",
            ),
            (
                "Effective 2024-01-05 for all.",
                "Effective 05/01/2025 for all.",
            ),
            ("We don't sell data.", "We don’t sell data"),
            ("Use \"the app\" well", "Use “the app” well"),
            ("Send an e-mail", "Send an email"),
            (
                "Read [our policy](https://a.example/p) now",
                "Read [our policy](https://b.example/policy?x=1) now",
            ),
            (
                "Write to <https://a.example>.",
                "Write to <https://b.example>.",
            ),
        ] {
            assert_eq!(hash(a), hash(b), "{a:?} / {b:?}");
        }
    }

    /// The hash of the words kept, lowercased char by char: what the index stores, whatever
    /// shortcut computes it.
    #[test]
    fn the_hash_is_of_the_kept_words_lowercased() {
        let text = "# Términos\n\nLast updated: May 5th, 2024. We MAY share ÉTATS data on 2024-01-05 \
                    [here](https://x.example) and <https://y.example> — ǅemal İstanbul";
        let kept = "términoslastupdatedwemayshareétatsdataonhereandǆemali\u{307}stanbul";
        assert_eq!(hash(text), xxhash_rust::xxh3::xxh3_64(kept.as_bytes()));
    }

    #[test]
    fn words_and_numbers_that_are_not_dates_are_substance() {
        for (a, b) in [
            ("You must be 13 or older", "You must be 16 or older"),
            ("We sell data", "We do not sell data"),
            ("Fees are 5.00 USD", "Fees are 7.00 USD"),
            (
                "Read [our policy](https://a.example)",
                "Read [their policy](https://a.example)",
            ),
            ("May we contact you", "Can we contact you"),
            ("We may share your data", "We share your data"),
        ] {
            assert_ne!(hash(a), hash(b), "{a:?} / {b:?}");
        }
    }

    /// Runs of letters and digits with the character before each, read char by char.
    fn reference_tokens(text: &str) -> Vec<(Option<char>, &str)> {
        let mut tokens = Vec::new();
        let (mut start, mut before, mut last) = (None, None, None);
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            let word = i < text.len() && c.is_alphanumeric();
            match (word, start) {
                (true, None) => (start, before) = (Some(i), last),
                (false, Some(s)) => {
                    tokens.push((before, &text[s..i]));
                    start = None;
                }
                _ => {}
            }
            last = Some(c);
        }
        tokens
    }

    proptest::proptest! {
        #[test]
        fn tokens_read_ascii_bytes_as_characters(text in "(\\PC|[a-z0-9 .,/-]){0,40}") {
            let tokens: Vec<(Option<char>, &str)> =
                tokenize(&text).iter().map(|t| (t.before, t.source)).collect();
            proptest::prop_assert_eq!(tokens, reference_tokens(&text));
        }
    }
}
