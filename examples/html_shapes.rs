//! How long HTML extraction takes on page shapes that could make the parser quadratic.
//!
//!     cargo run --release --example html_shapes -- [ITEMS...]
//!
//! For each number of items (default 50,000 and 100,000, then 200,000), builds pages of
//! these shapes and times `extract` (decoding, nesting and attribute caps, parsing, the
//! fallback) on each, best of three: one element with that many attributes; one `class` of
//! that many names; one attribute value of that many 8-byte words; that many sibling
//! paragraphs; that many `<body>` tags of one attribute each; one end tag with that many
//! attributes; and elements of 100 attributes each (the cap), that many attributes in all.
//! Linear shapes take twice as long for twice the items.

use std::time::{Duration, Instant};

use palimpsest_corpus::fuzzing::extract_html;

fn attributes(n: usize) -> String {
    (0..n).map(|i| format!(" data-a{i}=\"{i}\"")).collect()
}

fn shapes(n: usize) -> Vec<(&'static str, String)> {
    let words = |prefix: &str| -> String {
        (0..n)
            .map(|i| format!("{prefix}{i:07}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    vec![
        (
            "one element, n attributes",
            format!("<main><p{}>text</p></main>", attributes(n)),
        ),
        (
            "one class attribute, n names",
            format!("<main><p class=\"{}\">text</p></main>", words("c")),
        ),
        (
            "one attribute value, n words",
            format!("<main><p title=\"{}\">text</p></main>", words("w")),
        ),
        (
            "n sibling paragraphs",
            format!("<main>{}</main>", "<p>para text</p>".repeat(n)),
        ),
        (
            "n body tags, 1 attribute each",
            (0..n)
                .map(|i| format!("<body b{i}=\"1\">"))
                .collect::<String>()
                + "text",
        ),
        (
            "one end tag, n attributes",
            format!("<main><p>text</p{}></main>", attributes(n)),
        ),
        (
            "n/100 elements, 100 attributes each",
            format!(
                "<main>{}</main>",
                format!("<p{}>text</p>", attributes(100)).repeat(n / 100)
            ),
        ),
    ]
}

fn best_of_three(page: &str) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut warnings = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let out = extract_html(page.as_bytes(), None);
        best = best.min(start.elapsed());
        warnings = out.warnings.len();
    }
    (best, warnings)
}

fn main() {
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number of items"))
        .collect();
    if sizes.is_empty() {
        sizes = vec![50_000, 100_000, 200_000];
    }
    println!("| shape | items | bytes | seconds | warnings |");
    println!("|---|---|---|---|---|");
    for n in sizes {
        for (shape, page) in shapes(n) {
            let (time, warnings) = best_of_three(&page);
            println!(
                "| {shape} | {n} | {} | {:.3} | {warnings} |",
                page.len(),
                time.as_secs_f64()
            );
        }
    }
}
