//! The actions: one enum, routed by (Version, Action), dispatched by one exhaustive match.
//! Each action parses typed input from `Params`, then applies it to the store.

mod disk_encryption;
mod disks;
mod kms;
mod regions;
mod sts;

use crate::error::{ApiError, ErrorCode};
use crate::protocol::parse::names;
use crate::protocol::{Params, RpcRequest, Scheme};
use crate::store::model::KeyId;
use crate::store::{Identity, World};
use axum::http::HeaderName;
use serde::Serialize;

/// An API product on this port, told apart by its API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// ECS, API version `2014-05-26`.
    Ecs,
    /// KMS, API version `2016-01-20`.
    Kms,
    /// STS, API version `2015-04-01` (`sts.md`).
    Sts,
}

impl Product {
    fn from_version(version: &str) -> Option<Self> {
        match version {
            "2014-05-26" => Some(Product::Ecs),
            "2016-01-20" => Some(Product::Kms),
            "2015-04-01" => Some(Product::Sts),
            _ => None,
        }
    }

    /// The API version that names the product.
    pub fn version(self) -> &'static str {
        match self {
            Product::Ecs => "2014-05-26",
            Product::Kms => "2016-01-20",
            Product::Sts => "2015-04-01",
        }
    }

    /// `Ecs` or `Kms`, as the journal and coverage name it.
    pub fn name(self) -> &'static str {
        match self {
            Product::Ecs => "Ecs",
            Product::Kms => "Kms",
            Product::Sts => "Sts",
        }
    }

    /// The prefix of RAM action names (`ecs:ModifyDiskDefaultKMSKeyId`).
    pub fn ram_namespace(self) -> &'static str {
        match self {
            Product::Ecs => "ecs",
            Product::Kms => "kms",
            Product::Sts => "sts",
        }
    }
}

/// Every implemented action. Adding one does not compile until `run` routes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    DescribeRegions,
    DescribeZones,
    EnableDiskEncryptionByDefault,
    DisableDiskEncryptionByDefault,
    DescribeDiskEncryptionByDefaultStatus,
    ModifyDiskDefaultKmsKeyId,
    ResetDiskDefaultKmsKeyId,
    DescribeDiskDefaultKmsKeyId,
    KmsCreateKey,
    KmsDescribeKey,
    KmsListKeys,
    KmsEnableKey,
    KmsDisableKey,
    KmsScheduleKeyDeletion,
    KmsCancelKeyDeletion,
    KmsCreateAlias,
    KmsDeleteAlias,
    KmsListAliases,
    KmsDescribeRegions,
    CreateDisk,
    DescribeDisks,
    DeleteDisk,
    ModifyDiskAttribute,
    ResizeDisk,
    StsGetCallerIdentity,
    StsAssumeRole,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::DescribeRegions,
        Action::DescribeZones,
        Action::EnableDiskEncryptionByDefault,
        Action::DisableDiskEncryptionByDefault,
        Action::DescribeDiskEncryptionByDefaultStatus,
        Action::ModifyDiskDefaultKmsKeyId,
        Action::ResetDiskDefaultKmsKeyId,
        Action::DescribeDiskDefaultKmsKeyId,
        Action::KmsCreateKey,
        Action::KmsDescribeKey,
        Action::KmsListKeys,
        Action::KmsEnableKey,
        Action::KmsDisableKey,
        Action::KmsScheduleKeyDeletion,
        Action::KmsCancelKeyDeletion,
        Action::KmsCreateAlias,
        Action::KmsDeleteAlias,
        Action::KmsListAliases,
        Action::KmsDescribeRegions,
        Action::CreateDisk,
        Action::DescribeDisks,
        Action::DeleteDisk,
        Action::ModifyDiskAttribute,
        Action::ResizeDisk,
        Action::StsGetCallerIdentity,
        Action::StsAssumeRole,
    ];

    /// The `Action` value on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            Action::DescribeRegions => "DescribeRegions",
            Action::DescribeZones => "DescribeZones",
            Action::EnableDiskEncryptionByDefault => "EnableDiskEncryptionByDefault",
            Action::DisableDiskEncryptionByDefault => "DisableDiskEncryptionByDefault",
            Action::DescribeDiskEncryptionByDefaultStatus => {
                "DescribeDiskEncryptionByDefaultStatus"
            }
            Action::ModifyDiskDefaultKmsKeyId => "ModifyDiskDefaultKMSKeyId",
            Action::ResetDiskDefaultKmsKeyId => "ResetDiskDefaultKMSKeyId",
            Action::DescribeDiskDefaultKmsKeyId => "DescribeDiskDefaultKMSKeyId",
            Action::KmsCreateKey => "CreateKey",
            Action::KmsDescribeKey => "DescribeKey",
            Action::KmsListKeys => "ListKeys",
            Action::KmsEnableKey => "EnableKey",
            Action::KmsDisableKey => "DisableKey",
            Action::KmsScheduleKeyDeletion => "ScheduleKeyDeletion",
            Action::KmsCancelKeyDeletion => "CancelKeyDeletion",
            Action::KmsCreateAlias => "CreateAlias",
            Action::KmsDeleteAlias => "DeleteAlias",
            Action::KmsListAliases => "ListAliases",
            Action::KmsDescribeRegions => "DescribeRegions",
            Action::CreateDisk => "CreateDisk",
            Action::DescribeDisks => "DescribeDisks",
            Action::DeleteDisk => "DeleteDisk",
            Action::ModifyDiskAttribute => "ModifyDiskAttribute",
            Action::ResizeDisk => "ResizeDisk",
            Action::StsGetCallerIdentity => "GetCallerIdentity",
            Action::StsAssumeRole => "AssumeRole",
        }
    }

    pub fn product(self) -> Product {
        match self {
            Action::DescribeRegions
            | Action::DescribeZones
            | Action::EnableDiskEncryptionByDefault
            | Action::DisableDiskEncryptionByDefault
            | Action::DescribeDiskEncryptionByDefaultStatus
            | Action::ModifyDiskDefaultKmsKeyId
            | Action::ResetDiskDefaultKmsKeyId
            | Action::DescribeDiskDefaultKmsKeyId
            | Action::CreateDisk
            | Action::DescribeDisks
            | Action::DeleteDisk
            | Action::ModifyDiskAttribute
            | Action::ResizeDisk => Product::Ecs,
            Action::KmsCreateKey
            | Action::KmsDescribeKey
            | Action::KmsListKeys
            | Action::KmsEnableKey
            | Action::KmsDisableKey
            | Action::KmsScheduleKeyDeletion
            | Action::KmsCancelKeyDeletion
            | Action::KmsCreateAlias
            | Action::KmsDeleteAlias
            | Action::KmsListAliases
            | Action::KmsDescribeRegions => Product::Kms,
            Action::StsGetCallerIdentity | Action::StsAssumeRole => Product::Sts,
        }
    }

    /// A read-only action as the `…ReadOnlyAccess` policies count them: ECS `Describe*`,
    /// KMS `Describe*` and `List*`; and STS `GetCallerIdentity`, which changes nothing either.
    pub fn is_read_only(self) -> bool {
        let name = self.wire_name();
        name.starts_with("Describe")
            || (self.product() == Product::Kms && name.starts_with("List"))
            || self == Action::StsGetCallerIdentity
    }

    /// Callable by every authenticated caller, whatever its policies: ECS and KMS
    /// `DescribeRegions` (`ecs-default-encryption.md`: "Any caller with a valid key may call it
    /// (RAM users included)"), ECS `DescribeZones` (`disks.md` §2; `wire.md` §3), STS
    /// `GetCallerIdentity` (`sts.md` §3).
    pub fn is_open_to_every_caller(self) -> bool {
        matches!(
            self,
            Action::DescribeRegions
                | Action::DescribeZones
                | Action::KmsDescribeRegions
                | Action::StsGetCallerIdentity
        )
    }

    /// Decides who may call it itself, after its parameter checks, with its own error: STS
    /// `AssumeRole` answers `NoPermission` at steps 2, 3 and 5 of `sts.md` §4, so the gateway's
    /// RAM step lets every caller through to it.
    pub fn authorizes_itself(self) -> bool {
        self == Action::StsAssumeRole
    }

    /// Callable only by an account's root identity (the API page of
    /// `ModifyDiskDefaultKMSKeyId`: "Only Alibaba Cloud accounts can call this operation").
    pub fn is_root_only(self) -> bool {
        self == Action::ModifyDiskDefaultKmsKeyId
    }

    /// (code, how to reach it) for each state check the action makes, in check order.
    pub fn checks(self) -> Vec<(ErrorCode, &'static str)> {
        match (self, self.product()) {
            (Action::DescribeRegions, _) => vec![(
                ErrorCode::InvalidAcceptLanguage,
                "AcceptLanguage other than zh-CN, en-US or ja",
            )],
            (Action::DescribeZones, _) => regions::zone_checks(),
            (
                Action::CreateDisk
                | Action::DescribeDisks
                | Action::DeleteDisk
                | Action::ModifyDiskAttribute
                | Action::ResizeDisk,
                _,
            ) => disks::checks(self),
            (_, Product::Ecs) => disk_encryption::checks(self),
            (_, Product::Kms) => kms::checks(self),
            (_, Product::Sts) => sts::checks(self),
        }
    }

    fn lookup(product: Product, name: &str) -> Option<Self> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.product() == product && a.wire_name() == name)
    }
}

/// Where a request says which product it is for: its API version (`wire.md` §1). V2 carries
/// `Version`/`Action` as signed parameters, which win; V3/V4 carry them in `x-acs-*` headers.
/// Either falls back to the other place. Answers the product and the action's name.
pub fn requested(request: &RpcRequest) -> Result<(Product, &str), ApiError> {
    let action = routing_value(request, "Action", &names::X_ACS_ACTION)?
        .ok_or_else(|| ApiError::missing("Action"))?;
    let version = routing_value(request, "Version", &names::X_ACS_VERSION)?
        .ok_or_else(|| ApiError::missing("Version"))?;
    let product =
        Product::from_version(version).ok_or_else(|| ApiError::new(ErrorCode::InvalidVersion))?;
    Ok((product, action))
}

/// The action `name` of `product`; `InvalidAction.NotFound` when there is none.
pub fn route(product: Product, name: &str) -> Result<Action, ApiError> {
    Action::lookup(product, name).ok_or_else(|| ApiError::new(ErrorCode::InvalidActionNotFound))
}

fn routing_value<'r>(
    request: &'r RpcRequest,
    param: &str,
    header: &HeaderName,
) -> Result<Option<&'r str>, ApiError> {
    let from_params = || request.params.optional(param);
    let from_header = || -> Result<Option<&'r str>, ApiError> {
        Ok(request.header(header)?.filter(|v| !v.is_empty()))
    };
    Ok(match request.scheme {
        Scheme::V2 => match from_params() {
            Some(value) => Some(value),
            None => from_header()?,
        },
        Scheme::V3 | Scheme::V4 => match from_header()? {
            Some(value) => Some(value),
            None => from_params(),
        },
    })
}

/// What an action runs against: the world the request started in, who is calling, and the
/// region a KMS request addresses (its `RegionId`, V4 scope, or the server default).
pub struct Context<'a> {
    pub world: &'a World,
    pub caller: &'a Identity,
    pub kms_region: &'a str,
    /// The store's change count the action's transaction saw (the journal's `stateSeq`).
    pub seq: std::cell::Cell<Option<u64>>,
}

impl Context<'_> {
    /// Runs `f` as one transaction on the caller's account, noting the count it saw.
    pub fn transact<T>(
        &self,
        f: impl FnOnce(&mut crate::store::AccountTx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (result, seq) = self.world.transact_as(self.caller, f);
        self.seq.set(seq);
        result
    }
}

/// An action's response fields besides `RequestId`, shaped as the API documents them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Output {
    Empty {},
    Encrypted {
        #[serde(rename = "Encrypted")]
        encrypted: bool,
    },
    KmsKeyId {
        #[serde(rename = "KMSKeyId")]
        kms_key_id: KeyId,
    },
    Regions {
        #[serde(rename = "Regions")]
        regions: regions::RegionList,
    },
    Zones {
        #[serde(rename = "Zones")]
        zones: regions::ZoneList,
    },
    KeyMetadata {
        #[serde(rename = "KeyMetadata")]
        key_metadata: Box<kms::KeyMetadata>,
    },
    DiskId {
        #[serde(rename = "DiskId")]
        disk_id: String,
    },
    Disks(Box<disks::DiskPage>),
    Keys(kms::Page<kms::KeyList>),
    Aliases(kms::Page<kms::AliasList>),
    KmsRegions {
        #[serde(rename = "Regions")]
        regions: kms::RegionList,
    },
    CallerIdentity(sts::CallerIdentity),
    AssumedRole(Box<sts::AssumedRole>),
}

/// Parses and applies `action`.
pub fn run(action: Action, context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    match action {
        Action::DescribeRegions => regions::describe_regions(context, params),
        Action::DescribeZones => regions::describe_zones(context, params),
        Action::EnableDiskEncryptionByDefault => {
            disk_encryption::enable_disk_encryption_by_default(context, params)
        }
        Action::DisableDiskEncryptionByDefault => {
            disk_encryption::disable_disk_encryption_by_default(context, params)
        }
        Action::DescribeDiskEncryptionByDefaultStatus => {
            disk_encryption::describe_disk_encryption_by_default_status(context, params)
        }
        Action::ModifyDiskDefaultKmsKeyId => {
            disk_encryption::modify_disk_default_kms_key_id(context, params)
        }
        Action::ResetDiskDefaultKmsKeyId => {
            disk_encryption::reset_disk_default_kms_key_id(context, params)
        }
        Action::DescribeDiskDefaultKmsKeyId => {
            disk_encryption::describe_disk_default_kms_key_id(context, params)
        }
        Action::KmsCreateKey => kms::create_key(context, params),
        Action::KmsDescribeKey => kms::describe_key(context, params),
        Action::KmsListKeys => kms::list_keys(context, params),
        Action::KmsEnableKey => kms::enable_key(context, params),
        Action::KmsDisableKey => kms::disable_key(context, params),
        Action::KmsScheduleKeyDeletion => kms::schedule_key_deletion(context, params),
        Action::KmsCancelKeyDeletion => kms::cancel_key_deletion(context, params),
        Action::KmsCreateAlias => kms::create_alias(context, params),
        Action::KmsDeleteAlias => kms::delete_alias(context, params),
        Action::KmsListAliases => kms::list_aliases(context, params),
        Action::KmsDescribeRegions => kms::describe_regions(context, params),
        Action::CreateDisk => disks::create_disk(context, params),
        Action::DescribeDisks => disks::describe_disks(context, params),
        Action::DeleteDisk => disks::delete_disk(context, params),
        Action::ModifyDiskAttribute => disks::modify_disk_attribute(context, params),
        Action::ResizeDisk => disks::resize_disk(context, params),
        Action::StsGetCallerIdentity => sts::get_caller_identity(context, params),
        Action::StsAssumeRole => sts::assume_role(context, params),
    }
}
