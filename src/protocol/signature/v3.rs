//! V3: `ACS3-HMAC-SHA256` in the `Authorization` header. The canonical request is rebuilt from
//! the SignedHeaders list the client sent (SDKs sign different sets); the key is the secret
//! itself (`WIRE.md` §2). V4 shares the canonical request and differs only in the key.

use super::{hmac_sha256, push_canonical_query, push_hex, split_ascii, split_once_ascii, to_hex};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// `hex(SHA-256(""))`, what every SDK sends for an empty body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A parsed `Authorization: <algorithm> Credential=…,SignedHeaders=a;b,Signature=hex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub algorithm: &'a str,
    /// `AK` for V3, `AK/YYYYMMDD/<region>/<product>/aliyun_v4_request` for V4.
    pub credential: &'a str,
    /// The `SignedHeaders` value, `a;b;c`.
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// Parses the header; `None` when any part is missing or empty (`IncompleteSignature`).
    pub fn parse(value: &'a str) -> Option<Self> {
        let (algorithm, rest) = split_once_ascii(value.trim_ascii(), b' ')?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in split_ascii(rest, b',') {
            let (name, value) = split_once_ascii(part, b'=')?;
            let slot = match name.trim_ascii() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => return None,
            };
            *slot = Some(value.trim_ascii()).filter(|v| !v.is_empty());
        }
        Some(Self {
            algorithm,
            credential: credential?,
            signed_headers: signed_headers?,
            signature: signature?,
        })
    }

    /// The signed header names, in the order sent.
    pub fn signed_headers(&self) -> impl Iterator<Item = &'a str> + Clone {
        split_ascii(self.signed_headers, b';')
    }

    /// The AccessKeyId of the credential (before any `/scope`).
    pub fn access_key_id(&self) -> &'a str {
        split_once_ascii(self.credential, b'/').map_or(self.credential, |(id, _)| id)
    }
}

/// Hex SHA-256 of a payload.
pub fn hex_sha256(payload: &[u8]) -> String {
    to_hex(&Sha256::digest(payload))
}

/// The canonical request: method, `/`, canonical query (the real query only), a
/// `name:trim(value)` line per signed header, the signed header list, the payload hash.
/// `header` returns a header's value (several values joined by `,`), or `None`.
pub fn canonical_request<'a, 'n, 'h>(
    method: &str,
    query: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    signed_headers: impl Iterator<Item = &'n str> + Clone,
    header: impl Fn(&str) -> Option<Cow<'h, str>>,
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(768);
    push_canonical_request(
        &mut out,
        method,
        query,
        signed_headers,
        header,
        payload_hash,
    );
    out
}

/// Appends the canonical request to `out` (a buffer kept between requests).
pub fn push_canonical_request<'a, 'n, 'h>(
    out: &mut String,
    method: &str,
    query: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    signed_headers: impl Iterator<Item = &'n str> + Clone,
    header: impl Fn(&str) -> Option<Cow<'h, str>>,
    payload_hash: &str,
) {
    out.push_str(method);
    out.push_str("\n/\n");
    push_canonical_query(out, query);
    out.push('\n');
    for name in signed_headers.clone() {
        let name = match name.bytes().any(|b| b.is_ascii_uppercase()) {
            true => Cow::Owned(name.to_ascii_lowercase()),
            false => Cow::Borrowed(name),
        };
        let value = header(&name).unwrap_or_default();
        out.push_str(&name);
        out.push(':');
        out.push_str(value.trim());
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in signed_headers.enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
}

/// `<algorithm>\n<hex SHA-256 of the canonical request>`.
pub fn string_to_sign(algorithm: &str, canonical_request: &str) -> String {
    let mut out = String::with_capacity(algorithm.len() + 65);
    out.push_str(algorithm);
    out.push('\n');
    push_hex(&mut out, &Sha256::digest(canonical_request.as_bytes()));
    out
}

/// The `Authorization` value a client sends: signs `method`, the `query` and every one of
/// `headers` (lower-case names, sorted) as the SDKs do, for a request with an empty body.
pub fn authorization(
    method: &str,
    query: &[(String, String)],
    headers: &[(&str, String)],
    access_key_id: &str,
    secret: &str,
) -> String {
    let signed_headers: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
    let canonical = canonical_request(
        method,
        query.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        signed_headers.iter().copied(),
        |name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| Cow::Borrowed(v.as_str()))
        },
        EMPTY_BODY_SHA256,
    );
    let signature = sign(secret, &string_to_sign(ALGORITHM, &canonical));
    format!(
        "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={signature}",
        signed_headers.join(";")
    )
}

/// hex(HMAC-SHA256(secret, string_to_sign)).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    to_hex(&mac(secret, string_to_sign))
}

/// HMAC-SHA256(secret, string_to_sign): the signature before hex.
pub fn mac(secret: &str, string_to_sign: &str) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_body_hash_is_the_hash_of_nothing() {
        assert_eq!(hex_sha256(b""), EMPTY_BODY_SHA256);
    }

    #[test]
    fn authorization_headers_parse_and_partial_ones_do_not() {
        let parsed = Authorization::parse(
            "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=abc",
        )
        .unwrap();
        assert_eq!(parsed.algorithm, "ACS3-HMAC-SHA256");
        assert_eq!(parsed.access_key_id(), "AK");
        assert_eq!(
            parsed.signed_headers().collect::<Vec<_>>(),
            ["host", "x-acs-date"]
        );
        assert_eq!(parsed.signature, "abc");
        for partial in [
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 Credential=AK,Signature=abc",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=abc",
            "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=abc,Extra=1",
        ] {
            assert_eq!(Authorization::parse(partial), None, "{partial}");
        }
    }
}
