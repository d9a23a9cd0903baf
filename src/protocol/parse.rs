//! From HTTP to an RPC request: body within its limit, query and form body decoded and merged,
//! the signature scheme recognised, the response format chosen (`wire.md` §1).

use super::body::{self, BodyError};
use super::params::{MAX_PARAMS, Pair, Params, count_pairs, decode_form};
use crate::error::{ApiError, ErrorCode};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, Method, header};
use std::time::Duration;

/// The request headers the gateway reads, parsed once at compile time (a lookup by `&str`
/// validates and hashes the name every time).
pub mod names {
    use super::HeaderName;
    pub const AUTHORIZATION: HeaderName = axum::http::header::AUTHORIZATION;
    pub const X_ACS_ACTION: HeaderName = HeaderName::from_static("x-acs-action");
    pub const X_ACS_VERSION: HeaderName = HeaderName::from_static("x-acs-version");
    pub const X_ACS_DATE: HeaderName = HeaderName::from_static("x-acs-date");
    pub const X_ACS_SIGNATURE_NONCE: HeaderName = HeaderName::from_static("x-acs-signature-nonce");
    pub const X_ACS_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-acs-security-token");
    pub const X_ACS_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-acs-content-sha256");
    pub const X_ACS_ACCESSKEY_ID: HeaderName = HeaderName::from_static("x-acs-accesskey-id");
}

/// How a request is signed, which decides where its Version/Action live and its default format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Signature` parameter (HMAC-SHA1), or no signature at all: no `Authorization` header.
    V2,
    /// `Authorization: ACS3-HMAC-SHA256 …`, or an `Authorization` header of no scheme we
    /// know (`Bearer …`, `Basic …`, empty), which authentication then refuses as
    /// `IncompleteSignature` (`wire.md` §2, failure 1). No SDK sends `Authorization` with a
    /// V2 request, so such a header is a malformed ACS header, not a V2 request.
    V3,
    /// `Authorization: ACS4-HMAC-SHA256 …`.
    V4,
}

impl Scheme {
    /// Recognised from the `Authorization` header: none is V2, `ACS4-…` is V4, any other V3.
    pub fn of(headers: &HeaderMap) -> Self {
        match headers.get(header::AUTHORIZATION) {
            None => Scheme::V2,
            Some(value) if value.as_bytes().starts_with(b"ACS4-HMAC-SHA256") => Scheme::V4,
            Some(_) => Scheme::V3,
        }
    }

    /// XML for V2 (the documented ECS default), JSON for V3/V4 (they ask for it).
    pub fn default_format(self) -> Format {
        match self {
            Scheme::V2 => Format::Xml,
            Scheme::V3 | Scheme::V4 => Format::Json,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::V2 => "V2",
            Scheme::V3 => "V3",
            Scheme::V4 => "V4",
        }
    }
}

/// The response body format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    fn parse(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("json") {
            Some(Format::Json)
        } else if value.eq_ignore_ascii_case("xml") {
            Some(Format::Xml)
        } else {
            None
        }
    }

    /// The format to answer a request in before its parameters are decoded (a bad method, a
    /// body too large): a well-formed `Format` in the query if there is one, else the scheme's
    /// default.
    pub fn hint(query: Option<&str>, scheme: Scheme) -> Self {
        query
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("Format=").and_then(Format::parse))
            .unwrap_or(scheme.default_format())
    }
}

/// A decoded RPC request, before routing.
#[derive(Debug)]
pub struct RpcRequest {
    pub method: Method,
    pub scheme: Scheme,
    pub headers: HeaderMap,
    /// The query's own pairs (V3/V4 sign the query alone); `None` when they are exactly the
    /// params (no form body, no pair repeated): most requests, which then hold them once.
    query: Option<Vec<Pair>>,
    pub body: Bytes,
    /// Query and form body merged.
    pub params: Params,
    pub format: Format,
}

impl RpcRequest {
    /// The query's own pairs, in no particular order.
    pub fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        let pairs = self.query.as_deref().unwrap_or(self.params.pairs());
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// A header's value as text; a value that is not UTF-8 is `InvalidParameter` naming it.
    pub fn header(&self, name: &HeaderName) -> Result<Option<&str>, ApiError> {
        self.headers
            .get(name)
            .map(|v| {
                std::str::from_utf8(v.as_bytes()).map_err(|_| ApiError::invalid(name.as_str()))
            })
            .transpose()
    }
}

/// Header fields a request may carry (`RequestHeaderFieldsTooLarge`; past `server::MAX_HEAD_FIELDS`
/// hyper itself refuses them with a bare 431).
pub const MAX_HEADERS: usize = 64;
/// Bytes of header names and values a request may carry (`RequestHeaderFieldsTooLarge`; a
/// head over hyper's 64 KiB buffer gets hyper's bare 431).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses a request whose headers exceed `MAX_HEADERS` or `MAX_HEADER_BYTES`.
pub fn check_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        let limits = format!("{MAX_HEADERS} fields and {MAX_HEADER_BYTES} bytes");
        return Err(ApiError::with(
            ErrorCode::RequestHeaderFieldsTooLarge,
            &limits,
        ));
    }
    Ok(())
}

/// Reads the body ([`body::read`]): over `limit` bytes it is `RequestEntityTooLarge` (answer
/// it with `connection: close`), not all there within `timeout` `RequestTimeout`.
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    body::read(headers, body, limit, timeout)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => {
                ApiError::with(ErrorCode::RequestEntityTooLarge, &limit.to_string())
            }
            BodyError::TimedOut => {
                ApiError::with(ErrorCode::RequestTimeout, &timeout.as_secs().to_string())
            }
            // The client went away or sent a broken chunked body: nothing was read.
            BodyError::Broken => ApiError::invalid("Body"),
        })
}

/// Decodes query and form body into one request (`wire.md` §1).
pub fn decode(
    method: Method,
    headers: HeaderMap,
    raw_query: Option<&str>,
    body: Bytes,
) -> Result<RpcRequest, ApiError> {
    let scheme = Scheme::of(&headers);
    let raw_query = raw_query.unwrap_or_default().as_bytes();
    let has_form = method == Method::POST && is_form(&headers);
    let count = count_pairs(raw_query) + if has_form { count_pairs(&body) } else { 0 };
    if count > MAX_PARAMS {
        return Err(ApiError::with(
            ErrorCode::TooManyParameters,
            &MAX_PARAMS.to_string(),
        ));
    }
    let mut query = decode_form(raw_query)?;
    let form = if has_form {
        decode_form(&body)?
    } else {
        Vec::new()
    };
    let (params, query) = if form.is_empty() {
        // The merge drops a pair sent twice; the signature covers both, so keep a copy then.
        query.sort_unstable();
        let repeated = query.windows(2).any(|w| w[0] == w[1]);
        let signed = repeated.then(|| query.clone());
        (Params::merge(query)?, signed)
    } else {
        (
            Params::merge(query.iter().cloned().chain(form))?,
            Some(query),
        )
    };
    let format = match params.get("Format") {
        None => scheme.default_format(),
        Some(value) => Format::parse(value).ok_or_else(|| ApiError::invalid("Format"))?,
    };
    Ok(RpcRequest {
        method,
        scheme,
        headers,
        query,
        body,
        params,
        format,
    })
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}
