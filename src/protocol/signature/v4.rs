//! V4: `ACS4-HMAC-SHA256`, the V3 canonical request signed with a key derived from the secret,
//! the date, region and product of the credential scope (`WIRE.md` §2).

use super::hmac_sha256;

pub const ALGORITHM: &str = "ACS4-HMAC-SHA256";

/// The parts of a V4 credential `AK/YYYYMMDD/<region>/<product>/aliyun_v4_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub product: &'a str,
}

impl<'a> Scope<'a> {
    /// `None` unless the credential has all five parts, ending in `aliyun_v4_request`.
    pub fn parse(credential: &'a str) -> Option<Self> {
        let mut parts = credential.split('/');
        let scope = Self {
            access_key_id: parts.next()?,
            date: parts.next()?,
            region: parts.next()?,
            product: parts.next()?,
        };
        let complete = parts.next() == Some("aliyun_v4_request") && parts.next().is_none();
        let filled = [scope.access_key_id, scope.date, scope.region, scope.product]
            .iter()
            .all(|part| !part.is_empty());
        (complete && filled).then_some(scope)
    }
}

/// k = HMAC('aliyun_v4' + secret, date) → region → product → 'aliyun_v4_request'.
pub fn derive_key(secret: &str, scope: &Scope<'_>) -> [u8; 32] {
    let key = hmac_sha256(
        format!("aliyun_v4{secret}").as_bytes(),
        scope.date.as_bytes(),
    );
    let key = hmac_sha256(&key, scope.region.as_bytes());
    let key = hmac_sha256(&key, scope.product.as_bytes());
    hmac_sha256(&key, b"aliyun_v4_request")
}

/// hex(HMAC-SHA256(derived key, string_to_sign)).
pub fn sign(secret: &str, scope: &Scope<'_>, string_to_sign: &str) -> String {
    super::to_hex(&mac(secret, scope, string_to_sign))
}

/// HMAC-SHA256(derived key, string_to_sign): the signature before hex.
pub fn mac(secret: &str, scope: &Scope<'_>, string_to_sign: &str) -> [u8; 32] {
    hmac_sha256(&derive_key(secret, scope), string_to_sign.as_bytes())
}
