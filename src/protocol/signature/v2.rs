//! V2: HMAC-SHA1 over the canonical query of every parameter but `Signature` (query and form
//! body, empty values included); key `secret&`; base64 (`WIRE.md` §2).

use super::{canonical_query, hmac_sha1, percent_encode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// `METHOD&%2F&enc(canonical query)`, over all decoded parameters but `Signature`.
pub fn string_to_sign<'a, I>(method: &str, params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
    I::IntoIter: Clone,
{
    let canonical = canonical_query(params.into_iter().filter(|(name, _)| *name != "Signature"));
    format!("{method}&%2F&{}", percent_encode(&canonical))
}

/// base64(HMAC-SHA1(secret + "&", string_to_sign)).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    BASE64.encode(hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}
