//! Request parameters: strict form decoding, the merge of query and body, and the `Params`
//! reader actions parse from. The reader remembers which parameters were read, so the journal
//! can list the ones nothing used.

use crate::error::ApiError;
use std::sync::atomic::{AtomicBool, Ordering};

/// One decoded `name=value` pair.
pub type Pair = (String, String);

/// Parameters a request may carry, query and form body together (`TooManyParameters`).
pub const MAX_PARAMS: usize = 256;
/// The longest parameter name, in bytes once decoded (`InvalidParameter` naming it).
pub const MAX_NAME_BYTES: usize = 128;
/// The longest parameter value, in bytes once decoded (`InvalidParameter` naming it).
pub const MAX_VALUE_BYTES: usize = 32 * 1024;

/// The number of pairs `decode_form` will find in `raw`, counted without decoding.
pub fn count_pairs(raw: &[u8]) -> usize {
    raw.split(|&b| b == b'&').filter(|s| !s.is_empty()).count()
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space), refusing what the real
/// gateway cannot make sense of: a `%` not followed by two hex digits, or bytes that are not
/// UTF-8. The error names the parameter.
pub fn decode_form(raw: &[u8]) -> Result<Vec<Pair>, ApiError> {
    raw.split(|&b| b == b'&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let (name, value) = match segment.iter().position(|&b| b == b'=') {
                Some(i) => (&segment[..i], &segment[i + 1..]),
                None => (segment, &b""[..]),
            };
            let name = decode_component(name)
                .filter(|name| name.len() <= MAX_NAME_BYTES)
                .ok_or_else(|| ApiError::invalid(&printable(&String::from_utf8_lossy(name))))?;
            let value = decode_component(value)
                .filter(|value| value.len() <= MAX_VALUE_BYTES)
                .ok_or_else(|| ApiError::invalid(&printable(&name)))?;
            Ok((name, value))
        })
        .collect()
}

fn decode_component(raw: &[u8]) -> Option<String> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).ok()
}

/// A name fit to be echoed in a message: control characters (which XML cannot carry) become
/// `?`, and a name past `MAX_NAME_BYTES` is cut there (`…` marks the cut).
fn printable(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if out.len() + c.len_utf8() > MAX_NAME_BYTES {
            out.push('…');
            break;
        }
        let unprintable = c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}');
        out.push(if unprintable { '?' } else { c });
    }
    out
}

/// A character XML 1.0 cannot carry — a control character other than tab, CR or LF, or the
/// non-characters U+FFFE and U+FFFF — is never accepted (and never echoed): the answer may be
/// XML (found by fuzzing: `fuzz/regressions/rpc_service/`).
pub fn has_forbidden_control(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && !matches!(c, '\t' | '\r' | '\n')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    })
}

/// The merged parameters of one request, sorted by name, each name once.
#[derive(Debug, Default)]
pub struct Params {
    entries: Vec<Pair>,
    /// Atomic so a request can be held across an await (a fault's latency, the state file).
    read: Vec<AtomicBool>,
}

impl Params {
    /// Merges pairs from the query and the body. A name given twice with different values, or a
    /// name or value holding a forbidden control character, is `InvalidParameter` naming it.
    pub fn merge(pairs: impl IntoIterator<Item = Pair>) -> Result<Self, ApiError> {
        let mut entries: Vec<Pair> = pairs.into_iter().collect();
        entries.sort();
        entries.dedup();
        for window in entries.windows(2) {
            if window[0].0 == window[1].0 {
                return Err(ApiError::invalid(&printable(&window[0].0)));
            }
        }
        if let Some((name, _)) = entries
            .iter()
            .find(|(name, value)| has_forbidden_control(name) || has_forbidden_control(value))
        {
            return Err(ApiError::invalid(&printable(name)));
        }
        let read = entries.iter().map(|_| AtomicBool::new(false)).collect();
        Ok(Self { entries, read })
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
    }

    /// The value of `name` as sent (possibly empty); marks it read.
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self.position(name)?;
        self.read[i].store(true, Ordering::Relaxed);
        Some(&self.entries[i].1)
    }

    /// The value of `name` as sent, without marking it read (for the gateway's own use).
    pub fn peek(&self, name: &str) -> Option<&str> {
        self.position(name).map(|i| self.entries[i].1.as_str())
    }

    /// The value of `name`, an empty value counting as absent.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The value of `name`; absent or empty is `MissingParameter` naming it.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name).ok_or_else(|| ApiError::missing(name))
    }

    /// A boolean (`true`/`True`/`false`/`False`, any case); absent or empty is `None`,
    /// anything else `InvalidParameter` naming it.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.optional(name)
            .map(|value| {
                if value.eq_ignore_ascii_case("true") {
                    Ok(true)
                } else if value.eq_ignore_ascii_case("false") {
                    Ok(false)
                } else {
                    Err(ApiError::invalid(name))
                }
            })
            .transpose()
    }

    /// A decimal integer within `range`; absent or empty is `None`, anything else
    /// `InvalidParameter` naming it.
    pub fn integer(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<Option<u32>, ApiError> {
        self.optional(name)
            .map(|value| {
                value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| ApiError::invalid(name))
            })
            .transpose()
    }

    /// Marks parameters as used without reading them (the protocol's own parameters).
    pub fn mark_read(&self, names: &[&str]) {
        // A walk over the request's few parameters, not a search per name.
        for ((name, _), read) in self.entries.iter().zip(&self.read) {
            if names.contains(&name.as_str()) {
                read.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Every pair, sorted by name, with whether anything read it (for the journal).
    pub fn each(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.entries
            .iter()
            .zip(&self.read)
            .map(|((name, value), read)| {
                (name.as_str(), value.as_str(), read.load(Ordering::Relaxed))
            })
    }

    /// The names nothing read, sorted.
    #[cfg(test)]
    fn unread(&self) -> Vec<&str> {
        self.each()
            .filter(|(_, _, read)| !read)
            .map(|(name, _, _)| name)
            .collect()
    }

    /// Every pair, sorted by name (for canonicalization and the journal); marks nothing.
    pub fn pairs(&self) -> &[Pair] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn pairs(raw: &str) -> Vec<Pair> {
        decode_form(raw.as_bytes()).unwrap()
    }

    #[test]
    fn form_rules_decode_plus_and_percent() {
        assert_eq!(
            pairs("A=a+b%20c&B=%E4%B8%AD&C=&D"),
            [
                ("A".into(), "a b c".into()),
                ("B".into(), "中".into()),
                ("C".into(), String::new()),
                ("D".into(), String::new())
            ]
        );
    }

    #[test]
    fn bad_percent_encoding_and_utf8_name_the_parameter() {
        for raw in ["KMSKeyId=%ZZ", "KMSKeyId=%4", "KMSKeyId=%FF"] {
            let e = decode_form(raw.as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter);
            assert!(e.message.contains("\"KMSKeyId\""), "{raw}: {}", e.message);
        }
    }

    #[test]
    fn duplicates_with_different_values_are_refused() {
        let same = Params::merge(pairs("A=1&A=1")).unwrap();
        assert_eq!(same.get("A"), Some("1"));
        let e = Params::merge(pairs("A=1&A=2")).unwrap_err();
        assert_eq!(e.message, ErrorCode::InvalidParameter.render("A"));
    }

    #[test]
    fn control_characters_are_refused_but_not_echoed() {
        let e = Params::merge(pairs("A=x%00y")).unwrap_err();
        assert_eq!(e.message, ErrorCode::InvalidParameter.render("A"));
        let e = Params::merge(pairs("A%01=x")).unwrap_err();
        assert_eq!(e.message, ErrorCode::InvalidParameter.render("A?"));
        assert!(Params::merge(pairs("A=tab%09cr%0Dlf%0A")).is_ok());
    }

    #[test]
    fn typed_readers_refuse_what_they_cannot_read() {
        let params = Params::merge(pairs("T=True&F=false&X=yes&N=42&Big=101&Neg=-1&E=")).unwrap();
        assert_eq!(params.boolean("T").unwrap(), Some(true));
        assert_eq!(params.boolean("F").unwrap(), Some(false));
        assert_eq!(params.boolean("E").unwrap(), None);
        assert_eq!(params.boolean("X").unwrap_err(), ApiError::invalid("X"));
        assert_eq!(params.integer("N", 1..=100).unwrap(), Some(42));
        assert_eq!(params.integer("Missing", 1..=100).unwrap(), None);
        assert_eq!(
            params.integer("Big", 1..=100).unwrap_err(),
            ApiError::invalid("Big")
        );
        assert_eq!(
            params.integer("Neg", 1..=100).unwrap_err(),
            ApiError::invalid("Neg")
        );
    }

    #[test]
    fn reads_are_tracked() {
        let params = Params::merge(pairs("A=1&B=&C=3")).unwrap();
        assert_eq!(params.required("A").unwrap(), "1");
        assert_eq!(params.required("B").unwrap_err(), ApiError::missing("B"));
        assert_eq!(params.unread(), ["C"]);
    }
}
