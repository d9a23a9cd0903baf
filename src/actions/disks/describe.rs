//! `DescribeDisks` (`disks.md` §3.3): filters, page-number and token paging over the
//! account's disks of one region, newest first, in the response shape tools rely on.
//!
//! Without filters, a page is read straight off the region's index (`model::Disks`), and
//! `TotalCount` is its length; any filter (which must count every match) walks the region.

use super::{region_id, tags};
use crate::actions::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::{Disk, DiskCategory, DiskId, OrderKey, PerformanceLevel, ZoneId};
use serde::Serialize;
use std::cmp::Reverse;

/// The checks past the gateway's, in order, for `/_emulator/coverage`.
pub const CHECKS: &[(ErrorCode, &str)] = &[
    (
        ErrorCode::InvalidDiskIdsFormat,
        "DiskIds that is not a JSON array of strings",
    ),
    (ErrorCode::TooManyDiskIds, "DiskIds with more than 100 ids"),
    (ErrorCode::InvalidDiskType, "DiskType=root"),
    (ErrorCode::InvalidCategory, "Category=cloud_hdd"),
    (ErrorCode::InvalidStatus, "Status=Broken"),
    (ErrorCode::InvalidRegionIdNotFound, "RegionId=cn-atlantis"),
    (ErrorCode::ZoneIdNotInRecords, "a ZoneId not in the region"),
];

/// The most ids `DiskIds` may hold.
const MAX_DISK_IDS: usize = 100;
/// `Status` values the API accepts; only `Available` and `Creating` disks exist here.
const STATUSES: [&str; 7] = [
    "All",
    "In_use",
    "Available",
    "Attaching",
    "Detaching",
    "Creating",
    "ReIniting",
];

/// What a disk must be to be listed; `None` matches every disk.
#[derive(Debug, Default)]
struct Filter {
    zone: Option<ZoneId>,
    /// `DiskType=system`, or an `InstanceId`: no disk is a system disk or attached.
    nothing: bool,
    category: Option<DiskCategory>,
    status: Option<String>,
    encrypted: Option<bool>,
    kms_key_id: Option<String>,
    disk_name: Option<String>,
    portable: Option<bool>,
    delete_with_instance: Option<bool>,
    resource_group_id: Option<String>,
    /// Every tag must match; a key without a value matches any value.
    tags: Vec<(String, Option<String>)>,
}

impl Filter {
    fn is_empty(&self) -> bool {
        matches!(
            self,
            Filter {
                zone: None,
                nothing: false,
                category: None,
                status: None,
                encrypted: None,
                kms_key_id: None,
                disk_name: None,
                portable: None,
                delete_with_instance: None,
                resource_group_id: None,
                tags,
            } if tags.is_empty()
        )
    }

    fn matches(&self, disk: &Disk) -> bool {
        fn given<T: PartialEq>(wanted: &Option<T>, actual: T) -> bool {
            wanted.as_ref().is_none_or(|w| *w == actual)
        }
        !self.nothing
            && given(&self.zone.as_ref(), &disk.zone_id)
            && given(&self.category, disk.category)
            && given(&self.status.as_deref(), disk.status.wire())
            && given(&self.encrypted, disk.encrypted)
            && self
                .kms_key_id
                .as_ref()
                .is_none_or(|k| disk.kms_key_id.as_ref().is_some_and(|d| d.as_str() == k))
            && given(&self.disk_name.as_deref(), disk.disk_name.as_str())
            && given(&self.portable, disk.portable)
            && given(&self.delete_with_instance, disk.delete_with_instance)
            && given(
                &self.resource_group_id.as_deref(),
                disk.resource_group_id.as_str(),
            )
            && self.tags.iter().all(|(key, value)| {
                disk.tags
                    .get(key)
                    .is_some_and(|v| value.as_ref().is_none_or(|w| w == v))
            })
    }
}

/// How the caller pages.
#[derive(Debug, Clone, PartialEq)]
enum Paging {
    /// `PageNumber` and `PageSize`.
    Numbers { number: u32, size: u32 },
    /// `MaxResults`, from after the position a `NextToken` names (or the start).
    Token { max: u32, after: Option<OrderKey> },
}

fn paging(params: &Params) -> Result<Paging, ApiError> {
    let token = params.optional("NextToken");
    let max = params.optional("MaxResults");
    if token.is_none() && max.is_none() {
        let number = params.integer("PageNumber", 1..=u32::MAX)?.unwrap_or(1);
        let size = params.integer("PageSize", 1..=100)?.unwrap_or(10);
        return Ok(Paging::Numbers { number, size });
    }
    params.mark_read(&["PageNumber", "PageSize"]);
    let max = match max {
        None => 10,
        Some(text) => {
            let n: i64 = text.parse().map_err(|_| ApiError::invalid("MaxResults"))?;
            n.clamp(10, 500) as u32
        }
    };
    let after = token
        .map(|t| read_token(t).ok_or_else(|| ApiError::invalid("NextToken")))
        .transpose()?;
    Ok(Paging::Token { max, after })
}

/// A `NextToken`: the position of the last disk a page gave, as its creation time's digits
/// (`YYYYMMDDhhmmss`) and its id. Deleting that disk does not spoil the token.
fn write_token(key: &OrderKey) -> String {
    let (time, id) = &key.0;
    let digits: String = time.chars().filter(char::is_ascii_digit).collect();
    format!("{digits}{id}")
}

fn read_token(token: &str) -> Option<OrderKey> {
    let (digits, id) = (token.get(..14)?, token.get(14..)?);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !DiskId::is_well_formed(id) {
        return None;
    }
    let time = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &digits[..4],
        &digits[4..6],
        &digits[6..8],
        &digits[8..10],
        &digits[10..12],
        &digits[12..14]
    );
    Some(Reverse((time, DiskId(id.to_owned()))))
}

/// `DiskIds`: one string holding a JSON array of at most 100 ids.
fn disk_ids(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = params.optional("DiskIds") else {
        return Ok(None);
    };
    let ids: Vec<String> =
        serde_json::from_str(text).map_err(|_| ApiError::new(ErrorCode::InvalidDiskIdsFormat))?;
    if ids.len() > MAX_DISK_IDS {
        return Err(ApiError::new(ErrorCode::TooManyDiskIds));
    }
    Ok(Some(ids))
}

fn filter(params: &Params) -> Result<Filter, ApiError> {
    let mut filter = Filter {
        zone: params.optional("ZoneId").map(|z| ZoneId(z.to_owned())),
        ..Filter::default()
    };
    match params.optional("DiskType").unwrap_or("all") {
        "all" | "data" => {}
        "system" => filter.nothing = true,
        _ => return Err(ApiError::new(ErrorCode::InvalidDiskType)),
    }
    filter.category = match params.optional("Category").unwrap_or("all") {
        "all" => None,
        name => Some(
            DiskCategory::from_wire(name)
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidCategory))?,
        ),
    };
    filter.status = match params.optional("Status").unwrap_or("All") {
        "All" => None,
        status if STATUSES.contains(&status) => Some(status.to_owned()),
        _ => return Err(ApiError::new(ErrorCode::InvalidStatus)),
    };
    filter.encrypted = params.boolean("Encrypted")?;
    filter.kms_key_id = params.optional("KMSKeyId").map(str::to_owned);
    filter.disk_name = params.optional("DiskName").map(str::to_owned);
    filter.portable = params.boolean("Portable")?;
    filter.delete_with_instance = params.boolean("DeleteWithInstance")?;
    filter.resource_group_id = params.optional("ResourceGroupId").map(str::to_owned);
    filter.nothing |= params.optional("InstanceId").is_some();
    filter.tags = tags(params)
        .into_values()
        .filter_map(|(key, value)| Some((key?.to_owned(), value.map(str::to_owned))))
        .collect();
    Ok(filter)
}

/// `DescribeDisks`.
pub fn describe_disks(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    let ids = disk_ids(params)?;
    let filter = filter(params)?;
    let paging = paging(params)?;
    let catalogued = context
        .world
        .region(&region)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRegionIdNotFound))?;
    if let Some(zone) = &filter.zone
        && !catalogued.zones.iter().any(|z| &z.zone_id == zone)
    {
        return Err(ApiError::new(ErrorCode::ZoneIdNotInRecords));
    }
    context.transact(|tx| {
        let disks = tx.disks();
        let page = match (&ids, filter.is_empty()) {
            // The index alone: no walk of the region.
            (None, true) => cut(
                disks.in_region(&region, after(&paging)),
                disks.count_in(&region),
                &paging,
            ),
            (None, false) => {
                let total = disks
                    .in_region(&region, None)
                    .filter(|(_, d)| filter.matches(d))
                    .count();
                let matching = disks
                    .in_region(&region, after(&paging))
                    .filter(|(_, d)| filter.matches(d));
                cut(matching, total, &paging)
            }
            (Some(ids), _) => {
                let mut found: Vec<(OrderKey, &Disk)> = ids
                    .iter()
                    .filter_map(|id| tx.disk_in(&region, id))
                    .filter(|d| filter.matches(d))
                    .map(|d| (disks.order_of(d.disk_id.as_str()).expect("found"), d))
                    .collect();
                found.sort_by(|a, b| a.0.cmp(&b.0));
                found.dedup_by(|a, b| a.0 == b.0);
                let total = found.len();
                let start =
                    after(&paging).map_or(0, |key| found.partition_point(|(k, _)| k <= key));
                cut(found[start..].iter().map(|(k, d)| (k, *d)), total, &paging)
            }
        };
        Ok(Output::Disks(Box::new(page)))
    })
}

fn after(paging: &Paging) -> Option<&OrderKey> {
    match paging {
        Paging::Token { after, .. } => after.as_ref(),
        Paging::Numbers { .. } => None,
    }
}

/// The page `paging` asks for out of `matching` (already past a token's position), of
/// `total` matches in all.
fn cut<'d>(
    matching: impl Iterator<Item = (&'d OrderKey, &'d Disk)>,
    total: usize,
    paging: &Paging,
) -> DiskPage {
    let (disks, next_token, page_number, page_size) = match *paging {
        Paging::Numbers { number, size } => {
            let skip = (number as usize - 1).saturating_mul(size as usize);
            let disks = matching
                .skip(skip)
                .take(size as usize)
                .map(|(_, d)| item(d));
            (disks.collect(), String::new(), number, size)
        }
        Paging::Token { max, .. } => {
            let mut page: Vec<(&OrderKey, &Disk)> = matching.take(max as usize + 1).collect();
            let more = page.len() > max as usize;
            page.truncate(max as usize);
            let next = match (more, page.last()) {
                (true, Some((key, _))) => write_token(key),
                _ => String::new(),
            };
            (
                page.into_iter().map(|(_, d)| item(d)).collect(),
                next,
                1,
                max,
            )
        }
    };
    DiskPage {
        total_count: total,
        page_number,
        page_size,
        next_token,
        disks: DiskList { disk: disks },
    }
}

/// The fields of `DescribeDisks` besides `RequestId`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskPage {
    total_count: usize,
    page_number: u32,
    page_size: u32,
    next_token: String,
    disks: DiskList,
}

/// `Disks`: `{"Disk": […]}` in JSON, `<Disk>` repeated in XML.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct DiskList {
    #[serde(rename = "Disk")]
    disk: Vec<DiskItem>,
}

/// A disk as `DescribeDisks` answers it: every field on every disk, never null.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DiskItem {
    disk_id: String,
    region_id: String,
    zone_id: String,
    disk_name: String,
    description: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    category: &'static str,
    performance_level: &'static str,
    size: u32,
    encrypted: bool,
    #[serde(rename = "KMSKeyId")]
    kms_key_id: String,
    status: &'static str,
    portable: bool,
    delete_with_instance: bool,
    delete_auto_snapshot: bool,
    enable_auto_snapshot: bool,
    enable_automated_snapshot_policy: bool,
    disk_charge_type: &'static str,
    expired_time: &'static str,
    creation_time: String,
    attached_time: &'static str,
    detached_time: &'static str,
    instance_id: &'static str,
    device: &'static str,
    image_id: &'static str,
    source_snapshot_id: &'static str,
    auto_snapshot_policy_id: &'static str,
    resource_group_id: String,
    storage_set_id: &'static str,
    multi_attach: &'static str,
    serial_number: String,
    #[serde(rename = "IOPS")]
    iops: u64,
    throughput: u64,
    bursting_enabled: bool,
    provisioned_iops: u64,
    mount_instance_num: u32,
    tags: TagList,
    attachments: Attachments,
    operation_locks: OperationLocks,
    mount_instances: MountInstances,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct TagList {
    #[serde(rename = "Tag")]
    tag: Vec<TagItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagItem {
    tag_key: String,
    tag_value: String,
}

/// Nothing is ever attached, locked or mounted: the lists are always empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Nothing {}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Attachments {
    #[serde(rename = "Attachment")]
    items: Vec<Nothing>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct OperationLocks {
    #[serde(rename = "OperationLock")]
    items: Vec<Nothing>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct MountInstances {
    #[serde(rename = "MountInstance")]
    items: Vec<Nothing>,
}

/// IOPS and throughput (MB/s) of a disk, by the formulas of `disks.md` §3.3.
pub fn performance(disk: &Disk) -> (u64, u64) {
    let size = u64::from(disk.size);
    // (IOPS per GiB, IOPS cap, base throughput, throughput per GiB as a fraction, cap)
    let pl1 = (50, 50_000, 120, (1, 2), 350);
    let (per_gib, iops_cap, base, (num, den), throughput_cap) = match disk.category {
        DiskCategory::Cloud => return (0, 0),
        DiskCategory::CloudEssd => match disk.level().unwrap_or_default() {
            PerformanceLevel::Pl0 => (12, 10_000, 100, (1, 4), 180),
            PerformanceLevel::Pl1 => pl1,
            PerformanceLevel::Pl2 => (50, 100_000, 120, (1, 2), 750),
            PerformanceLevel::Pl3 => (50, 1_000_000, 120, (1, 2), 4000),
        },
        DiskCategory::CloudSsd => (30, 25_000, 120, (1, 2), 300),
        DiskCategory::CloudEfficiency => (8, 5_000, 100, (15, 100), 140),
        DiskCategory::CloudAuto | DiskCategory::CloudEssdEntry => pl1,
    };
    let iops = (1800 + per_gib * size).min(iops_cap);
    let throughput = (base + size * num / den).min(throughput_cap);
    (iops, throughput)
}

fn item(disk: &Disk) -> DiskItem {
    let (iops, throughput) = performance(disk);
    DiskItem {
        disk_id: disk.disk_id.to_string(),
        region_id: disk.region_id.to_string(),
        zone_id: disk.zone_id.to_string(),
        disk_name: disk.disk_name.clone(),
        description: disk.description.clone(),
        kind: "data",
        category: disk.category.wire(),
        performance_level: disk.level().map_or("", PerformanceLevel::wire),
        size: disk.size,
        encrypted: disk.encrypted,
        kms_key_id: disk
            .kms_key_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        status: disk.status.wire(),
        portable: disk.portable,
        delete_with_instance: disk.delete_with_instance,
        delete_auto_snapshot: disk.delete_auto_snapshot,
        enable_auto_snapshot: disk.enable_auto_snapshot,
        enable_automated_snapshot_policy: false,
        disk_charge_type: "PostPaid",
        expired_time: "2999-09-08T16:00Z",
        creation_time: disk.creation_time.clone(),
        attached_time: "",
        detached_time: "",
        instance_id: "",
        device: "",
        image_id: "",
        source_snapshot_id: "",
        auto_snapshot_policy_id: "",
        resource_group_id: disk.resource_group_id.clone(),
        storage_set_id: "",
        multi_attach: disk.multi_attach.wire(),
        serial_number: disk.disk_id.as_str().trim_start_matches("d-").to_owned(),
        iops,
        throughput,
        bursting_enabled: false,
        provisioned_iops: 0,
        mount_instance_num: 0,
        tags: TagList {
            tag: disk
                .tags
                .iter()
                .map(|(key, value)| TagItem {
                    tag_key: key.clone(),
                    tag_value: value.clone(),
                })
                .collect(),
        },
        attachments: Attachments { items: Vec::new() },
        operation_locks: OperationLocks { items: Vec::new() },
        mount_instances: MountInstances { items: Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(category: &str, level: &str, size: u32) -> Disk {
        serde_json::from_value(serde_json::json!({
            "diskId": "d-bp1exampleexample001", "regionId": "r", "zoneId": "z",
            "category": category, "performanceLevel": level, "size": size,
        }))
        .unwrap()
    }

    #[test]
    fn performance_follows_the_formulas() {
        let cases = [
            ("cloud_essd", "PL1", 40, (3800, 140)),
            ("cloud_essd", "", 40, (3800, 140)),
            ("cloud_essd", "PL0", 40, (2280, 110)),
            ("cloud_essd", "PL0", 65536, (10_000, 180)),
            ("cloud_essd", "PL2", 461, (24_850, 350)),
            ("cloud_essd", "PL3", 65536, (1_000_000, 4000)),
            ("cloud_ssd", "", 21, (2430, 130)),
            ("cloud_efficiency", "", 21, (1968, 103)),
            ("cloud_efficiency", "", 32768, (5000, 140)),
            ("cloud_auto", "", 1, (1850, 120)),
            ("cloud_essd_entry", "", 32768, (50_000, 350)),
            ("cloud", "", 100, (0, 0)),
        ];
        for (category, level, size, expected) in cases {
            assert_eq!(
                performance(&disk(category, level, size)),
                expected,
                "{category} {level} {size}"
            );
        }
    }

    #[test]
    fn tokens_read_back_what_they_wrote() {
        let key = Reverse((
            "2026-12-01T10:00:00Z".to_owned(),
            DiskId("d-bp1exampleexample001".into()),
        ));
        assert_eq!(read_token(&write_token(&key)), Some(key));
        for bad in [
            "",
            "x",
            "20261201100000",
            "2026120110000xd-bp1exampleexample001",
        ] {
            assert_eq!(read_token(bad), None, "{bad}");
        }
    }
}
