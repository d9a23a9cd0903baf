//! The state document (`control-plane.md` §1): one schema for fixtures, `GET`/`PUT
//! /_emulator/state` and, later, snapshots and the state file. The same types are the
//! in-memory state, so what is dumped is exactly what is held. Unknown fields are refused;
//! omitted facts take the defaults the spec gives.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Declares a string newtype that serializes as the bare string.
macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        // Consistent with the derived `Hash`/`Eq`, which see only the inner string.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Declares a closed set of wire values: the enum, its serde names, `wire()` and `parse()`.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $first:ident => $first_wire:literal $(, $variant:ident => $wire:literal)* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
        pub enum $name {
            #[default]
            #[serde(rename = $first_wire)]
            $first,
            $( #[serde(rename = $wire)] $variant, )*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$name::$first $(, $name::$variant)*];

            /// The value on the wire.
            pub fn wire(self) -> &'static str {
                match self {
                    $name::$first => $first_wire,
                    $( $name::$variant => $wire, )*
                }
            }

            /// The value named `text` exactly, if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.wire() == text)
            }
        }
    };
}

mod disks;
mod zones;

pub use disks::{Disk, DiskId, DiskStatus, Disks, MultiAttach, OrderKey, PerformanceLevel};
pub use zones::{DiskCategory, Zone, ZoneId};

string_newtype!(
    /// A region id such as `cn-hangzhou`.
    RegionId
);
string_newtype!(
    /// An Alibaba Cloud account id (the account's UID).
    AccountId
);
string_newtype!(
    /// A KMS key id such as `key-hzz65e1c1f1wh3ka4wq4e`.
    KeyId
);
string_newtype!(
    /// An AccessKeyId: permanent (root or RAM user) or STS.
    AccessKeyId
);

fn yes() -> bool {
    true
}

/// The whole state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateDocument {
    #[serde(default)]
    pub regions: Vec<Region>,
    #[serde(default)]
    pub accounts: Vec<Account>,
}

/// A region of the catalogue, shared by all accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Region {
    pub region_id: RegionId,
    /// Names by language tag (`en-US`, `zh-CN`, `ja`).
    #[serde(default)]
    pub local_name: BTreeMap<String, String>,
    /// The ECS endpoint; `ecs.<region>.aliyuncs.com` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub status: RegionStatus,
    #[serde(default = "yes")]
    pub default_encryption_supported: bool,
    /// The region's zones, in the order `DescribeZones` lists them (`disks.md` §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<Zone>,
}

impl Region {
    /// The endpoint shown by `DescribeRegions`.
    pub fn endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("ecs.{}.aliyuncs.com", self.region_id))
    }

    /// The name in `language`, falling back to English, then to the id.
    pub fn local_name(&self, language: &str) -> &str {
        name_in(&self.local_name, language, self.region_id.as_str())
    }
}

/// The name in `language` of `names` (by language tag), falling back to English, then to
/// `id`.
fn name_in<'a>(names: &'a BTreeMap<String, String>, language: &str, id: &'a str) -> &'a str {
    names
        .get(language)
        .or_else(|| names.get("en-US"))
        .map_or(id, String::as_str)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RegionStatus {
    #[default]
    #[serde(rename = "available")]
    Available,
    #[serde(rename = "soldOut")]
    SoldOut,
}

impl RegionStatus {
    pub fn wire(self) -> &'static str {
        match self {
            RegionStatus::Available => "available",
            RegionStatus::SoldOut => "soldOut",
        }
    }
}

/// An account: its facts, identities, per-region settings and KMS keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    pub account_id: AccountId,
    #[serde(default)]
    pub display_name: String,
    /// The account may manage disk default encryption (`UserNotInTheWhiteList` otherwise).
    #[serde(default = "yes")]
    pub disk_whitelisted: bool,
    /// KMS has been activated (`InvalidOperation.KMSServiceNotOpen` otherwise).
    #[serde(default = "yes")]
    pub kms_service_open: bool,
    /// ECS holds `AliyunECSDiskEncryptDefaultRole` (`…KMSUnauthorized` otherwise).
    #[serde(default = "yes")]
    pub ecs_kms_role_granted: bool,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    #[serde(default)]
    pub ram_users: Vec<RamUser>,
    /// RAM roles callers may assume (`sts.md` §2); omitted from a dump when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ram_roles: Vec<RamRole>,
    #[serde(default)]
    pub sts_tokens: Vec<StsToken>,
    /// Settings by region; a region not listed behaves as `RegionSetting::default()`.
    #[serde(default)]
    pub region_settings: BTreeMap<RegionId, RegionSetting>,
    #[serde(default)]
    pub kms_keys: Vec<KmsKey>,
    /// Cloud disks, indexed per region (`disks.md` §3.1, §5).
    #[serde(default, skip_serializing_if = "Disks::is_empty")]
    pub disks: Disks,
    /// `ClientToken`s of recent CreateDisk calls: memory of the running server, not state.
    #[serde(skip)]
    pub client_tokens: crate::store::ClientTokens,
}

/// A permanent AccessKey pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessKey {
    pub access_key_id: AccessKeyId,
    pub access_key_secret: String,
    #[serde(default)]
    pub status: AccessKeyStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    #[default]
    Active,
    Inactive,
}

/// A RAM user of the account, with the system policies attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RamUser {
    pub user_name: String,
    /// 16–20 digits; derived from the account and the name when absent (`ids::principal_id`),
    /// and then written into the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default)]
    pub policies: Vec<Policy>,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
}

/// The system policies the emulator understands (`wire.md` §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    #[serde(rename = "AliyunECSFullAccess")]
    EcsFullAccess,
    #[serde(rename = "AliyunECSReadOnlyAccess")]
    EcsReadOnlyAccess,
    #[serde(rename = "AliyunKMSFullAccess")]
    KmsFullAccess,
    #[serde(rename = "AliyunKMSReadOnlyAccess")]
    KmsReadOnlyAccess,
    /// Grants `sts:AssumeRole` (`sts.md` §2).
    #[serde(rename = "AliyunSTSAssumeRoleAccess")]
    StsAssumeRoleAccess,
}

/// A RAM role of the account (`sts.md` §2): who may assume it, and what its sessions may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RamRole {
    /// 1–64 letters, digits, `.` and `-`; unique in the account, compared case-insensitively.
    pub role_name: String,
    /// 16–20 digits; derived from the account and the name when absent, as `RamUser::user_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// The longest session AssumeRole grants, in seconds: 3600–43200.
    #[serde(default = "one_hour")]
    pub max_session_duration: u32,
    /// `acs:ram::<account>:root` or `acs:ram::<account>:user/<name>`.
    #[serde(default)]
    pub trusted_principals: Vec<String>,
    #[serde(default)]
    pub policies: Vec<Policy>,
}

fn one_hour() -> u32 {
    3600
}

impl RamRole {
    /// The generated or given id (always present once the account is in a store).
    pub fn id(&self) -> &str {
        self.role_id.as_deref().unwrap_or_default()
    }
}

/// A temporary STS credential; `user_name` null acts as the account root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StsToken {
    pub access_key_id: AccessKeyId,
    pub access_key_secret: String,
    pub security_token: String,
    /// RFC 3339; a past expiration is valid state (requests then fail as expired).
    pub expiration: String,
    #[serde(default)]
    pub user_name: Option<String>,
}

/// Per (account, region) facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegionSetting {
    /// KMS is available to the account here (`InvalidParameter.Encrypted.KmsNotEnabled`).
    #[serde(default = "yes")]
    pub kms_enabled: bool,
    #[serde(default)]
    pub default_encryption: DefaultEncryption,
}

impl Default for RegionSetting {
    fn default() -> Self {
        Self {
            kms_enabled: true,
            default_encryption: DefaultEncryption::default(),
        }
    }
}

/// The account-level disk default-encryption setting of one region.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefaultEncryption {
    #[serde(default)]
    pub enabled: bool,
    /// The chosen key; `None` means the region's service key.
    #[serde(default)]
    pub kms_key_id: Option<KeyId>,
}

/// A KMS key, owned by the account, living in one region.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KmsKey {
    pub key_id: KeyId,
    pub region_id: RegionId,
    #[serde(default)]
    pub key_state: KeyState,
    /// Emulator fact: ECS may use this key for disk encryption.
    #[serde(default = "yes")]
    pub ecs_authorized: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub description: String,
    /// `Ecs` for the service-managed key of a region; the account itself when omitted.
    #[serde(default, skip_serializing_if = "Creator::is_account")]
    pub creator: Creator,
    #[serde(default)]
    pub key_spec: KeySpec,
    #[serde(default)]
    pub key_usage: KeyUsage,
    #[serde(default)]
    pub origin: Origin,
    #[serde(default)]
    pub protection_level: ProtectionLevel,
    /// `YYYY-MM-DDThh:mm:ssZ`; shown as `""` when the fixture gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    /// When a `PendingDeletion` key will be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_date: Option<String>,
    #[serde(default)]
    pub automatic_rotation: bool,
    /// e.g. `604800s`, when automatic rotation is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_interval: Option<String>,
}

impl KmsKey {
    pub fn is_service_key(&self) -> bool {
        self.creator == Creator::Ecs
    }
}

wire_enum!(
    /// A KMS key's state (`kms.md`); the default is `Enabled`.
    KeyState {
        Enabled => "Enabled",
        Disabled => "Disabled",
        PendingDeletion => "PendingDeletion",
        PendingImport => "PendingImport",
    }
);

wire_enum!(
    /// `KeySpec` of a KMS key.
    KeySpec {
        AliyunAes256 => "Aliyun_AES_256",
        AliyunSm4 => "Aliyun_SM4",
        Rsa2048 => "RSA_2048",
        Rsa3072 => "RSA_3072",
        EcP256 => "EC_P256",
        EcP256k => "EC_P256K",
        EcSm2 => "EC_SM2",
    }
);

wire_enum!(
    /// `KeyUsage` of a KMS key.
    KeyUsage {
        EncryptDecrypt => "ENCRYPT/DECRYPT",
        SignVerify => "SIGN/VERIFY",
    }
);

wire_enum!(
    /// Where a key's material comes from; `EXTERNAL` keys start `PendingImport`.
    Origin {
        AliyunKms => "Aliyun_KMS",
        External => "EXTERNAL",
    }
);

wire_enum!(
    /// `ProtectionLevel` of a KMS key.
    ProtectionLevel {
        Software => "SOFTWARE",
        Hsm => "HSM",
    }
);

/// Who created a key: the account, or ECS for the region's service key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Creator {
    #[default]
    Account,
    Ecs,
}

impl Creator {
    fn is_account(&self) -> bool {
        *self == Creator::Account
    }
}

/// The alias every region's service key carries.
pub const SERVICE_KEY_ALIAS: &str = "alias/acs/ecs";
/// Aliases under this prefix are reserved for service keys.
pub const RESERVED_ALIAS_PREFIX: &str = "alias/acs/";
