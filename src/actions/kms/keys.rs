//! KMS keys: create, describe, list, and the state changes of `kms.md`'s table.
//!
//! | action | Enabled | Disabled | PendingDeletion | PendingImport |
//! |---|---|---|---|---|
//! | EnableKey / DisableKey | ok | ok | rejected | rejected |
//! | ScheduleKeyDeletion | ok | ok | rejected | ok |
//! | CancelKeyDeletion | rejected | rejected | ok (→ Disabled) | rejected |
//!
//! Rejections are `Rejected.StateModifiedFailed`; the ECS service key cannot be disabled or
//! scheduled for deletion (`Forbidden.NoPermission`).

use super::{arn, in_kms, metadata, not_found, page, page_request};
use crate::actions::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::{Creator, KeySpec, KeyState, KeyUsage, KmsKey, Origin, ProtectionLevel};
use serde::{Deserialize, Serialize};

/// A closed-set parameter: its wire value, or its default when absent.
fn choice<T: Copy + Default>(
    params: &Params,
    name: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ApiError> {
    match params.optional(name) {
        None => Ok(T::default()),
        Some(value) => parse(value).ok_or_else(|| ApiError::invalid(name)),
    }
}

/// `RotationInterval`: `<n>s` or `<n>d`, from 7 to 365 days; answered in seconds.
fn rotation_interval(params: &Params) -> Result<Option<String>, ApiError> {
    let Some(text) = params.optional("RotationInterval") else {
        return Ok(None);
    };
    let invalid = || ApiError::invalid("RotationInterval");
    let number = |digits: &str| digits.parse::<u64>().map_err(|_| invalid());
    let seconds = match (text.strip_suffix('s'), text.strip_suffix('d')) {
        (Some(digits), _) => number(digits)?,
        (_, Some(digits)) => number(digits)?.checked_mul(86_400).ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    if !(7 * 86_400..=365 * 86_400).contains(&seconds) {
        return Err(invalid());
    }
    Ok(Some(format!("{seconds}s")))
}

/// `CreateKey`: a new key in the request's region, `Enabled` (or `PendingImport` for
/// `Origin=EXTERNAL`).
pub fn create_key(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let key_spec = choice(params, "KeySpec", KeySpec::parse)?;
    let key_usage = choice(params, "KeyUsage", KeyUsage::parse)?;
    let symmetric = matches!(key_spec, KeySpec::AliyunAes256 | KeySpec::AliyunSm4);
    let elliptic = matches!(key_spec, KeySpec::EcP256 | KeySpec::EcP256k);
    if (symmetric && key_usage != KeyUsage::EncryptDecrypt)
        || (elliptic && key_usage != KeyUsage::SignVerify)
    {
        return Err(ApiError::invalid("KeyUsage"));
    }
    let origin = choice(params, "Origin", Origin::parse)?;
    let protection_level = choice(params, "ProtectionLevel", ProtectionLevel::parse)?;
    let description = params.get("Description").unwrap_or_default().to_owned();
    if description.chars().count() > 8192 {
        return Err(ApiError::invalid("Description"));
    }
    let automatic_rotation = params.boolean("EnableAutomaticRotation")?.unwrap_or(false);
    let interval = rotation_interval(params)?;
    let rotation_interval = match (automatic_rotation, interval) {
        (true, None) => Some(format!("{}s", 365 * 86_400)),
        (_, interval) => interval,
    };
    let account_id = context.caller.account_id.to_string();
    in_kms(context, |tx, region| {
        let key = tx.create_key(region, |key| {
            key.key_spec = key_spec;
            key.key_usage = key_usage;
            key.origin = origin;
            key.protection_level = protection_level;
            key.description = description;
            key.automatic_rotation = automatic_rotation;
            key.rotation_interval = rotation_interval;
            if origin == Origin::External {
                key.key_state = KeyState::PendingImport;
            }
        });
        Ok(metadata(key, &account_id))
    })
}

/// `DescribeKey`: a key by id, alias or ARN.
pub fn describe_key(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let reference = params.required("KeyId")?;
    let account_id = context.caller.account_id.to_string();
    in_kms(context, |tx, region| {
        let key = tx
            .find_key(region, reference)
            .ok_or_else(|| not_found(reference))?;
        Ok(metadata(key, &account_id))
    })
}

/// The listing of `ListKeys`: `"Keys": {"Key": [{"KeyId", "KeyArn"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyList {
    #[serde(rename = "Keys")]
    keys: KeyEntries,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct KeyEntries {
    #[serde(rename = "Key")]
    key: Vec<KeyEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyEntry {
    key_id: String,
    key_arn: String,
}

/// One entry of `ListKeys`' `Filters`: `{"Key": "KeyState", "Values": ["Enabled"]}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Filter {
    key: String,
    values: Vec<String>,
}

/// A key's value for a filter name, or `None` for a name that cannot be filtered on.
fn filter_value(key: &KmsKey, name: &str) -> Option<&'static str> {
    Some(match name {
        "KeyState" => key.key_state.wire(),
        "KeySpec" => key.key_spec.wire(),
        "KeyUsage" => key.key_usage.wire(),
        "ProtectionLevel" => key.protection_level.wire(),
        "CreatorType" => match key.creator {
            Creator::Account => "User",
            Creator::Ecs => "Service",
        },
        _ => return None,
    })
}

/// `Filters`: up to 10 entries; entries AND together, the values of one entry OR.
fn filters(params: &Params) -> Result<Vec<Filter>, ApiError> {
    let Some(text) = params.optional("Filters") else {
        return Ok(Vec::new());
    };
    let invalid = || ApiError::invalid("Filters");
    let filters: Vec<Filter> = serde_json::from_str(text).map_err(|_| invalid())?;
    let probe = KmsKey::default();
    let valid = filters.len() <= 10
        && filters
            .iter()
            .all(|f| !f.values.is_empty() && filter_value(&probe, &f.key).is_some());
    if valid { Ok(filters) } else { Err(invalid()) }
}

/// `ListKeys`: the account's keys in the region, in creation order, filtered and paged.
pub fn list_keys(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let paging = page_request(params)?;
    let filters = filters(params)?;
    let account_id = context.caller.account_id.to_string();
    in_kms(context, |tx, region| {
        let matching: Vec<KeyEntry> = tx
            .keys_in(region)
            .filter(|key| {
                filters.iter().all(|filter| {
                    let value = filter_value(key, &filter.key);
                    filter.values.iter().any(|v| Some(v.as_str()) == value)
                })
            })
            .map(|key| KeyEntry {
                key_id: key.key_id.to_string(),
                key_arn: arn(region, &account_id, &format!("key/{}", key.key_id)),
            })
            .collect();
        Ok(Output::Keys(page(matching, paging, |key| KeyList {
            keys: KeyEntries { key },
        })))
    })
}

/// The change a state action makes, if the table allows it from `from`.
fn transition(action: StateAction, from: KeyState) -> Option<KeyState> {
    use KeyState::*;
    match (action, from) {
        (StateAction::Enable, Enabled | Disabled) => Some(Enabled),
        (StateAction::Disable, Enabled | Disabled) => Some(Disabled),
        (StateAction::ScheduleDeletion, Enabled | Disabled | PendingImport) => {
            Some(PendingDeletion)
        }
        (StateAction::CancelDeletion, PendingDeletion) => Some(Disabled),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateAction {
    Enable,
    Disable,
    ScheduleDeletion,
    CancelDeletion,
}

/// Applies a state action to the key `KeyId` names; `delete_date` is set with the new state.
fn change_state(
    context: &Context<'_>,
    reference: &str,
    action: StateAction,
    delete_date: Option<String>,
) -> Result<Output, ApiError> {
    in_kms(context, |tx, region| {
        let key = tx
            .find_key_mut(region, reference)
            .ok_or_else(|| not_found(reference))?;
        let service_refuses =
            matches!(action, StateAction::Disable | StateAction::ScheduleDeletion);
        if key.is_service_key() && service_refuses {
            return Err(ApiError::new(ErrorCode::NoPermission));
        }
        let to = transition(action, key.key_state)
            .ok_or_else(|| ApiError::new(ErrorCode::StateModifiedFailed))?;
        key.key_state = to;
        key.delete_date = delete_date;
        Ok(Output::Empty {})
    })
}

/// `EnableKey`.
pub fn enable_key(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let reference = params.required("KeyId")?;
    change_state(context, reference, StateAction::Enable, None)
}

/// `DisableKey`.
pub fn disable_key(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let reference = params.required("KeyId")?;
    change_state(context, reference, StateAction::Disable, None)
}

/// `ScheduleKeyDeletion`: `PendingDeletion` until now + `PendingWindowInDays` (7–366).
pub fn schedule_key_deletion(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let reference = params.required("KeyId")?;
    let days = params
        .integer("PendingWindowInDays", 7..=366)?
        .ok_or_else(|| ApiError::missing("PendingWindowInDays"))?;
    let delete_at = time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days));
    let delete_date = Some(crate::ids::date_text(delete_at));
    change_state(
        context,
        reference,
        StateAction::ScheduleDeletion,
        delete_date,
    )
}

/// `CancelKeyDeletion`: back to `Disabled`.
pub fn cancel_key_deletion(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let reference = params.required("KeyId")?;
    change_state(context, reference, StateAction::CancelDeletion, None)
}
