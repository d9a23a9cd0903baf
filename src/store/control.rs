//! Admin changes to the state (`control-plane.md` §2): one account at a time, one key, one
//! region, and named snapshots. All are validated before anything changes, serialized by the
//! store's control lock, and never copy or replace accounts they do not touch.

use super::change::{self, AccountChange, Change};
use super::model::{
    AccessKey, AccessKeyStatus, Account, AccountId, KmsKey, Region, RegionId, StateDocument,
};
use super::validate::validate_account;
use super::{Store, World, account, lock, roles};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashSet;

/// Why an admin change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// 404: what is named does not exist.
    NotFound(String),
    /// 400: the body is wrong; the text names the JSON path.
    Invalid(String),
    /// 409: it conflicts with what exists.
    Conflict(String),
}

/// A named copy of the whole state.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub name: String,
    pub created_at: String,
    document: StateDocument,
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else
/// replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = target {
        for (name, change) in changes {
            if change.is_null() {
                fields.remove(name);
            } else {
                merge_patch(fields.entry(name.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// Deserializes `value`, naming the path that is wrong under `root`.
fn typed<T: DeserializeOwned>(root: &str, value: Value) -> Result<T, ControlError> {
    serde_path_to_error::deserialize(super::strict::Strict(value)).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            root.to_owned()
        } else {
            format!("{root}.{path}")
        };
        ControlError::Invalid(format!("{path}: {}", e.into_inner()))
    })
}

/// A merge patch of a whole object must itself be an object.
fn require_object(root: &str, patch: &Value) -> Result<(), ControlError> {
    if patch.is_object() {
        Ok(())
    } else {
        Err(ControlError::Invalid(format!(
            "{root}: a merge patch must be a JSON object"
        )))
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl World {
    /// `account` is valid on its own and shares no AccessKeyId or key id with another account.
    fn check_account(&self, account: &Account) -> Result<(), ControlError> {
        validate_account(account, &self.regions).map_err(ControlError::Invalid)?;
        for access_key_id in account::access_key_ids(account) {
            if let Some(owner) = self.credentials.get(access_key_id)
                && *owner != account.account_id
            {
                return Err(ControlError::Invalid(format!(
                    "account: AccessKeyId \"{access_key_id}\" belongs to another account"
                )));
            }
        }
        let ours: HashSet<&str> = account.kms_keys.iter().map(|k| k.key_id.as_str()).collect();
        for slot in self.accounts.iter() {
            let other = lock(&slot.account);
            if other.account_id == account.account_id {
                continue;
            }
            if let Some(key) = other
                .kms_keys
                .iter()
                .find(|k| ours.contains(k.key_id.as_str()))
            {
                return Err(ControlError::Invalid(format!(
                    "account: key \"{}\" belongs to another account",
                    key.key_id
                )));
            }
            if let Some(disk) = account
                .disks
                .iter()
                .find(|d| other.disks.get(d.disk_id.as_str()).is_some())
            {
                return Err(ControlError::Invalid(format!(
                    "account: disk \"{}\" belongs to another account",
                    disk.disk_id
                )));
            }
        }
        Ok(())
    }

    /// Replaces an existing account's content in place (its slot and position stay).
    fn replace_account(&self, account: Account) -> Result<(), ControlError> {
        let slot = self
            .slot(&account.account_id)
            .ok_or_else(|| ControlError::NotFound(format!("no account {}", account.account_id)))?;
        let mut current = lock(&slot.account);
        for access_key_id in account::access_key_ids(&current) {
            self.credentials.remove(access_key_id);
        }
        for access_key_id in account::access_key_ids(&account) {
            self.credentials
                .insert(access_key_id.clone(), account.account_id.clone());
        }
        self.sessions.end_unless(&account.account_id, |role_id| {
            account.ram_roles.iter().any(|role| role.id() == role_id)
        });
        let old = std::mem::replace(&mut *current, account);
        // Under the account's lock: no action's record of it can come between.
        self.commit(|| change::diff(old, &mut current));
        Ok(())
    }

    /// Adds a new account (checked), its creation numbered and logged first: no record of a
    /// change to it can come before.
    fn create(&self, account: Account) {
        self.commit(|| AccountChange::whole(account.clone()));
        self.insert(account);
    }

    fn remove_account(&self, account_id: &AccountId) -> Option<Account> {
        let (_, slot) = self.accounts.remove(account_id)?;
        let account = lock(&slot.account).clone();
        for access_key_id in account::access_key_ids(&account) {
            self.credentials.remove(access_key_id);
        }
        self.sessions.end_unless(account_id, |_| false);
        self.commit(|| Change::DeleteAccount(account_id.clone()));
        Some(account)
    }
}

/// What `create_account` answers: the account and the AccessKey pair to call it with.
pub struct CreatedAccount {
    pub account: Account,
    pub access_key_id: String,
    pub access_key_secret: String,
}

impl Store {
    /// One account, as in the state document.
    pub fn account(&self, account_id: &str) -> Option<Account> {
        let world = self.world();
        let slot = world.slot(&AccountId(account_id.to_owned()))?;
        let account = lock(&slot.account).clone();
        Some(account)
    }

    /// Every account's id and display name, in document order (the dashboard's list: no
    /// account is copied whole).
    pub fn account_summaries(&self) -> Vec<(AccountId, String)> {
        let world = self.world();
        let mut summaries: Vec<(usize, AccountId, String)> = world
            .accounts
            .iter()
            .map(|slot| {
                let account = lock(&slot.account);
                (
                    slot.ordinal,
                    account.account_id.clone(),
                    account.display_name.clone(),
                )
            })
            .collect();
        summaries.sort_by_key(|(ordinal, ..)| *ordinal);
        summaries
            .into_iter()
            .map(|(_, id, name)| (id, name))
            .collect()
    }

    /// Creates an isolated account from a partial one: a generated id and AccessKey pair
    /// unless given, every other fact from the defaults.
    pub fn create_account(&self, partial: Value) -> Result<CreatedAccount, ControlError> {
        let mut body = match partial {
            Value::Null => Value::Object(serde_json::Map::new()),
            Value::Object(_) => partial,
            _ => {
                return Err(ControlError::Invalid(
                    "account: must be a JSON object".into(),
                ));
            }
        };
        let _serial = self.serial();
        let world = self.world();
        if body.get("accountId").is_none() {
            let id = loop {
                let id = self.ids.account_id();
                if world.slot(&id).is_none() {
                    break id;
                }
            };
            body["accountId"] = Value::from(id.0);
        }
        let mut account: Account = typed("account", body)?;
        roles::complete_ids(&mut account);
        if world.slot(&account.account_id).is_some() {
            return Err(ControlError::Conflict(format!(
                "account {} exists",
                account.account_id
            )));
        }
        if account.access_keys.is_empty() {
            let (access_key_id, access_key_secret) = self.ids.access_key();
            account.access_keys.push(AccessKey {
                access_key_id,
                access_key_secret,
                status: AccessKeyStatus::Active,
            });
        }
        world.check_account(&account)?;
        let key = &account.access_keys[0];
        let created = CreatedAccount {
            access_key_id: key.access_key_id.to_string(),
            access_key_secret: key.access_key_secret.clone(),
            account: account.clone(),
        };
        world.create(account);
        Ok(created)
    }

    /// Replaces (or creates) the account `account_id` with `body`; `true` when created.
    pub fn put_account(
        &self,
        account_id: &str,
        mut body: Value,
    ) -> Result<(Account, bool), ControlError> {
        if !body.is_object() {
            return Err(ControlError::Invalid(
                "account: must be a JSON object".into(),
            ));
        }
        match body.get("accountId") {
            None => body["accountId"] = Value::from(account_id),
            Some(id) if id == account_id => {}
            Some(_) => {
                return Err(ControlError::Conflict(
                    "account.accountId: differs from the account in the path".into(),
                ));
            }
        }
        let mut account: Account = typed("account", body)?;
        roles::complete_ids(&mut account);
        let _serial = self.serial();
        let world = self.world();
        world.check_account(&account)?;
        let created = world.slot(&account.account_id).is_none();
        if created {
            world.create(account.clone());
        } else {
            world.replace_account(account.clone())?;
        }
        Ok((account, created))
    }

    /// Merges `patch` (RFC 7386) into the account.
    pub fn patch_account(&self, account_id: &str, patch: &Value) -> Result<Account, ControlError> {
        require_object("account", patch)?;
        self.edit_account(account_id, |document| {
            merge_patch(document, patch);
            Ok(())
        })
    }

    /// Merges `patch` into one key of the account.
    pub fn patch_key(
        &self,
        account_id: &str,
        key_id: &str,
        patch: &Value,
    ) -> Result<KmsKey, ControlError> {
        require_object("kmsKey", patch)?;
        let account = self.edit_account(account_id, |document| {
            let keys = document["kmsKeys"].as_array_mut();
            let key = keys
                .into_iter()
                .flatten()
                .find(|k| k["keyId"] == key_id)
                .ok_or_else(|| {
                    ControlError::NotFound(format!("no key {key_id} in account {account_id}"))
                })?;
            merge_patch(key, patch);
            if key["keyId"] != key_id {
                return Err(ControlError::Conflict(
                    "kmsKey.keyId: a key's id cannot change".into(),
                ));
            }
            Ok(())
        })?;
        let key = account
            .kms_keys
            .into_iter()
            .find(|k| k.key_id.as_str() == key_id);
        key.ok_or_else(|| ControlError::NotFound(format!("no key {key_id}")))
    }

    /// Edits the account's JSON with `edit`, then validates and stores the result.
    fn edit_account(
        &self,
        account_id: &str,
        edit: impl FnOnce(&mut Value) -> Result<(), ControlError>,
    ) -> Result<Account, ControlError> {
        let _serial = self.serial();
        let world = self.world();
        let id = AccountId(account_id.to_owned());
        let slot = world
            .slot(&id)
            .ok_or_else(|| ControlError::NotFound(format!("no account {account_id}")))?;
        let mut document = to_value(&*lock(&slot.account));
        edit(&mut document)?;
        if document["accountId"] != account_id {
            return Err(ControlError::Conflict(
                "account.accountId: an account's id cannot change".into(),
            ));
        }
        let mut account: Account = typed("account", document)?;
        roles::complete_ids(&mut account);
        world.check_account(&account)?;
        world.replace_account(account.clone())?;
        Ok(account)
    }

    /// Deletes the account and its credentials.
    pub fn delete_account(&self, account_id: &str) -> Result<Account, ControlError> {
        let _serial = self.serial();
        let removed = self
            .world()
            .remove_account(&AccountId(account_id.to_owned()))
            .ok_or_else(|| ControlError::NotFound(format!("no account {account_id}")))?;
        Ok(removed)
    }

    /// Merges `patch` into a region of the catalogue.
    pub fn patch_region(&self, region_id: &str, patch: &Value) -> Result<Region, ControlError> {
        require_object("region", patch)?;
        let _serial = self.serial();
        let world = self.world();
        let mut regions = world.regions.clone();
        let index = *world
            .region_index
            .get(&RegionId(region_id.to_owned()))
            .ok_or_else(|| ControlError::NotFound(format!("no region {region_id}")))?;
        let mut document = to_value(&regions[index]);
        merge_patch(&mut document, patch);
        if document["regionId"] != region_id {
            return Err(ControlError::Conflict(
                "region.regionId: a region's id cannot change".into(),
            ));
        }
        regions[index] = typed("region", document)?;
        super::validate::validate_zones(&regions).map_err(ControlError::Invalid)?;
        let region = regions[index].clone();
        let change = Change::Regions(regions.clone());
        let changed = world.with_regions(regions);
        changed.commit(|| change);
        self.swap(changed);
        Ok(region)
    }

    /// Saves the current state as `name` (replacing a snapshot of that name).
    pub fn save_snapshot(&self, name: &str) -> Snapshot {
        let snapshot = Snapshot {
            name: name.to_owned(),
            created_at: crate::ids::now_text(),
            document: self.dump(),
        };
        lock(&self.snapshots).insert(name.to_owned(), snapshot.clone());
        snapshot
    }

    /// Makes the snapshot `name` the current state.
    pub fn restore_snapshot(&self, name: &str) -> Result<(), ControlError> {
        let document = lock(&self.snapshots)
            .get(name)
            .map(|s| s.document.clone())
            .ok_or_else(|| ControlError::NotFound(format!("no snapshot {name}")))?;
        self.replace(document);
        Ok(())
    }

    /// The snapshots, by name.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        lock(&self.snapshots).values().cloned().collect()
    }

    pub fn delete_snapshot(&self, name: &str) -> Result<(), ControlError> {
        lock(&self.snapshots)
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| ControlError::NotFound(format!("no snapshot {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge_patch(
            &mut target,
            &json!({"a": null, "b": {"c": 5}, "e": [2], "f": {"g": 1}}),
        );
        assert_eq!(
            target,
            json!({"b": {"c": 5, "d": 3}, "e": [2], "f": {"g": 1}})
        );
    }
}
