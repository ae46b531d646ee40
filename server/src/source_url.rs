//! [`SourceUrls`]: the web address of a version online, written from templates such as
//! Open Terms Archive's `versionUrlTemplate`:
//! `https://github.com/OpenTermsArchive/pga-versions/blob/%VERSION/%SERVICE/%TERMS_TYPE.md`.

use std::collections::BTreeMap;

/// The placeholders a template may hold, each replaced percent-encoded for a URL path.
pub const PLACEHOLDERS: [&str; 4] = ["%VERSION", "%SERVICE", "%TERMS_TYPE", "%COLLECTION"];

/// One `--source-url-template`: for one collection (`NAME=URL`), or for all (`URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUrlTemplate {
    /// The collection it is for; `None`: every collection without a template of its own.
    pub collection: Option<String>,
    /// The address, holding `%VERSION`.
    pub template: String,
}

impl SourceUrlTemplate {
    /// Reads `URL` or `COLLECTION=URL`: an `http` or `https` address in ASCII without
    /// spaces that holds `%VERSION`.
    pub fn parse(value: &str) -> Result<SourceUrlTemplate, String> {
        let (collection, template) = match value.split_once('=') {
            Some((name, url)) if !name.contains("://") => (Some(name.trim().to_owned()), url),
            _ => (None, value),
        };
        let invalid = |why: &str| Err(format!("invalid source URL template `{value}`: {why}"));
        if collection.as_deref() == Some("") {
            return invalid("the collection before `=` is empty");
        }
        if !(template.starts_with("http://") || template.starts_with("https://")) {
            return invalid("it must start with http:// or https://");
        }
        if !template.chars().all(|c| c.is_ascii_graphic()) {
            return invalid("it must be ASCII without spaces");
        }
        if !template.contains("%VERSION") {
            return invalid(&format!(
                "it must hold %VERSION (placeholders: {})",
                PLACEHOLDERS.join(", ")
            ));
        }
        Ok(SourceUrlTemplate {
            collection,
            template: template.to_owned(),
        })
    }
}

/// The templates of a server: at most one per collection and one for the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceUrls {
    any: Option<String>,
    by_collection: BTreeMap<String, String>,
}

/// What a template's placeholders stand for.
pub struct VersionName<'a> {
    /// Collection.
    pub collection: &'a str,
    /// Service.
    pub service: &'a str,
    /// Terms type.
    pub terms_type: &'a str,
    /// Source id: a commit id, or a file's path in the archive.
    pub version: &'a str,
}

impl SourceUrls {
    /// The templates, refusing two for one collection (or two for all).
    pub fn new(templates: Vec<SourceUrlTemplate>) -> Result<SourceUrls, String> {
        let mut urls = SourceUrls::default();
        for t in templates {
            let slot = match &t.collection {
                Some(name) => urls.by_collection.entry(name.clone()).or_default(),
                None => urls.any.get_or_insert_with(String::new),
            };
            if !slot.is_empty() {
                let name = t.collection.as_deref().unwrap_or("every collection");
                return Err(format!("two source URL templates for {name}"));
            }
            *slot = t.template;
        }
        Ok(urls)
    }

    /// The address of a version online, if a template covers its collection.
    pub fn url(&self, name: &VersionName<'_>) -> Option<String> {
        let template = self
            .by_collection
            .get(name.collection)
            .or(self.any.as_ref())?;
        Some(fill(template, name))
    }
}

/// The template with each placeholder replaced, in one pass: a value is never read again
/// as a placeholder.
fn fill(template: &str, name: &VersionName<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let found = PLACEHOLDERS.iter().find(|p| rest.starts_with(**p));
        let Some(placeholder) = found else {
            out.push('%');
            rest = &rest[1..];
            continue;
        };
        let value = match *placeholder {
            "%VERSION" => name.version,
            "%SERVICE" => name.service,
            "%TERMS_TYPE" => name.terms_type,
            _ => name.collection,
        };
        out.push_str(&encode_path(value));
        rest = &rest[placeholder.len()..];
    }
    out.push_str(rest);
    out
}

/// Percent-encodes all but unreserved characters and `/`, which separates the folders of a
/// file's path.
fn encode_path(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTA: &str =
        "https://github.com/OpenTermsArchive/pga-versions/blob/%VERSION/%SERVICE/%TERMS_TYPE.md";

    fn instagram(collection: &str) -> VersionName<'_> {
        VersionName {
            collection,
            service: "Instagram",
            terms_type: "Privacy Policy",
            version: "0123abcd",
        }
    }

    #[test]
    fn placeholders_are_replaced_encoded() {
        let urls = SourceUrls::new(vec![SourceUrlTemplate::parse(OTA).unwrap()]).unwrap();
        assert_eq!(
            urls.url(&instagram("pga")).unwrap(),
            "https://github.com/OpenTermsArchive/pga-versions/blob/0123abcd/Instagram/Privacy%20Policy.md"
        );
        // A value holding a placeholder's name is not read again; a plain `%` stays.
        let template = SourceUrlTemplate::parse("https://x.example/%VERSION/%25/%COLLECTION")
            .unwrap()
            .template;
        let name = VersionName {
            version: "%SERVICE ü",
            ..instagram("c")
        };
        assert_eq!(
            fill(&template, &name),
            "https://x.example/%25SERVICE%20%C3%BC/%25/c"
        );
    }

    #[test]
    fn a_collection_template_wins_over_the_general_one() {
        let urls = SourceUrls::new(vec![
            SourceUrlTemplate::parse("https://all.example/%COLLECTION/%VERSION").unwrap(),
            SourceUrlTemplate::parse(&format!("pga={OTA}")).unwrap(),
        ])
        .unwrap();
        assert!(
            urls.url(&instagram("pga"))
                .unwrap()
                .starts_with("https://github.com/")
        );
        assert_eq!(
            urls.url(&instagram("vlopses-us")).unwrap(),
            "https://all.example/vlopses-us/0123abcd"
        );
        let only_pga = SourceUrls::new(vec![
            SourceUrlTemplate::parse(&format!("pga={OTA}")).unwrap(),
        ]);
        assert_eq!(only_pga.unwrap().url(&instagram("other")), None);
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for (bad, why) in [
            ("github.com/%VERSION", "http"),
            ("ftp://x.example/%VERSION", "http"),
            ("https://x.example/blob/main", "%VERSION"),
            ("https://x.example/a b/%VERSION", "spaces"),
            ("=https://x.example/%VERSION", "empty"),
        ] {
            let error = SourceUrlTemplate::parse(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
        let twice = SourceUrls::new(vec![
            SourceUrlTemplate::parse(&format!("pga={OTA}")).unwrap(),
            SourceUrlTemplate::parse(&format!("pga={OTA}")).unwrap(),
        ]);
        assert!(twice.unwrap_err().contains("pga"));
    }
}
