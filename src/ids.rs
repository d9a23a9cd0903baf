//! Generated identifiers: request ids and KMS key ids. One place, so that `--seed` can make
//! every generated value deterministic when the control plane gains it.

use crate::store::model::{AccessKeyId, AccountId, DiskId, KeyId, RegionId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Mutex;
use uuid::Uuid;

/// The source of generated identifiers: request ids, key ids, account ids and AccessKeys.
/// Random by default; with `--seed` every value comes from one seeded generator, so the same
/// requests, in the same order, get the same values.
#[derive(Debug, Default)]
pub struct Ids {
    seeded: Option<Mutex<StdRng>>,
}

const LOWER_ALPHANUMERIC: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Ids {
    /// Values from a generator seeded with `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seeded: Some(Mutex::new(StdRng::seed_from_u64(seed))),
        }
    }

    fn fill(&self, bytes: &mut [u8]) {
        match &self.seeded {
            Some(rng) => rng
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .fill_bytes(bytes),
            None => rand::rng().fill_bytes(bytes),
        }
    }

    fn text(&self, alphabet: &[u8], length: usize) -> String {
        let mut bytes = vec![0u8; length];
        self.fill(&mut bytes);
        bytes
            .iter()
            .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
            .collect()
    }

    /// A fresh `RequestId`: an uppercase UUID, `8-4-4-4-12`.
    pub fn request_id(&self) -> String {
        let mut bytes = [0u8; 16];
        self.fill(&mut bytes);
        let mut buffer = Uuid::encode_buffer();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .encode_upper(&mut buffer)
            .to_owned()
    }

    /// A fresh key id in the documented shape: `key-`, a 3-letter region code, 21 lowercase
    /// alphanumerics (`kms.md`).
    pub fn key_id(&self, region: &RegionId) -> KeyId {
        let code = region_code(region.as_str());
        KeyId(format!("key-{code}{}", self.text(LOWER_ALPHANUMERIC, 21)))
    }

    /// A fresh disk id: `d-` + 20 lowercase letters or digits (`disks.md` §3.2).
    pub fn disk_id(&self) -> DiskId {
        DiskId(format!("d-{}", self.text(LOWER_ALPHANUMERIC, 20)))
    }

    /// A fresh 16-digit account id.
    pub fn account_id(&self) -> AccountId {
        AccountId(format!("1{}", self.text(b"0123456789", 15)))
    }

    /// A fresh AccessKey pair: `LTAI5t` + 18 alphanumerics, and a 30-character secret.
    pub fn access_key(&self) -> (AccessKeyId, String) {
        let id = AccessKeyId(format!("LTAI5t{}", self.text(ALPHANUMERIC, 18)));
        (id, self.text(ALPHANUMERIC, 30))
    }

    /// Fresh temporary credentials as AssumeRole issues them: `STS.` + 28 letters and digits,
    /// a 44-character secret, and a token that starts `CAIS` as real ones do (`sts.md` §4).
    pub fn sts_credentials(&self) -> (AccessKeyId, String, String) {
        let id = AccessKeyId(format!("STS.{}", self.text(ALPHANUMERIC, 28)));
        let secret = self.text(ALPHANUMERIC, 44);
        let token = format!("CAIS{}", self.text(ALPHANUMERIC, 252));
        (id, secret, token)
    }
}

/// The id of a RAM user (`kind` `'2'`) or role (`'3'`) the state gives none for: 18 digits
/// derived from the account and the name, so the same document always yields the same ids,
/// across resets and restarts, with or without `--seed` (an emulator choice, `sts.md` §2).
pub fn principal_id(kind: char, account: &AccountId, name: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(account.as_str())
        .chain_update(b":")
        .chain_update(name.to_ascii_lowercase())
        .finalize();
    let mut number = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    let mut id = String::with_capacity(18);
    id.push(kind);
    for _ in 0..17 {
        id.push(char::from(b'0' + (number % 10) as u8));
        number /= 10;
    }
    id
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
        let ids = Ids::default();
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
        let ids = Ids::default();
        let id = ids.key_id(&RegionId("cn-hangzhou".into())).0;
        assert_eq!(id.len(), 4 + 3 + 21);
        assert!(id.starts_with("key-hzz"));
        assert!(
            id[4..]
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        assert!(
            ids.key_id(&RegionId("eu-central-1".into()))
                .0
                .starts_with("key-cen")
        );
        assert!(ids.key_id(&RegionId("x-1".into())).0.starts_with("key-xxx"));
    }

    #[test]
    fn principal_ids_are_18_digits_stable_and_distinct() {
        let account = AccountId("1234567890123456".into());
        let id = principal_id('3', &account, "ecs-operator");
        assert_eq!(id.len(), 18);
        assert!(id.starts_with('3') && id.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(id, principal_id('3', &account, "ECS-Operator"));
        assert_ne!(id, principal_id('3', &account, "ecs-operators"));
        assert_ne!(
            id,
            principal_id('3', &AccountId("1".into()), "ecs-operator")
        );
    }

    #[test]
    fn sts_credentials_have_the_documented_shape() {
        let (id, secret, token) = Ids::default().sts_credentials();
        assert!(id.as_str().starts_with("STS.") && id.as_str().len() == 32);
        assert!(id.as_str()[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(secret.len(), 44);
        assert!(token.starts_with("CAIS"));
    }

    #[test]
    fn a_seed_makes_every_value_repeat() {
        let draw = |ids: &Ids| {
            let region = RegionId("cn-hangzhou".into());
            (
                ids.request_id(),
                ids.key_id(&region),
                ids.account_id(),
                ids.access_key(),
                ids.disk_id(),
            )
        };
        let (a, b) = (Ids::seeded(7), Ids::seeded(7));
        assert_eq!(draw(&a), draw(&b));
        assert_ne!(draw(&a), draw(&Ids::seeded(8)));
        let (account, (key, secret)) = (a.account_id(), a.access_key());
        assert_eq!((account.0.len(), key.0.len(), secret.len()), (16, 24, 30));
        assert!(DiskId::is_well_formed(a.disk_id().as_str()));
    }
}
