//! ECS `DescribeRegions`: the region catalogue in the language asked for.

use super::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::RegionId;
use serde::Serialize;

/// The languages the API accepts; names missing from the fixture fall back to English.
const LANGUAGES: [&str; 3] = ["zh-CN", "en-US", "ja"];

/// `Regions` of the response: `{"Region": […]}` in JSON, `<Region>` repeated in XML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionList {
    #[serde(rename = "Region")]
    region: Vec<RegionItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionItem {
    region_id: String,
    region_endpoint: String,
    local_name: String,
    status: &'static str,
}

/// `DescribeRegions`. `InstanceChargeType` and `ResourceType` are accepted; every region of
/// the catalogue offers every charge type and resource here, so they filter nothing.
/// `RegionId` is accepted and ignored (left unread).
pub fn describe_regions(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let language = params.optional("AcceptLanguage").unwrap_or("zh-CN");
    if !LANGUAGES.contains(&language) {
        return Err(ApiError::new(ErrorCode::InvalidAcceptLanguage));
    }
    params.mark_read(&["InstanceChargeType", "ResourceType"]);
    let region = context
        .world
        .regions()
        .iter()
        .map(|r| RegionItem {
            region_id: r.region_id.to_string(),
            region_endpoint: r.endpoint(),
            local_name: r.local_name(language).to_owned(),
            status: r.status.wire(),
        })
        .collect();
    Ok(Output::Regions {
        regions: RegionList { region },
    })
}

/// `InstanceChargeType` values `DescribeZones` accepts; every zone offers both here.
const CHARGE_TYPES: [&str; 2] = ["PostPaid", "PrePaid"];
/// `SpotStrategy` values `DescribeZones` accepts; they filter nothing here.
const SPOT_STRATEGIES: [&str; 3] = ["NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo"];
/// What every zone here can create (the real service's four kinds).
const RESOURCE_TYPES: [&str; 4] = ["Instance", "Disk", "VSwitch", "IoOptimized"];

/// `Zones` of the response: `{"Zone": […]}` in JSON, `<Zone>` repeated in XML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneList {
    #[serde(rename = "Zone")]
    zone: Vec<ZoneItem>,
}

/// A zone as `DescribeZones` answers it; with `Verbose=false`, only the first three fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneItem {
    zone_id: String,
    zone_type: &'static str,
    local_name: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    verbose: Option<ZoneDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneDetails {
    available_resource_creation: ResourceTypes,
    available_disk_categories: DiskCategories,
    available_instance_types: InstanceTypes,
    available_volume_categories: VolumeCategories,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct ResourceTypes {
    #[serde(rename = "ResourceTypes")]
    items: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct DiskCategories {
    #[serde(rename = "DiskCategories")]
    items: Vec<&'static str>,
}

/// No instance types: the emulator has no instances.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct InstanceTypes {
    #[serde(rename = "InstanceTypes")]
    items: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct VolumeCategories {
    #[serde(rename = "VolumeCategories")]
    items: Vec<&'static str>,
}

/// (code, how to reach it) for `DescribeZones`'s checks, in check order.
pub fn zone_checks() -> Vec<(ErrorCode, &'static str)> {
    vec![
        (
            ErrorCode::InvalidAcceptLanguage,
            "AcceptLanguage other than zh-CN, en-US or ja",
        ),
        (
            ErrorCode::InvalidInstanceChargeType,
            "InstanceChargeType other than PostPaid or PrePaid",
        ),
        (
            ErrorCode::InvalidSpotStrategy,
            "SpotStrategy other than NoSpot, SpotWithPriceLimit or SpotAsPriceGo",
        ),
        (ErrorCode::InvalidRegionIdNotFound, "RegionId=cn-atlantis"),
    ]
}

/// `DescribeZones` (`disks.md` §2): the region's zones in document order, names in the
/// language asked for. `InstanceChargeType` and `SpotStrategy` are checked and filter
/// nothing (every zone offers both charge types); no instance types or volume categories are
/// listed, since the emulator has neither.
pub fn describe_zones(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let region_id = params.required("RegionId")?;
    let language = params.optional("AcceptLanguage").unwrap_or("zh-CN");
    if !LANGUAGES.contains(&language) {
        return Err(ApiError::new(ErrorCode::InvalidAcceptLanguage));
    }
    let charge_type = params.optional("InstanceChargeType").unwrap_or("PostPaid");
    if !CHARGE_TYPES.contains(&charge_type) {
        return Err(ApiError::new(ErrorCode::InvalidInstanceChargeType));
    }
    let spot = params.optional("SpotStrategy").unwrap_or("NoSpot");
    if !SPOT_STRATEGIES.contains(&spot) {
        return Err(ApiError::new(ErrorCode::InvalidSpotStrategy));
    }
    let verbose = params.boolean("Verbose")?.unwrap_or(true);
    let region = context
        .world
        .region(&RegionId(region_id.to_owned()))
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRegionIdNotFound))?;
    let zone = region
        .zones
        .iter()
        .map(|zone| ZoneItem {
            zone_id: zone.zone_id.to_string(),
            zone_type: "AvailabilityZone",
            local_name: zone.local_name(language).to_owned(),
            verbose: verbose.then(|| ZoneDetails {
                available_resource_creation: ResourceTypes {
                    items: RESOURCE_TYPES.to_vec(),
                },
                available_disk_categories: DiskCategories {
                    items: zone.disk_categories.iter().map(|c| c.wire()).collect(),
                },
                available_instance_types: InstanceTypes { items: Vec::new() },
                available_volume_categories: VolumeCategories { items: Vec::new() },
            }),
        })
        .collect();
    Ok(Output::Zones {
        zones: ZoneList { zone },
    })
}
