//! `palimpsest search`: find sections.

use palimpsest_schema::Timestamp;
use palimpsest_search::{CollectionRecord, Coverage, Hit, SearchRequest, SearchResponse, TimeMode};

use crate::Context;
use crate::output::{self, Style};

/// Search sections in force now (default), at a date, in a window, or over all history
///
/// QUERY can be a description in your own words: a section matches when it holds most of
/// them (all of one or two words, half of up to eight, a quarter of longer queries; stop
/// words never count), and sections holding every word rank first; when nothing matches,
/// fewer words are required. Unquoted words match their word forms and British
/// or American spellings (deleting accounts → delete account, personalised → personalized);
/// a word no section holds is matched within one or two edits, with a "did you mean" line.
/// Syntax keeps its meaning: "exact phrases" (required, exact words), AND, OR, NOT,
/// +required, -excluded, parentheses; privac* matches words starting with privac (privacy,
/// private…); * alone matches everything. --match all requires every word. Headings weigh
/// more than body text.
///
/// Examples:
///   palimpsest search "does instagram use my private messages to train its AI"
///   palimpsest search '"artificial intelligence" OR AI' --terms-type "Privacy Policy"
///   palimpsest search arbitration --as-of 2023-06-01 --service Acme
///   palimpsest search cookies --history --section "How we use"
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The query.
    query: String,
    #[command(flatten)]
    filters: super::FilterArgs,
    /// Sections in force at this instant
    /// (RFC 3339; YYYY-MM-DD for 00:00 UTC; a month YYYY-MM or a year YYYY for its first day).
    #[arg(long, value_name = "T", value_parser = super::parse_time, conflicts_with_all = ["from", "to", "history"])]
    as_of: Option<Timestamp>,
    /// Sections in force at some point from this instant on.
    #[arg(long, value_name = "A", value_parser = super::parse_time, conflicts_with = "history")]
    from: Option<Timestamp>,
    /// Sections in force at some point before this instant.
    #[arg(long, value_name = "B", value_parser = super::parse_time, conflicts_with = "history")]
    to: Option<Timestamp>,
    /// Every section ever recorded; one hit per section, the texts it had together.
    #[arg(long)]
    history: bool,
    /// Only sections whose text first appeared in this calendar year (UTC), as the year facet
    /// counts them.
    #[arg(long, value_name = "YYYY")]
    year: Option<i16>,
    /// How many of the query's words a section must hold: most (default) or all.
    #[arg(long = "match", value_enum, default_value_t = super::MatchArg::Most)]
    matching: super::MatchArg,
    /// Hits per page (1 to 100).
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Hits to skip.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Every hit, past the paging window, streamed as found (with --format jsonl or csv,
    /// ready for analysis): what every page lists, one after the other.
    #[arg(long, conflicts_with_all = ["limit", "offset"])]
    all: bool,
}

impl Args {
    fn request(self) -> SearchRequest {
        let time = match (self.as_of, self.from, self.to, self.history) {
            (Some(at), ..) => TimeMode::AsOf(at),
            (_, None, None, true) => TimeMode::History,
            (_, None, None, false) => TimeMode::Current,
            (_, from, to, _) => TimeMode::Between { from, to },
        };
        SearchRequest {
            query: self.query,
            matching: self.matching.into(),
            filters: self.filters.into(),
            time,
            year: self.year,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let all = args.all;
    let request = args.request();
    if all {
        let style = Style::detect();
        return crate::export::to_stdout(
            context.list_format,
            palimpsest_export::HIT_COLUMNS,
            &|total| {
                outln!(
                    "{} matching {}",
                    style.bold(&total.to_string()),
                    mode(&request, total)
                )
            },
            &|_| None,
            &mut |number, hit| print_hit(&style, number, hit),
            |options, sink| engine.export_search(&request, options, sink),
        );
    }
    let response = engine.search(&request)?;
    if let Some(format) = context.list_format {
        return output::listing(&response, format);
    }
    print(&request, &response);
    Ok(())
}

/// Why, over all history, the facet counts add up to more than the sections listed.
pub const HISTORY_FACETS: &str = "counts below are of texts: a section counts once for each text it had \
     (the list has one entry per section, its texts together)";

/// What a search counted, and when: "sections in force now".
fn mode(request: &SearchRequest, total: u64) -> String {
    let when = match request.time {
        TimeMode::Current => "in force now".to_owned(),
        TimeMode::AsOf(at) => format!("in force at {at}"),
        TimeMode::Between { from, to } => format!(
            "in force between {} and {}",
            from.map_or("the beginning".into(), |t| t.to_string()),
            to.map_or("now".into(), |t| t.to_string())
        ),
        TimeMode::History => "over all history".to_owned(),
    };
    format!("{} {when}", output::noun(total, "section", "sections"))
}

fn print(request: &SearchRequest, response: &SearchResponse) {
    let style = Style::detect();
    outln!(
        "{} matching {}{}",
        style.bold(&response.total.to_string()),
        mode(request, response.total),
        match response.all_words {
            all if all < response.total => format!(" ({all} with every word)"),
            _ => String::new(),
        }
    );
    output::did_you_mean(&style, response.did_you_mean.as_deref());
    if let Some(coverage) = &response.coverage {
        outln!("{}", style.dim(&coverage_line(request.time, coverage)));
    }
    for (i, hit) in response.hits.iter().enumerate() {
        print_hit(&style, request.offset + i + 1, hit);
    }
    style.more(request.offset + response.hits.len(), response.total);
    if response.total > 0 {
        outln!();
        let facets = &response.facets;
        let lists = [
            &facets.service,
            &facets.terms_type,
            &facets.collection,
            &facets.section,
            &facets.year,
        ];
        if request.time == TimeMode::History && lists.iter().any(|l| l.len() > 1) {
            // The total counts sections; the facets count each text a section had.
            outln!("{}", style.dim(HISTORY_FACETS));
        }
        style.facet("services", &response.facets.service);
        style.facet("terms types", &response.facets.terms_type);
        style.facet("collections", &response.facets.collection);
        style.facet("sections", &response.facets.section);
        style.facet_by_time("years", &response.facets.year);
    }
}

/// When the documents searched were tracked: "not tracked before 2022-07-11" when the time
/// asked precedes every record, else how many were not tracked then, or (for one document)
/// from when to when it was recorded.
fn coverage_line(time: TimeMode, coverage: &Coverage) -> String {
    let first = output::day(coverage.first_recorded);
    let before_all = match time {
        TimeMode::AsOf(at) => at < coverage.first_recorded,
        TimeMode::Between { to: Some(to), .. } => to <= coverage.first_recorded,
        _ => false,
    };
    if coverage.not_tracked == coverage.documents && before_all {
        return format!(
            "not tracked before {first}: the archive holds no version of {} from before then, \
             so an empty answer says nothing about that time",
            output::noun(coverage.documents, "this document", "these documents")
        );
    }
    if coverage.not_tracked > 0 {
        return format!(
            "{} of {} not tracked then (the first recorded {first})",
            coverage.not_tracked,
            output::count(coverage.documents, "document", "documents")
        );
    }
    format!(
        "tracked from {first} to {} (the last record)",
        output::day(coverage.last_recorded)
    )
}

/// One hit for people: where, when (in each collection holding it), and its snippet.
fn print_hit(style: &Style, number: usize, hit: &Hit) {
    outln!();
    outln!(
        "{:>3}. {} · {} › {}",
        number,
        style.bold(&hit.service),
        hit.terms_type,
        output::section(&hit.section)
    );
    for (i, record) in hit.by_collection.iter().enumerate() {
        outln!(
            "     {}",
            style.dim(&format!(
                "{}{}{}  [{}]",
                dates(record),
                if i == 0 && hit.spans > 1 {
                    format!(", {} versions of the text", hit.spans)
                } else {
                    String::new()
                },
                if record.valid_from == record.tracked_since {
                    " (there when tracking began: it may be older)"
                } else {
                    ""
                },
                record.collection
            ))
        );
    }
    outln!("     {}", style.snippet(&hit.snippet));
}

/// When a collection recorded a hit's text: from its start to its end.
fn dates(record: &CollectionRecord) -> String {
    let (from, to) = (record.valid_from, record.valid_to);
    output::interval(from, to)
}
