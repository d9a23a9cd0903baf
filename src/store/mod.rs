//! The only owner of state: regions, accounts with their identities, settings and KMS keys.
//! Callers get domain operations (`identity`, `transact`, `regions`, `dump`, `replace`),
//! never the maps.

mod account;
pub mod model;
mod validate;

pub use account::{AccountTx, Identity, Principal};
pub use validate::parse_document;

use crate::error::{ApiError, ErrorCode};
use crate::ids::Ids;
use dashmap::DashMap;
use model::{AccessKeyId, Account, AccountId, Region, RegionId, StateDocument};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// The state, swappable as a whole (`PUT /_emulator/state`, reset).
///
/// Locking: `current` is held only long enough to clone the `Arc` (or to swap it), so a
/// request works on one consistent `World` from start to end. Inside a world each account has
/// its own `Mutex`: an action's checks and its write happen under it, so no caller can observe
/// or produce a half-applied change, and calls for different accounts never wait on each
/// other. A replace that races a write orders after it (the write lands in the old world).
pub struct Store {
    current: RwLock<Arc<World>>,
    boot: StateDocument,
    ids: Arc<Ids>,
}

/// One consistent state: the region catalogue, and the accounts.
pub struct World {
    regions: Vec<Region>,
    region_index: HashMap<RegionId, usize>,
    accounts: DashMap<AccountId, AccountSlot>,
    /// Which account each AccessKeyId (root, RAM user or STS) belongs to.
    credentials: DashMap<AccessKeyId, AccountId>,
    /// The account anonymous requests act as under `--auth off`: the document's first.
    first_account: Option<AccountId>,
    ids: Arc<Ids>,
}

struct AccountSlot {
    /// Position in the document, so a dump keeps the order it was given in.
    ordinal: usize,
    account: Mutex<Account>,
}

impl Store {
    /// A store holding `boot` (already validated), which `reset` returns to.
    pub fn new(boot: StateDocument, ids: Arc<Ids>) -> Self {
        let world = World::build(boot.clone(), ids.clone());
        Self {
            current: RwLock::new(Arc::new(world)),
            boot,
            ids,
        }
    }

    /// The current world; a request keeps using the one it started with.
    pub fn world(&self) -> Arc<World> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the whole state with a validated document.
    pub fn replace(&self, document: StateDocument) {
        let world = Arc::new(World::build(document, self.ids.clone()));
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = world;
    }

    /// Back to the state loaded at boot.
    pub fn reset(&self) {
        self.replace(self.boot.clone());
    }

    /// The whole current state as a document.
    pub fn dump(&self) -> StateDocument {
        self.world().dump()
    }
}

impl World {
    fn build(document: StateDocument, ids: Arc<Ids>) -> Self {
        let region_index = document
            .regions
            .iter()
            .enumerate()
            .map(|(i, region)| (region.region_id.clone(), i))
            .collect();
        let first_account = document.accounts.first().map(|a| a.account_id.clone());
        let accounts = DashMap::with_capacity(document.accounts.len());
        let credentials = DashMap::new();
        for (ordinal, account) in document.accounts.into_iter().enumerate() {
            for access_key_id in account::access_key_ids(&account) {
                credentials.insert(access_key_id.clone(), account.account_id.clone());
            }
            let account_id = account.account_id.clone();
            let account = Mutex::new(account);
            accounts.insert(account_id, AccountSlot { ordinal, account });
        }
        Self {
            regions: document.regions,
            region_index,
            accounts,
            credentials,
            first_account,
            ids,
        }
    }

    fn dump(&self) -> StateDocument {
        let mut accounts: Vec<(usize, Account)> = self
            .accounts
            .iter()
            .map(|slot| (slot.ordinal, lock(&slot.account).clone()))
            .collect();
        accounts.sort_by_key(|(ordinal, _)| *ordinal);
        StateDocument {
            regions: self.regions.clone(),
            accounts: accounts.into_iter().map(|(_, account)| account).collect(),
        }
    }

    /// The region catalogue, in document order.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// A region of the catalogue.
    pub fn region(&self, id: &RegionId) -> Option<&Region> {
        self.region_index.get(id).map(|&i| &self.regions[i])
    }

    /// Who an AccessKeyId belongs to, with what the authenticator needs to check it.
    pub fn identity(&self, access_key_id: &str) -> Option<Identity> {
        let account_id = self.credentials.get(access_key_id)?.clone();
        let slot = self.accounts.get(&account_id)?;
        let account = lock(&slot.account);
        account::identity(&account, access_key_id)
    }

    /// The root identity of the first account, which anonymous calls act as under `--auth off`.
    pub fn default_identity(&self) -> Option<Identity> {
        let account_id = self.first_account.as_ref()?;
        let slot = self.accounts.get(account_id)?;
        let account = lock(&slot.account);
        Some(account::root_identity(&account))
    }

    /// Runs `f` with exclusive access to one account: its checks and its write are atomic.
    pub fn transact<T>(
        &self,
        account_id: &AccountId,
        f: impl FnOnce(&mut AccountTx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let slot = self
            .accounts
            .get(account_id)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidAccessKeyIdNotFound))?;
        let mut account = lock(&slot.account);
        f(&mut AccountTx::new(&mut account, self, &self.ids))
    }
}

/// Locks an account. Handlers never panic while holding it, but if one did, the data is still
/// a valid document (every write is a single assignment), so recover rather than poison all
/// later calls for that account.
fn lock(account: &Mutex<Account>) -> std::sync::MutexGuard<'_, Account> {
    account
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
