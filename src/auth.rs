//! Who is calling (authentication) and whether they may (authorization, `wire.md` §2–3).
//!
//! Signature verification is not built yet: every `--auth` mode behaves as `off` — a known
//! AccessKeyId acts as its identity (root, RAM user or STS), an unknown or absent one as the
//! root of the first account. Verification slots into `authenticate` as one step.

use crate::actions::Action;
use crate::error::{AccessDeniedDetail, ApiError, ErrorCode};
use crate::protocol::{RpcRequest, Scheme};
use crate::store::model::Policy;
use crate::store::{Identity, Principal, World};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::ValueEnum;

/// `--auth`: how strictly requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Verify signatures, timestamps and nonces.
    Strict,
    /// Verify signatures only (for replaying recorded requests).
    Verify,
    /// No signature check; the AccessKeyId alone selects the identity.
    Off,
}

/// Parameters of the signing protocol itself: used by the gateway, never by an action.
pub const PROTOCOL_PARAMS: &[&str] = &[
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// The AccessKeyId a request presents: the `AccessKeyId` parameter (V2), or the `Credential`
/// of the `Authorization` header (V3/V4; `x-acs-accesskey-id` as a fallback).
pub fn presented_access_key_id(request: &RpcRequest) -> Option<String> {
    let from_header = || {
        let authorization = request.header("authorization").ok().flatten()?;
        let credential = authorization.split_once("Credential=")?.1;
        let credential = credential.split(',').next()?.trim();
        let access_key_id = credential.split('/').next()?;
        Some(access_key_id.to_owned())
    };
    let found = match request.scheme {
        Scheme::V2 => request.params.optional("AccessKeyId").map(str::to_owned),
        Scheme::V3 | Scheme::V4 => from_header().or_else(|| {
            request
                .header("x-acs-accesskey-id")
                .ok()
                .flatten()
                .map(str::to_owned)
        }),
    };
    found.filter(|id| !id.is_empty())
}

/// The region of a V4 credential scope (`AK/YYYYMMDD/<region>/<product>/aliyun_v4_request`).
pub fn scope_region(request: &RpcRequest) -> Option<String> {
    if request.scheme != Scheme::V4 {
        return None;
    }
    let authorization = request.header("authorization").ok().flatten()?;
    let credential = authorization
        .split_once("Credential=")?
        .1
        .split(',')
        .next()?;
    credential.split('/').nth(2).map(str::to_owned)
}

/// Step 4 of the pipeline: the calling identity.
pub fn authenticate(
    _mode: AuthMode,
    world: &World,
    request: &RpcRequest,
) -> Result<Identity, ApiError> {
    presented_access_key_id(request)
        .and_then(|id| world.identity(&id))
        .or_else(|| world.default_identity())
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyIdNotFound))
}

/// Step 5: may this identity call `action`? Root may call everything; a RAM user needs a
/// policy granting it, and never gets a root-only action.
pub fn authorize(caller: &Identity, action: Action) -> Result<(), ApiError> {
    let Principal::RamUser { name, policies } = &caller.principal else {
        return Ok(());
    };
    if !action.is_root_only() && policies.iter().any(|&p| grants(p, action)) {
        return Ok(());
    }
    let auth_action = format!(
        "{}:{}",
        action.product().ram_namespace(),
        action.wire_name()
    );
    let diagnostic = format!(
        "{{\"AuthAction\":\"{auth_action}\",\"AuthPrincipalType\":\"SubUser\",\"AuthPrincipalOwnerId\":\"{}\",\"AuthPrincipalDisplayName\":\"{name}\",\"NoPermissionType\":\"ImplicitDeny\"}}",
        caller.account_id
    );
    Err(ApiError::forbidden_ram(AccessDeniedDetail {
        auth_action,
        auth_principal_type: "SubUser".to_owned(),
        auth_principal_display_name: name.clone(),
        auth_principal_owner_id: caller.account_id.to_string(),
        no_permission_type: "ImplicitDeny".to_owned(),
        policy_type: "AccountLevelIdentityBasedPolicy".to_owned(),
        encoded_diagnostic_message: BASE64.encode(diagnostic),
    }))
}

fn grants(policy: Policy, action: Action) -> bool {
    use crate::actions::Product;
    match policy {
        Policy::EcsFullAccess => action.product() == Product::Ecs,
        Policy::EcsReadOnlyAccess => action.product() == Product::Ecs && action.is_read_only(),
        Policy::KmsFullAccess => action.product() == Product::Kms,
        Policy::KmsReadOnlyAccess => action.product() == Product::Kms && action.is_read_only(),
    }
}
