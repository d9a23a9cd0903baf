//! `DeleteDisk`, `ModifyDiskAttribute` and `ResizeDisk` (`disks.md` §3.4). DeleteDisk and
//! ResizeDisk have no `RegionId` (the disk's own region applies; one sent is ignored);
//! ModifyDiskAttribute finds disks in the request's region only.

use super::{description, disk_name, numbered, region_id};
use crate::actions::{Context, Output};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::Params;
use crate::store::model::DiskStatus;

/// ModifyDiskAttribute's checks past the gateway's, in order, for `/_emulator/coverage`.
pub const MODIFY_CHECKS: &[(ErrorCode, &str)] = &[
    (
        ErrorCode::DiskIdAndDiskIdsConflict,
        "DiskId and DiskIds.1 both",
    ),
    (
        ErrorCode::MissingDiskIdOrDiskIds,
        "neither DiskId nor DiskIds.N",
    ),
    (
        ErrorCode::InvalidDiskName,
        "DiskName=1disk (not starting with a letter)",
    ),
    (
        ErrorCode::InvalidDescription,
        "Description=x (one character)",
    ),
    (
        ErrorCode::NoAttributeToModify,
        "none of DiskName, Description, DeleteWithInstance, DeleteAutoSnapshot, EnableAutoSnapshot",
    ),
    (
        ErrorCode::InvalidDiskIdNotFound,
        "a DiskId that names no disk of the account in the region",
    ),
];

/// The most ids `DiskIds.N` may hold.
const MAX_DISK_IDS: usize = 100;

/// `DeleteDisk`: the disk is gone at once. Only an `Available` disk may go.
pub fn delete_disk(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let disk_id = params.required("DiskId")?;
    context.transact(|tx| {
        let disk = tx
            .disk(disk_id)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidDiskIdNotFound))?;
        if disk.status != DiskStatus::Available {
            return Err(ApiError::new(ErrorCode::IncorrectDiskStatus));
        }
        tx.remove_disk(disk_id);
        Ok(Output::Empty {})
    })
}

/// What ModifyDiskAttribute changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
struct Changes {
    disk_name: Option<String>,
    description: Option<String>,
    delete_with_instance: Option<bool>,
    delete_auto_snapshot: Option<bool>,
    enable_auto_snapshot: Option<bool>,
}

/// `ModifyDiskAttribute`: one disk (`DiskId`) or several (`DiskIds.N`), all or none.
pub fn modify_disk_attribute(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let region = region_id(params)?;
    let one = params.optional("DiskId");
    let many = numbered(params, "DiskIds", "");
    let ids: Vec<&str> = match (one, many.is_empty()) {
        (Some(_), false) => return Err(ApiError::new(ErrorCode::DiskIdAndDiskIdsConflict)),
        (None, true) => return Err(ApiError::new(ErrorCode::MissingDiskIdOrDiskIds)),
        (Some(id), true) => vec![id],
        (None, false) => many.into_values().collect(),
    };
    if ids.len() > MAX_DISK_IDS {
        return Err(ApiError::invalid("DiskIds"));
    }
    let changes = Changes {
        disk_name: disk_name(params)?,
        description: description(params)?,
        delete_with_instance: params.boolean("DeleteWithInstance")?,
        delete_auto_snapshot: params.boolean("DeleteAutoSnapshot")?,
        enable_auto_snapshot: params.boolean("EnableAutoSnapshot")?,
    };
    if matches!(
        changes,
        Changes {
            disk_name: None,
            description: None,
            delete_with_instance: None,
            delete_auto_snapshot: None,
            enable_auto_snapshot: None,
        }
    ) {
        return Err(ApiError::new(ErrorCode::NoAttributeToModify));
    }
    context.transact(|tx| {
        if ids.iter().any(|id| tx.disk_in(&region, id).is_none()) {
            return Err(ApiError::new(ErrorCode::InvalidDiskIdNotFound));
        }
        for id in &ids {
            tx.update_disk(id, |disk| {
                if let Some(name) = &changes.disk_name {
                    disk.disk_name.clone_from(name);
                }
                if let Some(text) = &changes.description {
                    disk.description.clone_from(text);
                }
                if let Some(on) = changes.delete_with_instance {
                    disk.delete_with_instance = on;
                }
                if let Some(on) = changes.delete_auto_snapshot {
                    disk.delete_auto_snapshot = on;
                }
                if let Some(on) = changes.enable_auto_snapshot {
                    disk.enable_auto_snapshot = on;
                }
            });
        }
        Ok(Output::Empty {})
    })
}

/// `ResizeDisk`: a larger size, within the category's range; encryption never changes.
/// `ClientToken` is accepted (a repeated resize to the same size is refused as too small).
pub fn resize_disk(context: &Context<'_>, params: &Params) -> Result<Output, ApiError> {
    let disk_id = params.required("DiskId")?;
    params.required("NewSize")?;
    let new_size = params
        .integer("NewSize", 0..=u32::MAX)?
        .expect("required above");
    match params.optional("Type") {
        None | Some("offline" | "online") => {}
        Some(_) => return Err(ApiError::invalid("Type")),
    }
    params.mark_read(&["ClientToken"]);
    context.transact(|tx| {
        let disk = tx
            .disk(disk_id)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidDiskIdNotFound))?;
        if new_size <= disk.size {
            return Err(ApiError::new(ErrorCode::DiskSizeTooSmall));
        }
        if new_size > *disk.category.size_range().end() {
            return Err(ApiError::new(ErrorCode::DiskSizeTooLarge));
        }
        if !matches!(disk.status, DiskStatus::Available | DiskStatus::InUse) {
            return Err(ApiError::new(ErrorCode::IncorrectDiskStatus));
        }
        tx.update_disk(disk_id, |disk| disk.size = new_size);
        Ok(Output::Empty {})
    })
}
