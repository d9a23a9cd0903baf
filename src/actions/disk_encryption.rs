//! The account-level disk default-encryption family (`ecs-default-encryption.md`):
//! Enable/Disable/DescribeStatus and Modify/Reset/Describe of the default KMS key.
//!
//! The checks run in the order of the spec's table — R1 region exists, R2 region supports
//! the feature, A1 whitelist, A2 KMS service open, A3 KMS enabled in the region, F1/F2 the
//! feature's state, K1 key resolves, K2 ECS may use it, K3 key enabled — all inside one
//! account transaction with the write, so the first failing check wins and nothing is
//! half-applied.

use super::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::AccountTx;
use crate::store::model::{KeyId, KeyState, KmsKey, RegionId};

/// The state checks of each action, for `/_emulator/coverage`: (code, how to reach it).
const REGION_CHECKS: [(ErrorCode, &str); 2] = [
    (
        ErrorCode::RegionIdNotExists,
        "RegionId of a region not in the catalogue",
    ),
    (
        ErrorCode::RegionNotSupport,
        "a region with defaultEncryptionSupported false",
    ),
];
const ACCOUNT_CHECKS: [(ErrorCode, &str); 3] = [
    (
        ErrorCode::UserNotInTheWhiteList,
        "an account with diskWhitelisted false",
    ),
    (
        ErrorCode::KmsServiceNotOpen,
        "an account with kmsServiceOpen false",
    ),
    (
        ErrorCode::EncryptedKmsNotEnabled,
        "regionSettings.<region>.kmsEnabled false",
    ),
];
const KEY_CHECKS: [(ErrorCode, &str); 3] = [
    (
        ErrorCode::KmsKeyIdNotFound,
        "a KMSKeyId that names no key of the account in the region",
    ),
    (
        ErrorCode::KmsUnauthorized,
        "ecsKmsRoleGranted false, or a key with ecsAuthorized false",
    ),
    (
        ErrorCode::CmkNotEnabled,
        "a key that is Disabled, PendingDeletion or PendingImport",
    ),
];
const NOT_CONFIGURED: (ErrorCode, &str) = (
    ErrorCode::DefaultEncryptionNotFound,
    "regionSettings.<region>.defaultEncryption.enabled false",
);

/// (code, how) for each state check `action` makes, in check order.
pub fn checks(action: super::Action) -> Vec<(ErrorCode, &'static str)> {
    use super::Action::*;
    let mut checks = vec![REGION_CHECKS[0]];
    match action {
        DescribeDiskEncryptionByDefaultStatus | DescribeDiskDefaultKmsKeyId => {}
        DisableDiskEncryptionByDefault => {
            checks.extend([REGION_CHECKS[1], ACCOUNT_CHECKS[0], NOT_CONFIGURED]);
        }
        EnableDiskEncryptionByDefault => {
            checks.extend(REGION_CHECKS[1..].iter().chain(&ACCOUNT_CHECKS).copied());
            checks.push((
                ErrorCode::DefaultEncryptionAlreadyEnabled,
                "regionSettings.<region>.defaultEncryption.enabled true",
            ));
            checks.extend(&KEY_CHECKS[1..]);
        }
        ModifyDiskDefaultKmsKeyId | ResetDiskDefaultKmsKeyId => {
            checks.extend(REGION_CHECKS[1..].iter().chain(&ACCOUNT_CHECKS).copied());
            checks.push(NOT_CONFIGURED);
            let keys = if action == ModifyDiskDefaultKmsKeyId {
                &KEY_CHECKS[..]
            } else {
                &KEY_CHECKS[1..2]
            };
            checks.extend(keys);
        }
        _ => return Vec::new(),
    }
    checks
}

/// Which of the gate checks (R1–A3) an action is subject to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gates {
    /// The two Describe actions: R1 only.
    Describe,
    /// Disable: R1, R2, A1.
    Manage,
    /// Enable, Modify, Reset: R1 to A3.
    ManageWithKms,
}

/// `RegionId`, required by every action of the family. The old Python core SDK sends the
/// literal `None` for an unset region: that is absent too.
fn region_id(params: &Params) -> Result<RegionId, ApiError> {
    match params.required("RegionId")? {
        "None" => Err(ApiError::missing("RegionId")),
        region => Ok(RegionId(region.to_owned())),
    }
}

/// R1–A3.
fn check_gates(tx: &AccountTx<'_>, region: &RegionId, gates: Gates) -> Result<(), ApiError> {
    let catalogued = tx
        .region(region)
        .ok_or_else(|| ApiError::new(ErrorCode::RegionIdNotExists))?;
    if gates == Gates::Describe {
        return Ok(());
    }
    if !catalogued.default_encryption_supported {
        return Err(ApiError::new(ErrorCode::RegionNotSupport));
    }
    let account = tx.account();
    if !account.disk_whitelisted {
        return Err(ApiError::new(ErrorCode::UserNotInTheWhiteList));
    }
    if gates == Gates::ManageWithKms {
        if !account.kms_service_open {
            return Err(ApiError::new(ErrorCode::KmsServiceNotOpen));
        }
        if !tx.setting(region).kms_enabled {
            return Err(ApiError::new(ErrorCode::EncryptedKmsNotEnabled));
        }
    }
    Ok(())
}

/// Runs `apply` on the caller's account after the gate checks, in one transaction.
fn gated(
    context: &Context<'_>,
    region: &RegionId,
    gates: Gates,
    apply: impl FnOnce(&mut AccountTx<'_>) -> Result<Output, ApiError>,
) -> Result<Output, ApiError> {
    context.transact(|tx| {
        check_gates(tx, region, gates)?;
        apply(tx)
    })
}

/// F2: the feature must be on.
fn require_enabled(tx: &AccountTx<'_>, region: &RegionId) -> Result<(), ApiError> {
    if tx.setting(region).default_encryption.enabled {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::DefaultEncryptionNotFound))
    }
}

/// K1–K3 on a resolved (or unresolved) key; `reference` is what K1's message names.
fn check_key(role_granted: bool, key: Option<&KmsKey>, reference: &str) -> Result<KeyId, ApiError> {
    let key = key.ok_or_else(|| ApiError::with(ErrorCode::KmsKeyIdNotFound, reference))?;
    if !(role_granted && key.ecs_authorized) {
        return Err(ApiError::new(ErrorCode::KmsUnauthorized));
    }
    if key.key_state != KeyState::Enabled {
        return Err(ApiError::new(ErrorCode::CmkNotEnabled));
    }
    Ok(key.key_id.clone())
}

/// The key the feature uses in `region`: the configured one, else the service key.
fn effective_key_id(tx: &mut AccountTx<'_>, region: &RegionId) -> KeyId {
    match &tx.setting(region).default_encryption.kms_key_id {
        Some(configured) => configured.clone(),
        None => tx.service_key(region).key_id.clone(),
    }
}

/// `EnableDiskEncryptionByDefault`: turns the feature on, keeping the configured key.
pub fn enable_disk_encryption_by_default(
    context: &Context<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    gated(context, &region, Gates::ManageWithKms, |tx| {
        if tx.setting(&region).default_encryption.enabled {
            return Err(ApiError::new(ErrorCode::DefaultEncryptionAlreadyEnabled));
        }
        let key_id = effective_key_id(tx, &region);
        let role_granted = tx.account().ecs_kms_role_granted;
        check_key(
            role_granted,
            tx.find_key(&region, key_id.as_str()),
            key_id.as_str(),
        )?;
        tx.set_default_encryption_enabled(&region, true);
        Ok(Output::Empty {})
    })
}

/// `DisableDiskEncryptionByDefault`: turns the feature off, keeping the configured key.
pub fn disable_disk_encryption_by_default(
    context: &Context<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    gated(context, &region, Gates::Manage, |tx| {
        require_enabled(tx, &region)?;
        tx.set_default_encryption_enabled(&region, false);
        Ok(Output::Empty {})
    })
}

/// `DescribeDiskEncryptionByDefaultStatus`: whether the feature is on.
pub fn describe_disk_encryption_by_default_status(
    context: &Context<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    gated(context, &region, Gates::Describe, |tx| {
        Ok(Output::Encrypted {
            encrypted: tx.setting(&region).default_encryption.enabled,
        })
    })
}

/// `ModifyDiskDefaultKMSKeyId`: configures the key named by `KMSKeyId` (id, alias or ARN);
/// the stored and returned value is the key id.
pub fn modify_disk_default_kms_key_id(
    context: &Context<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    let reference = params.required("KMSKeyId")?;
    gated(context, &region, Gates::ManageWithKms, |tx| {
        require_enabled(tx, &region)?;
        let role_granted = tx.account().ecs_kms_role_granted;
        let key_id = check_key(role_granted, tx.resolve_key(&region, reference), reference)?;
        tx.set_default_kms_key(&region, Some(key_id));
        Ok(Output::Empty {})
    })
}

/// `ResetDiskDefaultKMSKeyId`: back to the region's service key.
pub fn reset_disk_default_kms_key_id(
    context: &Context<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    gated(context, &region, Gates::ManageWithKms, |tx| {
        require_enabled(tx, &region)?;
        let role_granted = tx.account().ecs_kms_role_granted;
        let service_key = tx.service_key(&region);
        let reference = service_key.key_id.to_string();
        check_key(role_granted, Some(service_key), &reference)?;
        tx.set_default_kms_key(&region, None);
        Ok(Output::Empty {})
    })
}

/// `DescribeDiskDefaultKMSKeyId`: the configured key id, or the service key's when none is
/// configured (also while the feature is off).
pub fn describe_disk_default_kms_key_id(
    context: &Context<'_>,
    params: &Params,
) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    gated(context, &region, Gates::Describe, |tx| {
        Ok(Output::KmsKeyId {
            kms_key_id: effective_key_id(tx, &region),
        })
    })
}
