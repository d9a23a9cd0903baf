//! API errors: what a handler returns when a request fails. Built only from the catalogue;
//! rendered once, at the edge, by `protocol::encode`.

mod catalogue;

pub use catalogue::ErrorCode;
use serde::Serialize;

/// A failed call as the client will see it: a catalogued code, its rendered message and, for
/// `Forbidden.RAM`, the detail object the real gateway adds. An injected fault may instead
/// carry a code of its own (`custom`) and ask for `x-acs-retry-after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub access_denied: Option<Box<AccessDeniedDetail>>,
    /// A code outside the catalogue, with its HTTP status (fault injection only).
    pub custom: Option<Box<(String, u16)>>,
    /// Seconds for the `x-acs-retry-after` header (fault injection only).
    pub retry_after: Option<u32>,
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
            custom: None,
            retry_after: None,
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

    /// An error the catalogue does not have, as a fault defines it.
    pub fn custom(code: &str, status: u16, message: &str) -> Self {
        Self {
            message: message.to_owned(),
            custom: Some(Box::new((code.to_owned(), status))),
            ..Self::new(ErrorCode::InternalError)
        }
    }

    /// The `Code` on the wire.
    pub fn wire(&self) -> &str {
        match &self.custom {
            Some(custom) => &custom.0,
            None => self.code.wire(),
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        match &self.custom {
            Some(custom) => custom.1,
            None => self.code.status(),
        }
    }
}
