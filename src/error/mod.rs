//! API errors: what a handler returns when a request fails. Built only from the catalogue;
//! rendered once, at the edge, by `protocol::encode`.

mod catalogue;

pub use catalogue::ErrorCode;
use serde::Serialize;

/// A failed call as the client will see it: a catalogued code, its rendered message and, for
/// `Forbidden.RAM`, the detail object the real gateway adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub access_denied: Option<Box<AccessDeniedDetail>>,
}

/// `AccessDeniedDetail` of a `Forbidden.RAM` answer (`wire.md` §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessDeniedDetail {
    pub auth_action: String,
    pub auth_principal_type: String,
    pub auth_principal_display_name: String,
    pub auth_principal_owner_id: String,
    pub no_permission_type: String,
    pub policy_type: String,
    pub encoded_diagnostic_message: String,
}

impl ApiError {
    /// An error whose message has no run-time part.
    pub fn new(code: ErrorCode) -> Self {
        debug_assert!(!code.takes_argument(), "{} needs an argument", code.wire());
        Self::with(code, "")
    }

    /// An error whose message template is filled with `arg`.
    pub fn with(code: ErrorCode, arg: &str) -> Self {
        Self {
            code,
            message: code.render(arg),
            access_denied: None,
        }
    }

    /// `MissingParameter` naming `name`.
    pub fn missing(name: &str) -> Self {
        Self::with(ErrorCode::MissingParameter, name)
    }

    /// `InvalidParameter` naming `name`.
    pub fn invalid(name: &str) -> Self {
        Self::with(ErrorCode::InvalidParameter, name)
    }

    /// `Forbidden.RAM` with its detail.
    pub fn forbidden_ram(detail: AccessDeniedDetail) -> Self {
        Self {
            access_denied: Some(Box::new(detail)),
            ..Self::new(ErrorCode::ForbiddenRam)
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        self.code.status()
    }
}
