//! The disk as `DescribeDisks` answers it (`disks.md` §3.3): every field present and never
//! null, IOPS and throughput from the category's formula.

use crate::store::model::{Disk, DiskCategory, PerformanceLevel};
use serde::Serialize;

/// The fields of `DescribeDisks` besides `RequestId`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskPage {
    pub(super) total_count: usize,
    pub(super) page_number: u32,
    pub(super) page_size: u32,
    pub(super) next_token: String,
    pub(super) disks: DiskList,
}

/// `Disks`: `{"Disk": […]}` in JSON, `<Disk>` repeated in XML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct DiskList {
    #[serde(rename = "Disk")]
    pub(super) disk: Vec<DiskItem>,
}

/// A disk as `DescribeDisks` answers it: every field on every disk, never null.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DiskItem {
    disk_id: String,
    region_id: String,
    zone_id: String,
    disk_name: String,
    description: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    category: &'static str,
    performance_level: &'static str,
    size: u32,
    encrypted: bool,
    #[serde(rename = "KMSKeyId")]
    kms_key_id: String,
    status: &'static str,
    portable: bool,
    delete_with_instance: bool,
    delete_auto_snapshot: bool,
    enable_auto_snapshot: bool,
    enable_automated_snapshot_policy: bool,
    disk_charge_type: &'static str,
    expired_time: &'static str,
    creation_time: String,
    attached_time: &'static str,
    detached_time: &'static str,
    instance_id: &'static str,
    device: &'static str,
    image_id: &'static str,
    source_snapshot_id: &'static str,
    auto_snapshot_policy_id: &'static str,
    resource_group_id: String,
    storage_set_id: &'static str,
    multi_attach: &'static str,
    serial_number: String,
    #[serde(rename = "IOPS")]
    iops: u64,
    throughput: u64,
    bursting_enabled: bool,
    provisioned_iops: u64,
    mount_instance_num: u32,
    tags: TagList,
    attachments: Attachments,
    operation_locks: OperationLocks,
    mount_instances: MountInstances,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct TagList {
    #[serde(rename = "Tag")]
    tag: Vec<TagItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagItem {
    tag_key: String,
    tag_value: String,
}

/// Nothing is ever attached, locked or mounted: the lists are always empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Nothing {}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Attachments {
    #[serde(rename = "Attachment")]
    items: Vec<Nothing>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct OperationLocks {
    #[serde(rename = "OperationLock")]
    items: Vec<Nothing>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct MountInstances {
    #[serde(rename = "MountInstance")]
    items: Vec<Nothing>,
}

/// IOPS and throughput (MB/s) of a disk, by the formulas of `disks.md` §3.3.
pub fn performance(disk: &Disk) -> (u64, u64) {
    let size = u64::from(disk.size);
    // (IOPS per GiB, IOPS cap, base throughput, throughput per GiB as a fraction, cap)
    let pl1 = (50, 50_000, 120, (1, 2), 350);
    let (per_gib, iops_cap, base, (num, den), throughput_cap) = match disk.category {
        DiskCategory::Cloud => return (0, 0),
        DiskCategory::CloudEssd => match disk.level().unwrap_or_default() {
            PerformanceLevel::Pl0 => (12, 10_000, 100, (1, 4), 180),
            PerformanceLevel::Pl1 => pl1,
            PerformanceLevel::Pl2 => (50, 100_000, 120, (1, 2), 750),
            PerformanceLevel::Pl3 => (50, 1_000_000, 120, (1, 2), 4000),
        },
        DiskCategory::CloudSsd => (30, 25_000, 120, (1, 2), 300),
        DiskCategory::CloudEfficiency => (8, 5_000, 100, (15, 100), 140),
        DiskCategory::CloudAuto | DiskCategory::CloudEssdEntry => pl1,
    };
    let iops = (1800 + per_gib * size).min(iops_cap);
    let throughput = (base + size * num / den).min(throughput_cap);
    (iops, throughput)
}

pub(super) fn item(disk: &Disk) -> DiskItem {
    let (iops, throughput) = performance(disk);
    DiskItem {
        disk_id: disk.disk_id.to_string(),
        region_id: disk.region_id.to_string(),
        zone_id: disk.zone_id.to_string(),
        disk_name: disk.disk_name.clone(),
        description: disk.description.clone(),
        kind: "data",
        category: disk.category.wire(),
        performance_level: disk.level().map_or("", PerformanceLevel::wire),
        size: disk.size,
        encrypted: disk.encrypted,
        kms_key_id: disk
            .kms_key_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        status: disk.status.wire(),
        portable: disk.portable,
        delete_with_instance: disk.delete_with_instance,
        delete_auto_snapshot: disk.delete_auto_snapshot,
        enable_auto_snapshot: disk.enable_auto_snapshot,
        enable_automated_snapshot_policy: false,
        disk_charge_type: "PostPaid",
        expired_time: "2999-09-08T16:00Z",
        creation_time: disk.creation_time.clone(),
        attached_time: "",
        detached_time: "",
        instance_id: "",
        device: "",
        image_id: "",
        source_snapshot_id: "",
        auto_snapshot_policy_id: "",
        resource_group_id: disk.resource_group_id.clone(),
        storage_set_id: "",
        multi_attach: disk.multi_attach.wire(),
        serial_number: disk.disk_id.as_str().trim_start_matches("d-").to_owned(),
        iops,
        throughput,
        bursting_enabled: false,
        provisioned_iops: 0,
        mount_instance_num: 0,
        tags: TagList {
            tag: disk
                .tags
                .iter()
                .map(|(key, value)| TagItem {
                    tag_key: key.clone(),
                    tag_value: value.clone(),
                })
                .collect(),
        },
        attachments: Attachments { items: Vec::new() },
        operation_locks: OperationLocks { items: Vec::new() },
        mount_instances: MountInstances { items: Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(category: &str, level: &str, size: u32) -> Disk {
        serde_json::from_value(serde_json::json!({
            "diskId": "d-bp1exampleexample001", "regionId": "r", "zoneId": "z",
            "category": category, "performanceLevel": level, "size": size,
        }))
        .unwrap()
    }

    #[test]
    fn performance_follows_the_formulas() {
        let cases = [
            ("cloud_essd", "PL1", 40, (3800, 140)),
            ("cloud_essd", "", 40, (3800, 140)),
            ("cloud_essd", "PL0", 40, (2280, 110)),
            ("cloud_essd", "PL0", 65536, (10_000, 180)),
            ("cloud_essd", "PL2", 461, (24_850, 350)),
            ("cloud_essd", "PL3", 65536, (1_000_000, 4000)),
            ("cloud_ssd", "", 21, (2430, 130)),
            ("cloud_efficiency", "", 21, (1968, 103)),
            ("cloud_efficiency", "", 32768, (5000, 140)),
            ("cloud_auto", "", 1, (1850, 120)),
            ("cloud_essd_entry", "", 32768, (50_000, 350)),
            ("cloud", "", 100, (0, 0)),
        ];
        for (category, level, size, expected) in cases {
            assert_eq!(
                performance(&disk(category, level, size)),
                expected,
                "{category} {level} {size}"
            );
        }
    }
}
