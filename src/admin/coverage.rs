//! `GET /_emulator/coverage`: every (action, error code) pair the emulator can produce and how
//! to reach it — generated from the error catalogue, the gateway's checks and each action's
//! own checks; whatever nothing reaches naturally is reachable by a fault.

use super::Shared;
use crate::actions::Action;
use crate::error::ErrorCode;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Checks every action passes through before its own (`wire.md` §1–3), with how to fail them.
const GATEWAY: &[(ErrorCode, &str)] = &[
    (
        ErrorCode::UnsupportedHttpMethod,
        "a method other than GET or POST",
    ),
    (ErrorCode::RequestEntityTooLarge, "a body over 1 MiB"),
    (
        ErrorCode::RequestHeaderFieldsTooLarge,
        "more than 64 header fields, or over 16 KiB of them",
    ),
    (
        ErrorCode::TooManyParameters,
        "more than 256 parameters in query and body",
    ),
    (
        ErrorCode::RequestTimeout,
        "a body not received within --request-timeout",
    ),
    (
        ErrorCode::MissingParameter,
        "leave out a required parameter",
    ),
    (
        ErrorCode::InvalidParameter,
        "a malformed parameter (Format, percent-encoding, a duplicate, a bad value)",
    ),
    (
        ErrorCode::IncompleteSignature,
        "a partial Authorization header (strict or verify)",
    ),
    (
        ErrorCode::InvalidTimeStampFormat,
        "a malformed Timestamp or x-acs-date (strict or verify)",
    ),
    (
        ErrorCode::InvalidTimeStampExpired,
        "a timestamp more than 15 minutes off (strict)",
    ),
    (
        ErrorCode::InvalidAccessKeyIdNotFound,
        "an AccessKeyId not in the state (strict or verify)",
    ),
    (
        ErrorCode::AccessKeyDisabled,
        "an AccessKey with status Inactive",
    ),
    (
        ErrorCode::MissingSecurityToken,
        "an STS AccessKeyId without its token",
    ),
    (
        ErrorCode::SecurityTokenMismatch,
        "another token, or a token with a permanent AccessKey",
    ),
    (
        ErrorCode::SecurityTokenExpired,
        "an STS token past its expiration (strict)",
    ),
    (ErrorCode::SignatureDoesNotMatch, "sign with a wrong secret"),
    (
        ErrorCode::SignatureNonceUsed,
        "send the same nonce twice (strict)",
    ),
    (
        ErrorCode::ForbiddenRam,
        "a RAM user whose policies do not grant the action",
    ),
];

pub async fn coverage(State(_app): Shared) -> Response {
    let mut entries: Vec<Value> = Vec::new();
    for &action in Action::ALL {
        let mut natural: Vec<(ErrorCode, &str)> = Vec::new();
        if action.is_root_only() {
            natural.push((
                ErrorCode::ForbiddenRam,
                "any RAM user: root identities only",
            ));
        }
        natural.extend(GATEWAY.iter().filter(|(code, _)| {
            *code != ErrorCode::ForbiddenRam
                || !(action.is_open_to_every_caller() || action.authorizes_itself())
        }));
        natural.extend(action.checks());
        let mut entry = |code: ErrorCode, trigger: &str, how: String| {
            entries.push(json!({
                "product": action.product().name(),
                "action": action.wire_name(),
                "code": code.wire(),
                "httpStatus": code.status(),
                "message": code.template(),
                "trigger": trigger,
                "how": how,
            }));
        };
        let mut seen = Vec::new();
        for (code, how) in natural {
            if !seen.contains(&code) {
                seen.push(code);
                entry(code, "state", how.to_owned());
            }
        }
        for &code in ErrorCode::ALL {
            if !seen.contains(&code) {
                let how = format!(
                    "POST /_emulator/faults {{\"action\": \"{}\", \"code\": \"{}\"{}}}",
                    action.wire_name(),
                    code.wire(),
                    if code.takes_argument() {
                        ", \"message\": \"…\""
                    } else {
                        ""
                    }
                );
                entry(code, "fault", how);
            }
        }
    }
    axum::Json(json!({ "coverage": entries })).into_response()
}
