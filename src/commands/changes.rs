//! `palimpsest changes`: what changed in which sections, when.

use palimpsest_schema::Timestamp;
use palimpsest_search::{
    Change, ChangeEntry, ChangeGrouping, ChangeKind, ChangeOrder, ChangesRequest, ChangesResponse,
    FeedInfo, HiddenChanges, VersionChanges,
};

use crate::Context;
use crate::output::{self, Style};

/// List changes to sections (added, removed, modified, moved), newest first
///
/// Each change is one section of one version compared with the version before it, with a
/// word-level diff. QUERY (optional, same syntax as `search`) keeps the changes whose text
/// before or after matches. First records (a whole document appearing), deletions and
/// technical upgrades (re-extractions, not changes at the source) are hidden unless asked for.
///
/// Examples:
///   palimpsest changes --from 2024-01-01
///   palimpsest changes arbitration --terms-type "Terms of Service" --sort relevance
///   palimpsest changes '"artificial intelligence"' --atom > ai-changes.xml
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Only changes whose text before or after matches this query.
    query: Option<String>,
    #[command(flatten)]
    filters: super::FilterArgs,
    /// Changes recorded at or after this instant
    /// (RFC 3339; YYYY-MM-DD for 00:00 UTC; a month YYYY-MM or a year YYYY for its first day).
    #[arg(long, value_name = "A", value_parser = super::parse_time)]
    from: Option<Timestamp>,
    /// Changes recorded before this instant (--to 2025 stops at 2025-01-01T00:00:00Z).
    #[arg(long, value_name = "B", value_parser = super::parse_time)]
    to: Option<Timestamp>,
    /// Also list whole documents appearing (first records) or leaving the archive (deletions).
    #[arg(long)]
    first_records: bool,
    /// Also list technical upgrades (re-extractions, not changes at the source).
    #[arg(long)]
    technical_upgrades: bool,
    /// Also minor changes (only dates, punctuation, quote marks, whitespace or link targets
    /// changed); `--minor false` hides them. They rank after the others by relevance.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    minor: bool,
    /// Only changes of this kind (repeatable: any of them); without it, every kind.
    #[arg(long = "kind", value_enum, value_name = "KIND")]
    kinds: Vec<Kind>,
    /// One entry per changed section (default) or per version: its date, kind, the sections
    /// it changed (best match first) and the words it inserted and deleted.
    #[arg(long, value_enum, default_value_t = Group::Section)]
    group: Group,
    /// Order: newest, oldest, or relevance (best match of QUERY first).
    #[arg(long, value_enum, default_value_t = Order::Newest)]
    sort: Order,
    /// How many of the query's words a section must hold: most (default) or all.
    #[arg(long = "match", value_enum, default_value_t = super::MatchArg::Most)]
    matching: super::MatchArg,
    /// Changes per page (1 to 100).
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Changes to skip.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Whole texts: without it, texts before and after longer than 16 KiB are cut there (and
    /// the diff at 32 KiB), and the change says `truncated`.
    #[arg(long)]
    full_text: bool,
    /// Print the page as an Atom feed instead (what `GET /api/v1/changes.atom` serves).
    #[arg(long, conflicts_with = "json")]
    atom: bool,
    /// Every change (or version, with --group version), past the paging window, streamed as
    /// found (with --format jsonl or csv, ready for analysis): what every page lists, one
    /// after the other.
    #[arg(long, conflicts_with_all = ["limit", "offset", "atom"])]
    all: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Kind {
    Added,
    Removed,
    Modified,
    Moved,
}

impl From<Kind> for ChangeKind {
    fn from(kind: Kind) -> ChangeKind {
        match kind {
            Kind::Added => ChangeKind::Added,
            Kind::Removed => ChangeKind::Removed,
            Kind::Modified => ChangeKind::Modified,
            Kind::Moved => ChangeKind::Moved,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Group {
    Section,
    Version,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Order {
    Newest,
    Oldest,
    Relevance,
}

impl Args {
    fn request(self) -> ChangesRequest {
        ChangesRequest {
            query: self.query,
            matching: self.matching.into(),
            filters: self.filters.into(),
            from: self.from,
            to: self.to,
            first_records: self.first_records,
            technical_upgrades: self.technical_upgrades,
            minor: self.minor,
            kinds: self.kinds.into_iter().map(ChangeKind::from).collect(),
            group: match self.group {
                Group::Section => ChangeGrouping::Section,
                Group::Version => ChangeGrouping::Version,
            },
            order: match self.sort {
                Order::Newest => ChangeOrder::Newest,
                Order::Oldest => ChangeOrder::Oldest,
                Order::Relevance => ChangeOrder::Relevance,
            },
            limit: self.limit,
            offset: self.offset,
            full_text: self.full_text,
        }
    }
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let engine = super::open_engine(context)?;
    let (atom, all) = (args.atom, args.all);
    let request = args.request();
    if all {
        let style = Style::detect();
        return crate::export::to_stdout(
            context.list_format,
            palimpsest_export::change_columns(request.group),
            &|total| {
                outln!(
                    "{} {}",
                    style.bold(&total.to_string()),
                    unit(&request, total)
                )
            },
            &|hidden| hidden_line(&request, hidden),
            &mut |number, entry| match entry {
                ChangeEntry::Section(change) => print_listed_change(&style, number, change),
                ChangeEntry::Version(version) => print_version(&style, number, version),
            },
            |options, sink| engine.export_changes(&request, options, sink),
        );
    }
    let response = engine.changes(&request)?;
    if atom {
        let title = match &request.query {
            Some(q) => format!("Palimpsest: changes matching {q}"),
            None => "Palimpsest: changes".to_owned(),
        };
        let info = FeedInfo {
            title,
            id: request.feed_id(&engine.dir().display().to_string()),
            self_url: None,
            base_url: String::new(),
        };
        outln!(
            "{}",
            response.to_atom(&info, &palimpsest_server::feed_content)
        );
        return Ok(());
    }
    if let Some(format) = context.list_format {
        output::listing(&response, format)?;
        // JSON holds `hidden`; the other formats hold only the list.
        if format != palimpsest_export::Format::Json
            && let Some(line) = hidden_line(&request, &response.hidden)
        {
            eprintln!("{line}");
        }
        return Ok(());
    }
    print(&request, &response);
    Ok(())
}

/// One change for people: where, what, and the diff.
pub fn print_change(style: &Style, heading: &str, change: &SectionView) {
    outln!("{heading}");
    let body = match (change.diff, change.before, change.after) {
        (Some(parts), ..) => style.diff(parts),
        (None, _, Some(after)) => style.diff(&[palimpsest_search::DiffPart {
            op: palimpsest_search::DiffOp::Insert,
            text: after.to_owned(),
        }]),
        (None, Some(before), None) => style.diff(&[palimpsest_search::DiffPart {
            op: palimpsest_search::DiffOp::Delete,
            text: before.to_owned(),
        }]),
        (None, None, None) => String::new(),
    };
    outln!("{}", output::indent(&body, 5));
}

/// What [`print_change`] needs of a change or a section diff.
pub struct SectionView<'a> {
    pub diff: Option<&'a [palimpsest_search::DiffPart]>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// How a change reads in a heading line: `modified`, or `moved from A › B`.
pub fn describe(kind: ChangeKind, previous: Option<&[String]>) -> String {
    match (kind, previous) {
        (ChangeKind::Moved, Some(previous)) => format!("moved from {}", output::section(previous)),
        (kind, _) => kind.as_str().to_owned(),
    }
}

/// One version of a list grouped by version: its sections, one line each.
fn print_version(style: &Style, number: usize, version: &VersionChanges) {
    outln!();
    outln!(
        "{:>3}. {} {} · {}  {}",
        number,
        &version.date.to_string()[..10],
        style.bold(&version.service),
        version.terms_type,
        style.dim(&format!(
            "version {} ({}), {}: +{} −{} words{}",
            version.version,
            version.version_kind,
            version.collection,
            version.words_inserted,
            version.words_deleted,
            if version.minor { ", minor" } else { "" }
        )),
    );
    for section in &version.sections {
        outln!(
            "     {} {}  {}",
            style.bold(&describe(section.kind, section.previous_section.as_deref())),
            output::section(&section.section),
            style.dim(&format!(
                "+{} −{}{}",
                section.words_inserted,
                section.words_deleted,
                if section.minor { ", minor" } else { "" }
            ))
        );
    }
}

fn view(change: &Change) -> SectionView<'_> {
    SectionView {
        diff: change.diff.as_deref(),
        before: change.before.as_deref(),
        after: change.after.as_deref(),
    }
}

/// What a change list counts.
fn unit(request: &ChangesRequest, total: u64) -> &'static str {
    match request.group {
        ChangeGrouping::Version => output::noun(
            total,
            "version that changed sections",
            "versions that changed sections",
        ),
        ChangeGrouping::Section => output::noun(total, "changed section", "changed sections"),
    }
}

/// What the list left out and the flags that show it: "not shown: 13 changes of first
/// records (--first-records), …".
fn hidden_line(request: &ChangesRequest, hidden: &HiddenChanges) -> Option<String> {
    let versions = request.group == ChangeGrouping::Version;
    let part = |n: u64, changes: (&str, &str), version: (&str, &str)| {
        let (one, many) = if versions { version } else { changes };
        (n > 0).then(|| output::count(n, one, many))
    };
    let first_records = [
        part(
            hidden.first_records,
            ("change of a first record", "changes of first records"),
            ("first record", "first records"),
        ),
        part(
            hidden.deletions,
            ("change of a deletion", "changes of deletions"),
            ("deletion", "deletions"),
        ),
    ];
    let first_records: Vec<String> = first_records.into_iter().flatten().collect();
    let groups = [
        (!first_records.is_empty()).then(|| (first_records.join(" and "), "--first-records")),
        part(
            hidden.technical_upgrades,
            (
                "change of a technical upgrade",
                "changes of technical upgrades",
            ),
            ("technical upgrade", "technical upgrades"),
        )
        .map(|text| (text, "--technical-upgrades")),
        part(
            hidden.minor,
            ("minor change", "minor changes"),
            (
                "version with only minor changes",
                "versions with only minor changes",
            ),
        )
        .map(|text| (text, "--minor true")),
    ];
    let said: Vec<String> = groups
        .into_iter()
        .flatten()
        .map(|(text, flag)| format!("{text} ({flag})"))
        .collect();
    (!said.is_empty()).then(|| format!("not shown: {}", said.join(", ")))
}

/// One change of a list: its number, where, what, and the diff.
fn print_listed_change(style: &Style, number: usize, change: &Change) {
    outln!();
    let heading = format!(
        "{:>3}. {} {} · {} › {}  {}\n     {}",
        number,
        &change.date.to_string()[..10],
        style.bold(&change.service),
        change.terms_type,
        output::section(&change.section),
        style.bold(&describe(change.kind, change.previous_section.as_deref())),
        style.dim(&format!(
            "version {} ({}), {}",
            change.version, change.version_kind, change.collection
        )),
    );
    print_change(style, &heading, &view(change));
}

fn print(request: &ChangesRequest, response: &ChangesResponse) {
    let style = Style::detect();
    let window = match (request.from, request.to) {
        (None, None) => String::new(),
        (from, to) => format!(
            " between {} and {}",
            from.map_or("the beginning".into(), |t| t.to_string()),
            to.map_or("now".into(), |t| t.to_string())
        ),
    };
    outln!(
        "{} {}{window}",
        style.bold(&response.total.to_string()),
        unit(request, response.total)
    );
    if let Some(line) = hidden_line(request, &response.hidden) {
        outln!("{}", style.dim(&line));
    }
    output::did_you_mean(&style, response.did_you_mean.as_deref());
    for (i, version) in response.versions.iter().flatten().enumerate() {
        print_version(&style, request.offset + i + 1, version);
    }
    for (i, change) in response.changes.iter().enumerate() {
        print_listed_change(&style, request.offset + i + 1, change);
    }
    let shown = response.changes.len() + response.versions.as_ref().map_or(0, Vec::len);
    style.more(request.offset + shown, response.total);
    if response.total > 0 {
        outln!();
        style.facet("services", &response.facets.service);
        style.facet("terms types", &response.facets.terms_type);
        style.facet("kinds", &response.facets.kind);
        style.facet_by_time("months", &response.facets.month);
    }
}
