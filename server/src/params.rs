//! Reading parameters from the URL, strictly: bad percent-encoding, invalid UTF-8, NUL
//! characters, repeated single values and unknown names are 400s that name the parameter,
//! never axum's plain-text rejections.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, shorten};
use palimpsest_export::Format;

/// Most `name=value` pairs in one query string.
const MAX_PAIRS: usize = 256;
/// Most values of one repeatable parameter.
const MAX_VALUES: usize = 100;

/// The decoded `name=value` pairs of a query string, in order.
#[derive(Debug, Default)]
pub struct RawParams(Vec<(String, String)>);

/// Reads a parameter that names one of `choices` (the first is the default when it is
/// absent); another value is refused with the list of valid ones.
pub fn choice<T: Copy>(
    name: &str,
    value: Option<&str>,
    choices: &[(&str, T)],
) -> Result<T, ApiError> {
    let Some(value) = value else {
        return Ok(choices[0].1);
    };
    if let Some((_, chosen)) = choices.iter().find(|(label, _)| *label == value) {
        return Ok(*chosen);
    }
    let labels: Vec<&str> = choices.iter().map(|(label, _)| *label).collect();
    let (last, rest) = labels.split_last().unwrap_or((&"", &[]));
    Err(ApiError::parameter(
        name,
        format!(
            "`{}` is not {} or {last}",
            shorten(value, 40),
            rest.join(", ")
        ),
    ))
}

impl RawParams {
    /// Decodes a query string (`+` is a space, `%XX` a byte, the result must be UTF-8
    /// without NUL).
    pub fn parse(query: &str) -> Result<RawParams, ApiError> {
        let mut pairs = Vec::new();
        for piece in query.split('&').filter(|p| !p.is_empty()) {
            if pairs.len() == MAX_PAIRS {
                return Err(ApiError::parameter(
                    "query string",
                    format!("more than {MAX_PAIRS} parameters"),
                ));
            }
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = decode(name).map_err(|e| ApiError::parameter(&shorten(name, 64), e))?;
            let value = decode(value).map_err(|e| ApiError::parameter(&name, e))?;
            pairs.push((name, value));
        }
        Ok(RawParams(pairs))
    }

    /// Fails on the first name not in `valid`.
    pub fn check_names(&self, valid: &[&str]) -> Result<(), ApiError> {
        match self
            .0
            .iter()
            .find(|(name, _)| !valid.contains(&name.as_str()))
        {
            Some((name, _)) => Err(ApiError::unknown_parameter(name, valid)),
            None => Ok(()),
        }
    }

    /// The value of a parameter given at most once.
    pub fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.values(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::parameter(name, "given more than once"));
        }
        Ok(first)
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let values: Vec<String> = self.values(name).map(str::to_owned).collect();
        if values.len() > MAX_VALUES {
            return Err(ApiError::parameter(
                name,
                format!("given {} times; at most {MAX_VALUES}", values.len()),
            ));
        }
        Ok(values)
    }

    /// A number, if given.
    pub fn number(&self, name: &str) -> Result<Option<usize>, ApiError> {
        self.one(name)?
            .map(|v| {
                v.trim().parse::<usize>().map_err(|_| {
                    ApiError::parameter(
                        name,
                        format!("`{}` is not a whole number in range", shorten(v, 40)),
                    )
                })
            })
            .transpose()
    }

    /// A switch: absent is false; present without a value, `true` or `1` is true.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.one(name)? {
            None => Ok(false),
            Some("" | "true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(other) => Err(ApiError::parameter(
                name,
                format!("`{}` is not true or false", shorten(other, 40)),
            )),
        }
    }

    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        let name = name.to_owned();
        self.0
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-decodes one name or value of a query string.
fn decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(high), Some(low)) => out.push((high * 16 + low) as u8),
                    _ => {
                        return Err("bad percent-encoding: `%` must be followed by two hex digits");
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    let decoded = String::from_utf8(out).map_err(|_| "not valid UTF-8")?;
    if decoded.contains('\0') {
        return Err("contains a NUL character");
    }
    Ok(decoded)
}

/// Parameters an endpoint accepts, read from [`RawParams`].
pub trait FromParams: Sized {
    /// The names the endpoint accepts; any other is a 400 listing these.
    const NAMES: &'static [&'static str];
    /// Reads and checks the parameters.
    fn from_params(params: &RawParams) -> Result<Self, ApiError>;
}

/// Extractor of an endpoint's query parameters.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: FromParams> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let raw = RawParams::parse(parts.uri.query().unwrap_or_default())?;
        raw.check_names(T::NAMES)?;
        T::from_params(&raw).map(Params)
    }
}

/// Extractor of a list endpoint's parameters and of its `format`: `json` (default), `jsonl`
/// or `csv` ([`palimpsest_export`]).
pub struct ListParams<T>(pub T, pub Format);

/// The formats a list endpoint answers in, the default first.
const FORMATS: [(&str, Format); 3] = [
    ("json", Format::Json),
    ("jsonl", Format::Jsonl),
    ("csv", Format::Csv),
];

impl<S: Send + Sync, T: FromParams> FromRequestParts<S> for ListParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let raw = RawParams::parse(parts.uri.query().unwrap_or_default())?;
        let mut names = T::NAMES.to_vec();
        names.push("format");
        raw.check_names(&names)?;
        let format = choice("format", raw.one("format")?, &FORMATS)?;
        Ok(ListParams(T::from_params(&raw)?, format))
    }
}

/// Endpoints without parameters.
pub struct NoParams;

impl FromParams for NoParams {
    const NAMES: &'static [&'static str] = &[];
    fn from_params(_: &RawParams) -> Result<Self, ApiError> {
        Ok(NoParams)
    }
}

/// Extractor of path segments whose failures are JSON 400s.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.uri.path().to_ascii_lowercase().contains("%00") {
            return Err(ApiError::parameter("path", "contains a NUL character"));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(ApiError::parameter("path", rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_is_strict() {
        assert_eq!(decode("a+b%20c%C3%A9").unwrap(), "a b cé");
        assert!(decode("%").is_err());
        assert!(decode("%4").is_err());
        assert!(decode("%zz").is_err());
        assert!(decode("%FF").is_err());
        assert!(decode("a%00b").is_err());
        assert_eq!(decode("%2B").unwrap(), "+");
    }

    #[test]
    fn names_and_repeats_are_checked() {
        let raw = RawParams::parse("q=a&collection=x&collection=y&limit=5&&").unwrap();
        assert!(raw.check_names(&["q", "collection", "limit"]).is_ok());
        let error = raw.check_names(&["q", "limit"]).unwrap_err();
        assert_eq!(error.code, "unknown_parameter");
        assert!(error.message.contains("`collection`"), "{}", error.message);
        assert!(error.message.contains("q, limit"), "{}", error.message);
        assert_eq!(raw.all("collection").unwrap(), ["x", "y"]);
        assert!(raw.one("collection").is_err());
        assert_eq!(raw.number("limit").unwrap(), Some(5));
        assert!(
            RawParams::parse("q=a&")
                .unwrap()
                .flag("history")
                .is_ok_and(|f| !f)
        );
        assert!(
            RawParams::parse("history")
                .unwrap()
                .flag("history")
                .unwrap()
        );
        assert!(
            RawParams::parse("history=maybe")
                .unwrap()
                .flag("history")
                .is_err()
        );
        assert!(RawParams::parse(&"a=1&".repeat(MAX_PAIRS + 1)).is_err());
    }
}
