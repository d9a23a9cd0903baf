//! Who is calling (authentication) and whether they may (authorization), `wire.md` §2–3.
//!
//! `strict` and `verify` check, in this order (the first failure wins): credentials present
//! and complete → signature method → timestamp format (and, strict, its ±15-minute window) →
//! AccessKey known and active → STS token → signature → (strict) nonce not seen before.
//! `off` checks nothing: a known AccessKeyId acts as its identity, an unknown or absent one as
//! the root of the first account. RAM authorization applies in every mode.

mod credentials;
mod nonce;

pub use credentials::Credentials;
pub use nonce::NonceCache;

use crate::actions::Action;
use crate::error::{AccessDeniedDetail, ApiError, ErrorCode};
use crate::journal::SignatureReport;
use crate::protocol::parse::names;
use crate::protocol::signature::{split_once_ascii, v3, v4};
use crate::protocol::{RpcRequest, Scheme};
use crate::store::model::{AccessKeyStatus, Policy};
use crate::store::{Identity, Principal, WorldRef};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::ValueEnum;
use std::sync::Arc;
use std::time::Instant;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How far a request's timestamp may be from the server's clock under `strict`.
pub const TIMESTAMP_WINDOW: time::Duration = time::Duration::minutes(15);

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

/// The AccessKeyId a request presents, unchecked (for `--auth off`): the `AccessKeyId`
/// parameter (V2), or the `Credential` of the `Authorization` header (V3/V4;
/// `x-acs-accesskey-id` as a fallback).
pub fn presented_access_key_id(request: &RpcRequest) -> Option<String> {
    let found = match request.scheme {
        Scheme::V2 => request.params.peek("AccessKeyId"),
        // The credential's first part, read without parsing the whole header.
        Scheme::V3 | Scheme::V4 => request
            .header(&names::AUTHORIZATION)
            .ok()
            .flatten()
            .and_then(credential)
            .or_else(|| request.header(&names::X_ACS_ACCESSKEY_ID).ok().flatten()),
    };
    found
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// What follows `Credential=` up to a `,` or `/` (`memchr`: `str::split_once` with a string
/// pattern sets up a generic searcher per call, measurable on every request).
fn credential(authorization: &str) -> Option<&str> {
    const KEY: &str = "Credential=";
    // It comes right after the algorithm from every SDK; anywhere else is searched for.
    let rest = match split_once_ascii(authorization, b' ') {
        Some((_, rest)) if rest.starts_with(KEY) => &rest[KEY.len()..],
        _ => {
            let at = memchr::memmem::find(authorization.as_bytes(), KEY.as_bytes())?;
            &authorization[at + KEY.len()..]
        }
    };
    // ASCII delimiters: always character boundaries.
    let end = memchr::memchr2(b',', b'/', rest.as_bytes());
    Some(&rest[..end.unwrap_or(rest.len())])
}

/// The region of a V4 credential scope (`AK/YYYYMMDD/<region>/<product>/aliyun_v4_request`).
pub fn scope_region(request: &RpcRequest) -> Option<String> {
    if request.scheme != Scheme::V4 {
        return None;
    }
    let scope = v4::Scope::parse(authorization(request)?.credential)?;
    Some(scope.region.to_owned())
}

fn authorization(request: &RpcRequest) -> Option<v3::Authorization<'_>> {
    v3::Authorization::parse(request.header(&names::AUTHORIZATION).ok().flatten()?)
}

/// Step 4 of the pipeline: the calling identity, checked as `mode` says.
pub fn authenticate(
    mode: AuthMode,
    world: &WorldRef,
    nonces: &NonceCache,
    request: &RpcRequest,
    report: &mut SignatureReport,
) -> Result<Arc<Identity>, ApiError> {
    report.scheme = request.scheme.name();
    report.verdict = "skipped";
    if mode == AuthMode::Off {
        return presented_access_key_id(request)
            .and_then(|id| world.identity(&id))
            .or_else(|| world.default_identity().map(Arc::new))
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyIdNotFound));
    }
    let strict = mode == AuthMode::Strict;
    let now = OffsetDateTime::now_utc();
    // 1–2. Credentials present and complete, a supported signature method.
    let credentials = Credentials::extract(request)?;
    // 3. Timestamp well formed; within the window under strict.
    match credentials.timestamp {
        Some((_, text)) => {
            let at = OffsetDateTime::parse(text, &Rfc3339)
                .map_err(|_| ApiError::new(ErrorCode::InvalidTimeStampFormat))?;
            if strict && (at - now).abs() > TIMESTAMP_WINDOW {
                return Err(ApiError::new(ErrorCode::InvalidTimeStampExpired));
            }
        }
        None if strict => return Err(ApiError::missing(timestamp_name(request.scheme))),
        None => {}
    }
    // 4. A known, active AccessKey.
    let identity = world
        .identity(credentials.access_key_id)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyIdNotFound))?;
    if identity.status == AccessKeyStatus::Inactive {
        return Err(ApiError::new(ErrorCode::AccessKeyDisabled));
    }
    // 5. STS: the token belongs to the AccessKey and has not expired.
    check_security_token(&identity, credentials.security_token, strict.then_some(now))?;
    // 6. The signature.
    let (string_to_sign, outcome) = credentials.check(request, &identity.secret);
    report.verdict = if outcome.is_ok() { "ok" } else { "mismatch" };
    report.string_to_sign = Some(string_to_sign);
    outcome?;
    // 7. Under strict, a nonce is used once; only a verified request consumes it.
    if strict {
        let (name, nonce) = credentials.nonce;
        let nonce = nonce.ok_or_else(|| ApiError::missing(name))?;
        if !nonces.check_and_insert(credentials.access_key_id, nonce, Instant::now()) {
            return Err(ApiError::new(ErrorCode::SignatureNonceUsed));
        }
    }
    Ok(identity)
}

fn timestamp_name(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::V2 => "Timestamp",
        Scheme::V3 | Scheme::V4 => "x-acs-date",
    }
}

/// Step 5. `now` is given under strict only: `verify` replays recorded requests, so a token
/// that has expired since is still accepted there.
fn check_security_token(
    identity: &Identity,
    presented: Option<&str>,
    now: Option<OffsetDateTime>,
) -> Result<(), ApiError> {
    match (&identity.sts, presented) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(ApiError::new(ErrorCode::SecurityTokenMismatch)),
        (Some(_), None) => Err(ApiError::new(ErrorCode::MissingSecurityToken)),
        (Some((token, _)), Some(presented)) if token != presented => {
            Err(ApiError::new(ErrorCode::SecurityTokenMismatch))
        }
        (Some((_, expiration)), Some(_)) => {
            let expired = now.is_some_and(|now| {
                // Validated at load; an unparsable one cannot be in the store.
                OffsetDateTime::parse(expiration, &Rfc3339).is_ok_and(|at| at <= now)
            });
            if expired {
                Err(ApiError::new(ErrorCode::SecurityTokenExpired))
            } else {
                Ok(())
            }
        }
    }
}

/// Step 5: may this identity call `action`? Root may call everything; a RAM user or an
/// assumed role needs a policy granting it, never gets a root-only action, and needs none for
/// the actions open to every caller (`Action::is_open_to_every_caller`) or those that decide
/// it themselves (`Action::authorizes_itself`).
pub fn authorize(caller: &Identity, action: Action) -> Result<(), ApiError> {
    if matches!(caller.principal, Principal::Root)
        || action.is_open_to_every_caller()
        || action.authorizes_itself()
    {
        return Ok(());
    }
    let policies = caller.principal.policies();
    if !action.is_root_only() && policies.iter().any(|&p| grants(p, action)) {
        return Ok(());
    }
    // Only a refusal names the caller (a success allocates nothing here).
    let (principal_type, display_name) = match &caller.principal {
        Principal::Root => return Ok(()),
        Principal::RamUser { name, .. } => ("SubUser", name.clone()),
        // `<roleName>:<sessionName>`: an emulator choice, no public source shows one.
        Principal::Role(session) => (
            "AssumedRoleUser",
            format!("{}:{}", session.role_name, session.session_name),
        ),
    };
    let auth_action = format!(
        "{}:{}",
        action.product().ram_namespace(),
        action.wire_name()
    );
    let diagnostic = format!(
        "{{\"AuthAction\":\"{auth_action}\",\"AuthPrincipalType\":\"{principal_type}\",\"AuthPrincipalOwnerId\":\"{}\",\"AuthPrincipalDisplayName\":\"{display_name}\",\"NoPermissionType\":\"ImplicitDeny\"}}",
        caller.account_id
    );
    Err(ApiError::forbidden_ram(AccessDeniedDetail {
        auth_action,
        auth_principal_type: principal_type.to_owned(),
        auth_principal_display_name: display_name,
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
        Policy::StsAssumeRoleAccess => action == Action::StsAssumeRole,
    }
}

#[cfg(test)]
mod tests {
    use super::credential;

    #[test]
    fn the_credential_is_read_up_to_its_scope_or_the_next_part() {
        for (authorization, expected) in [
            (
                "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=x",
                Some("AK"),
            ),
            (
                "ACS4-HMAC-SHA256 Credential=AK/20261128/cn-hangzhou/ecs/aliyun_v4_request,S=x",
                Some("AK"),
            ),
            (
                "ACS3-HMAC-SHA256 SignedHeaders=host,Credential=AK",
                Some("AK"),
            ),
            ("ACS3-HMAC-SHA256 Credential=", Some("")),
            ("ACS3-HMAC-SHA256 SignedHeaders=host,Signature=x", None),
            ("Credential", None),
        ] {
            assert_eq!(credential(authorization), expected, "{authorization}");
        }
    }
}
