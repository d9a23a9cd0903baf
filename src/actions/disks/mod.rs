//! ECS cloud disks (`disks.md` §3): CreateDisk (`create`), DescribeDisks (`describe`), and
//! DeleteDisk, ModifyDiskAttribute, ResizeDisk (`manage`). The parameter rules they share
//! live here; the domain operations in `store::disks`.

mod create;
mod describe;
mod manage;
mod shape;

pub use create::create_disk;
pub use describe::describe_disks;
pub use manage::{delete_disk, modify_disk_attribute, resize_disk};
pub use shape::DiskPage;

use super::Action;
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::RegionId;
use std::collections::BTreeMap;

/// (code, how to reach it) for each check of a disk action past the gateway, in check order.
pub fn checks(action: Action) -> Vec<(ErrorCode, &'static str)> {
    use ErrorCode::*;
    match action {
        Action::CreateDisk => create::CHECKS.to_vec(),
        Action::DescribeDisks => describe::CHECKS.to_vec(),
        Action::DeleteDisk => vec![
            (
                InvalidDiskIdNotFound,
                "a DiskId that names no disk of the account",
            ),
            (IncorrectDiskStatus, "a disk whose status is Creating"),
        ],
        Action::ModifyDiskAttribute => manage::MODIFY_CHECKS.to_vec(),
        Action::ResizeDisk => vec![
            (
                InvalidDiskIdNotFound,
                "a DiskId that names no disk of the account",
            ),
            (DiskSizeTooSmall, "a NewSize not above the disk's size"),
            (DiskSizeTooLarge, "a NewSize above the category's maximum"),
            (IncorrectDiskStatus, "a disk whose status is Creating"),
        ],
        _ => Vec::new(),
    }
}

/// `RegionId`, required. The old Python core SDK sends the literal `None` for an unset
/// region: that is absent too.
fn region_id(params: &Params) -> Result<RegionId, ApiError> {
    match params.required("RegionId")? {
        "None" => Err(ApiError::missing("RegionId")),
        region => Ok(RegionId(region.to_owned())),
    }
}

fn starts_with_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// `DiskName`: 2–128 characters, a letter (any script) first, then letters, digits, `:`,
/// `_`, `.`, `-`; not a URL. Absent or empty: `None`.
fn disk_name(params: &Params) -> Result<Option<String>, ApiError> {
    let Some(name) = params.optional("DiskName") else {
        return Ok(None);
    };
    let mut chars = name.chars();
    let well_formed = (2..=128).contains(&name.chars().count())
        && chars.next().is_some_and(char::is_alphabetic)
        && chars.all(|c| c.is_alphanumeric() || matches!(c, ':' | '_' | '.' | '-'))
        && !starts_with_url(name);
    if well_formed {
        Ok(Some(name.to_owned()))
    } else {
        Err(ApiError::new(ErrorCode::InvalidDiskName))
    }
}

/// `Description`: 2–256 characters, not a URL. Absent or empty: `None`.
fn description(params: &Params) -> Result<Option<String>, ApiError> {
    let Some(text) = params.optional("Description") else {
        return Ok(None);
    };
    if (2..=256).contains(&text.chars().count()) && !starts_with_url(text) {
        Ok(Some(text.to_owned()))
    } else {
        Err(ApiError::new(ErrorCode::InvalidDescription))
    }
}

/// The values of the repeated parameter `prefix.N` (`suffix` after N, if any), by N, each
/// marked read. Names whose N is not a positive number are not this parameter.
fn numbered<'p>(params: &'p Params, prefix: &str, suffix: &str) -> BTreeMap<u32, &'p str> {
    let mut found = BTreeMap::new();
    for (name, _) in params.pairs() {
        let n = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.strip_suffix(suffix))
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|&n| n >= 1);
        if let (Some(n), Some(value)) = (n, params.get(name)) {
            found.insert(n, value);
        }
    }
    found
}

/// `Tag.N.Key` / `Tag.N.Value` as given, by N: `(key, value)`, either possibly absent.
fn tags(params: &Params) -> BTreeMap<u32, (Option<&str>, Option<&str>)> {
    let mut tags: BTreeMap<u32, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for (n, key) in numbered(params, "Tag", ".Key") {
        tags.entry(n).or_default().0 = Some(key);
    }
    for (n, value) in numbered(params, "Tag", ".Value") {
        tags.entry(n).or_default().1 = Some(value);
    }
    tags
}
