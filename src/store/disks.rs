//! Domain operations on an account's cloud disks (`disks.md` §3), under its transaction, and
//! the memory of CreateDisk's `ClientToken`s (§3.2 step 5).

use super::AccountTx;
use super::model::{Disk, DiskId, Disks, RegionId};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How long a `ClientToken` is remembered.
const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// How many tokens one account remembers; the oldest goes first.
const TOKEN_LIMIT: usize = 10_000;

/// The `ClientToken`s an account used for CreateDisk in the last 24 hours (at most 10,000),
/// each with what the request asked (its decoded parameters, as one text) and the disk it
/// answered. Not part of the state document: a clone (a dump, a snapshot) starts empty, and
/// equality ignores it, so reset and `PUT /_emulator/state` forget every token.
#[derive(Default)]
pub struct ClientTokens {
    by_token: HashMap<String, (Instant, String, DiskId)>,
    /// Tokens in the order they were first used.
    order: VecDeque<(Instant, String)>,
}

impl ClientTokens {
    fn forget_expired(&mut self, now: Instant) {
        while let Some((at, token)) = self.order.front() {
            if now.duration_since(*at) < TOKEN_LIFETIME && self.order.len() <= TOKEN_LIMIT {
                break;
            }
            self.by_token.remove(token);
            self.order.pop_front();
        }
    }

    /// What `token` was used for: the request's parameters and the disk it answered.
    fn find(&mut self, token: &str) -> Option<(&str, &DiskId)> {
        self.forget_expired(Instant::now());
        self.by_token
            .get(token)
            .map(|(_, request, disk)| (request.as_str(), disk))
    }

    fn remember(&mut self, token: String, request: String, disk: DiskId) {
        let now = Instant::now();
        self.order.push_back((now, token.clone()));
        self.by_token.insert(token, (now, request, disk));
        self.forget_expired(now);
    }
}

impl Clone for ClientTokens {
    fn clone(&self) -> Self {
        ClientTokens::default()
    }
}

impl PartialEq for ClientTokens {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ClientTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientTokens({})", self.order.len())
    }
}

/// What a `ClientToken` says about a CreateDisk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// Not used yet (or forgotten).
    Fresh,
    /// Used with the same parameters: the disk it created.
    Repeat(DiskId),
    /// Used with other parameters.
    Mismatch,
}

impl AccountTx<'_> {
    /// The account's disks (read-only).
    pub fn disks(&self) -> &Disks {
        &self.account.disks
    }

    /// A fresh disk id, used by no disk of this account.
    pub fn new_disk_id(&self) -> DiskId {
        loop {
            let id = self.ids.disk_id();
            if self.account.disks.get(id.as_str()).is_none() {
                return id;
            }
        }
    }

    /// Adds a disk (its id fresh: `new_disk_id`).
    pub fn insert_disk(&mut self, disk: Disk) {
        self.touched_disks.push(disk.disk_id.clone());
        self.account.disks.insert(disk);
    }

    /// Removes the disk `id`.
    pub fn remove_disk(&mut self, id: &str) -> Option<Disk> {
        let removed = self.account.disks.remove(id);
        if let Some(disk) = &removed {
            self.touched_disks.push(disk.disk_id.clone());
        }
        removed
    }

    /// Changes the disk `id` (not its id, region or creation time).
    pub fn update_disk<T>(&mut self, id: &str, change: impl FnOnce(&mut Disk) -> T) -> Option<T> {
        let result = self.account.disks.update(id, change);
        if result.is_some() {
            self.touched_disks.push(DiskId(id.to_owned()));
        }
        result
    }

    /// The disk `id` of the account, wherever it is (`DeleteDisk`, `ResizeDisk`).
    pub fn disk(&self, id: &str) -> Option<&Disk> {
        self.account.disks.get(id)
    }

    /// The disk `id` if it lives in `region` (a disk of another region does not exist there).
    pub fn disk_in(&self, region: &RegionId, id: &str) -> Option<&Disk> {
        self.disk(id).filter(|disk| &disk.region_id == region)
    }

    /// What `token` says about a CreateDisk that asks `request`.
    pub fn client_token(&mut self, token: &str, request: &str) -> TokenUse {
        match self.account.client_tokens.find(token) {
            None => TokenUse::Fresh,
            Some((asked, disk)) if asked == request => TokenUse::Repeat(disk.clone()),
            Some(_) => TokenUse::Mismatch,
        }
    }

    /// Remembers that `token`, asking `request`, created `disk`. Tokens are not state: this is
    /// no change of the state document.
    pub fn remember_client_token(&mut self, token: &str, request: String, disk: DiskId) {
        self.account
            .client_tokens
            .remember(token.to_owned(), request, disk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_forgotten_oldest_first_past_the_limit() {
        let mut tokens = ClientTokens::default();
        for i in 0..=TOKEN_LIMIT {
            tokens.remember(format!("t{i}"), "r".into(), DiskId(format!("d{i}")));
        }
        assert!(tokens.find("t0").is_none());
        assert_eq!(tokens.find("t1").map(|(r, _)| r), Some("r"));
        assert_eq!(tokens.order.len(), TOKEN_LIMIT);
        assert!(tokens.clone().find("t1").is_none(), "a clone starts empty");
    }
}
