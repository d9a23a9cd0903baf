//! The three signature schemes the official SDKs emit, as pure functions: canonical forms,
//! strings to sign and signatures, no I/O. Proven against the requests the SDKs were recorded
//! making (`shared/vectors/`), never only against a signer of ours.

pub mod client;
pub mod v2;
pub mod v3;
pub mod v4;

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// RFC 3986 unreserved characters stay; everything else is `%XX` upper-case (space `%20`,
/// `*` `%2A`, `~` literal), over UTF-8.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `text` the way every Alibaba Cloud signature scheme does.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_encoded(&mut out, text);
    out
}

/// Appends `text` percent-encoded to `out`.
fn push_encoded(out: &mut String, text: &str) {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    if text.bytes().all(unreserved) {
        out.push_str(text);
        return;
    }
    for chunk in utf8_percent_encode(text, RFC3986) {
        out.push_str(chunk);
    }
}

/// `enc(k)=enc(v)` joined by `&`, sorted by name then value (byte order).
pub fn canonical_query<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
    I::IntoIter: Clone,
{
    let mut out = String::new();
    push_canonical_query(&mut out, pairs);
    out
}

/// Appends the canonical query of `pairs` to `out`. Pairs already in order (a request's
/// merged parameters are) are written as they come, without being collected and sorted.
pub fn push_canonical_query<'a, I>(out: &mut String, pairs: I)
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
    I::IntoIter: Clone,
{
    let pairs = pairs.into_iter();
    if pairs.clone().is_sorted() {
        write_query(out, pairs);
    } else {
        let mut sorted: Vec<(&str, &str)> = pairs.collect();
        sorted.sort_unstable();
        write_query(out, sorted.into_iter());
    }
}

fn write_query<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) {
    let length: usize = pairs.clone().map(|(n, v)| n.len() + v.len() + 2).sum();
    out.reserve(length + length / 4);
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_encoded(out, name);
        out.push('=');
        push_encoded(out, value);
    }
}

/// Splits `text` on an ASCII `separator` with a plain byte scan (`str::split` sets up a
/// generic searcher per call: measurable on strings this short, split on every request).
pub(crate) fn split_ascii(text: &str, separator: u8) -> impl Iterator<Item = &str> + Clone {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match split_once_ascii(text, separator) {
            Some((piece, tail)) => {
                rest = Some(tail);
                Some(piece)
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// `text` around the first ASCII `separator` (`memchr`: vector instructions, not a byte loop).
pub(crate) fn split_once_ascii(text: &str, separator: u8) -> Option<(&str, &str)> {
    let at = memchr::memchr(separator, text.as_bytes())?;
    // An ASCII byte is always a character boundary.
    Some((&text[..at], &text[at + 1..]))
}

/// Lower-case hex (`hex::encode` collects `char`s one by one: measurably slower here).
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    out
}

/// A SHA-256 MAC in lower-case hex, on the stack (what V3 and V4 signatures look like).
pub fn hex_mac(mac: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 64];
    for (pair, byte) in out.chunks_exact_mut(2).zip(mac) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}

/// Appends `bytes` in lower-case hex.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

pub(crate) fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Compares two signatures in time independent of where they differ.
pub fn signatures_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_rfc3986_as_the_sdks_do() {
        assert_eq!(
            percent_encode("emu test ~*'()!+/=&:; 中文"),
            "emu%20test%20~%2A%27%28%29%21%2B%2F%3D%26%3A%3B%20%E4%B8%AD%E6%96%87"
        );
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
    }

    /// The ways the official SDKs write a value on the wire (`WIRE.md` §1, consequence 3).
    fn client_encodings(text: &str) -> [String; 3] {
        let rfc3986 = percent_encode(text);
        let python_tea = rfc3986.replace("%20", "+");
        let encode_uri_component = [
            ("%21", "!"),
            ("%2A", "*"),
            ("%27", "'"),
            ("%28", "("),
            ("%29", ")"),
        ]
        .iter()
        .fold(rfc3986.clone(), |acc, (from, to)| acc.replace(from, to));
        [rfc3986, python_tea, encode_uri_component]
    }

    proptest::proptest! {
        /// Whatever a client's encoding, decoding then canonicalizing gives the canonical form
        /// of the parameters it meant.
        #[test]
        fn any_parameters_round_trip_to_the_same_canonical_form(
            params in proptest::collection::btree_map("[A-Za-z][A-Za-z0-9.]{0,12}", "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\u{9f}]{0,24}", 0..8)
        ) {
            let expected = canonical_query(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            for style in 0..3 {
                let wire: Vec<String> = params
                    .iter()
                    .map(|(k, v)| format!("{}={}", client_encodings(k)[style], client_encodings(v)[style]))
                    .collect();
                let decoded = crate::protocol::params::decode_form(wire.join("&").as_bytes()).unwrap();
                let merged = crate::protocol::Params::merge(decoded).unwrap();
                let actual = canonical_query(merged.pairs().iter().map(|(k, v)| (k.as_str(), v.as_str())));
                proptest::prop_assert_eq!(&actual, &expected, "style {}", style);
            }
        }
    }

    #[test]
    fn canonical_query_sorts_and_keeps_empty_values() {
        assert_eq!(
            canonical_query([("b", "2"), ("SignatureType", ""), ("a", "x y")]),
            "SignatureType=&a=x%20y&b=2"
        );
        assert_eq!(
            canonical_query([("SignatureType", ""), ("a", "x y"), ("b", "2")]),
            "SignatureType=&a=x%20y&b=2"
        );
    }

    #[test]
    fn macs_are_written_in_lower_case_hex() {
        let mac: [u8; 32] = std::array::from_fn(|i| (i * 8 + 7) as u8);
        assert_eq!(hex_mac(&mac).as_slice(), to_hex(&mac).as_bytes());
    }
}
