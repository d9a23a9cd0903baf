//! KMS (API version `2016-01-20`) on the same port: keys, their states and aliases, over the
//! same store ECS reads (`kms.md`). Every action but `DescribeRegions` runs in the region the
//! request addresses and needs the account's KMS service open.

mod aliases;
mod keys;

pub use aliases::{AliasList, create_alias, delete_alias, list_aliases};
pub use keys::{
    KeyList, cancel_key_deletion, create_key, describe_key, disable_key, enable_key, list_keys,
    schedule_key_deletion,
};

use super::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::AccountTx;
use crate::store::model::{KmsKey, RegionId};
use serde::Serialize;

/// (code, how) for each state check of a KMS action, for `/_emulator/coverage`.
pub fn checks(action: crate::actions::Action) -> Vec<(ErrorCode, &'static str)> {
    use crate::actions::Action::*;
    let service = (
        ErrorCode::KmsServiceNotEnabled,
        "an account with kmsServiceOpen false",
    );
    let key = (
        ErrorCode::KeyNotFound,
        "a KeyId that names no key of the account in the region",
    );
    let alias = (ErrorCode::AliasNotFound, "an alias/… that names nothing");
    let state = (
        ErrorCode::StateModifiedFailed,
        "a key in a state the KMS state table refuses",
    );
    let protected = (
        ErrorCode::NoPermission,
        "the ECS service key (alias/acs/ecs)",
    );
    match action {
        KmsDescribeRegions => Vec::new(),
        KmsCreateKey | KmsListKeys | KmsListAliases => vec![service],
        KmsDescribeKey => vec![service, key, alias],
        KmsEnableKey | KmsCancelKeyDeletion => vec![service, key, alias, state],
        KmsDisableKey | KmsScheduleKeyDeletion => vec![service, key, alias, protected, state],
        KmsCreateAlias => vec![
            service,
            key,
            alias,
            protected,
            state,
            (
                ErrorCode::AliasAlreadyExists,
                "an AliasName already used in the region",
            ),
        ],
        KmsDeleteAlias => vec![service, alias, protected],
        _ => Vec::new(),
    }
}

/// Runs `apply` in the caller's account, in the request's KMS region, once the region is
/// known and the account's KMS service is open (`Forbidden.KmsServiceNotEnabled`).
fn in_kms<T>(
    context: &Context<'_>,
    apply: impl FnOnce(&mut AccountTx<'_>, &RegionId) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let region = RegionId(context.kms_region.to_owned());
    if context.world.region(&region).is_none() {
        return Err(ApiError::invalid("RegionId"));
    }
    context.transact(|tx| {
        if !tx.account().kms_service_open {
            return Err(ApiError::new(ErrorCode::KmsServiceNotEnabled));
        }
        apply(tx, &region)
    })
}

/// A reference that resolves to nothing: `Forbidden.AliasNotFound` for an alias,
/// `Forbidden.KeyNotFound` for a key id or ARN.
fn not_found(reference: &str) -> ApiError {
    let alias = reference.starts_with("alias/") || reference.contains(":alias/");
    ApiError::new(if alias {
        ErrorCode::AliasNotFound
    } else {
        ErrorCode::KeyNotFound
    })
}

/// `KeyMetadata` as `CreateKey` and `DescribeKey` answer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    key_id: String,
    arn: String,
    key_state: &'static str,
    key_spec: &'static str,
    key_usage: &'static str,
    origin: &'static str,
    protection_level: &'static str,
    description: String,
    creator: String,
    creation_date: String,
    delete_date: String,
    automatic_rotation: &'static str,
    rotation_interval: String,
    last_rotation_date: String,
    next_rotation_date: String,
    material_expire_time: String,
    deletion_protection: &'static str,
}

/// `acs:kms:<region>:<accountId>:<resource>`.
fn arn(region: &RegionId, account_id: &str, resource: &str) -> String {
    format!("acs:kms:{region}:{account_id}:{resource}")
}

fn metadata(key: &KmsKey, account_id: &str) -> Output {
    let enabled_or_disabled = |on: bool| if on { "Enabled" } else { "Disabled" };
    Output::KeyMetadata {
        key_metadata: Box::new(KeyMetadata {
            key_id: key.key_id.to_string(),
            arn: arn(&key.region_id, account_id, &format!("key/{}", key.key_id)),
            key_state: key.key_state.wire(),
            key_spec: key.key_spec.wire(),
            key_usage: key.key_usage.wire(),
            origin: key.origin.wire(),
            protection_level: key.protection_level.wire(),
            description: key.description.clone(),
            creator: if key.is_service_key() {
                "Ecs".to_owned()
            } else {
                account_id.to_owned()
            },
            creation_date: key.creation_date.clone().unwrap_or_default(),
            delete_date: key.delete_date.clone().unwrap_or_default(),
            automatic_rotation: enabled_or_disabled(key.automatic_rotation),
            rotation_interval: key.rotation_interval.clone().unwrap_or_default(),
            last_rotation_date: String::new(),
            next_rotation_date: String::new(),
            material_expire_time: String::new(),
            deletion_protection: "Disabled",
        }),
    }
}

/// A page of a listing: the items, then `TotalCount`, `PageNumber`, `PageSize`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page<T> {
    #[serde(flatten)]
    items: T,
    total_count: usize,
    page_number: u32,
    page_size: u32,
}

/// `PageNumber` (≥ 1, default 1) and `PageSize` (1–100, default 10).
fn page_request(params: &Params) -> Result<(u32, u32), ApiError> {
    let number = params.integer("PageNumber", 1..=u32::MAX)?.unwrap_or(1);
    let size = params.integer("PageSize", 1..=100)?.unwrap_or(10);
    Ok((number, size))
}

/// Cuts page `number` of `size` out of `all`, wrapped by `wrap`.
fn page<I, T>(all: Vec<I>, (number, size): (u32, u32), wrap: impl FnOnce(Vec<I>) -> T) -> Page<T> {
    let total_count = all.len();
    let skip = (number as usize - 1).saturating_mul(size as usize);
    let items = all.into_iter().skip(skip).take(size as usize).collect();
    Page {
        items: wrap(items),
        total_count,
        page_number: number,
        page_size: size,
    }
}

/// `Regions` of KMS `DescribeRegions`: `{"Region": [{"RegionId": …}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionList {
    #[serde(rename = "Region")]
    region: Vec<RegionEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct RegionEntry {
    #[serde(rename = "RegionId")]
    region_id: String,
}

/// KMS `DescribeRegions`: every region of the catalogue. A catalogue call, so it needs no
/// KMS activation.
pub fn describe_regions(context: &Context<'_>, _params: &Params) -> Result<Output, ApiError> {
    let region = context
        .world
        .regions()
        .iter()
        .map(|r| RegionEntry {
            region_id: r.region_id.to_string(),
        })
        .collect();
    Ok(Output::KmsRegions {
        regions: RegionList { region },
    })
}
