//! `DescribeDisks` (`disks.md` §3.3): filters, page-number and token paging over the
//! account's disks of one region, newest first, in the response shape tools rely on.
//!
//! Without filters, a page is read straight off the region's index (`model::Disks`), and
//! `TotalCount` is its length; any filter (which must count every match) walks the region.

use super::shape::{DiskList, DiskPage, item};
use super::{region_id, tags};
use crate::actions::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::{Disk, DiskCategory, DiskId, OrderKey, ZoneId};
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

#[cfg(test)]
mod tests {
    use super::*;

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
