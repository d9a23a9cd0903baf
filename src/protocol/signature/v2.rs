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

/// The string to sign as `alibabacloud_credentials` computes it (`sts.md` §1): each name and
/// value form-encoded before the canonical query is encoded again, so a space is `+` (then
/// `%2B`) where the standard encoding has `%20` (then `%2520`); nothing else differs. `None`
/// when no parameter holds a space, where both strings are the same.
pub fn form_string_to_sign(standard: &str) -> Option<String> {
    standard
        .contains("%2520")
        .then(|| standard.replace("%2520", "%2B"))
}

/// base64(HMAC-SHA1(secret + "&", string_to_sign)).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    BASE64.encode(hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}
