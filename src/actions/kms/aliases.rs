//! KMS aliases: `alias/<name>` pointing at one key of the account in one region.
//! `alias/acs/…` is reserved for service keys, which the user cannot alias.

use super::{arn, in_kms, not_found, page, page_request};
use crate::actions::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::{KeyState, RESERVED_ALIAS_PREFIX};
use serde::Serialize;

/// `AliasName`: `alias/` and 1–255 characters of letters, digits, `_`, `-`, `/` and `:`.
fn alias_name(params: &Params) -> Result<&str, ApiError> {
    let alias = params.required("AliasName")?;
    let name = alias.strip_prefix("alias/").unwrap_or_default();
    let well_formed = (1..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | ':'));
    if well_formed {
        Ok(alias)
    } else {
        Err(ApiError::invalid("AliasName"))
    }
}

/// `CreateAlias`: points a new alias at a key (not a service key, not one pending deletion).
pub fn create_alias(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let alias = alias_name(params)?;
    let reference = params.required("KeyId")?;
    if alias.starts_with(RESERVED_ALIAS_PREFIX) {
        return Err(ApiError::invalid("AliasName"));
    }
    in_kms(context, |tx, region| {
        let taken = tx.find_key(region, alias).is_some();
        let key = tx
            .find_key_mut(region, reference)
            .ok_or_else(|| not_found(reference))?;
        if key.is_service_key() {
            return Err(ApiError::new(ErrorCode::NoPermission));
        }
        if key.key_state == KeyState::PendingDeletion {
            return Err(ApiError::new(ErrorCode::StateModifiedFailed));
        }
        if taken {
            return Err(ApiError::new(ErrorCode::AliasAlreadyExists));
        }
        key.aliases.push(alias.to_owned());
        Ok(Output::Empty {})
    })
}

/// `DeleteAlias`: removes an alias; the key stays.
pub fn delete_alias(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let alias = params.required("AliasName")?;
    in_kms(context, |tx, region| {
        let key = tx
            .find_key_mut(region, alias)
            .ok_or_else(|| not_found(alias))?;
        if key.is_service_key() {
            return Err(ApiError::new(ErrorCode::NoPermission));
        }
        key.aliases.retain(|a| a != alias);
        Ok(Output::Empty {})
    })
}

/// The listing of `ListAliases`: `"Aliases": {"Alias": [{"AliasName", "AliasArn", "KeyId"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AliasList {
    #[serde(rename = "Aliases")]
    aliases: AliasEntries,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct AliasEntries {
    #[serde(rename = "Alias")]
    alias: Vec<AliasEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasEntry {
    alias_name: String,
    alias_arn: String,
    key_id: String,
}

/// `ListAliases`: every alias of the account's keys in the region (service keys' included),
/// in key creation order, paged.
pub fn list_aliases(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let paging = page_request(params)?;
    let account_id = context.caller.account_id.to_string();
    in_kms(context, |tx, region| {
        let entries: Vec<AliasEntry> = tx
            .keys_in(region)
            .flat_map(|key| {
                key.aliases.iter().map(|alias| AliasEntry {
                    alias_name: alias.clone(),
                    alias_arn: arn(region, &account_id, alias),
                    key_id: key.key_id.to_string(),
                })
            })
            .collect();
        Ok(Output::Aliases(page(entries, paging, |alias| AliasList {
            aliases: AliasEntries { alias },
        })))
    })
}
