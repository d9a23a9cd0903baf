//! Loading a state document: JSON → typed document → cross-reference checks. Every refusal
//! names the JSON path that is wrong, so a bad fixture fails start-up with a precise message.

mod disks;

use super::model::{
    AccessKey, Account, KeyState, RESERVED_ALIAS_PREFIX, Region, SERVICE_KEY_ALIAS, StateDocument,
};
use super::strict::from_json;
use disks::validate_disks;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, SeqAccess, Visitor};
use std::collections::HashSet;
use std::marker::PhantomData;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Refuses JSON text whose strings hold a character XML 1.0 cannot carry (a control character
/// other than tab, CR and LF, or U+FFFE/U+FFFF): what the state holds may be echoed in an XML
/// answer (a key's description, say). Control characters can only arrive as escapes (`\u0001`,
/// `\b`, `\f`; raw control bytes are not valid JSON); U+FFFE and U+FFFF also raw.
pub fn refuse_xml_unsafe(json: &[u8]) -> Result<(), String> {
    let raw_nonchar = ["\u{fffe}", "\u{ffff}"]
        .iter()
        .any(|c| json.windows(3).any(|w| w == c.as_bytes()));
    if raw_nonchar {
        return Err("a string holds U+FFFE or U+FFFF, which XML cannot carry".to_owned());
    }
    let mut rest = json;
    while let Some(at) = rest.iter().position(|&b| b == b'\\') {
        let escape = &rest[at + 1..];
        let forbidden = match escape.first() {
            Some(b'b' | b'f') => true,
            Some(b'u') => escape
                .get(1..5)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .is_some_and(|c| {
                    (c < 0x20 && !matches!(c, 0x09 | 0x0a | 0x0d))
                        || (0x7f..=0x9f).contains(&c)
                        || c >= 0xfffe
                }),
            _ => false,
        };
        if forbidden {
            return Err(
                "a string holds a character XML cannot carry (a control character, \
                 U+FFFE or U+FFFF)"
                    .to_owned(),
            );
        }
        // Past the escaped character: `\\` must not start a new escape.
        rest = escape.get(1..).unwrap_or_default();
    }
    Ok(())
}

/// Parses and validates a state document.
pub fn parse_document(json: &[u8]) -> Result<StateDocument, String> {
    refuse_xml_unsafe(json).map_err(|e| format!("invalid state document: {e}"))?;
    // serde would also read the document from an array, by position.
    if json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err("invalid state document: must be a JSON object".to_owned());
    }
    deserialize::<Shape>(json)?;
    parse_checked(json)
}

/// As `parse_document`, without the shape pass, which only spares memory when a large body is
/// refused: for the state file's snapshot, read once at start, it more than doubled the
/// start-up's CPU time with 100,000 disks (0.98 s against 0.43 s; BENCHMARKS.md, "The state
/// file").
pub fn parse_document_in_one_pass(json: &[u8]) -> Result<StateDocument, String> {
    refuse_xml_unsafe(json).map_err(|e| format!("invalid state document: {e}"))?;
    if json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err("invalid state document: must be a JSON object".to_owned());
    }
    parse_checked(json)
}

fn parse_checked(json: &[u8]) -> Result<StateDocument, String> {
    let mut document: StateDocument = deserialize(json)?;
    document
        .accounts
        .iter_mut()
        .for_each(super::roles::complete_ids);
    validate(&document)?;
    Ok(document)
}

/// The state document's shape, checked as [`StateDocument`] checks it but keeping nothing:
/// each region and account is dropped once read, so that a document refused for its shape
/// (not JSON, an unknown field at its end) never holds all its accounts at once — parsed, a
/// 50 MiB document took 110 MiB more, which the allocator then kept.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Shape {
    #[serde(default, rename = "regions")]
    _regions: OneAtATime<Region>,
    #[serde(default, rename = "accounts")]
    _accounts: OneAtATime<Account>,
}

/// A JSON array of `T`s, each read then dropped.
struct OneAtATime<T>(PhantomData<T>);

impl<T> Default for OneAtATime<T> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneAtATime<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(Self::default())
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for OneAtATime<T> {
    type Value = Self;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<T>()?.is_some() {}
        Ok(self)
    }
}

/// `json` as `T`, refusals naming the path that is wrong.
fn deserialize<T: DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    from_json(json, "invalid state document")
}

/// Checks what serde cannot: uniqueness and references between parts of the document.
pub fn validate(document: &StateDocument) -> Result<(), String> {
    let mut regions = HashSet::new();
    for (i, region) in document.regions.iter().enumerate() {
        let path = format!("regions[{i}].regionId");
        require_id(&path, region.region_id.as_str())?;
        if !regions.insert(region.region_id.as_str()) {
            return Err(format!("{path}: duplicate region \"{}\"", region.region_id));
        }
    }
    validate_zones(&document.regions)?;
    let mut accounts = HashSet::new();
    let mut access_key_ids = HashSet::new();
    let mut key_ids = HashSet::new();
    let mut disk_ids = HashSet::new();
    for (i, account) in document.accounts.iter().enumerate() {
        let path = format!("accounts[{i}]");
        require_id(&format!("{path}.accountId"), account.account_id.as_str())?;
        if !accounts.insert(account.account_id.as_str()) {
            return Err(format!(
                "{path}.accountId: duplicate account \"{}\"",
                account.account_id
            ));
        }
        validate_identities(&path, account, &mut access_key_ids)?;
        validate_keys(&path, account, &regions, &mut key_ids)?;
        validate_region_settings(&path, account, &regions)?;
        validate_disks(&path, account, &document.regions, &mut disk_ids)?;
    }
    Ok(())
}

/// Zone ids: well formed, and unique in the whole catalogue (`disks.md` §2); a zone offers
/// each category once.
pub fn validate_zones(regions: &[Region]) -> Result<(), String> {
    let mut zones = HashSet::new();
    for (i, region) in regions.iter().enumerate() {
        for (j, zone) in region.zones.iter().enumerate() {
            let path = format!("regions[{i}].zones[{j}]");
            require_id(&format!("{path}.zoneId"), zone.zone_id.as_str())?;
            if !zones.insert(zone.zone_id.as_str()) {
                return Err(format!(
                    "{path}.zoneId: duplicate zone \"{}\"",
                    zone.zone_id
                ));
            }
            let mut categories = HashSet::new();
            for (k, category) in zone.disk_categories.iter().enumerate() {
                if !categories.insert(category) {
                    return Err(format!(
                        "{path}.diskCategories[{k}]: \"{}\" is listed twice",
                        category.wire()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks one account on its own, against a region catalogue; paths start at `account`.
/// Uniqueness across accounts is the caller's to check.
pub fn validate_account(account: &Account, catalogue: &[Region]) -> Result<(), String> {
    let regions: HashSet<&str> = catalogue.iter().map(|r| r.region_id.as_str()).collect();
    require_id("account.accountId", account.account_id.as_str())?;
    validate_identities("account", account, &mut HashSet::new())?;
    validate_keys("account", account, &regions, &mut HashSet::new())?;
    validate_region_settings("account", account, &regions)?;
    validate_disks("account", account, catalogue, &mut HashSet::new())
}

fn require_id(path: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("{path}: must not be empty"));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{path}: \"{id}\" contains {c:?}; only letters, digits, '-', '_' and '.' are allowed"
        ));
    }
    Ok(())
}

fn validate_access_keys<'a>(
    path: &str,
    keys: &'a [AccessKey],
    seen: &mut HashSet<&'a str>,
) -> Result<(), String> {
    for (j, key) in keys.iter().enumerate() {
        let path = format!("{path}[{j}]");
        claim_access_key_id(
            &format!("{path}.accessKeyId"),
            key.access_key_id.as_str(),
            seen,
        )?;
        if key.access_key_secret.is_empty() {
            return Err(format!("{path}.accessKeySecret: must not be empty"));
        }
    }
    Ok(())
}

fn claim_access_key_id<'a>(
    path: &str,
    id: &'a str,
    seen: &mut HashSet<&'a str>,
) -> Result<(), String> {
    require_id(path, id)?;
    if !seen.insert(id) {
        return Err(format!(
            "{path}: AccessKeyId \"{id}\" appears more than once in the document"
        ));
    }
    Ok(())
}

fn validate_identities<'a>(
    path: &str,
    account: &'a Account,
    seen: &mut HashSet<&'a str>,
) -> Result<(), String> {
    validate_access_keys(&format!("{path}.accessKeys"), &account.access_keys, seen)?;
    let mut users = HashSet::new();
    for (j, user) in account.ram_users.iter().enumerate() {
        let user_path = format!("{path}.ramUsers[{j}]");
        if user.user_name.is_empty() {
            return Err(format!("{user_path}.userName: must not be empty"));
        }
        if !users.insert(user.user_name.as_str()) {
            return Err(format!(
                "{user_path}.userName: duplicate RAM user \"{}\"",
                user.user_name
            ));
        }
        if let Some(id) = &user.user_id {
            require_digits(&format!("{user_path}.userId"), id)?;
        }
        validate_access_keys(&format!("{user_path}.accessKeys"), &user.access_keys, seen)?;
    }
    validate_roles(path, account)?;
    for (j, token) in account.sts_tokens.iter().enumerate() {
        let token_path = format!("{path}.stsTokens[{j}]");
        claim_access_key_id(
            &format!("{token_path}.accessKeyId"),
            token.access_key_id.as_str(),
            seen,
        )?;
        if token.access_key_secret.is_empty() || token.security_token.is_empty() {
            return Err(format!(
                "{token_path}: accessKeySecret and securityToken must not be empty"
            ));
        }
        if OffsetDateTime::parse(&token.expiration, &Rfc3339).is_err() {
            return Err(format!(
                "{token_path}.expiration: \"{}\" is not an RFC 3339 time such as 2030-01-01T00:00:00Z",
                token.expiration
            ));
        }
        if let Some(name) = &token.user_name
            && !users.contains(name.as_str())
        {
            return Err(format!(
                "{token_path}.userName: no RAM user \"{name}\" in this account"
            ));
        }
    }
    Ok(())
}

/// A principal id given in the state: 16–20 digits (`sts.md` §2).
fn require_digits(path: &str, id: &str) -> Result<(), String> {
    if (16..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("{path}: \"{id}\" must be 16 to 20 digits"))
    }
}

/// RAM roles (`sts.md` §2): names unique in the account whatever their case, ids, the session
/// bound, and principals of the two forms the emulator understands.
fn validate_roles(path: &str, account: &Account) -> Result<(), String> {
    let mut names = HashSet::new();
    for (j, role) in account.ram_roles.iter().enumerate() {
        let path = format!("{path}.ramRoles[{j}]");
        let name = &role.role_name;
        if !super::roles::is_role_name(name) {
            return Err(format!(
                "{path}.roleName: \"{name}\" must be 1 to 64 letters, digits, '.' or '-'"
            ));
        }
        if !names.insert(name.to_ascii_lowercase()) {
            return Err(format!("{path}.roleName: duplicate RAM role \"{name}\""));
        }
        if let Some(id) = &role.role_id {
            require_digits(&format!("{path}.roleId"), id)?;
        }
        if !super::roles::SESSION_BOUNDS.contains(&role.max_session_duration) {
            return Err(format!(
                "{path}.maxSessionDuration: {} is outside 3600 to 43200 seconds",
                role.max_session_duration
            ));
        }
        for (k, principal) in role.trusted_principals.iter().enumerate() {
            if super::roles::Trusted::parse(principal).is_none() {
                return Err(format!(
                    "{path}.trustedPrincipals[{k}]: \"{principal}\" is neither acs:ram::<accountId>:root nor acs:ram::<accountId>:user/<userName>"
                ));
            }
        }
    }
    Ok(())
}

fn validate_keys<'a>(
    path: &str,
    account: &'a Account,
    regions: &HashSet<&str>,
    seen: &mut HashSet<&'a str>,
) -> Result<(), String> {
    let mut aliases = HashSet::new();
    let mut service_regions = HashSet::new();
    for (j, key) in account.kms_keys.iter().enumerate() {
        let key_path = format!("{path}.kmsKeys[{j}]");
        require_id(&format!("{key_path}.keyId"), key.key_id.as_str())?;
        if !seen.insert(key.key_id.as_str()) {
            return Err(format!(
                "{key_path}.keyId: key \"{}\" appears more than once in the document",
                key.key_id
            ));
        }
        if !regions.contains(key.region_id.as_str()) {
            return Err(format!(
                "{key_path}.regionId: unknown region \"{}\"",
                key.region_id
            ));
        }
        for (k, alias) in key.aliases.iter().enumerate() {
            let alias_path = format!("{key_path}.aliases[{k}]");
            let name_len = alias.strip_prefix("alias/").map(str::len).unwrap_or(0);
            if !(1..=255).contains(&name_len) {
                return Err(format!(
                    "{alias_path}: \"{alias}\" must be \"alias/\" followed by 1 to 255 characters"
                ));
            }
            if alias.starts_with(RESERVED_ALIAS_PREFIX) && !key.is_service_key() {
                return Err(format!(
                    "{alias_path}: \"{alias}\" is reserved for service keys (creator \"Ecs\")"
                ));
            }
            if !aliases.insert((key.region_id.as_str(), alias.as_str())) {
                return Err(format!(
                    "{alias_path}: alias \"{alias}\" is already used in region {}",
                    key.region_id
                ));
            }
        }
        if key.is_service_key() {
            if key.aliases != [SERVICE_KEY_ALIAS]
                || key.key_state != KeyState::Enabled
                || !key.ecs_authorized
            {
                return Err(format!(
                    "{key_path}: a service key (creator \"Ecs\") has exactly the alias \"{SERVICE_KEY_ALIAS}\", keyState \"Enabled\" and ecsAuthorized true"
                ));
            }
            if !service_regions.insert(key.region_id.as_str()) {
                return Err(format!(
                    "{key_path}: a second service key in region {}",
                    key.region_id
                ));
            }
        }
    }
    Ok(())
}

fn validate_region_settings(
    path: &str,
    account: &Account,
    regions: &HashSet<&str>,
) -> Result<(), String> {
    for (region, setting) in &account.region_settings {
        let setting_path = format!("{path}.regionSettings.{region}");
        if !regions.contains(region.as_str()) {
            return Err(format!("{setting_path}: unknown region \"{region}\""));
        }
        if let Some(key_id) = &setting.default_encryption.kms_key_id
            && !account
                .kms_keys
                .iter()
                .any(|k| &k.key_id == key_id && &k.region_id == region)
        {
            return Err(format!(
                "{setting_path}.defaultEncryption.kmsKeyId: no key \"{key_id}\" of this account in {region}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_xml_cannot_carry_are_refused_wherever_they_are() {
        use super::refuse_xml_unsafe;
        for bad in [
            r#"{"a":"\u0001"}"#,
            r#"{"a":"x\b"}"#,
            r#"{"\uFFFE":1}"#,
            "{\"a\":\"\u{ffff}\"}",
        ] {
            assert!(refuse_xml_unsafe(bad.as_bytes()).is_err(), "{bad}");
        }
        for good in [r#"{"a":"\t\n\r é \u00e9 \\u0001 \\"}"#, r#"{"a":"\\\\b"}"#] {
            assert!(refuse_xml_unsafe(good.as_bytes()).is_ok(), "{good}");
        }
    }

    use super::*;

    fn err(json: &str) -> String {
        parse_document(json.as_bytes()).unwrap_err()
    }

    const REGION: &str = r#"{"regionId":"cn-hangzhou"}"#;

    #[test]
    fn the_default_fixture_is_valid() {
        let document = parse_document(crate::DEFAULT_FIXTURE.as_bytes()).unwrap();
        assert_eq!(document.regions.len(), 29);
        assert!(document.accounts.len() >= 8);
    }

    #[test]
    fn unknown_fields_name_their_path() {
        let e = err(r#"{"accounts":[{"accountId":"1","colour":"red"}]}"#);
        assert!(e.starts_with("accounts[0]"), "{e}");
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn wrong_types_name_their_path() {
        let e = err(r#"{"accounts":[{"accountId":"1","kmsServiceOpen":"yes"}]}"#);
        assert!(e.starts_with("accounts[0].kmsServiceOpen"), "{e}");
    }

    #[test]
    fn duplicate_access_key_ids_are_refused_across_identities() {
        let e = err(r#"{"accounts":[
            {"accountId":"1","accessKeys":[{"accessKeyId":"AK","accessKeySecret":"s"}]},
            {"accountId":"2","ramUsers":[{"userName":"u","accessKeys":[{"accessKeyId":"AK","accessKeySecret":"s"}]}]}]}"#);
        assert_eq!(
            e,
            "accounts[1].ramUsers[0].accessKeys[0].accessKeyId: AccessKeyId \"AK\" appears more than once in the document"
        );
    }

    #[test]
    fn a_key_in_an_unknown_region_is_refused() {
        let e = err(&format!(
            r#"{{"regions":[{REGION}],"accounts":[{{"accountId":"1","kmsKeys":[{{"keyId":"k","regionId":"mars-1"}}]}}]}}"#
        ));
        assert_eq!(
            e,
            "accounts[0].kmsKeys[0].regionId: unknown region \"mars-1\""
        );
    }

    #[test]
    fn a_configured_key_must_exist_in_that_region() {
        let e = err(&format!(
            r#"{{"regions":[{REGION}],"accounts":[{{"accountId":"1",
               "regionSettings":{{"cn-hangzhou":{{"defaultEncryption":{{"kmsKeyId":"nope"}}}}}}}}]}}"#
        ));
        assert_eq!(
            e,
            "accounts[0].regionSettings.cn-hangzhou.defaultEncryption.kmsKeyId: no key \"nope\" of this account in cn-hangzhou"
        );
    }

    #[test]
    fn reserved_aliases_belong_to_service_keys() {
        let e = err(&format!(
            r#"{{"regions":[{REGION}],"accounts":[{{"accountId":"1",
               "kmsKeys":[{{"keyId":"k","regionId":"cn-hangzhou","aliases":["alias/acs/ecs"]}}]}}]}}"#
        ));
        assert!(e.contains("reserved for service keys"), "{e}");
    }

    #[test]
    fn an_sts_expiration_must_be_a_time() {
        let e = err(
            r#"{"accounts":[{"accountId":"1","stsTokens":[{"accessKeyId":"STS.a","accessKeySecret":"s","securityToken":"t","expiration":"tomorrow"}]}]}"#,
        );
        assert!(e.starts_with("accounts[0].stsTokens[0].expiration"), "{e}");
    }

    #[test]
    fn defaults_fill_omitted_facts() {
        let document = parse_document(br#"{"accounts":[{"accountId":"1"}]}"#).unwrap();
        let account = &document.accounts[0];
        assert!(
            account.disk_whitelisted && account.kms_service_open && account.ecs_kms_role_granted
        );
    }
}
