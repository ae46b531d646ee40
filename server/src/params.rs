//! Reading parameters from the URL, strictly: bad percent-encoding, invalid UTF-8, NUL
//! characters, repeated single values and unknown names are 400s that name the parameter,
//! never axum's plain-text rejections.
//!
//! An endpoint's parameters are one struct that derives `serde::Deserialize` (how they are
//! read, with `serde_html_form` for repeated names) and `utoipa::IntoParams` (how they are
//! documented). The names accepted, and which of them may be repeated, are read from that
//! documentation ([`QueryParams`]), so what is documented and what is accepted cannot drift
//! apart. Before serde sees the query string, it is decoded here with `percent-encoding`:
//! `serde_html_form` decodes lossily, so it only ever reads what passed this check, and
//! then decodes it the same way.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::{RefOr, Schema};

use crate::error::{ApiError, shorten};
use palimpsest_export::Format;

/// Most `name=value` pairs in one query string.
const MAX_PAIRS: usize = 256;
/// Most values of one repeatable parameter.
const MAX_VALUES: usize = 100;

/// The query parameters of an endpoint: one struct, read by serde and documented by utoipa.
///
/// The names accepted are the documented ones: those of the struct's `IntoParams`, and those
/// of the structs it flattens. A parameter documented as an array may be repeated (at most
/// 100 times); any other is given at most once.
pub trait QueryParams: DeserializeOwned + IntoParams {
    /// The parameters of the structs this one flattens (`#[serde(flatten)]` with
    /// `#[param(ignore)]`: utoipa does not see into them, so the endpoint's `params(…)`
    /// lists them beside this struct).
    fn flattened() -> Vec<Parameter> {
        Vec::new()
    }

    /// Every parameter accepted, in the order the OpenAPI document lists them.
    fn parameters() -> Vec<Parameter> {
        let mut parameters = Self::into_params(|| Some(ParameterIn::Query));
        parameters.extend(Self::flattened());
        parameters
    }
}

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

/// Reads a switch (`#[serde(default, deserialize_with = "params::flag")]`): present without a
/// value, `true` or `1` is true; `false` or `0` is false.
pub fn flag<'de, D: Deserializer<'de>>(value: D) -> Result<Option<bool>, D::Error> {
    match String::deserialize(value)?.as_str() {
        "" | "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        other => Err(D::Error::custom(format!(
            "`{}` is not true or false",
            shorten(other, 40)
        ))),
    }
}

/// Reads a count or a position (`#[serde(default, deserialize_with = "params::number")]`).
pub fn number<'de, D: Deserializer<'de>>(value: D) -> Result<Option<usize>, D::Error> {
    let value = String::deserialize(value)?;
    match value.trim().parse::<usize>() {
        Ok(number) => Ok(Some(number)),
        Err(_) => Err(D::Error::custom(format!(
            "`{}` is not a whole number in range",
            shorten(&value, 40)
        ))),
    }
}

/// Reads the values of a repeatable parameter in a flattened struct, which serde hands one
/// value as a string and several as a list (`#[serde(default, deserialize_with =
/// "params::repeatable")]`).
pub fn repeatable<'de, D: Deserializer<'de>>(values: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMore {
        One(String),
        More(Vec<String>),
    }
    Ok(match OneOrMore::deserialize(values)? {
        OneOrMore::One(value) => vec![value],
        OneOrMore::More(values) => values,
    })
}

/// Decodes the `name=value` pairs of a query string, in order (`+` is a space, `%XX` a byte,
/// the result must be UTF-8 without NUL), at most [`MAX_PAIRS`] of them.
fn decode_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
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
    Ok(pairs)
}

/// Percent-decodes one name or value of a query string, refusing what a lossy decoder would
/// let through: a `%` without two hex digits, bytes that are not UTF-8, NUL.
fn decode(text: &str) -> Result<String, &'static str> {
    let well_formed = text.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return Err("bad percent-encoding: `%` must be followed by two hex digits");
    }
    let spaced = text.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| "not valid UTF-8")?;
    if decoded.contains('\0') {
        return Err("contains a NUL character");
    }
    Ok(decoded.into_owned())
}

/// Fails on the first name not among `accepted`, then on the first parameter given more
/// often than it may be.
fn check(pairs: &[(String, String)], accepted: &[Parameter]) -> Result<(), ApiError> {
    let names: Vec<&str> = accepted.iter().map(|p| p.name.as_str()).collect();
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| !names.contains(&name.as_str()))
    {
        return Err(ApiError::unknown_parameter(name, &names));
    }
    for parameter in accepted {
        let name = parameter.name.as_str();
        let given = pairs.iter().filter(|(n, _)| n == name).count();
        if !is_repeatable(parameter) && given > 1 {
            return Err(ApiError::parameter(name, "given more than once"));
        }
        if given > MAX_VALUES {
            return Err(ApiError::parameter(
                name,
                format!("given {given} times; at most {MAX_VALUES}"),
            ));
        }
    }
    Ok(())
}

/// Whether the parameter is documented as a list of values.
fn is_repeatable(parameter: &Parameter) -> bool {
    matches!(parameter.schema, Some(RefOr::T(Schema::Array(_))))
}

/// Reads `T` from a query string that passed [`check`]; a value serde cannot read is a 400
/// naming its parameter.
fn read<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_html_form::Deserializer::from_bytes(query.as_bytes());
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let name = match error.path().iter().next() {
            Some(serde_path_to_error::Segment::Map { key }) => key.clone(),
            _ => "query string".to_owned(),
        };
        ApiError::parameter(&name, error.inner())
    })
}

/// Reads an endpoint's parameters from a query string, as its extractor does.
pub fn from_query<T: QueryParams>(query: &str) -> Result<T, ApiError> {
    check(&decode_pairs(query)?, &T::parameters())?;
    read(query)
}

/// Extractor of an endpoint's query parameters.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: QueryParams> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        from_query(parts.uri.query().unwrap_or_default()).map(Params)
    }
}

/// Extractor of a list endpoint's parameters and of its `format` ([`FormatParam`]).
pub struct ListParams<T>(pub T, pub Format);

/// The `format` parameter of list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `json` (default: the answer with totals and facets), `jsonl` (one item per line,
    /// `application/x-ndjson`) or `csv` (a header row, one row per item, `text/csv`;
    /// columns as the README lists them).
    #[param(value_type = Option<crate::routes::ListFormat>, example = "csv")]
    pub format: Option<String>,
}

impl QueryParams for FormatParam {}

/// The formats a list endpoint answers in, the default first.
const FORMATS: [(&str, Format); 3] = [
    ("json", Format::Json),
    ("jsonl", Format::Jsonl),
    ("csv", Format::Csv),
];

impl<S: Send + Sync, T: QueryParams> FromRequestParts<S> for ListParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let (params, format) = with_format(parts.uri.query().unwrap_or_default(), &FORMATS)?;
        Ok(ListParams(params, format))
    }
}

/// Reads an endpoint's parameters and `format`, one of `formats` (the first when absent).
pub(crate) fn with_format<T: QueryParams>(
    query: &str,
    formats: &[(&str, Format)],
) -> Result<(T, Format), ApiError> {
    let mut accepted = T::parameters();
    accepted.extend(FormatParam::parameters());
    check(&decode_pairs(query)?, &accepted)?;
    let FormatParam { format } = read(query)?;
    let format = choice("format", format.as_deref(), formats)?;
    Ok((read(query)?, format))
}

/// Endpoints without parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct NoParams {}

impl QueryParams for NoParams {}

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
    use crate::error::Code;

    /// Parameters of every shape an endpoint has.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    struct Sample {
        q: Option<String>,
        #[serde(default)]
        collection: Vec<String>,
        #[serde(default, deserialize_with = "number")]
        limit: Option<usize>,
        #[serde(default, deserialize_with = "flag")]
        history: Option<bool>,
        #[serde(flatten)]
        #[param(ignore)]
        inner: Inner,
    }

    /// A flattened struct with a repeatable parameter.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    struct Inner {
        #[serde(default, deserialize_with = "repeatable")]
        service: Vec<String>,
    }

    impl QueryParams for Sample {
        fn flattened() -> Vec<Parameter> {
            Inner::into_params(|| None)
        }
    }

    fn sample(query: &str) -> Result<Sample, ApiError> {
        from_query(query)
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(decode("a+b%20c%C3%A9").unwrap(), "a b cé");
        assert!(decode("%").is_err());
        assert!(decode("%4").is_err());
        assert!(decode("%zz").is_err());
        assert!(decode("a%%41").is_err());
        assert!(decode("%FF").is_err());
        assert!(decode("a%00b").is_err());
        assert_eq!(decode("%2B").unwrap(), "+");
    }

    #[test]
    fn names_come_from_the_definition_and_repeats_are_checked() {
        let names: Vec<String> = Sample::parameters().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["q", "collection", "limit", "history", "service"]);
        let p = sample("q=a&collection=x&collection=y&limit=5&service=s&&").unwrap();
        assert_eq!(p.q.as_deref(), Some("a"));
        assert_eq!(p.collection, ["x", "y"]);
        assert_eq!(p.inner.service, ["s"]);
        assert_eq!(p.limit, Some(5));
        assert_eq!(p.history, None);
        assert_eq!(
            sample("service=a&service=b").unwrap().inner.service,
            ["a", "b"]
        );

        let error = sample("q=a&sevrice=x").unwrap_err();
        assert_eq!(error.code, Code::UnknownParameter);
        assert!(error.message.contains("`sevrice`"), "{}", error.message);
        assert!(
            error
                .message
                .contains("q, collection, limit, history, service"),
            "{}",
            error.message
        );
        let error = sample("q=a&q=b").unwrap_err();
        assert_eq!(error.message, "invalid parameter `q`: given more than once");
        let error = sample(&"service=x&".repeat(MAX_VALUES + 1)).unwrap_err();
        assert_eq!(
            error.message,
            "invalid parameter `service`: given 101 times; at most 100"
        );
        assert!(sample(&"q=1&".repeat(MAX_PAIRS + 1)).is_err());
        assert!(
            sample("q=%FF")
                .unwrap_err()
                .message
                .contains("`q`: not valid UTF-8")
        );
    }

    #[test]
    fn numbers_and_flags_name_their_parameter() {
        assert_eq!(sample("limit=+7+").unwrap().limit, Some(7));
        let error = sample("limit=ten").unwrap_err();
        assert_eq!(error.code, Code::InvalidParameter);
        assert_eq!(
            error.message,
            "invalid parameter `limit`: `ten` is not a whole number in range"
        );
        assert!(sample("limit=-1").is_err());
        assert!(sample("limit=").is_err());
        for (query, value) in [
            ("history", true),
            ("history=", true),
            ("history=true", true),
            ("history=1", true),
            ("history=false", false),
            ("history=0", false),
        ] {
            assert_eq!(sample(query).unwrap().history, Some(value), "{query}");
        }
        assert_eq!(
            sample("history=maybe").unwrap_err().message,
            "invalid parameter `history`: `maybe` is not true or false"
        );
    }

    #[test]
    fn an_endpoint_without_parameters_refuses_any() {
        let error = check(&decode_pairs("x=1").unwrap(), &NoParams::parameters()).unwrap_err();
        assert_eq!(
            error.message,
            "unknown parameter `x`; this endpoint takes no parameters"
        );
        assert!(read::<NoParams>("").is_ok());
    }
}
