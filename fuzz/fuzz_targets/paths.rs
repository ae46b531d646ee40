//! Archive path parsing on arbitrary names: dataset file names
//! (`<YYYY-MM-DDTHH-MM-SSZ>[.technical-upgrade].md`), the format of versions and folder
//! files (`<terms type>.md|.html|.htm|.pdf`), service, terms type and collection names, and
//! instants. The input is read as a relative path: `<service>/<terms type>/<file>` is checked
//! as the dataset lister checks it, `<service>/<file>` as the folder and git listers do, and
//! every component (and the whole input) through each parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palimpsest_corpus::fuzzing::{format_of, parse_file_name};
use palimpsest_schema::{CollectionName, DocKey, ServiceId, TermsType, Timestamp};

fuzz_target!(|data: &[u8]| {
    // Listers skip names that are not UTF-8; lossy text still exercises the parsers.
    let input = String::from_utf8_lossy(data);
    let components: Vec<&str> = input.split('/').collect();
    for name in components.iter().copied().chain([input.as_ref()]) {
        check_name(name);
        check_file_name(name);
        check_format(name);
        check_instant(name);
    }
    match components[..] {
        [service, terms_type, file] => {
            let key = DocKey::new("fuzz", service, terms_type);
            if let Ok(key) = key {
                check_key(&key);
            }
            let _ = parse_file_name(file);
        }
        [service, file] => {
            if let Some((terms_type, _)) = format_of(file)
                && let Ok(key) = DocKey::new("fuzz", service, terms_type)
            {
                check_key(&key);
            }
        }
        _ => {}
    }
});

/// A valid name is one path component that reads the same everywhere it is shown.
fn check_name(name: &str) {
    let service = ServiceId::new(name);
    let terms_type = TermsType::new(name);
    let collection = CollectionName::new(name);
    assert_eq!(service.is_ok(), terms_type.is_ok());
    assert_eq!(service.is_ok(), collection.is_ok());
    let Ok(service) = service else {
        return;
    };
    assert_eq!(service.as_str(), name);
    assert_eq!(service.to_string(), name);
    assert!(!name.is_empty() && name.len() <= 256, "{name:?}");
    assert_eq!(name.trim(), name, "{name:?}");
    assert!(!name.chars().any(char::is_control), "{name:?}");
    assert!(!name.contains(['/', '\\']), "{name:?}");
    assert!(name != "." && name != "..", "{name:?}");
    let json = serde_json::to_string(&service).expect("a name serializes");
    let back: ServiceId = serde_json::from_str(&json).expect("a name deserializes");
    assert_eq!(back, service);
    check_key(&DocKey::new(name, name, name).expect("three valid names make a key"));
}

fn check_key(key: &DocKey) {
    let text = key.term_text();
    assert_eq!(
        DocKey::from_term_text(&text).as_ref().ok(),
        Some(key),
        "{text:?}"
    );
}

/// A parsed dataset file name is the canonical name of its instant.
fn check_file_name(name: &str) {
    let Some((at, upgrade)) = parse_file_name(name) else {
        return;
    };
    assert!((Timestamp::MIN..=Timestamp::MAX).contains(&at));
    let canonical = format!(
        "{}{}.md",
        at.to_string().replace(':', "-"),
        if upgrade { ".technical-upgrade" } else { "" }
    );
    // A leap second (`60`) parses as the second before it (jiff's reading of RFC 3339): that
    // name is the only other one of an instant.
    let leap = (canonical.get(17..19) == Some("59"))
        .then(|| format!("{}60{}", &canonical[..17], &canonical[19..]));
    assert!(
        name == canonical || Some(name) == leap.as_deref(),
        "{name:?} parsed as {at}"
    );
    assert_eq!(parse_file_name(&canonical), Some((at, upgrade)));
}

fn check_format(name: &str) {
    let Some((stem, format)) = format_of(name) else {
        return;
    };
    let rebuilt = [format!("{stem}.{format}"), format!("{stem}.htm")];
    assert!(
        rebuilt.iter().any(|r| r == name),
        "{name:?} read as {stem:?} {format}"
    );
}

/// A parsed instant is in range and reads back from its display.
fn check_instant(text: &str) {
    let Ok(at) = Timestamp::parse(text) else {
        return;
    };
    assert!((Timestamp::MIN..=Timestamp::MAX).contains(&at), "{text:?}");
    assert_eq!(Timestamp::from_unix(at.as_unix()), Some(at));
    assert!((1..=9999).contains(&at.year()), "{text:?}");
    let shown = at.to_string();
    assert_eq!(
        Timestamp::parse(&shown).ok(),
        Some(at),
        "{text:?} shown as {shown}"
    );
}
