//! `CreateDisk` (`disks.md` §3.2): the parameter checks in the spec's order, then, in one
//! account transaction, the state checks, the key that encrypts the disk, and the write.

use super::{description, disk_name, region_id, tags};
use crate::actions::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::{
    Disk, DiskCategory, DiskStatus, KeyState, KmsKey, MultiAttach, PerformanceLevel, RegionId,
    ZoneId,
};
use crate::store::{AccountTx, TokenUse};
use std::collections::BTreeMap;

/// The checks past the gateway's, in order, for `/_emulator/coverage`.
pub const CHECKS: &[(ErrorCode, &str)] = &[
    (
        ErrorCode::MissingSizeOrSnapshot,
        "neither Size nor SnapshotId",
    ),
    (ErrorCode::InvalidDiskCategory, "DiskCategory=cloud_hdd"),
    (ErrorCode::InvalidPerformanceLevel, "PerformanceLevel=PL9"),
    (
        ErrorCode::InvalidDiskName,
        "DiskName=1disk (not starting with a letter)",
    ),
    (
        ErrorCode::InvalidDescription,
        "Description=x (one character)",
    ),
    (ErrorCode::InvalidTagKey, "Tag.1.Key=aliyun-x"),
    (
        ErrorCode::InvalidTagValue,
        "a Tag.1.Value over 128 characters",
    ),
    (
        ErrorCode::DuplicateTagKey,
        "Tag.1.Key and Tag.2.Key the same",
    ),
    (ErrorCode::InvalidTagCount, "Tag.21.Key (more than 20 tags)"),
    (
        ErrorCode::InvalidMultiAttach,
        "MultiAttach=Enabled with a category other than cloud_essd",
    ),
    (
        ErrorCode::EncryptedIllegal,
        "a KMSKeyId with Encrypted=false, or without Encrypted while default encryption is off",
    ),
    (
        ErrorCode::ZoneIdAndInstanceIdConflict,
        "ZoneId and InstanceId both",
    ),
    (
        ErrorCode::InvalidInstanceIdNotFound,
        "an InstanceId (no instances exist)",
    ),
    (
        ErrorCode::InvalidSnapshotIdNotFound,
        "a SnapshotId (no snapshots exist)",
    ),
    (ErrorCode::InvalidRegionIdNotFound, "RegionId=cn-atlantis"),
    (
        ErrorCode::InvalidZoneIdNotFound,
        "a ZoneId not in the region",
    ),
    (
        ErrorCode::InvalidDataDiskCategory,
        "DiskCategory=cloud in cn-hangzhou-k",
    ),
    (
        ErrorCode::InvalidDataDiskSize,
        "Size=2001 with DiskCategory=cloud",
    ),
    (
        ErrorCode::PerformanceLevelNotMatch,
        "cloud_essd PL2 with Size=100",
    ),
    (
        ErrorCode::ClientTokenUsed,
        "a ClientToken used before with other parameters",
    ),
    (
        ErrorCode::NotMatchDiskDefaultEncryption,
        "Encrypted=false without KMSKeyId while default encryption is on",
    ),
    (
        ErrorCode::KmsNotActivated,
        "an encrypted disk with kmsServiceOpen or regionSettings.<region>.kmsEnabled false",
    ),
    (
        ErrorCode::DiskKmsKeyIdNotFound,
        "a KMSKeyId that names no key of the account in the region",
    ),
    (
        ErrorCode::KmsUnauthorized,
        "an encrypted disk with ecsKmsRoleGranted false, or a key with ecsAuthorized false",
    ),
    (
        ErrorCode::CmkNotActive,
        "a key that is Disabled, PendingDeletion or PendingImport",
    ),
];

/// Which key encrypts a new disk — the table of `disks.md` §3.2, one arm per row.
/// `default_on` is the region's default encryption for the account; `encrypted` and `key`
/// are the request's `Encrypted` and `KMSKeyId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption<'k> {
    /// Not encrypted; `KMSKeyId` `""`.
    Plain,
    /// The region's service key (`alias/acs/ecs`), created on first need.
    ServiceKey,
    /// The key the request names (an explicit key always wins over the account default).
    Key(&'k str),
    /// The account's default key: the key `DescribeDiskDefaultKMSKeyId` answers.
    AccountDefault,
    /// Refused with this error.
    Refused(ErrorCode),
}

pub fn encryption(default_on: bool, encrypted: Option<bool>, key: Option<&str>) -> Encryption<'_> {
    use Encryption::*;
    match (default_on, encrypted, key) {
        (false, None | Some(false), None) => Plain,
        (false, Some(true), None) => ServiceKey,
        (_, Some(true), Some(key)) => Key(key),
        (false, None | Some(false), Some(_)) => Refused(ErrorCode::EncryptedIllegal),
        (true, Some(false), Some(_)) => Refused(ErrorCode::EncryptedIllegal),
        (true, None | Some(true), None) => AccountDefault,
        (true, None, Some(key)) => Key(key),
        (true, Some(false), None) => Refused(ErrorCode::NotMatchDiskDefaultEncryption),
    }
}

/// A CreateDisk request, decoded. Two requests ask the same when these are equal (its
/// `Debug` text is what a `ClientToken` remembers).
#[derive(Debug, Clone, PartialEq)]
struct Request {
    region: RegionId,
    zone: Option<ZoneId>,
    instance_id: Option<String>,
    size: Option<u32>,
    snapshot_id: Option<String>,
    category: DiskCategory,
    /// For `cloud_essd` only; ignored for the other categories.
    level: Option<PerformanceLevel>,
    disk_name: String,
    description: String,
    tags: BTreeMap<String, String>,
    multi_attach: MultiAttach,
    encrypted: Option<bool>,
    kms_key_id: Option<String>,
    resource_group_id: String,
}

/// The most tags a disk may carry.
const MAX_TAGS: usize = 20;

/// Step 1, up to the `ClientToken` (the last check, `EncryptedIllegal`, reads the state).
fn parse(params: &Params) -> Result<(Request, Option<String>), ApiError> {
    let region = region_id(params)?;
    let instance_id = params.optional("InstanceId").map(str::to_owned);
    let zone = params.optional("ZoneId").map(|z| ZoneId(z.to_owned()));
    if zone.is_none() && instance_id.is_none() {
        return Err(ApiError::missing("ZoneId"));
    }
    let snapshot_id = params.optional("SnapshotId").map(str::to_owned);
    if params.optional("Size").is_none() && snapshot_id.is_none() {
        return Err(ApiError::new(ErrorCode::MissingSizeOrSnapshot));
    }
    let size = params.integer("Size", 0..=u32::MAX)?;
    let encrypted = params.boolean("Encrypted")?;
    let category = match params.optional("DiskCategory") {
        None => DiskCategory::Cloud,
        Some(name) => DiskCategory::from_wire(name)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidDiskCategory))?,
    };
    let level = match params.optional("PerformanceLevel") {
        None => PerformanceLevel::default(),
        Some(name) => PerformanceLevel::parse(name)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidPerformanceLevel))?,
    };
    let disk_name = disk_name(params)?.unwrap_or_default();
    let description = description(params)?.unwrap_or_default();
    let tags = checked_tags(params)?;
    let multi_attach = match params.optional("MultiAttach") {
        None => MultiAttach::Disabled,
        Some(value) => MultiAttach::parse(value)
            .filter(|m| *m == MultiAttach::Disabled || category == DiskCategory::CloudEssd)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidMultiAttach))?,
    };
    let token = params.optional("ClientToken");
    if token.is_some_and(|t| t.len() > 64 || !t.is_ascii()) {
        return Err(ApiError::invalid("ClientToken"));
    }
    let request = Request {
        region,
        zone,
        instance_id,
        size,
        snapshot_id,
        category,
        level: (category == DiskCategory::CloudEssd).then_some(level),
        disk_name,
        description,
        tags,
        multi_attach,
        encrypted,
        kms_key_id: params.optional("KMSKeyId").map(str::to_owned),
        resource_group_id: params.get("ResourceGroupId").unwrap_or_default().to_owned(),
    };
    Ok((request, token.map(str::to_owned)))
}

/// The tags, checked in the spec's order: every key, every value, duplicates, the count.
fn checked_tags(params: &Params) -> Result<BTreeMap<String, String>, ApiError> {
    let given = tags(params);
    let bad_key = |key: &str| {
        key.is_empty()
            || key.chars().count() > 128
            || key.starts_with("aliyun")
            || key.starts_with("acs:")
            || key.contains("http://")
            || key.contains("https://")
    };
    if given.values().any(|(key, _)| key.is_none_or(bad_key)) {
        return Err(ApiError::new(ErrorCode::InvalidTagKey));
    }
    let bad_value = |value: &str| {
        value.chars().count() > 128 || value.contains("http://") || value.contains("https://")
    };
    if given
        .values()
        .any(|(_, value)| value.is_some_and(bad_value))
    {
        return Err(ApiError::new(ErrorCode::InvalidTagValue));
    }
    let mut tags = BTreeMap::new();
    for (key, value) in given.values() {
        let key = key.unwrap_or_default().to_owned();
        if tags
            .insert(key, value.unwrap_or_default().to_owned())
            .is_some()
        {
            return Err(ApiError::new(ErrorCode::DuplicateTagKey));
        }
    }
    if tags.len() > MAX_TAGS || given.keys().any(|&n| n as usize > MAX_TAGS) {
        return Err(ApiError::new(ErrorCode::InvalidTagCount));
    }
    Ok(tags)
}

/// `CreateDisk`: a new disk, `Available` at once, encrypted as the table says.
pub fn create_disk(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let (request, token) = parse(params)?;
    context.transact(|tx| {
        let default_on = tx.setting(&request.region).default_encryption.enabled;
        let decision = encryption(default_on, request.encrypted, request.kms_key_id.as_deref());
        if decision == Encryption::Refused(ErrorCode::EncryptedIllegal) {
            return Err(ApiError::new(ErrorCode::EncryptedIllegal));
        }
        let zone = check_placement(tx, &request)?;
        let size = check_size(&request)?;
        let asked = format!("{request:?}");
        if let Some(token) = &token {
            match tx.client_token(token, &asked) {
                TokenUse::Fresh => {}
                TokenUse::Repeat(disk_id) => return Ok(disk_id_output(disk_id.as_str())),
                TokenUse::Mismatch => return Err(ApiError::new(ErrorCode::ClientTokenUsed)),
            }
        }
        if let Encryption::Refused(code) = decision {
            return Err(ApiError::new(code));
        }
        let kms_key_id = encrypting_key(tx, &request.region, decision)?;
        let disk = Disk {
            disk_id: tx.new_disk_id(),
            region_id: request.region.clone(),
            zone_id: zone,
            disk_name: request.disk_name.clone(),
            description: request.description.clone(),
            category: request.category,
            performance_level: request
                .level
                .map(|l| l.wire().to_owned())
                .unwrap_or_default(),
            size,
            encrypted: kms_key_id.is_some(),
            kms_key_id,
            status: DiskStatus::Available,
            portable: true,
            delete_with_instance: false,
            delete_auto_snapshot: false,
            enable_auto_snapshot: true,
            resource_group_id: request.resource_group_id.clone(),
            multi_attach: request.multi_attach,
            tags: request.tags.clone(),
            creation_time: crate::ids::now_text(),
        };
        let disk_id = disk.disk_id.clone();
        tx.insert_disk(disk);
        if let Some(token) = &token {
            tx.remember_client_token(token, asked, disk_id.clone());
        }
        Ok(disk_id_output(disk_id.as_str()))
    })
}

fn disk_id_output(disk_id: &str) -> Output {
    Output::DiskId {
        disk_id: disk_id.to_owned(),
    }
}

/// Steps 2 and 3: no instance or snapshot exists; the region, the zone in it, the category
/// offered by the zone. Answers the zone.
fn check_placement(tx: &AccountTx<'_>, request: &Request) -> Result<ZoneId, ApiError> {
    match (&request.zone, &request.instance_id) {
        (Some(_), Some(_)) => return Err(ApiError::new(ErrorCode::ZoneIdAndInstanceIdConflict)),
        (None, _) => return Err(ApiError::new(ErrorCode::InvalidInstanceIdNotFound)),
        (Some(_), None) => {}
    }
    if request.snapshot_id.is_some() {
        return Err(ApiError::new(ErrorCode::InvalidSnapshotIdNotFound));
    }
    let region = tx
        .region(&request.region)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRegionIdNotFound))?;
    let zone_id = request.zone.as_ref().expect("checked above");
    let zone = region
        .zones
        .iter()
        .find(|z| &z.zone_id == zone_id)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidZoneIdNotFound))?;
    if !zone.disk_categories.contains(&request.category) {
        return Err(ApiError::new(ErrorCode::InvalidDataDiskCategory));
    }
    Ok(zone_id.clone())
}

/// Step 4: the size within the category's range, then (ESSD) the level's minimum.
fn check_size(request: &Request) -> Result<u32, ApiError> {
    let size = request.size.expect("no snapshots exist: Size was given");
    if !request.category.size_range().contains(&size) {
        return Err(ApiError::new(ErrorCode::InvalidDataDiskSize));
    }
    if !request
        .category
        .size_range_at(request.level)
        .contains(&size)
    {
        return Err(ApiError::new(ErrorCode::PerformanceLevelNotMatch));
    }
    Ok(size)
}

/// Step 7, for an encrypted disk: KMS usable, the key found, usable by ECS and enabled.
/// Answers the key id (`None`: not encrypted).
fn encrypting_key(
    tx: &mut AccountTx<'_>,
    region: &RegionId,
    decision: Encryption<'_>,
) -> Result<Option<crate::store::model::KeyId>, ApiError> {
    if decision == Encryption::Plain {
        return Ok(None);
    }
    if !(tx.account().kms_service_open && tx.setting(region).kms_enabled) {
        return Err(ApiError::new(ErrorCode::KmsNotActivated));
    }
    let role_granted = tx.account().ecs_kms_role_granted;
    let configured = tx.setting(region).default_encryption.kms_key_id.clone();
    let key: Option<&KmsKey> = match (decision, configured) {
        (Encryption::Key(reference), _) => tx.resolve_key(region, reference),
        (Encryption::AccountDefault, Some(configured)) => tx.find_key(region, configured.as_str()),
        _ => Some(tx.service_key(region)),
    };
    let key = key.ok_or_else(|| ApiError::new(ErrorCode::DiskKmsKeyIdNotFound))?;
    if !(role_granted && key.ecs_authorized) {
        return Err(ApiError::new(ErrorCode::KmsUnauthorized));
    }
    if key.key_state != KeyState::Enabled {
        return Err(ApiError::new(ErrorCode::CmkNotActive));
    }
    Ok(Some(key.key_id.clone()))
}

#[cfg(test)]
mod tests {
    use super::Encryption::*;
    use super::*;

    /// The table of `disks.md` §3.2, row by row ("any" and "absent or …" expanded).
    #[test]
    fn the_encryption_table_row_by_row() {
        let k = Some("K");
        let rows: &[(bool, Option<bool>, Option<&str>, Encryption<'_>)] = &[
            // off, absent or false, absent → not encrypted
            (false, None, None, Plain),
            (false, Some(false), None, Plain),
            // off, true, absent → the service key
            (false, Some(true), None, ServiceKey),
            // any, true, K → K
            (false, Some(true), k, Key("K")),
            (true, Some(true), k, Key("K")),
            // off, absent or false, K → EncryptedIllegal
            (false, None, k, Refused(ErrorCode::EncryptedIllegal)),
            (false, Some(false), k, Refused(ErrorCode::EncryptedIllegal)),
            // on, false, K → EncryptedIllegal
            (true, Some(false), k, Refused(ErrorCode::EncryptedIllegal)),
            // on, absent or true, absent → the account's default key
            (true, None, None, AccountDefault),
            (true, Some(true), None, AccountDefault),
            // on, absent, K → K
            (true, None, k, Key("K")),
            // on, false, absent → NotMatchDiskDefaultEncryption
            (
                true,
                Some(false),
                None,
                Refused(ErrorCode::NotMatchDiskDefaultEncryption),
            ),
        ];
        for &(default_on, encrypted, key, expected) in rows {
            assert_eq!(
                encryption(default_on, encrypted, key),
                expected,
                "default {default_on}, Encrypted {encrypted:?}, KMSKeyId {key:?}"
            );
        }
        assert_eq!(rows.len(), 12, "every combination once");
    }
}
