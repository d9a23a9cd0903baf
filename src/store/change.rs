//! What one committed change did, at entity granularity: the record the state file's log
//! carries (`persist`), so that a record's size follows what changed, not what the account
//! holds.
//!
//! An account is seen as three parts: its disks (by id), its KMS keys (by id) and its *head*
//! — everything else (facts, AccessKeys, RAM users, STS tokens, region settings, and any field
//! the model gains later), which is the account serialized with the two large collections left
//! out (`head_of`), so a new small field is carried without this module naming it. A
//! transaction reports the disks and keys it wrote and whether it wrote anything else
//! (`AccountTx::changed`, `touched_*`); an admin edit is compared with the account it replaced
//! (`diff`). Replaying applies the records, in order, onto the snapshot's document (`Replay`).
//!
//! Every record *sets* entities to values (or removes them), never adjusts them, so replaying a
//! record whose effect the snapshot already holds changes nothing that a later record does not
//! set again: the last record touching an entity decides it. That is what lets compaction take
//! its snapshot while writes go on (`persist`).

use super::AccountTx;
use super::model::{Account, AccountId, Disk, DiskId, KeyId, KmsKey, Region, StateDocument};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// One record of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// Parts of one account set (or the account created).
    Account(Box<AccountChange>),
    /// An account removed.
    DeleteAccount(AccountId),
    /// The region catalogue set.
    Regions(Vec<Region>),
    /// Everything replaced (`PUT /_emulator/state`, reset, snapshot restore).
    Replace(StateDocument),
}

/// `Change::Replace` of a borrowed document: the same JSON, without a copy of the state.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ReplaceRef<'a> {
    Replace(&'a StateDocument),
}

/// The parts of one account a change set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountChange {
    pub account_id: AccountId,
    /// The whole account, put in place of the one with its id, or added at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole: Option<Account>,
    /// The account but its disks and keys (`head_of`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<Value>,
    /// Keys put in place of the key with their id, or added at the end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kms_keys: Vec<KmsKey>,
    /// Disks put or removed, in the order they were first written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disks: Vec<DiskChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DiskChange {
    Put(Box<Disk>),
    Delete(DiskId),
}

impl AccountChange {
    fn new(account_id: AccountId) -> Self {
        Self {
            account_id,
            whole: None,
            head: None,
            kms_keys: Vec::new(),
            disks: Vec::new(),
        }
    }

    /// An account created, or replaced whole.
    pub fn whole(account: Account) -> Change {
        let mut change = Self::new(account.account_id.clone());
        change.whole = Some(account);
        Change::Account(Box::new(change))
    }
}

/// The account's head: the account as the state document has it, without `disks` and
/// `kmsKeys`. O(size of the head): the two collections are moved out while it is serialized.
pub fn head_of(account: &mut Account) -> Value {
    let disks = std::mem::take(&mut account.disks);
    let keys = std::mem::take(&mut account.kms_keys);
    // Cannot fail: every map of the model has string keys.
    let mut head = serde_json::to_value(&*account).unwrap_or(Value::Null);
    account.disks = disks;
    account.kms_keys = keys;
    if let Value::Object(fields) = &mut head {
        fields.remove("disks");
        fields.remove("kmsKeys");
    }
    head
}

/// Sets the account's head, keeping its disks and keys.
fn set_head(account: &mut Account, head: Value) -> Result<(), String> {
    let mut fresh: Account = serde::Deserialize::deserialize(super::strict::Strict(head))
        .map_err(|e| format!("account head: {e}"))?;
    if fresh.account_id != account.account_id {
        return Err(format!(
            "account head: id {} for account {}",
            fresh.account_id, account.account_id
        ));
    }
    fresh.disks = std::mem::take(&mut account.disks);
    fresh.kms_keys = std::mem::take(&mut account.kms_keys);
    *account = fresh;
    Ok(())
}

/// The first occurrence of each id, in order (a transaction touches one or two).
fn distinct<T: PartialEq>(ids: Vec<T>) -> Vec<T> {
    let mut seen: Vec<T> = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen
}

impl AccountTx<'_> {
    /// What this (committed) transaction changed: the head if anything but disks and keys was
    /// written, and the disks and keys it wrote, as they now are.
    pub(super) fn take_change(&mut self) -> Change {
        let mut change = AccountChange::new(self.account.account_id.clone());
        if self.changed {
            change.head = Some(head_of(self.account));
        }
        for id in distinct(std::mem::take(&mut self.touched_keys)) {
            if let Some(key) = self.account.kms_keys.iter().find(|k| k.key_id == id) {
                change.kms_keys.push(key.clone());
            }
        }
        for id in distinct(std::mem::take(&mut self.touched_disks)) {
            change
                .disks
                .push(match self.account.disks.get(id.as_str()) {
                    Some(disk) => DiskChange::Put(Box::new(disk.clone())),
                    None => DiskChange::Delete(id),
                });
        }
        Change::Account(Box::new(change))
    }
}

/// What an admin edit changed, `old` being replaced by `new`: the parts that differ, or the
/// whole account when they cannot say it exactly (keys removed or reordered, disks whose order
/// would differ). O(size of the account), like the edit itself; the record stays small.
pub fn diff(mut old: Account, new: &mut Account) -> Change {
    let mut change = AccountChange::new(new.account_id.clone());
    let head = head_of(new);
    if head_of(&mut old) != head {
        change.head = Some(head);
    }
    let (old_keys, new_keys) = (&old.kms_keys, &new.kms_keys);
    let same_ids = new_keys.len() >= old_keys.len()
        && old_keys
            .iter()
            .zip(new_keys)
            .all(|(a, b)| a.key_id == b.key_id);
    if !same_ids {
        return AccountChange::whole(new.clone());
    }
    change.kms_keys = new_keys
        .iter()
        .enumerate()
        .filter(|(i, key)| old_keys.get(*i) != Some(*key))
        .map(|(_, key)| key.clone())
        .collect();
    for disk in old.disks.iter() {
        if new.disks.get(disk.disk_id.as_str()).is_none() {
            change.disks.push(DiskChange::Delete(disk.disk_id.clone()));
        }
    }
    for disk in new.disks.iter() {
        if old.disks.get(disk.disk_id.as_str()) != Some(disk) {
            change.disks.push(DiskChange::Put(Box::new(disk.clone())));
        }
    }
    let mut replayed = std::mem::take(&mut old.disks);
    apply_disks(&mut replayed, &change.disks);
    if replayed != new.disks {
        return AccountChange::whole(new.clone());
    }
    Change::Account(Box::new(change))
}

fn apply_disks(disks: &mut super::model::Disks, changes: &[DiskChange]) {
    for change in changes {
        match change {
            DiskChange::Put(disk) => disks.upsert(Disk::clone(disk)),
            DiskChange::Delete(id) => {
                disks.remove(id.as_str());
            }
        }
    }
}

/// A document being replayed onto: the snapshot's, then each record in turn.
pub struct Replay {
    document: StateDocument,
    accounts: HashMap<AccountId, usize>,
    /// Per account (by position), its keys by id, built on the first key change.
    keys: HashMap<usize, HashMap<KeyId, usize>>,
}

impl Replay {
    pub fn new(document: StateDocument) -> Self {
        let mut replay = Self {
            document,
            accounts: HashMap::new(),
            keys: HashMap::new(),
        };
        replay.index();
        replay
    }

    fn index(&mut self) {
        self.accounts = (self.document.accounts.iter().enumerate())
            .map(|(i, account)| (account.account_id.clone(), i))
            .collect();
        self.keys.clear();
    }

    /// Applies one record. A change to an account that does not exist is one that raced the
    /// account's removal (the write went with it) and changes nothing.
    pub fn apply(&mut self, change: Change) -> Result<(), String> {
        match change {
            Change::Replace(document) => {
                self.document = document;
                self.index();
            }
            Change::Regions(regions) => self.document.regions = regions,
            Change::DeleteAccount(id) => {
                if let Some(at) = self.accounts.get(&id).copied() {
                    self.document.accounts.remove(at);
                    self.index();
                }
            }
            Change::Account(change) => self.apply_account(*change)?,
        }
        Ok(())
    }

    fn apply_account(&mut self, change: AccountChange) -> Result<(), String> {
        if let Some(account) = change.whole {
            match self.accounts.get(&change.account_id).copied() {
                Some(at) => {
                    self.document.accounts[at] = account;
                    self.keys.remove(&at);
                }
                None => {
                    self.accounts
                        .insert(change.account_id.clone(), self.document.accounts.len());
                    self.document.accounts.push(account);
                }
            }
        }
        let Some(at) = self.accounts.get(&change.account_id).copied() else {
            return Ok(());
        };
        let account = &mut self.document.accounts[at];
        if let Some(head) = change.head {
            set_head(account, head)?;
        }
        if !change.kms_keys.is_empty() {
            let index = self.keys.entry(at).or_insert_with(|| {
                (account.kms_keys.iter().enumerate())
                    .map(|(i, key)| (key.key_id.clone(), i))
                    .collect()
            });
            for key in change.kms_keys {
                match index.get(&key.key_id) {
                    Some(&i) => account.kms_keys[i] = key,
                    None => {
                        index.insert(key.key_id.clone(), account.kms_keys.len());
                        account.kms_keys.push(key);
                    }
                }
            }
        }
        apply_disks(&mut account.disks, &change.disks);
        Ok(())
    }

    pub fn finish(self) -> StateDocument {
        self.document
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        serde_json::from_value(serde_json::json!({
            "accountId": "1", "accessKeys": [{"accessKeyId": "AK", "accessKeySecret": "s"}],
            "kmsKeys": [{"keyId": "k1", "regionId": "r"}],
            "disks": [{"diskId": "d1", "regionId": "r", "zoneId": "z", "size": 20}],
        }))
        .unwrap()
    }

    /// The head leaves the collections out and keeps every other field, whatever it is.
    #[test]
    fn the_head_is_the_account_without_its_collections() {
        let mut account = account();
        let head = head_of(&mut account);
        assert!(head.get("disks").is_none() && head.get("kmsKeys").is_none());
        assert_eq!(head["accessKeys"][0]["accessKeyId"], "AK");
        assert_eq!(account.disks.len(), 1, "put back");
        let mut other = account.clone();
        other.display_name = "x".into();
        set_head(&mut account, head_of(&mut other)).unwrap();
        assert_eq!(account, other);
    }

    /// An admin edit is recorded as what it changed; replayed, it gives the edited account.
    #[test]
    fn a_diff_replayed_gives_the_new_account() {
        let old = account();
        let mut new = old.clone();
        new.display_name = "renamed".into();
        new.kms_keys[0].description = "d".into();
        new.disks.remove("d1");
        let change = diff(old.clone(), &mut new);
        let Change::Account(ref parts) = change else {
            panic!("{change:?}")
        };
        assert!(parts.whole.is_none(), "{parts:?}");
        assert_eq!(parts.disks, [DiskChange::Delete(DiskId("d1".into()))]);
        let mut replay = Replay::new(StateDocument {
            regions: vec![],
            accounts: vec![old],
        });
        replay.apply(change.clone()).unwrap();
        // Twice: a record the document already holds changes nothing.
        replay.apply(change).unwrap();
        assert_eq!(replay.finish().accounts, [new]);
    }
}
