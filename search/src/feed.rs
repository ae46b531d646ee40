//! A change list as an Atom feed (RFC 4287): one entry per change, with a stable id, so that
//! any change search can be subscribed to.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use palimpsest_schema::Timestamp;

use crate::changes::{Change, ChangesRequest, ChangesResponse};
use crate::compare::ChangeKind;

/// Where a feed lives, for its id and links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedInfo {
    /// Human title, e.g. `Changes mentioning "arbitration"`.
    pub title: String,
    /// The feed's id: its own URL when served, else a URN ([`ChangesRequest::feed_id`]).
    pub id: String,
    /// The feed's own URL, for the `rel="self"` link, when it has one.
    pub self_url: Option<String>,
    /// Base URL of the API, without a trailing slash (`http://localhost:8080`), for links to
    /// versions; empty for relative links.
    pub base_url: String,
}

fn date_time(at: Timestamp) -> FixedDateTime {
    FixedDateTime::parse_from_rfc3339(&at.to_string()).unwrap_or_default()
}

/// Percent-encodes a URL path segment or query value (everything but unreserved characters).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn section_name(path: &[String]) -> String {
    if path.is_empty() {
        "(text before the first heading)".to_owned()
    } else {
        path.join(" › ")
    }
}

fn entry(change: &Change, info: &FeedInfo, content: &dyn Fn(&Change) -> String) -> Entry {
    let what = match change.kind {
        ChangeKind::Moved => format!(
            "{} moved to {}",
            section_name(change.previous_section.as_deref().unwrap_or_default()),
            section_name(&change.section)
        ),
        kind => format!("{} {}", section_name(&change.section), kind.as_str()),
    };
    let json = format!(
        "{}/api/v1/version/{}/{}/{}",
        info.base_url,
        encode_component(&change.service),
        encode_component(&change.terms_type),
        encode_component(&change.date.to_string()),
    );
    // The web page's document view at the version that made the change, on its section.
    let page = format!(
        "{}/?view=document&document={}&collection={}&at={}&focus={}",
        info.base_url,
        encode_component(&format!("{}/{}", change.service, change.terms_type)),
        encode_component(&change.collection),
        encode_component(&change.date.to_string()),
        encode_component(&change.section.join(" > ")),
    );
    Entry {
        id: format!("urn:palimpsest:change:{}", change.id),
        title: Text::plain(format!(
            "{} · {}: {what}",
            change.service, change.terms_type
        )),
        updated: date_time(change.date),
        links: vec![
            Link {
                href: page,
                rel: "alternate".into(),
                mime_type: Some("text/html".into()),
                ..Link::default()
            },
            Link {
                href: json,
                rel: "related".into(),
                mime_type: Some("application/json".into()),
                ..Link::default()
            },
        ],
        summary: Some(Text::plain(format!(
            "{} of {} {} ({}), version {} recorded at {}",
            change.kind.as_str(),
            change.service,
            change.terms_type,
            change.collection,
            change.version,
            change.date
        ))),
        content: Some(Content {
            value: Some(content(change)),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

impl ChangesRequest {
    /// A stable id for the feed of this request over the index at `scope`: the same question
    /// asked of the same index is the same feed.
    pub fn feed_id(&self, scope: &str) -> String {
        let text = format!("{scope}\u{1f}{self:?}");
        format!(
            "urn:palimpsest:feed:{:016x}",
            xxhash_rust::xxh3::xxh3_64(text.as_bytes())
        )
    }
}

impl ChangesResponse {
    /// The page of changes as an Atom feed document, each entry's content the HTML that
    /// `content` renders of its change (rendering is the caller's: the server renders it as
    /// its page does).
    pub fn to_atom(&self, info: &FeedInfo, content: &dyn Fn(&Change) -> String) -> String {
        let updated = self
            .changes
            .iter()
            .map(|c| c.date)
            .max()
            .unwrap_or_else(Timestamp::now);
        let feed = Feed {
            title: Text::plain(info.title.clone()),
            id: info.id.clone(),
            updated: date_time(updated),
            authors: vec![Person {
                name: "Palimpsest".into(),
                ..Person::default()
            }],
            links: info
                .self_url
                .iter()
                .map(|url| Link {
                    href: url.clone(),
                    rel: "self".into(),
                    mime_type: Some("application/atom+xml".into()),
                    ..Link::default()
                })
                .collect(),
            entries: self
                .changes
                .iter()
                .map(|c| entry(c, info, content))
                .collect(),
            ..Feed::default()
        };
        xml_chars(feed.to_string())
    }
}

/// Replaces the characters XML 1.0 forbids (C0 controls other than tab, line feed and
/// carriage return; U+FFFE and U+FFFF) with U+FFFD: the writer escapes markup but not these,
/// and one of them in a query or a document makes the whole feed unreadable. The writer
/// never emits them itself, so replacing them in its output only touches text.
fn xml_chars(xml: String) -> String {
    let allowed = |c: char| !matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if xml.chars().all(allowed) {
        return xml;
    }
    xml.chars()
        .map(|c| if allowed(c) { c } else { '\u{fffd}' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_forbids_are_replaced() {
        assert_eq!(
            xml_chars("a\u{1}b\u{c}c\u{fffe}\u{ffff}\td\ne\r".into()),
            "a\u{fffd}b\u{fffd}c\u{fffd}\u{fffd}\td\ne\r"
        );
        assert_eq!(xml_chars("plain é ☃".into()), "plain é ☃");
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(
            encode_component("Acme Cloud/ä?"),
            "Acme%20Cloud%2F%C3%A4%3F"
        );
    }
}
