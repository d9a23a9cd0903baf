//! ECS `DescribeRegions`: the region catalogue in the language asked for.

use super::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
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
