//! Load-time checks of an account's disks (`disks.md` §3.1), each naming the path it refuses.

use crate::store::model::{Account, DiskId, DiskStatus, PerformanceLevel, Region};
use std::collections::HashSet;

/// The most tags a disk may carry.
const MAX_TAGS: usize = 20;

/// Checks the disks of `account` (at `path`) against the region catalogue; `seen` collects
/// the disk ids of the whole document, which are unique in it.
pub fn validate_disks<'a>(
    path: &str,
    account: &'a Account,
    regions: &[Region],
    seen: &mut HashSet<&'a str>,
) -> Result<(), String> {
    for (j, disk) in account.disks.iter().enumerate() {
        let path = format!("{path}.disks[{j}]");
        let id = disk.disk_id.as_str();
        if !DiskId::is_well_formed(id) {
            return Err(format!(
                "{path}.diskId: \"{id}\" is not \"d-\" followed by 20 lowercase letters or digits"
            ));
        }
        if !seen.insert(id) {
            return Err(format!(
                "{path}.diskId: disk \"{id}\" appears more than once in the document"
            ));
        }
        let region = regions
            .iter()
            .find(|r| r.region_id == disk.region_id)
            .ok_or_else(|| format!("{path}.regionId: unknown region \"{}\"", disk.region_id))?;
        let zone = region
            .zones
            .iter()
            .find(|z| z.zone_id == disk.zone_id)
            .ok_or_else(|| {
                format!(
                    "{path}.zoneId: no zone \"{}\" in region {}",
                    disk.zone_id, disk.region_id
                )
            })?;
        if !zone.disk_categories.contains(&disk.category) {
            return Err(format!(
                "{path}.category: zone {} does not offer \"{}\"",
                disk.zone_id,
                disk.category.wire()
            ));
        }
        let level_ok = match disk.level() {
            Some(_) => {
                disk.performance_level.is_empty()
                    || PerformanceLevel::parse(&disk.performance_level).is_some()
            }
            None => disk.performance_level.is_empty(),
        };
        if !level_ok {
            return Err(format!(
                "{path}.performanceLevel: \"{}\" is not PL0, PL1, PL2 or PL3 of a cloud_essd disk",
                disk.performance_level
            ));
        }
        let sizes = disk.category.size_range_at(disk.level());
        if !sizes.contains(&disk.size) {
            return Err(format!(
                "{path}.size: {} is outside {}–{} GiB for {}{}",
                disk.size,
                sizes.start(),
                sizes.end(),
                disk.category.wire(),
                disk.level()
                    .map(|l| format!(" {}", l.wire()))
                    .unwrap_or_default()
            ));
        }
        validate_encryption(&path, account, disk)?;
        if disk.status == DiskStatus::InUse {
            return Err(format!(
                "{path}.status: \"In_use\" needs an instance, and there are none; use \"Available\" or \"Creating\""
            ));
        }
        if disk.tags.len() > MAX_TAGS {
            return Err(format!(
                "{path}.tags: {} tags, at most {MAX_TAGS}",
                disk.tags.len()
            ));
        }
        if !is_creation_time(&disk.creation_time) {
            return Err(format!(
                "{path}.creationTime: \"{}\" is not a UTC time such as 2026-12-01T10:00:00Z",
                disk.creation_time
            ));
        }
    }
    Ok(())
}

/// `encrypted: true` needs a `kmsKeyId` naming a key of the account in the disk's region;
/// `encrypted: false` needs none.
fn validate_encryption(
    path: &str,
    account: &Account,
    disk: &crate::store::model::Disk,
) -> Result<(), String> {
    match (&disk.kms_key_id, disk.encrypted) {
        (None, false) => Ok(()),
        (Some(_), false) => Err(format!(
            "{path}.kmsKeyId: an unencrypted disk has no key (set encrypted: true, or leave kmsKeyId out)"
        )),
        (None, true) => Err(format!(
            "{path}.kmsKeyId: an encrypted disk names the key id that encrypts it"
        )),
        (Some(key_id), true) => {
            let known = account
                .kms_keys
                .iter()
                .any(|k| &k.key_id == key_id && k.region_id == disk.region_id);
            if known {
                Ok(())
            } else {
                Err(format!(
                    "{path}.kmsKeyId: no key \"{key_id}\" of this account in {}",
                    disk.region_id
                ))
            }
        }
    }
}

/// `YYYY-MM-DDThh:mm:ssZ`, a real time: the text the API shows, and the order disks sort in.
fn is_creation_time(text: &str) -> bool {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::PrimitiveDateTime::parse(text, &format).is_ok()
}
