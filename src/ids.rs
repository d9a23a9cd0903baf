//! Generated identifiers: request ids and KMS key ids. One place, so that `--seed` can make
//! every generated value deterministic when the control plane gains it.

use crate::store::model::{KeyId, RegionId};
use uuid::Uuid;

/// The source of generated identifiers. Random today (thread-local ChaCha via `uuid`'s
/// `fast-rng`); a seeded source slots in here without touching callers.
#[derive(Debug, Default)]
pub struct Ids;

const KEY_ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

impl Ids {
    /// A fresh `RequestId`: an uppercase UUID, `8-4-4-4-12`.
    pub fn request_id(&self) -> String {
        let mut buffer = Uuid::encode_buffer();
        Uuid::new_v4()
            .hyphenated()
            .encode_upper(&mut buffer)
            .to_owned()
    }

    /// A fresh key id in the documented shape: `key-`, a 3-letter region code, 21 lowercase
    /// alphanumerics (`kms.md`).
    pub fn key_id(&self, region: &RegionId) -> KeyId {
        let mut id = String::with_capacity(28);
        id.push_str("key-");
        id.push_str(&region_code(region.as_str()));
        let random = [*Uuid::new_v4().as_bytes(), *Uuid::new_v4().as_bytes()];
        for byte in random.iter().flatten().take(21) {
            id.push(char::from(
                KEY_ALPHABET[usize::from(*byte) % KEY_ALPHABET.len()],
            ));
        }
        KeyId(id)
    }
}

/// Now, as KMS writes dates: `YYYY-MM-DDThh:mm:ssZ` (UTC).
pub fn now_text() -> String {
    date_text(time::OffsetDateTime::now_utc())
}

/// `at` as KMS writes dates.
pub fn date_text(at: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// The three letters KMS puts after `key-`. Known for the regions whose ids are seen in
/// public examples; otherwise the first three letters of the region's last name part (an
/// emulator choice, documented in the README).
fn region_code(region: &str) -> String {
    let known = match region {
        "cn-hangzhou" => Some("hzz"),
        "cn-shanghai" => Some("shh"),
        "cn-beijing" => Some("bjj"),
        "cn-shenzhen" => Some("szz"),
        "cn-qingdao" => Some("qdd"),
        "cn-zhangjiakou" => Some("zjk"),
        "cn-hongkong" => Some("hkg"),
        "ap-southeast-1" => Some("sgp"),
        _ => None,
    };
    if let Some(code) = known {
        return code.to_owned();
    }
    let letters: String = region
        .rsplit('-')
        .flat_map(|part| part.chars())
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .take(3)
        .collect();
    format!("{letters:x<3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uppercase_uuids_and_fresh() {
        let ids = Ids;
        let (a, b) = (ids.request_id(), ids.request_id());
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(
            a.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }

    #[test]
    fn key_ids_have_the_documented_shape() {
        let id = Ids.key_id(&RegionId("cn-hangzhou".into())).0;
        assert_eq!(id.len(), 4 + 3 + 21);
        assert!(id.starts_with("key-hzz"));
        assert!(
            id[4..]
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        assert!(
            Ids.key_id(&RegionId("eu-central-1".into()))
                .0
                .starts_with("key-cen")
        );
        assert!(Ids.key_id(&RegionId("x-1".into())).0.starts_with("key-xxx"));
    }
}
