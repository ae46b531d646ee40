//! The section search operation and its response.

use std::collections::HashMap;

use palimpsest_schema::{DocKey, OPEN_END, Timestamp};
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur};
use tantivy::schema::{Field, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::collectors::{FacetCollector, FacetTally, MatchCollector, SpanMatch};
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::query::{Fields, span_clauses, text_query, year_clause};
use crate::request::{SearchRequest, TimeMode};

/// Most matching spans history mode groups (about 50 MB of matches); beyond this only the
/// best-scoring ones are grouped, and the total then depends on scores. contrib-versions, the
/// largest real archive, has 343,000 spans in all: every query there is grouped exactly.
const MAX_GROUPED_SPANS: usize = 1_000_000;
/// Most values listed per facet.
const MAX_FACET_VALUES: usize = 100;
/// Snippet length in characters.
const SNIPPET_CHARS: usize = 240;

/// One result: a section (or, in history mode, a run of adjacent spans of one section).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hit {
    /// Service.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Collection.
    pub collection: String,
    /// Heading path, outermost first; empty before the first heading.
    pub section: Vec<String>,
    /// The section's own heading (last of the path), empty before the first heading.
    pub title: String,
    /// Matching text, HTML-escaped, with matches in `<mark>`.
    pub snippet: String,
    /// When the text came into force.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub valid_from: Timestamp,
    /// When it stopped being in force; `null` while in force.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_to: Option<Timestamp>,
    /// Source id of the first version with this text.
    pub first_version: String,
    /// Source id of the last version with this text (the latest version while in force).
    pub last_version: String,
    /// Relevance.
    pub score: f32,
    /// How many spans the hit covers (more than one only in history mode).
    pub spans: usize,
}

/// One facet value and its count of matching spans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetCount {
    /// The value.
    pub value: String,
    /// Matching spans with it.
    pub count: u64,
}

/// Facet counts over every matching span, largest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facets {
    /// By service.
    pub service: Vec<FacetCount>,
    /// By terms type.
    pub terms_type: Vec<FacetCount>,
    /// By collection.
    pub collection: Vec<FacetCount>,
    /// By top-level heading (empty value: text before the first heading).
    pub section: Vec<FacetCount>,
    /// By year of `valid_from`, oldest first.
    pub year: Vec<FacetCount>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// Matching spans (history mode: groups).
    pub total: u64,
    /// The requested page.
    pub hits: Vec<Hit>,
    /// Counts of all matching spans.
    pub facets: Facets,
}

pub(crate) fn sorted(counts: HashMap<String, u64>) -> Vec<FacetCount> {
    let mut list: Vec<FacetCount> = counts
        .into_iter()
        .map(|(value, count)| FacetCount { value, count })
        .collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    list.truncate(MAX_FACET_VALUES);
    list
}

impl From<FacetTally> for Facets {
    fn from(tally: FacetTally) -> Facets {
        let [service, terms_type, collection, section] = tally.strings;
        let mut year: Vec<FacetCount> = tally
            .years
            .into_iter()
            .map(|(y, count)| FacetCount {
                value: y.to_string(),
                count,
            })
            .collect();
        year.sort_by(|a, b| a.value.cmp(&b.value));
        Facets {
            service: sorted(service),
            terms_type: sorted(terms_type),
            collection: sorted(collection),
            section: sorted(section),
            year,
        }
    }
}

fn stored_str(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn stored_i64(doc: &TantivyDocument, field: Field) -> i64 {
    doc.get_first(field)
        .and_then(|v| v.as_i64())
        .unwrap_or_default()
}

/// A snippet that reads as text in a result list: Markdown line syntax (heading markers,
/// setext underlines, thematic breaks, list bullets, bold markers) removed and whitespace,
/// line breaks included, collapsed to single spaces. `<mark>` tags hold no whitespace, so
/// they survive as they are.
pub(crate) fn tidy_snippet(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    for line in html.lines() {
        let mut text = line.trim();
        let rule = text.len() >= 2 && text.chars().all(|c| "=-*_ ".contains(c));
        if rule {
            continue;
        }
        let hashes = text.len() - text.trim_start_matches('#').len();
        if (1..=6).contains(&hashes) && text[hashes..].starts_with(' ') {
            text = &text[hashes..];
        }
        for bullet in ["- ", "* ", "+ "] {
            if let Some(rest) = text.strip_prefix(bullet) {
                text = rest;
            }
        }
        for word in text.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out.replace("**", "").replace("__", "")
}

pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Engine {
    /// Searches sections.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResponse> {
        request.validate(&self.limits)?;
        let searcher = self.searcher();
        let text = text_query(
            &searcher,
            &self.fields,
            &request.query,
            Fields::Ranked,
            self.limits.max_expansions,
        )?;
        let time = self.present(&searcher, request.time)?;
        let mut clauses = span_clauses(&self.fields, &request.filters, time)?;
        if let Some(year) = request.year {
            clauses.push((Occur::Must, year_clause(&self.fields, year)));
        }
        clauses.push((Occur::Must, text.box_clone()));
        let query = BooleanQuery::new(clauses);

        let mut snippets = SnippetGenerator::create(&searcher, &*text, self.fields.body)
            .map_err(SearchError::tantivy("cannot prepare snippets"))?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        let mut latest = LatestVersions::default();

        if request.time == TimeMode::History {
            let (matches, tally) = searcher
                .search(
                    &query,
                    &(MatchCollector(self.deadline), FacetCollector(self.deadline)),
                )
                .map_err(SearchError::tantivy("search failed"))?;
            self.deadline.check()?;
            let groups = group_adjacent(matches);
            self.deadline.check()?;
            let total = groups.len() as u64;
            let hits = groups
                .into_iter()
                .skip(request.offset)
                .take(request.limit)
                .map(|group| self.hit(&searcher, &snippets, &mut latest, &group))
                .collect::<Result<Vec<_>>>()?;
            return Ok(SearchResponse {
                total,
                hits,
                facets: tally.into(),
            });
        }

        let top = TopDocs::with_limit(request.limit)
            .and_offset(request.offset)
            .order_by_score();
        let (top, total, tally) = searcher
            .search(&query, &(top, Count, FacetCollector(self.deadline)))
            .map_err(SearchError::tantivy("search failed"))?;
        self.deadline.check()?;
        let hits = top
            .into_iter()
            .map(|(score, address)| {
                let group = Group {
                    score,
                    best: address,
                    spans: vec![address],
                };
                self.hit(&searcher, &snippets, &mut latest, &group)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchResponse {
            total: total as u64,
            hits,
            facets: tally.into(),
        })
    }

    /// The time mode as the index can answer it: an instant after the present is refused,
    /// and "in force now" is the latest text of each section (the fast `valid_to` term)
    /// unless a version was recorded after the present (by a clock that was wrong), which is
    /// not in force yet: then it is the text in force at the present instant.
    fn present(&self, searcher: &Searcher, time: TimeMode) -> Result<TimeMode> {
        let now = Timestamp::now();
        match time {
            TimeMode::AsOf(at) if at > now => Err(SearchError::InFuture { at }),
            TimeMode::Current => {
                for segment in searcher.segment_readers() {
                    let valid_from = segment
                        .fast_fields()
                        .i64("valid_from")
                        .map_err(SearchError::tantivy("cannot read fast fields"))?;
                    if valid_from.max_value() > now.as_unix() {
                        return Ok(TimeMode::AsOf(now));
                    }
                }
                Ok(TimeMode::Current)
            }
            time => Ok(time),
        }
    }

    fn hit(
        &self,
        searcher: &Searcher,
        snippets: &SnippetGenerator,
        latest: &mut LatestVersions,
        group: &Group,
    ) -> Result<Hit> {
        let f = &self.fields;
        let load = |address: DocAddress| -> Result<TantivyDocument> {
            searcher
                .doc(address)
                .map_err(SearchError::tantivy("cannot read stored span"))
        };
        let best = load(group.best)?;
        let first = if group.spans[0] == group.best {
            best.clone()
        } else {
            load(group.spans[0])?
        };
        let last_address = *group.spans.last().expect("groups are not empty");
        let last = if last_address == group.best {
            best.clone()
        } else {
            load(last_address)?
        };

        let section: Vec<String> = best
            .get_all(f.heading)
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let body = stored_str(&best, f.body);
        let mut snippet = snippets.snippet(&body);
        snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
        let snippet = tidy_snippet(&if snippet.highlighted().is_empty() {
            let cut: String = body.chars().take(SNIPPET_CHARS).collect();
            html_escape(cut.trim())
        } else {
            snippet.to_html()
        });
        let (service, terms_type, collection) = (
            stored_str(&best, f.service),
            stored_str(&best, f.terms_type),
            stored_str(&best, f.collection),
        );
        let valid_to_raw = stored_i64(&last, f.valid_to);
        let valid_to = if valid_to_raw == OPEN_END {
            None
        } else {
            Timestamp::from_unix(valid_to_raw)
        };
        let last_version = match stored_str(&last, f.last_version) {
            id if !id.is_empty() => id,
            _ => latest.get(self, searcher, &collection, &service, &terms_type)?,
        };
        Ok(Hit {
            title: section.last().cloned().unwrap_or_default(),
            section,
            snippet,
            valid_from: Timestamp::from_unix(stored_i64(&first, f.valid_from))
                .unwrap_or(Timestamp::MIN),
            valid_to,
            first_version: stored_str(&first, f.first_version),
            last_version,
            score: group.score,
            spans: group.spans.len(),
            service,
            terms_type,
            collection,
        })
    }
}

/// Latest version id per document, looked up once per request.
#[derive(Default)]
struct LatestVersions(HashMap<String, String>);

impl LatestVersions {
    fn get(
        &mut self,
        engine: &Engine,
        searcher: &Searcher,
        collection: &str,
        service: &str,
        terms_type: &str,
    ) -> Result<String> {
        let key = DocKey::new(collection, service, terms_type)?;
        let text = key.term_text();
        if let Some(id) = self.0.get(&text) {
            return Ok(id.clone());
        }
        let id = engine.latest_version_id(searcher, &key)?;
        self.0.insert(text, id.clone());
        Ok(id)
    }
}

/// Spans of one section that follow each other without a gap, scored by the best.
struct Group {
    score: f32,
    best: DocAddress,
    spans: Vec<DocAddress>,
}

fn group_adjacent(mut matches: Vec<SpanMatch>) -> Vec<Group> {
    if matches.len() > MAX_GROUPED_SPANS {
        matches.sort_by(|a, b| b.score.total_cmp(&a.score));
        matches.truncate(MAX_GROUPED_SPANS);
    }
    matches.sort_by_key(|m| (m.doc_hash, m.path_hash, m.valid_from, m.valid_to));
    let mut groups: Vec<Group> = Vec::new();
    let mut previous: Option<SpanMatch> = None;
    for m in matches {
        let continues = previous.is_some_and(|p| {
            p.doc_hash == m.doc_hash && p.path_hash == m.path_hash && p.valid_to == m.valid_from
        });
        match groups.last_mut() {
            Some(group) if continues => {
                group.spans.push(m.address);
                if m.score > group.score {
                    group.score = m.score;
                    group.best = m.address;
                }
            }
            _ => groups.push(Group {
                score: m.score,
                best: m.address,
                spans: vec![m.address],
            }),
        }
        previous = Some(m);
    }
    groups.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.best.cmp(&b.best))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::tidy_snippet;

    #[test]
    fn snippets_lose_markdown_line_syntax_and_keep_marks() {
        assert_eq!(
            tidy_snippet(
                "Birdsong <mark>Privacy</mark> Policy\n=======\n\n## What we **collect**\n\n- \
                 your <mark>e-mail</mark>\n* * *\n#hashtag stays"
            ),
            "Birdsong <mark>Privacy</mark> Policy What we collect your <mark>e-mail</mark> \
             #hashtag stays"
        );
        assert_eq!(tidy_snippet(""), "");
    }
}
