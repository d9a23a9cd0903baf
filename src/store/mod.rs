//! The only owner of state: regions, accounts with their identities, settings and KMS keys.
//! Callers get domain operations (`identity`, `transact`, `regions`, `dump`, `replace`, the
//! account operations of `control`), never the maps.

mod account;
mod change;
mod control;
mod disks;
pub mod model;
mod persist;
pub mod roles;
mod strict;
mod validate;

pub use account::{AccountTx, Identity, Principal};
pub use control::{ControlError, Snapshot};
pub use disks::{ClientTokens, TokenUse};
pub use persist::{Opening, StateFile, compact as compact_state_file, dump as dump_state_file};
pub use strict::from_json;
pub use validate::{parse_document, refuse_xml_unsafe};

use crate::error::{ApiError, ErrorCode};
use crate::ids::Ids;
use crate::striped::{Striped, lock};
use dashmap::DashMap;
use model::{AccessKeyId, Account, AccountId, Region, RegionId, StateDocument};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// The state, swappable as a whole (`PUT /_emulator/state`, reset, snapshot restore).
///
/// Locking: `current` is held only long enough to clone the `Arc` (or to swap it), so a
/// request works on one consistent `World` from start to end. Inside a world each account has
/// its own `Mutex`: an action's checks and its write happen under it, so no caller can observe
/// or produce a half-applied change, and calls for different accounts never wait on each
/// other. A replace that races a write orders after it (the write lands in the old world).
/// Admin changes are serialized by `control`; they change one account in place, or build a
/// new world that shares the untouched account slots, so no RPC write is ever lost to them.
pub struct Store {
    /// Shared with the state file's compaction, which dumps the current world.
    current: Arc<RwLock<Arc<World>>>,
    /// Counts swaps of `current`: a handle taken before the last one is stale.
    generation: AtomicU64,
    /// Each thread's handle on the current world, with the generation it was taken at: a
    /// request takes its world without writing memory another core shares (`striped`).
    handles: Striped<Mutex<Option<(u64, WorldRef)>>>,
    /// The boot state as JSON text, parsed again on reset: a fraction of the state's size in
    /// memory, so a large fixture is not held twice.
    boot: BootText,
    ids: Arc<Ids>,
    /// Serializes admin changes (account, region, snapshot and whole-state operations), and
    /// the state file's compaction dump with them.
    control: Arc<Mutex<()>>,
    snapshots: Mutex<BTreeMap<String, Snapshot>>,
    /// `--state-file`: every change is logged there, and answered once it is durable.
    log: Option<Arc<persist::Log>>,
    /// Counts changes (the journal's `stateSeq`): each change's number, in the order made.
    mutations: Arc<AtomicU64>,
}

/// An admin change in progress (`Store::serial`).
struct Serial<'a> {
    store: &'a Store,
    _guard: std::sync::MutexGuard<'a, ()>,
}

impl Drop for Serial<'_> {
    fn drop(&mut self) {
        // Still under the lock, after the change (or its refusal: a refusal may come after a
        // partial look, so identities are found afresh either way) and before its answer.
        self.store
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .identities
            .fetch_add(1, Ordering::Release);
    }
}

/// The JSON text of a state document: borrowed for the built-in fixture.
pub type BootText = std::borrow::Cow<'static, [u8]>;

/// A request's hold on one world. Cloning it counts on an allocation of the thread that
/// took it (a handle per thread), not on the world's own count, which every thread shares.
#[derive(Clone)]
pub struct WorldRef(Arc<Held>);

/// A thread's hold on a world: the count `WorldRef` clones change, and the identities the
/// thread found in it last.
struct Held {
    world: Arc<World>,
    recent: Mutex<Recent>,
}

impl std::ops::Deref for WorldRef {
    type Target = World;

    fn deref(&self) -> &World {
        &self.0.world
    }
}

impl WorldRef {
    /// As [`World::identity`], shared: a thread remembers the last few identities it found,
    /// so that calls with one AccessKey do not each look it up in the maps all threads read,
    /// lock its account a second time and copy its names and secret. A remembered identity is
    /// used only while no admin change was made since it was found (`World::identities`).
    pub fn identity(&self, access_key_id: &str) -> Option<Arc<Identity>> {
        // Read before the lookup: a change in between makes the entry stale at once.
        let epoch = self.identities.load(Ordering::Acquire);
        let mut recent = lock(&self.0.recent);
        if let Some(identity) = recent.find(access_key_id, epoch) {
            return Some(identity);
        }
        let identity = Arc::new(self.0.world.identity(access_key_id)?);
        recent.remember(access_key_id, epoch, &identity);
        Some(identity)
    }
}

/// The identities a thread found last: a few, replaced in turn.
#[derive(Default)]
struct Recent {
    entries: [Option<Remembered>; 4],
    next: usize,
}

/// An AccessKeyId, the identity count it was found at (`World::identities`), and its identity.
type Remembered = (Box<str>, u64, Arc<Identity>);

impl Recent {
    fn find(&self, access_key_id: &str, epoch: u64) -> Option<Arc<Identity>> {
        self.entries
            .iter()
            .flatten()
            .find_map(|(id, found_at, identity)| {
                (*found_at == epoch && **id == *access_key_id).then(|| Arc::clone(identity))
            })
    }

    fn remember(&mut self, access_key_id: &str, epoch: u64, identity: &Arc<Identity>) {
        let entry = (Box::from(access_key_id), epoch, Arc::clone(identity));
        match self.entries.iter_mut().find(|entry| {
            entry
                .as_ref()
                .is_some_and(|(id, ..)| **id == *access_key_id)
        }) {
            Some(same) => *same = Some(entry),
            None => {
                self.entries[self.next] = Some(entry);
                self.next = (self.next + 1) % self.entries.len();
            }
        }
    }
}

/// One consistent state: the region catalogue, and the accounts.
pub struct World {
    regions: Vec<Region>,
    region_index: HashMap<RegionId, usize>,
    accounts: DashMap<AccountId, Arc<AccountSlot>>,
    /// Which account each AccessKeyId (root, RAM user or STS) belongs to.
    credentials: DashMap<AccessKeyId, AccountId>,
    /// Counts admin changes made in place (`Store::serial`), which may change who can call and
    /// how: an identity found before the last one is not used again (`WorldRef::identity`).
    /// Actions never change identities.
    identities: AtomicU64,
    /// The next position for an added account.
    next_ordinal: AtomicUsize,
    ids: Arc<Ids>,
    mutations: Arc<AtomicU64>,
    /// The sessions AssumeRole issued in this world (kept by a world with other regions).
    sessions: Arc<roles::Sessions>,
    /// The state file's log, where each change made in this world is queued (`commit`).
    log: Option<Arc<persist::Log>>,
    /// Counts whole replacements: a record of an older world than the log's was wiped.
    epoch: u64,
}

struct AccountSlot {
    /// Position in the document, so a dump keeps the order it was given in; the first account
    /// is the one anonymous requests act as under `--auth off`.
    ordinal: usize,
    account: Mutex<Account>,
}

impl Store {
    /// A store holding `boot` (already validated), which `reset` returns to by parsing `text`,
    /// the JSON `boot` was parsed from; with a state file (opened and readied, holding `boot`),
    /// every change is logged there.
    pub fn with_text(
        boot: StateDocument,
        text: BootText,
        ids: Arc<Ids>,
        state_file: Option<&StateFile>,
    ) -> Self {
        let mutations = Arc::new(AtomicU64::new(0));
        let log = state_file.and_then(persist::Log::start).map(Arc::new);
        let world = World::build(boot, ids.clone(), mutations.clone(), log.clone(), 0);
        let store = Self {
            current: Arc::new(RwLock::new(Arc::new(world))),
            generation: AtomicU64::new(0),
            handles: Striped::new(|| Mutex::new(None)),
            boot: text,
            ids,
            control: Arc::new(Mutex::new(())),
            snapshots: Mutex::new(BTreeMap::new()),
            log,
            mutations,
        };
        if let Some(log) = &store.log {
            log.attach(persist::Sources {
                current: store.current.clone(),
                control: store.control.clone(),
            });
        }
        store
    }

    /// The current world; a request keeps using the one it started with.
    pub fn world(&self) -> WorldRef {
        // Read before `current`: a swap in between makes the handle stale at once, never a
        // stale world look current.
        let generation = self.generation.load(Ordering::Acquire);
        let mut handle = lock(self.handles.local());
        if let Some((taken_at, world)) = handle.as_ref()
            && *taken_at == generation
        {
            return world.clone();
        }
        let current = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let world = WorldRef(Arc::new(Held {
            world: current,
            recent: Mutex::default(),
        }));
        *handle = Some((generation, world.clone()));
        world
    }

    fn swap(&self, world: World) {
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(world);
        self.generation.fetch_add(1, Ordering::Release);
        // The old world is freed when its last request ends, not when each thread next asks.
        for handle in self.handles.iter() {
            lock(handle).take();
        }
    }

    /// Takes the lock that serializes admin changes. When the change ends, the current world's
    /// identity count moves on: each thread finds identities afresh (`WorldRef::identity`).
    fn serial(&self) -> Serial<'_> {
        Serial {
            store: self,
            _guard: lock(&self.control),
        }
    }

    /// Replaces the whole state with a validated document (with a state file: a new log that
    /// starts with the whole document, then a new snapshot; `persist`).
    pub fn replace(&self, document: StateDocument) {
        let _serial = self.serial();
        let epoch = self.world().epoch + 1;
        let frame = self
            .log
            .as_ref()
            .map(|_| persist::encode(&change::ReplaceRef::Replace(&document)));
        let (ids, mutations) = (self.ids.clone(), self.mutations.clone());
        let world = World::build(document, ids, mutations, self.log.clone(), epoch);
        match (&self.log, frame) {
            (Some(log), Some(frame)) => {
                log.replace(&self.mutations, epoch, frame, || self.swap(world));
            }
            _ => {
                self.swap(world);
                self.mutations.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Back to the state loaded at boot.
    pub fn reset(&self) {
        match serde_json::from_slice(&self.boot) {
            Ok(document) => self.replace(document),
            // It was validated at start and serialized by us; this cannot happen.
            Err(cause) => tracing::error!(%cause, "the boot state could not be read back"),
        }
    }

    /// The whole current state as a document.
    pub fn dump(&self) -> StateDocument {
        self.world().dump()
    }

    /// How many changes actions have made so far.
    pub fn mutations(&self) -> u64 {
        self.mutations.load(Ordering::Acquire)
    }

    /// Waits until every change made so far is in the state file, if there is one (after an
    /// admin change; at shutdown).
    pub async fn persist(&self) -> Result<(), ApiError> {
        self.durable(self.mutations()).await
    }

    /// Whether an answer that saw the change numbered `seq` must wait for the state file.
    pub fn must_wait(&self, seq: u64) -> bool {
        self.log.as_ref().is_some_and(|log| !log.is_durable(seq))
    }

    /// Waits until the change numbered `seq`, and every one before it, is in the state file.
    pub async fn durable(&self, seq: u64) -> Result<(), ApiError> {
        match &self.log {
            None => Ok(()),
            Some(log) => log.durable(seq).await,
        }
    }
}

impl World {
    fn build(
        document: StateDocument,
        ids: Arc<Ids>,
        mutations: Arc<AtomicU64>,
        log: Option<Arc<persist::Log>>,
        epoch: u64,
    ) -> Self {
        let world = Self {
            region_index: index_regions(&document.regions),
            regions: document.regions,
            accounts: DashMap::with_capacity(document.accounts.len()),
            credentials: DashMap::new(),
            identities: AtomicU64::new(0),
            next_ordinal: AtomicUsize::new(0),
            ids,
            mutations,
            sessions: Arc::default(),
            log,
            epoch,
        };
        for account in document.accounts {
            world.insert(account);
        }
        world
    }

    /// A world with other regions and the same account slots (shared, not copied).
    fn with_regions(&self, regions: Vec<Region>) -> Self {
        Self {
            region_index: index_regions(&regions),
            regions,
            accounts: self.accounts.clone(),
            credentials: self.credentials.clone(),
            identities: AtomicU64::new(0),
            next_ordinal: AtomicUsize::new(self.next_ordinal.load(Ordering::Acquire)),
            ids: self.ids.clone(),
            mutations: self.mutations.clone(),
            sessions: self.sessions.clone(),
            log: self.log.clone(),
            epoch: self.epoch,
        }
    }

    /// Numbers a change just made (the store's change count) and, with a state file, queues
    /// its record (`change`, called only then). Called under the lock of what changed, so one
    /// account's records are queued in the order its changes were made.
    fn commit(&self, change: impl FnOnce() -> change::Change) -> u64 {
        match &self.log {
            None => self.mutations.fetch_add(1, Ordering::AcqRel) + 1,
            Some(log) => log.append(&self.mutations, self.epoch, &change()),
        }
    }

    /// Adds an account (already validated against this world) at the end.
    fn insert(&self, mut account: Account) {
        roles::complete_ids(&mut account);
        // Decoded lists grow by doubling: up to half of a large fixture's keys' memory is
        // spare capacity otherwise.
        account.kms_keys.shrink_to_fit();
        account.access_keys.shrink_to_fit();
        for access_key_id in account::access_key_ids(&account) {
            self.credentials
                .insert(access_key_id.clone(), account.account_id.clone());
        }
        let ordinal = self.next_ordinal.fetch_add(1, Ordering::AcqRel);
        let account_id = account.account_id.clone();
        let slot = AccountSlot {
            ordinal,
            account: Mutex::new(account),
        };
        self.accounts.insert(account_id, Arc::new(slot));
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

    fn slot(&self, account_id: &AccountId) -> Option<Arc<AccountSlot>> {
        self.accounts.get(account_id).map(|slot| slot.clone())
    }

    /// Who an AccessKeyId belongs to, with what the authenticator needs to check it.
    /// Issued role sessions (`roles`) are looked up after the state's own credentials.
    pub fn identity(&self, access_key_id: &str) -> Option<Identity> {
        let (slot, mut identity) = match self.credentials.get(access_key_id) {
            Some(account_id) => {
                let slot = self.slot(&account_id)?;
                let identity = account::identity(&lock(&slot.account), access_key_id)?;
                (slot, identity)
            }
            None => {
                let session = self.sessions.get(access_key_id)?;
                let slot = self.slot(&session.account_id)?;
                let identity = account::session_identity(&lock(&slot.account), &session)?;
                (slot, identity)
            }
        };
        identity.slot = account::Found(Some(slot));
        Some(identity)
    }

    /// A role of the account `account_id`, by name compared case-insensitively, read under
    /// the account's lock.
    pub fn role(&self, account_id: &str, role_name: &str) -> Option<model::RamRole> {
        let slot = self.slot(&AccountId(account_id.to_owned()))?;
        let account = lock(&slot.account);
        let role = account
            .ram_roles
            .iter()
            .find(|role| role.role_name.eq_ignore_ascii_case(role_name))?;
        Some(role.clone())
    }

    /// The live sessions of `account_id` (all when `None`), with the role each acts as now:
    /// `GET /_emulator/sessions`. Sessions whose role is gone are not listed.
    pub fn sessions(&self, account_id: Option<&str>) -> Vec<(AccessKeyId, roles::Session, String)> {
        let account = account_id.map(|id| AccountId(id.to_owned()));
        self.sessions
            .of(account.as_ref())
            .into_iter()
            .filter_map(|(id, session)| {
                let slot = self.slot(&session.account_id)?;
                let role_name = lock(&slot.account)
                    .ram_roles
                    .iter()
                    .find(|role| role.id() == session.role_id)?
                    .role_name
                    .clone();
                Some((id, session, role_name))
            })
            .collect()
    }

    /// Issues a session of `role` (of `account_id`) named `session_name`, valid for
    /// `duration` seconds: fresh credentials that act as the role from now on.
    pub fn issue_session(
        &self,
        account_id: &AccountId,
        role: &model::RamRole,
        session_name: &str,
        duration: u32,
    ) -> roles::Issued {
        let (access_key_id, secret, token) = self.ids.sts_credentials();
        let expires = time::OffsetDateTime::now_utc() + time::Duration::seconds(duration.into());
        let session = roles::Session {
            account_id: account_id.clone(),
            role_id: role.id().to_owned(),
            session_name: session_name.to_owned(),
            secret,
            token,
            expires_at: expires.unix_timestamp(),
        };
        self.sessions.insert(access_key_id.clone(), session.clone());
        roles::Issued {
            access_key_id,
            session,
        }
    }

    /// The root identity of the first account, which anonymous calls act as under `--auth off`.
    pub fn default_identity(&self) -> Option<Identity> {
        let first = self
            .accounts
            .iter()
            .min_by_key(|slot| slot.ordinal)
            .map(|slot| slot.clone())?;
        let account = lock(&first.account);
        Some(account::root_identity(&account))
    }

    /// Runs `f` with exclusive access to one account: its checks and its write are atomic, and
    /// a failing `f` leaves the account as it was (`AccountTx::roll_back`).
    /// Also answers the store's change count as of the end of `f`, read under the account's
    /// lock: a transaction that changed the account has a count of its own, and the counts of
    /// one account's changes follow the order they were applied in; one that changed nothing
    /// saw exactly that account's changes with a count up to its own.
    pub fn transact<T>(
        &self,
        account_id: &AccountId,
        f: impl FnOnce(&mut AccountTx<'_>) -> Result<T, ApiError>,
    ) -> (Result<T, ApiError>, Option<u64>) {
        match self.slot(account_id) {
            Some(slot) => self.transact_in(&slot, f),
            None => (
                Err(ApiError::new(ErrorCode::InvalidAccessKeyIdNotFound)),
                None,
            ),
        }
    }

    /// As `transact`, on the caller's account, through the slot it was found in when it was
    /// found in this world (an account removed since takes the write with it, as if the
    /// request had come first).
    pub fn transact_as<T>(
        &self,
        caller: &Identity,
        f: impl FnOnce(&mut AccountTx<'_>) -> Result<T, ApiError>,
    ) -> (Result<T, ApiError>, Option<u64>) {
        match &caller.slot.0 {
            Some(slot) => self.transact_in(slot, f),
            None => self.transact(&caller.account_id, f),
        }
    }

    fn transact_in<T>(
        &self,
        slot: &AccountSlot,
        f: impl FnOnce(&mut AccountTx<'_>) -> Result<T, ApiError>,
    ) -> (Result<T, ApiError>, Option<u64>) {
        let mut account = lock(&slot.account);
        let mut tx = AccountTx::new(&mut account, self, &self.ids);
        let result = f(&mut tx);
        if result.is_err() {
            tx.roll_back();
        }
        let seq = match tx.changed() {
            true => self.commit(|| tx.take_change()),
            false => self.mutations.load(Ordering::Acquire),
        };
        (result, Some(seq))
    }
}

fn index_regions(regions: &[Region]) -> HashMap<RegionId, usize> {
    regions
        .iter()
        .enumerate()
        .map(|(i, region)| (region.region_id.clone(), i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "LTAI5tDemoEncryptionOn";
    const ACCOUNT: &str = "1000000000000107";

    fn store() -> Store {
        let text = crate::DEFAULT_FIXTURE.as_bytes();
        let boot = parse_document(text).expect("the default fixture");
        Store::with_text(boot, text.into(), Arc::new(Ids::default()), None)
    }

    /// A thread finds an identity once and uses it again, until an admin change, which may
    /// have changed it: then it finds it afresh, and not at all once it is gone.
    #[test]
    fn remembered_identities_last_until_an_admin_change() {
        let store = store();
        let first = store.world().identity(KEY).expect("a known key");
        let again = store.world().identity(KEY).expect("a known key");
        assert!(
            Arc::ptr_eq(&first, &again),
            "found again instead of remembered"
        );
        assert_eq!(first.secret, "DemoSecretEncryptionOn");
        assert!(store.world().identity("LTAI5tNoSuchKey").is_none());

        // An admin change to the account: the secret and status the caller is checked with.
        let patch = serde_json::json!({ "accessKeys": [{
            "accessKeyId": KEY, "accessKeySecret": "Changed", "status": "Inactive"
        }]});
        store.patch_account(ACCOUNT, &patch).expect("patched");
        let changed = store.world().identity(KEY).expect("still known");
        assert_eq!(changed.secret, "Changed");
        assert_eq!(changed.status, model::AccessKeyStatus::Inactive);

        // Another account's change also makes the thread look again (it cannot tell).
        let before = store.world().identity(KEY).expect("known");
        store
            .patch_account(
                "1000000000000101",
                &serde_json::json!({ "displayName": "x" }),
            )
            .expect("patched");
        let after = store.world().identity(KEY).expect("known");
        assert!(!Arc::ptr_eq(&before, &after));
        assert_eq!(*before, *after);

        // A handle taken before a change does not use what it remembered either.
        let held = store.world();
        held.identity(KEY).expect("known");
        store.delete_account(ACCOUNT).expect("deleted");
        assert!(held.identity(KEY).is_none());
        assert!(store.world().identity(KEY).is_none());
    }
}
