//! What a request presents to prove who it is, per scheme, and the check of its signature.

use crate::error::{ApiError, ErrorCode};
use crate::protocol::parse::names;
use crate::protocol::signature::{self, v2, v3, v4};
use crate::protocol::{RpcRequest, Scheme};
use axum::http::HeaderValue;
use std::borrow::Cow;

/// The credentials of a signed request.
#[derive(Debug)]
pub struct Credentials<'a> {
    pub access_key_id: &'a str,
    /// The signature as sent.
    pub signature: &'a str,
    /// `Timestamp` (V2) or `x-acs-date` (V3/V4), with the name to report it under.
    pub timestamp: Option<(&'static str, &'a str)>,
    /// `SignatureNonce` (V2) or `x-acs-signature-nonce` (V3/V4), with its name.
    pub nonce: (&'static str, Option<&'a str>),
    /// `SecurityToken` (V2) or `x-acs-security-token` (V3/V4).
    pub security_token: Option<&'a str>,
    kind: Kind<'a>,
}

#[derive(Debug)]
enum Kind<'a> {
    V2,
    Acs {
        authorization: v3::Authorization<'a>,
        scope: Option<v4::Scope<'a>>,
    },
}

impl<'a> Credentials<'a> {
    /// Steps 1–2 of `wire.md` §2: credentials present and complete, a supported method.
    pub fn extract(request: &'a RpcRequest) -> Result<Self, ApiError> {
        match request.scheme {
            Scheme::V2 => Self::extract_v2(request),
            Scheme::V3 | Scheme::V4 => Self::extract_acs(request),
        }
    }

    fn extract_v2(request: &'a RpcRequest) -> Result<Self, ApiError> {
        let params = &request.params;
        let access_key_id = params.required("AccessKeyId")?;
        let signature = params.required("Signature")?;
        for (name, supported) in [
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
        ] {
            if params.required(name)? != supported {
                return Err(ApiError::invalid(name));
            }
        }
        Ok(Self {
            access_key_id,
            signature,
            timestamp: params.optional("Timestamp").map(|t| ("Timestamp", t)),
            nonce: ("SignatureNonce", params.optional("SignatureNonce")),
            security_token: params.optional("SecurityToken"),
            kind: Kind::V2,
        })
    }

    fn extract_acs(request: &'a RpcRequest) -> Result<Self, ApiError> {
        let incomplete = || ApiError::new(ErrorCode::IncompleteSignature);
        let header = |name| request.header(name).map(|v| v.filter(|v| !v.is_empty()));
        let authorization = header(&names::AUTHORIZATION)?
            .and_then(v3::Authorization::parse)
            .ok_or_else(incomplete)?;
        let scope = match request.scheme {
            Scheme::V4 => Some(v4::Scope::parse(authorization.credential).ok_or_else(incomplete)?),
            _ => None,
        };
        if authorization.algorithm != algorithm(request.scheme) {
            return Err(incomplete());
        }
        Ok(Self {
            access_key_id: authorization.access_key_id(),
            signature: authorization.signature,
            timestamp: header(&names::X_ACS_DATE)?.map(|t| ("x-acs-date", t)),
            nonce: (
                "x-acs-signature-nonce",
                header(&names::X_ACS_SIGNATURE_NONCE)?,
            ),
            security_token: header(&names::X_ACS_SECURITY_TOKEN)?,
            kind: Kind::Acs {
                authorization,
                scope,
            },
        })
    }

    /// The server's string to sign and the signature `secret` gives it.
    pub fn expected(&self, request: &RpcRequest, secret: &str) -> (String, Expected) {
        let method = request.method.as_str();
        match &self.kind {
            Kind::V2 => {
                let params = request
                    .params
                    .pairs()
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()));
                let string_to_sign = v2::string_to_sign(method, params);
                let signature = v2::sign(secret, &string_to_sign);
                (string_to_sign, Expected::Text(signature))
            }
            Kind::Acs {
                authorization,
                scope,
            } => {
                // The headers as a flat list, walked once per signed header: `HeaderMap`'s
                // own iterator (or a lookup, which parses and hashes the name) costs more.
                let headers: Vec<(&str, &HeaderValue)> = request
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value))
                    .collect();
                let string_to_sign = CANONICAL.with_borrow_mut(|canonical| {
                    canonical.clear();
                    v3::push_canonical_request(
                        canonical,
                        method,
                        request.query_pairs(),
                        authorization.signed_headers(),
                        |name| header_values(&headers, name),
                        &body_hash(request),
                    );
                    v3::string_to_sign(authorization.algorithm, canonical)
                });
                let mac = match scope {
                    None => v3::mac(secret, &string_to_sign),
                    Some(scope) => v4::mac(secret, scope, &string_to_sign),
                };
                (string_to_sign, Expected::Hex(signature::hex_mac(&mac)))
            }
        }
    }

    /// Step 6: the signature matches, or `SignatureDoesNotMatch` with the server's string to
    /// sign, byte-exact (the old Python SDK compares it with its own).
    pub fn verify(&self, request: &RpcRequest, secret: &str) -> Result<(), ApiError> {
        self.check(request, secret).1
    }

    /// As `verify`, also answering the server's string to sign (for the journal).
    pub fn check(&self, request: &RpcRequest, secret: &str) -> (String, Result<(), ApiError>) {
        let (string_to_sign, expected) = self.expected(request, secret);
        let body_hash_ok = match self.kind {
            Kind::V2 => true,
            Kind::Acs { .. } => request
                .header(&names::X_ACS_CONTENT_SHA256)
                .ok()
                .flatten()
                .is_none_or(|claimed| claimed == &*body_hash(request)),
        };
        let sent = self.signature.as_bytes();
        let matches = signature::signatures_equal(expected.as_bytes(), sent)
            || matches!(self.kind, Kind::V2)
                && v2::form_string_to_sign(&string_to_sign).is_some_and(|form| {
                    signature::signatures_equal(v2::sign(secret, &form).as_bytes(), sent)
                });
        let outcome = if body_hash_ok && matches {
            Ok(())
        } else {
            Err(ApiError::with(
                ErrorCode::SignatureDoesNotMatch,
                &string_to_sign,
            ))
        };
        (string_to_sign, outcome)
    }
}

/// The signature a request should carry, as it would carry it.
#[derive(Debug, PartialEq, Eq)]
pub enum Expected {
    /// V2: base64 of an HMAC-SHA1.
    Text(String),
    /// V3/V4: lower-case hex of an HMAC-SHA256 (on the stack: no allocation per request).
    Hex([u8; 64]),
}

impl Expected {
    /// As text (hex and base64 are ASCII).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Expected::Text(text) => text.as_bytes(),
            Expected::Hex(hex) => hex,
        }
    }
}

thread_local! {
    /// The canonical request being hashed on this thread (its capacity kept between requests).
    static CANONICAL: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn algorithm(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::V4 => v4::ALGORITHM,
        Scheme::V2 | Scheme::V3 => v3::ALGORITHM,
    }
}

/// A header's values, joined by `,` as a client would have signed them (borrowed when there
/// is one UTF-8 value: nearly always).
fn header_values<'r>(headers: &[(&str, &'r HeaderValue)], name: &str) -> Option<Cow<'r, str>> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, value)| *value);
    let text = |value: &'r HeaderValue| match value.to_str() {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    };
    let first = text(values.next()?);
    Some(values.fold(first, |mut all, value| {
        let all_mut = all.to_mut();
        all_mut.push(',');
        all_mut.push_str(&text(value));
        all
    }))
}

/// The hex SHA-256 of the body (of the empty body, without hashing: most requests).
fn body_hash(request: &RpcRequest) -> Cow<'static, str> {
    if request.body.is_empty() {
        Cow::Borrowed(v3::EMPTY_BODY_SHA256)
    } else {
        Cow::Owned(v3::hex_sha256(&request.body))
    }
}
