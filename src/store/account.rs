//! Domain operations on one account, available only while its lock is held (`AccountTx`), and
//! the identities its credentials stand for.

use super::World;
use super::model::{
    AccessKeyId, AccessKeyStatus, Account, AccountId, Creator, DefaultEncryption, KeyId, KeyState,
    KmsKey, Policy, Region, RegionId, RegionSetting, SERVICE_KEY_ALIAS,
};
use super::roles::{RoleSession, Session};
use crate::ids::Ids;

/// Who is calling, inside an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Root,
    RamUser {
        name: String,
        user_id: String,
        policies: Vec<Policy>,
    },
    /// A session AssumeRole issued (`store::roles`).
    Role(RoleSession),
}

impl Principal {
    /// The policies that decide what the principal may call (root needs none).
    pub fn policies(&self) -> &[Policy] {
        match self {
            Principal::Root => &[],
            Principal::RamUser { policies, .. } => policies,
            Principal::Role(session) => &session.policies,
        }
    }
}

/// What one AccessKeyId stands for, with the secret and status authentication checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: AccountId,
    pub principal: Principal,
    pub secret: String,
    pub status: AccessKeyStatus,
    /// For STS credentials: the token and its RFC 3339 expiration.
    pub sts: Option<(String, String)>,
    /// The account's slot in the world it was found in: the caller's transaction takes its
    /// lock without finding the account again (a shared map lookup and count per request).
    pub(super) slot: Found,
}

/// The slot an identity was found in; not part of what an identity is (equality, `Debug`).
#[derive(Clone, Default)]
pub struct Found(pub(super) Option<std::sync::Arc<super::AccountSlot>>);

impl std::fmt::Debug for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Found")
    }
}

impl PartialEq for Found {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Found {}

pub(super) fn access_key_ids(account: &Account) -> impl Iterator<Item = &AccessKeyId> {
    let root = account.access_keys.iter().map(|k| &k.access_key_id);
    let users = account
        .ram_users
        .iter()
        .flat_map(|u| u.access_keys.iter().map(|k| &k.access_key_id));
    let sts = account.sts_tokens.iter().map(|t| &t.access_key_id);
    root.chain(users).chain(sts)
}

pub(super) fn root_identity(account: &Account) -> Identity {
    let key = account.access_keys.first();
    Identity {
        account_id: account.account_id.clone(),
        principal: Principal::Root,
        secret: key.map(|k| k.access_key_secret.clone()).unwrap_or_default(),
        status: AccessKeyStatus::Active,
        sts: None,
        slot: Found::default(),
    }
}

fn ram_user_principal(account: &Account, name: &str) -> Option<Principal> {
    let user = account.ram_users.iter().find(|u| u.user_name == name)?;
    Some(Principal::RamUser {
        name: user.user_name.clone(),
        user_id: user.user_id.clone().unwrap_or_default(),
        policies: user.policies.clone(),
    })
}

pub(super) fn identity(account: &Account, access_key_id: &str) -> Option<Identity> {
    let identity = |principal, key: &super::model::AccessKey| Identity {
        account_id: account.account_id.clone(),
        principal,
        secret: key.access_key_secret.clone(),
        status: key.status,
        sts: None,
        slot: Found::default(),
    };
    if let Some(key) = account
        .access_keys
        .iter()
        .find(|k| k.access_key_id.as_str() == access_key_id)
    {
        return Some(identity(Principal::Root, key));
    }
    for user in &account.ram_users {
        if let Some(key) = user
            .access_keys
            .iter()
            .find(|k| k.access_key_id.as_str() == access_key_id)
        {
            return Some(identity(ram_user_principal(account, &user.user_name)?, key));
        }
    }
    let token = account
        .sts_tokens
        .iter()
        .find(|t| t.access_key_id.as_str() == access_key_id)?;
    let principal = match &token.user_name {
        None => Principal::Root,
        Some(name) => ram_user_principal(account, name)?,
    };
    Some(Identity {
        account_id: account.account_id.clone(),
        principal,
        secret: token.access_key_secret.clone(),
        status: AccessKeyStatus::Active,
        sts: Some((token.security_token.clone(), token.expiration.clone())),
        slot: Found::default(),
    })
}

/// The identity a role session acts as, while its role is in `account`.
pub(super) fn session_identity(account: &Account, session: &Session) -> Option<Identity> {
    let role = account
        .ram_roles
        .iter()
        .find(|role| role.id() == session.role_id)?;
    Some(Identity {
        account_id: account.account_id.clone(),
        principal: Principal::Role(RoleSession::new(role, &session.session_name)),
        secret: session.secret.clone(),
        status: AccessKeyStatus::Active,
        sts: Some((session.token.clone(), session.expiration())),
        slot: Found::default(),
    })
}

/// A region an account has no settings for behaves as this.
const DEFAULT_SETTING: RegionSetting = RegionSetting {
    kms_enabled: true,
    default_encryption: DefaultEncryption {
        enabled: false,
        kms_key_id: None,
    },
};

/// Exclusive access to one account for the duration of an action (see `Store`).
pub struct AccountTx<'a> {
    pub(super) account: &'a mut Account,
    world: &'a World,
    pub(super) ids: &'a Ids,
    /// Whether anything but the account's disks and keys was (or may have been) written: the
    /// "head" the state file's record then carries whole (`change`).
    pub(super) changed: bool,
    /// The keys and disks written, by id, in the order they were first written (`change`).
    pub(super) touched_keys: Vec<KeyId>,
    pub(super) touched_disks: Vec<super::model::DiskId>,
    /// Keys this transaction created (the last ones of the account's list), which a failing
    /// transaction takes back (`roll_back`).
    created_keys: usize,
}

impl<'a> AccountTx<'a> {
    pub(super) fn new(account: &'a mut Account, world: &'a World, ids: &'a Ids) -> Self {
        Self {
            account,
            world,
            ids,
            changed: false,
            touched_keys: Vec::new(),
            touched_disks: Vec::new(),
            created_keys: 0,
        }
    }

    pub(super) fn changed(&self) -> bool {
        self.changed || !self.touched_keys.is_empty() || !self.touched_disks.is_empty()
    }

    /// Undoes a transaction that failed: a refused request changes nothing. Every action makes
    /// its writes after its last check; the one write a check may need first is the region's
    /// service key, created on first need (`service_key`), which goes again here.
    pub(super) fn roll_back(&mut self) {
        let kept = self.account.kms_keys.len() - self.created_keys;
        self.account.kms_keys.truncate(kept);
        self.created_keys = 0;
        self.changed = false;
        self.touched_keys.clear();
        self.touched_disks.clear();
    }

    /// The account's facts (read-only).
    pub fn account(&self) -> &Account {
        self.account
    }

    /// A region of the catalogue.
    pub fn region(&self, id: &RegionId) -> Option<&Region> {
        self.world.region(id)
    }

    /// The account's settings in `region` (the defaults when none were stored).
    pub fn setting(&self, region: &RegionId) -> &RegionSetting {
        self.account
            .region_settings
            .get(region)
            .unwrap_or(&DEFAULT_SETTING)
    }

    /// Turns default encryption in `region` on or off: a change only when it differs.
    pub fn set_default_encryption_enabled(&mut self, region: &RegionId, enabled: bool) {
        if self.setting(region).default_encryption.enabled != enabled {
            self.default_encryption_mut(region).enabled = enabled;
        }
    }

    /// Chooses the default key of `region` (`None`: the region's service key): a change only
    /// when it differs, so choosing the key already chosen writes nothing.
    pub fn set_default_kms_key(&mut self, region: &RegionId, key: Option<KeyId>) {
        if self.setting(region).default_encryption.kms_key_id != key {
            self.default_encryption_mut(region).kms_key_id = key;
        }
    }

    /// The default-encryption setting of `region`, for writing (a change).
    fn default_encryption_mut(&mut self, region: &RegionId) -> &mut DefaultEncryption {
        self.changed = true;
        &mut self
            .account
            .region_settings
            .entry(region.clone())
            .or_insert(DEFAULT_SETTING)
            .default_encryption
    }

    /// The local part of `reference` in `region`: a key id or `alias/…`, from itself or from an
    /// ARN (`acs:kms:<region>:<accountId>:key/<keyId>` or `…:alias/<name>`). An ARN of another
    /// account or region names nothing here.
    fn local_reference<'r>(&self, region: &RegionId, reference: &'r str) -> Option<&'r str> {
        let Some(arn) = reference.strip_prefix("acs:kms:") else {
            return Some(reference);
        };
        let mut parts = arn.splitn(3, ':');
        let (arn_region, arn_account, resource) = (parts.next()?, parts.next()?, parts.next()?);
        if arn_region != region.as_str() || arn_account != self.account.account_id.as_str() {
            return None;
        }
        match resource.strip_prefix("key/") {
            Some(id) => Some(id),
            None if resource.starts_with("alias/") => Some(resource),
            None => None,
        }
    }

    fn locate(&self, region: &RegionId, local: &str) -> Option<usize> {
        self.account.kms_keys.iter().position(|key| {
            &key.region_id == region
                && if local.starts_with("alias/") {
                    key.aliases.iter().any(|alias| alias == local)
                } else {
                    key.key_id.as_str() == local
                }
        })
    }

    /// The key `reference` (id, alias or ARN) names in `region`, as KMS looks it up. Keys of
    /// other accounts or regions are invisible.
    pub fn find_key(&self, region: &RegionId, reference: &str) -> Option<&KmsKey> {
        let index = self.locate(region, self.local_reference(region, reference)?)?;
        Some(&self.account.kms_keys[index])
    }

    /// As `find_key`, for changing the key.
    pub fn find_key_mut(&mut self, region: &RegionId, reference: &str) -> Option<&mut KmsKey> {
        let index = self.locate(region, self.local_reference(region, reference)?)?;
        let key = &mut self.account.kms_keys[index];
        self.touched_keys.push(key.key_id.clone());
        Some(key)
    }

    /// The key `reference` names as ECS resolves it: as `find_key`, except that
    /// `alias/acs/ecs` yields the service key, created on first need.
    pub fn resolve_key(&mut self, region: &RegionId, reference: &str) -> Option<&KmsKey> {
        if self.local_reference(region, reference)? == SERVICE_KEY_ALIAS {
            return Some(self.service_key(region));
        }
        self.find_key(region, reference)
    }

    /// The account's keys in `region`, in creation order.
    pub fn keys_in<'s>(&'s self, region: &'s RegionId) -> impl Iterator<Item = &'s KmsKey> {
        self.account
            .kms_keys
            .iter()
            .filter(move |key| &key.region_id == region)
    }

    /// The region's service-managed key (`alias/acs/ecs`, creator `Ecs`), created on first need.
    pub fn service_key(&mut self, region: &RegionId) -> &KmsKey {
        let found = self
            .account
            .kms_keys
            .iter()
            .position(|key| key.is_service_key() && &key.region_id == region);
        match found {
            Some(index) => &self.account.kms_keys[index],
            None => self.create_key(region, |key| {
                key.aliases = vec![SERVICE_KEY_ALIAS.to_owned()];
                key.description = "Default master key that protects my ECS resources when no other key is defined".to_owned();
                key.creator = Creator::Ecs;
            }),
        }
    }

    /// Creates a key in `region`: a fresh id, today's date, `Enabled`, usable by ECS; `shape`
    /// sets the rest. Keys are kept in creation order.
    pub fn create_key(&mut self, region: &RegionId, shape: impl FnOnce(&mut KmsKey)) -> &KmsKey {
        let mut key = KmsKey {
            key_id: self.ids.key_id(region),
            region_id: region.clone(),
            key_state: KeyState::Enabled,
            ecs_authorized: true,
            creation_date: Some(crate::ids::now_text()),
            ..KmsKey::default()
        };
        shape(&mut key);
        self.touched_keys.push(key.key_id.clone());
        self.created_keys += 1;
        self.account.kms_keys.push(key);
        self.account.kms_keys.last().expect("just pushed")
    }
}
