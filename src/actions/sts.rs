//! STS `2015-04-01` (`sts.md`): `GetCallerIdentity`, and `AssumeRole`, whose sessions are
//! credentials of the emulator from the moment they are issued (`store::roles`).

use super::{Action, Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::{Policy, RamRole};
use crate::store::roles::{self, Trusted};
use crate::store::{Identity, Principal};
use serde::Serialize;

/// `GetCallerIdentity`'s fields besides `RequestId` (`sts.md` §3).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallerIdentity {
    account_id: String,
    arn: String,
    identity_type: &'static str,
    principal_id: String,
    /// Accounts and RAM users.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    /// Assumed roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    role_id: Option<String>,
}

/// `AssumeRole`'s fields besides `RequestId` (`sts.md` §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumedRole {
    assumed_role_user: AssumedRoleUser,
    credentials: IssuedCredentials,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumedRoleUser {
    assumed_role_id: String,
    arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct IssuedCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
}

/// (code, how to reach it) for each check after the gateway's, in check order.
pub fn checks(action: Action) -> Vec<(ErrorCode, &'static str)> {
    match action {
        Action::StsAssumeRole => vec![
            (
                ErrorCode::InvalidRoleArn,
                "a RoleArn not of the form acs:ram::<accountId>:role/<roleName>",
            ),
            (
                ErrorCode::InvalidRoleSessionName,
                "a RoleSessionName outside 2-64 letters, digits, '.', '@', '-', '_'",
            ),
            (
                ErrorCode::InvalidDurationSeconds,
                "DurationSeconds outside 900-43200, or above the role's maxSessionDuration",
            ),
            (
                ErrorCode::InvalidPolicySize,
                "a Policy longer than 2048 characters",
            ),
            (
                ErrorCode::InvalidPolicyGrammar,
                "a Policy that is not a JSON object with a Statement array",
            ),
            (
                ErrorCode::InvalidExternalId,
                "an ExternalId outside 2-1224 of [A-Za-z0-9_+=,.@:/-]",
            ),
            (
                ErrorCode::StsNoPermission,
                "an account's root AccessKey; a RAM user or role without AliyunSTSAssumeRoleAccess; a role whose trustedPrincipals do not name the caller",
            ),
            (
                ErrorCode::RoleNotExist,
                "a RoleArn naming no role of that account",
            ),
        ],
        _ => Vec::new(),
    }
}

/// `GetCallerIdentity`: who the credentials stand for. A state `stsTokens` entry answers as
/// the identity it acts as (an emulator choice, `sts.md` §3).
pub fn get_caller_identity(context: &Context<'_>, _params: &Params) -> Result<Output, ApiError> {
    let caller = context.caller;
    let account = caller.account_id.to_string();
    let identity = match &caller.principal {
        Principal::Root => CallerIdentity {
            arn: format!("acs:ram::{account}:root"),
            identity_type: "Account",
            principal_id: account.clone(),
            user_id: Some(account.clone()),
            role_id: None,
            account_id: account,
        },
        Principal::RamUser { name, user_id, .. } => CallerIdentity {
            arn: format!("acs:ram::{account}:user/{name}"),
            identity_type: "RAMUser",
            principal_id: user_id.clone(),
            user_id: Some(user_id.clone()),
            role_id: None,
            account_id: account,
        },
        Principal::Role(session) => CallerIdentity {
            arn: format!(
                "acs:ram::{account}:assumed-role/{}/{}",
                session.role_name, session.session_name
            ),
            identity_type: "AssumedRoleUser",
            principal_id: format!("{}:{}", session.role_id, session.session_name),
            user_id: None,
            role_id: Some(session.role_id.clone()),
            account_id: account,
        },
    };
    Ok(Output::CallerIdentity(identity))
}

/// AssumeRole's parameters, checked in the order `sts.md` §4 lists them.
struct Request<'p> {
    account_id: &'p str,
    role_name: &'p str,
    session_name: &'p str,
    duration: u32,
}

const DEFAULT_DURATION: u32 = 3600;
const DURATION_BOUNDS: std::ops::RangeInclusive<u32> = 900..=43200;
const POLICY_LIMIT: usize = 2048;

impl<'p> Request<'p> {
    fn parse(params: &'p Params) -> Result<Self, ApiError> {
        let arn = params.required("RoleArn")?;
        let (account_id, role_name) =
            role_arn(arn).ok_or_else(|| ApiError::new(ErrorCode::InvalidRoleArn))?;
        let session_name = params.required("RoleSessionName")?;
        if !is_session_name(session_name) {
            return Err(ApiError::new(ErrorCode::InvalidRoleSessionName));
        }
        let duration = match params.optional("DurationSeconds") {
            None => DEFAULT_DURATION,
            Some(text) => text
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| text.parse::<u32>().ok())
                .flatten()
                .filter(|seconds| DURATION_BOUNDS.contains(seconds))
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidDurationSeconds))?,
        };
        if let Some(policy) = params.optional("Policy") {
            check_policy(policy)?;
        }
        if let Some(external_id) = params.optional("ExternalId")
            && !is_external_id(external_id)
        {
            return Err(ApiError::new(ErrorCode::InvalidExternalId));
        }
        Ok(Self {
            account_id,
            role_name,
            session_name,
            duration,
        })
    }
}

/// `acs:ram::<accountId>:role/<roleName>` → (account, role name).
fn role_arn(arn: &str) -> Option<(&str, &str)> {
    let (account, resource) = arn.strip_prefix("acs:ram::")?.split_once(':')?;
    let name = resource.strip_prefix("role/")?;
    (roles::is_account_id(account) && roles::is_role_name(name)).then_some((account, name))
}

/// 2–64 letters, digits, `.`, `@`, `-` and `_`.
fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'@' | b'-' | b'_'))
}

/// 2–1224 of `[\w+=,.@:/-]`.
fn is_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'+' | b'=' | b',' | b'.' | b'@' | b':' | b'/' | b'-'
                )
        })
}

/// At most 2048 characters of a JSON object with a `Statement` array. It is kept in the
/// journal but narrows nothing (an emulator choice, `sts.md` §4).
fn check_policy(policy: &str) -> Result<(), ApiError> {
    if policy.chars().count() > POLICY_LIMIT {
        return Err(ApiError::new(ErrorCode::InvalidPolicySize));
    }
    let document: serde_json::Value =
        serde_json::from_str(policy).map_err(|_| ApiError::new(ErrorCode::InvalidPolicyGrammar))?;
    match document.get("Statement") {
        Some(serde_json::Value::Array(_)) => Ok(()),
        _ => Err(ApiError::new(ErrorCode::InvalidPolicyGrammar)),
    }
}

/// Does one of the role's `trustedPrincipals` name the caller? `…:root` admits the RAM
/// identities of that account (its users and its role sessions), `…:user/<name>` that user.
fn trusts(role: &RamRole, caller: &Identity) -> bool {
    let account = caller.account_id.as_str();
    role.trusted_principals
        .iter()
        .filter_map(|text| Trusted::parse(text))
        .any(|trusted| match trusted {
            Trusted::Account(trusted) => trusted == account,
            Trusted::User(trusted, user) => {
                trusted == account
                    && matches!(&caller.principal, Principal::RamUser { name, .. } if name == user)
            }
        })
}

/// `AssumeRole`, with the checks of `sts.md` §4 in order: parameters; the caller is not an
/// account root; it may call `sts:AssumeRole`; the role exists (then `DurationSeconds` within
/// its `maxSessionDuration`); the role trusts the caller.
pub fn assume_role(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let request = Request::parse(params)?;
    let caller = context.caller;
    let no_permission = || ApiError::new(ErrorCode::StsNoPermission);
    if matches!(caller.principal, Principal::Root) {
        return Err(no_permission());
    }
    if !caller
        .principal
        .policies()
        .contains(&Policy::StsAssumeRoleAccess)
    {
        return Err(no_permission());
    }
    let role = context
        .world
        .role(request.account_id, request.role_name)
        .ok_or_else(|| ApiError::new(ErrorCode::RoleNotExist))?;
    if request.duration > role.max_session_duration {
        return Err(ApiError::new(ErrorCode::InvalidDurationSeconds));
    }
    if !trusts(&role, caller) {
        return Err(no_permission());
    }
    let account = crate::store::model::AccountId(request.account_id.to_owned());
    let issued =
        context
            .world
            .issue_session(&account, &role, request.session_name, request.duration);
    let session = issued.session;
    let expiration = session.expiration();
    Ok(Output::AssumedRole(Box::new(AssumedRole {
        assumed_role_user: AssumedRoleUser {
            assumed_role_id: format!("{}:{}", role.id(), session.session_name),
            arn: format!(
                "acs:ram::{}:role/{}/{}",
                account, role.role_name, session.session_name
            ),
        },
        credentials: IssuedCredentials {
            access_key_id: issued.access_key_id.to_string(),
            access_key_secret: session.secret,
            security_token: session.token,
            expiration,
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_name_an_account_and_a_role() {
        assert_eq!(
            role_arn("acs:ram::1234567890123456:role/ecs-operator"),
            Some(("1234567890123456", "ecs-operator"))
        );
        for bad in [
            "acs:ram::1234567890123456:user/ecs-operator",
            "acs:ram::1234567890123456:role/",
            "acs:ram:::role/x",
            "acs:ram::1:role/a_b",
            "acs:ecs::1:role/x",
            "ecs-operator",
        ] {
            assert_eq!(role_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn session_names_and_external_ids_have_their_alphabets() {
        assert!(is_session_name("aliyun-python-sdk-1764583200.123456"));
        assert!(is_session_name("ci@example.com_1"));
        for bad in ["a", "a b", "a/b", &"a".repeat(65)] {
            assert!(!is_session_name(bad), "{bad}");
        }
        assert!(is_external_id("abc+=,.@:/-_1"));
        for bad in ["a", "a b", "a#b", &"a".repeat(1225)] {
            assert!(!is_external_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_policy_is_a_bounded_json_object_with_statements() {
        let ok = r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}"#;
        assert_eq!(check_policy(ok), Ok(()));
        for (bad, code) in [
            ("", ErrorCode::InvalidPolicyGrammar),
            ("{}", ErrorCode::InvalidPolicyGrammar),
            (r#"{"Statement": {}}"#, ErrorCode::InvalidPolicyGrammar),
            ("[1]", ErrorCode::InvalidPolicyGrammar),
        ] {
            assert_eq!(check_policy(bad).map_err(|e| e.code), Err(code), "{bad}");
        }
        let long = format!(r#"{{"Statement": [], "x": "{}"}}"#, "a".repeat(2048));
        assert_eq!(
            check_policy(&long).map_err(|e| e.code),
            Err(ErrorCode::InvalidPolicySize)
        );
    }
}
