//! DescribeDisks (`disks.md` §3.3), DeleteDisk, ModifyDiskAttribute, ResizeDisk (§3.4), and
//! disks in the state document (§3.1). Expected statuses and messages are written out from
//! `disks.md`.

use crate::disks::{
    BAD_DESCRIPTION, BAD_NAME, Expected, NO_REGION, create_params, created, described, document,
    harness, invalid, missing, state,
};
use crate::support::{Harness, assert_error, assert_ok};
use axum::http::Method;
use serde_json::{Value, json};
use std::collections::HashSet;

const BAD_DISK_IDS: Expected = (
    400,
    "InvalidParameter.DiskIds",
    "The specified parameter diskIds is not valid.",
);
const TOO_MANY_IDS: Expected = (
    403,
    "InvalidDiskIds.Malformed",
    "The amount of specified disk Ids exceeds the limit.",
);
const BAD_TYPE: Expected = (
    400,
    "InvalidDiskType.ValueNotSupported",
    "The specified disk type is not supported.",
);
const BAD_CATEGORY: Expected = (
    400,
    "InvalidCategory.ValueNotSupported",
    "The specified disk category is not supported.",
);
const BAD_STATUS: Expected = (
    400,
    "InvalidStatus.ValueNotSupported",
    "The specified disk status is not supported.",
);
const NO_ZONE: Expected = (
    400,
    "InvalidZoneId.NotFound",
    "The zoneId provided does not exist in our records.",
);
const NO_DISK: Expected = (
    404,
    "InvalidDiskId.NotFound",
    "The specified disk does not exist.",
);
const BAD_DISK_STATUS: Expected = (
    403,
    "IncorrectDiskStatus",
    "The current disk status does not support this operation.",
);
const CONFLICT: Expected = (
    400,
    "ParameterConflict.DiskIdAndDiskIds",
    "Specified parameter DiskId and DiskIds conflict, only one can be chosen.",
);
const NO_ID: Expected = (
    400,
    "MissingParameter.DiskIdOrDiskIds",
    "Specified parameter DiskId or DiskIds is missing.",
);
const NOTHING_TO_MODIFY: Expected = (
    400,
    "NoAttributeToModify",
    "No attribute to be modified in this request.",
);
const TOO_SMALL: Expected = (
    403,
    "InvalidDiskSize.TooSmall",
    "Specified new disk size is less than the original disk size.",
);
const TOO_LARGE: Expected = (
    403,
    "InvalidDiskSize.TooLarge",
    "Specified new disk size is beyond the permitted range.",
);

#[track_caller]
fn assert_expected(answer: &crate::support::Answer, expected: Expected) {
    assert_error(answer, expected.0, expected.1, expected.2);
}

async fn describe(harness: &Harness, params: &[(&str, &str)]) -> Value {
    let mut all = vec![("RegionId", "cn-hangzhou")];
    all.extend_from_slice(params);
    let answer = harness.ecs("AK1", "DescribeDisks", &all).await;
    assert_ok(&answer);
    answer.json()
}

fn ids_of(page: &Value) -> Vec<String> {
    page["Disks"]["Disk"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["DiskId"].as_str().unwrap().to_owned())
        .collect()
}

/// A document whose account 1 holds `n` disks in cn-hangzhou (creation times one second
/// apart, disk i the i-th oldest), every fifth encrypted with k-ok, every third in zone k,
/// and one in cn-shanghai.
fn with_disks(n: usize) -> (Harness, Vec<String>) {
    let mut document = document(json!({}));
    let mut ids = Vec::new();
    let mut disks = Vec::new();
    for i in 0..n {
        let id = format!("d-{i:020}");
        let zone = if i % 3 == 0 {
            "cn-hangzhou-k"
        } else {
            "cn-hangzhou-h"
        };
        let mut disk = json!({
            "diskId": id, "regionId": "cn-hangzhou", "zoneId": zone, "category": "cloud_essd",
            "size": 20 + i, "creationTime": format!("2026-01-01T{:02}:{:02}:{:02}Z", i / 3600, i / 60 % 60, i % 60),
            "diskName": format!("disk{i}"), "tags": {"n": i.to_string(), "parity": (i % 2).to_string()},
        });
        if i % 5 == 0 {
            disk["encrypted"] = json!(true);
            disk["kmsKeyId"] = json!("k-ok");
        }
        disks.push(disk);
        ids.push(id);
    }
    disks.push(
        json!({"diskId": "d-shanghai000000000001", "regionId": "cn-shanghai",
                      "zoneId": "cn-shanghai-e", "size": 20}),
    );
    document["accounts"][0]["disks"] = Value::Array(disks);
    ids.reverse(); // newest first
    (Harness::with_document(&document.to_string()), ids)
}

#[tokio::test]
async fn page_numbers_walk_every_disk_once_newest_first() {
    let (harness, expected) = with_disks(250);
    let mut seen = Vec::new();
    for number in 1..=26 {
        let n = number.to_string();
        let page = describe(&harness, &[("PageNumber", &n), ("PageSize", "10")]).await;
        assert_eq!(page["TotalCount"], 250);
        assert_eq!(
            (page["PageNumber"].clone(), page["PageSize"].clone()),
            (json!(number), json!(10))
        );
        assert_eq!(page["NextToken"], "");
        seen.extend(ids_of(&page));
    }
    assert_eq!(seen, expected, "no duplicate, no gap, newest first");
    let page = describe(&harness, &[]).await;
    assert_eq!(
        (page["PageNumber"].clone(), page["PageSize"].clone()),
        (json!(1), json!(10))
    );
    assert_eq!(ids_of(&page), expected[..10]);
    let page = describe(&harness, &[("PageSize", "100"), ("PageNumber", "3")]).await;
    assert_eq!(ids_of(&page), expected[200..]);
}

#[tokio::test]
async fn tokens_walk_every_disk_once_and_end_with_an_empty_token() {
    let (harness, expected) = with_disks(250);
    for (max, per_page) in [("10", 10), ("7", 10), ("100", 100), ("1000", 500)] {
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let mut params = vec![("MaxResults", max), ("PageNumber", "5")];
            if !token.is_empty() {
                params.push(("NextToken", &token));
            }
            let page = describe(&harness, &params).await;
            assert_eq!(page["TotalCount"], 250);
            let ids = ids_of(&page);
            assert!(ids.len() <= per_page);
            seen.extend(ids);
            token = page["NextToken"].as_str().unwrap().to_owned();
            if token.is_empty() {
                break;
            }
        }
        assert_eq!(seen, expected, "MaxResults={max}");
    }
    // A token alone pages by tokens too, with filters.
    let first = describe(&harness, &[("MaxResults", "10"), ("Encrypted", "true")]).await;
    assert_eq!(first["TotalCount"], 50);
    let token = first["NextToken"].as_str().unwrap().to_owned();
    let second = describe(&harness, &[("NextToken", &token), ("Encrypted", "true")]).await;
    let all: Vec<String> = ids_of(&first).into_iter().chain(ids_of(&second)).collect();
    let encrypted: Vec<String> = expected
        .iter()
        .filter(|id| id[2..].parse::<usize>().unwrap() % 5 == 0)
        .take(20)
        .cloned()
        .collect();
    assert_eq!(all, encrypted);
}

#[tokio::test]
async fn a_token_survives_the_deletion_of_its_disk() {
    let (harness, expected) = with_disks(30);
    let page = describe(&harness, &[("MaxResults", "10")]).await;
    let token = page["NextToken"].as_str().unwrap().to_owned();
    assert_ok(
        &harness
            .ecs("AK1", "DeleteDisk", &[("DiskId", &expected[9])])
            .await,
    );
    let next = describe(&harness, &[("NextToken", &token)]).await;
    assert_eq!(ids_of(&next), expected[10..20]);
}

#[tokio::test]
async fn every_filter() {
    let (harness, expected) = with_disks(30);
    let count = async |params: &[(&str, &str)]| {
        let page = describe(&harness, &[params, &[("PageSize", "100")]].concat()).await;
        let ids = ids_of(&page);
        assert_eq!(page["TotalCount"], ids.len(), "{params:?}");
        ids
    };
    assert_eq!(count(&[]).await.len(), 30);
    assert_eq!(count(&[("ZoneId", "cn-hangzhou-k")]).await.len(), 10);
    assert_eq!(count(&[("Encrypted", "True")]).await.len(), 6);
    assert_eq!(count(&[("Encrypted", "False")]).await.len(), 24);
    assert_eq!(count(&[("KMSKeyId", "k-ok")]).await.len(), 6);
    assert_eq!(count(&[("KMSKeyId", "k-conf")]).await.len(), 0);
    assert_eq!(
        count(&[("DiskName", "disk7")]).await,
        ["d-00000000000000000007"]
    );
    assert_eq!(count(&[("DiskName", "disk")]).await.len(), 0, "exact");
    assert_eq!(count(&[("Category", "cloud_essd")]).await.len(), 30);
    assert_eq!(count(&[("Category", "cloud_ssd")]).await.len(), 0);
    assert_eq!(count(&[("Category", "all")]).await.len(), 30);
    assert_eq!(count(&[("Status", "Available")]).await.len(), 30);
    assert_eq!(count(&[("Status", "In_use")]).await.len(), 0);
    assert_eq!(count(&[("Status", "All")]).await.len(), 30);
    assert_eq!(count(&[("DiskType", "data")]).await.len(), 30);
    assert_eq!(count(&[("DiskType", "system")]).await.len(), 0);
    assert_eq!(count(&[("Portable", "true")]).await.len(), 30);
    assert_eq!(count(&[("Portable", "false")]).await.len(), 0);
    assert_eq!(count(&[("DeleteWithInstance", "false")]).await.len(), 30);
    assert_eq!(count(&[("ResourceGroupId", "rg-1")]).await.len(), 0);
    assert_eq!(count(&[("InstanceId", "i-1")]).await.len(), 0);
    assert_eq!(
        count(&[("Tag.1.Key", "parity"), ("Tag.1.Value", "1")])
            .await
            .len(),
        15
    );
    assert_eq!(
        count(&[("Tag.1.Key", "parity")]).await.len(),
        30,
        "any value"
    );
    assert_eq!(
        count(&[
            ("Tag.1.Key", "parity"),
            ("Tag.1.Value", "0"),
            ("Tag.2.Key", "n"),
            ("Tag.2.Value", "4")
        ])
        .await,
        ["d-00000000000000000004"]
    );
    assert_eq!(count(&[("Tag.1.Key", "nope")]).await.len(), 0);
    // DiskIds: a JSON array; unknown ids and ids of other regions are simply not found.
    let ids = format!(
        "[\"{}\", \"{}\", \"d-nope\", \"d-shanghai000000000001\"]",
        expected[29], expected[0]
    );
    assert_eq!(
        count(&[("DiskIds", &ids)]).await,
        [expected[0].clone(), expected[29].clone()]
    );
    assert_eq!(count(&[("DiskIds", "[]")]).await.len(), 0);
    let filtered = format!("[\"{}\", \"{}\"]", expected[29], expected[0]);
    assert_eq!(
        count(&[("DiskIds", &filtered), ("ZoneId", "cn-hangzhou-k")]).await,
        [expected[29].clone()]
    );
    // Another region's disks are not in this one.
    let shanghai = harness
        .ecs("AK1", "DescribeDisks", &[("RegionId", "cn-shanghai")])
        .await;
    assert_eq!(shanghai.json()["TotalCount"], 1);
    // Another account sees none.
    let other = harness
        .ecs("AK2", "DescribeDisks", &[("RegionId", "cn-hangzhou")])
        .await;
    assert_eq!(other.json()["TotalCount"], 0);
}

#[tokio::test]
async fn describe_checks() {
    let (harness, _) = with_disks(3);
    let refuse = async |params: &[(&str, &str)], expected: Expected| {
        let mut all = vec![];
        if !params.iter().any(|(p, _)| p.ends_with("RegionId")) {
            all.push(("RegionId", "cn-hangzhou"));
        }
        all.extend(params.iter().filter(|(p, _)| !p.starts_with('-')));
        let answer = harness.ecs("AK1", "DescribeDisks", &all).await;
        assert_expected(&answer, expected);
    };
    refuse(&[("-RegionId", "")], missing("RegionId")).await;
    for bad in ["d-1", "[1]", "{\"a\":1}", "[\"a\""] {
        refuse(&[("DiskIds", bad)], BAD_DISK_IDS).await;
    }
    let many: Vec<String> = (0..101).map(|i| format!("\"d-{i}\"")).collect();
    let many = format!("[{}]", many.join(","));
    refuse(&[("DiskIds", &many), ("DiskType", "root")], TOO_MANY_IDS).await;
    let hundred: Vec<String> = (0..100).map(|i| format!("\"d-{i}\"")).collect();
    assert_eq!(
        describe(
            &harness,
            &[("DiskIds", &format!("[{}]", hundred.join(",")))]
        )
        .await["TotalCount"],
        0
    );
    refuse(&[("DiskType", "root"), ("Category", "x")], BAD_TYPE).await;
    refuse(&[("Category", "cloud_hdd"), ("Status", "x")], BAD_CATEGORY).await;
    refuse(&[("Status", "available")], BAD_STATUS).await;
    refuse(&[("Encrypted", "yes")], invalid("Encrypted")).await;
    refuse(&[("PageNumber", "0")], invalid("PageNumber")).await;
    refuse(&[("PageSize", "0")], invalid("PageSize")).await;
    refuse(&[("PageSize", "101")], invalid("PageSize")).await;
    refuse(&[("MaxResults", "ten")], invalid("MaxResults")).await;
    refuse(&[("NextToken", "forged")], invalid("NextToken")).await;
    refuse(&[("RegionId", "cn-atlantis"), ("ZoneId", "x")], NO_REGION).await;
    refuse(&[("ZoneId", "cn-shanghai-e")], NO_ZONE).await;
    // MaxResults is clamped to 10–500.
    let page = describe(&harness, &[("MaxResults", "1")]).await;
    assert_eq!(
        (page["PageSize"].clone(), ids_of(&page).len()),
        (json!(10), 3)
    );
}

#[tokio::test]
async fn the_response_has_every_field_and_xml_lists_disks() {
    let harness = harness(json!({}));
    let id = created(
        &harness,
        &[
            ("Encrypted", "true"),
            ("KMSKeyId", "k-ok"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "test"),
        ],
    )
    .await;
    let page = describe(&harness, &[]).await;
    let mut disk = page["Disks"]["Disk"][0].clone();
    let time = disk["CreationTime"].as_str().unwrap().to_owned();
    disk["CreationTime"] = json!("<time>");
    assert_eq!(
        disk,
        json!({
            "DiskId": id, "RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-h",
            "DiskName": "", "Description": "", "Type": "data", "Category": "cloud_essd",
            "PerformanceLevel": "PL1", "Size": 40, "Encrypted": true,
            "KMSKeyId": "k-ok", "Status": "Available",
            "Portable": true, "DeleteWithInstance": false, "DeleteAutoSnapshot": false,
            "EnableAutoSnapshot": true, "EnableAutomatedSnapshotPolicy": false,
            "DiskChargeType": "PostPaid", "ExpiredTime": "2999-09-08T16:00Z",
            "CreationTime": "<time>", "AttachedTime": "", "DetachedTime": "",
            "InstanceId": "", "Device": "", "ImageId": "", "SourceSnapshotId": "",
            "AutoSnapshotPolicyId": "", "ResourceGroupId": "", "StorageSetId": "",
            "MultiAttach": "Disabled", "SerialNumber": id[2..], "IOPS": 3800, "Throughput": 140,
            "BurstingEnabled": false, "ProvisionedIops": 0, "MountInstanceNum": 0,
            "Tags": {"Tag": [{"TagKey": "env", "TagValue": "test"}]},
            "Attachments": {"Attachment": []}, "OperationLocks": {"OperationLock": []},
            "MountInstances": {"MountInstance": []},
        })
    );
    let keys: Vec<&str> = page
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "RequestId",
        "TotalCount",
        "PageNumber",
        "PageSize",
        "NextToken",
        "Disks",
    ] {
        assert!(keys.contains(&key), "{key}");
    }
    let xml = harness
        .get("Version=2014-05-26&Action=DescribeDisks&Format=XML&AccessKeyId=AK1&RegionId=cn-hangzhou")
        .await;
    assert_eq!(xml.status, 200);
    assert_eq!(xml.content_type, "text/xml;charset=utf-8");
    for part in [
        "<DescribeDisksResponse>",
        "<TotalCount>1</TotalCount>",
        "<Disks><Disk><DiskId>",
        &format!("<CreationTime>{time}</CreationTime>"),
        "<Tags><Tag><TagKey>env</TagKey><TagValue>test</TagValue></Tag></Tags>",
        "<KMSKeyId>k-ok</KMSKeyId>",
        "</Disk></Disks>",
    ] {
        assert!(xml.text.contains(part), "{part} in {}", xml.text);
    }
}

#[tokio::test]
async fn delete_disk() {
    let harness = harness(json!({}));
    let id = created(&harness, &[]).await;
    assert_expected(
        &harness.ecs("AK1", "DeleteDisk", &[]).await,
        missing("DiskId"),
    );
    assert_expected(
        &harness
            .ecs("AK1", "DeleteDisk", &[("DiskId", "d-nope")])
            .await,
        NO_DISK,
    );
    // Another account's disk does not exist for the caller.
    assert_expected(
        &harness.ecs("AK2", "DeleteDisk", &[("DiskId", &id)]).await,
        NO_DISK,
    );
    // RegionId is ignored: the disk's own region applies.
    let answer = harness
        .ecs(
            "AK1",
            "DeleteDisk",
            &[("DiskId", &id), ("RegionId", "cn-shanghai")],
        )
        .await;
    assert_ok(&answer);
    assert_eq!(describe(&harness, &[]).await["TotalCount"], 0);
    assert_expected(
        &harness.ecs("AK1", "DeleteDisk", &[("DiskId", &id)]).await,
        NO_DISK,
    );
    // A disk that is not Available stays.
    let mut document = document(json!({}));
    document["accounts"][0]["disks"] = json!([{"diskId": "d-creating000000000001",
        "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h", "size": 20, "status": "Creating"}]);
    let harness = Harness::with_document(&document.to_string());
    let answer = harness
        .ecs("AK1", "DeleteDisk", &[("DiskId", "d-creating000000000001")])
        .await;
    assert_expected(&answer, BAD_DISK_STATUS);
    let answer = harness
        .ecs(
            "AK1",
            "ResizeDisk",
            &[("DiskId", "d-creating000000000001"), ("NewSize", "30")],
        )
        .await;
    assert_expected(&answer, BAD_DISK_STATUS);
}

#[tokio::test]
async fn modify_disk_attribute() {
    let harness = harness(json!({}));
    let (a, b) = (created(&harness, &[]).await, created(&harness, &[]).await);
    let modify = async |params: &[(&str, &str)]| {
        let mut all = vec![("RegionId", "cn-hangzhou")];
        all.extend_from_slice(params);
        harness.ecs("AK1", "ModifyDiskAttribute", &all).await
    };
    let before = state(&harness).await;
    assert_expected(
        &harness
            .ecs(
                "AK1",
                "ModifyDiskAttribute",
                &[("DiskId", &a), ("DiskName", "ab")],
            )
            .await,
        missing("RegionId"),
    );
    assert_expected(
        &modify(&[("DiskId", &a), ("DiskIds.1", &b)]).await,
        CONFLICT,
    );
    assert_expected(&modify(&[("DiskName", "ab")]).await, NO_ID);
    let many: Vec<(String, String)> = (1..=101)
        .map(|n| (format!("DiskIds.{n}"), a.clone()))
        .collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_expected(
        &modify(&[&many[..], &[("DiskName", "ab")]].concat()).await,
        invalid("DiskIds"),
    );
    assert_expected(
        &modify(&[("DiskId", &a), ("DiskName", "1a")]).await,
        BAD_NAME,
    );
    assert_expected(
        &modify(&[("DiskId", &a), ("Description", "d")]).await,
        BAD_DESCRIPTION,
    );
    assert_expected(
        &modify(&[("DiskId", &a), ("DeleteWithInstance", "maybe")]).await,
        invalid("DeleteWithInstance"),
    );
    assert_expected(&modify(&[("DiskId", &a)]).await, NOTHING_TO_MODIFY);
    // Any disk unknown (or of another region) and nothing changes.
    assert_expected(
        &modify(&[
            ("DiskIds.1", &a),
            ("DiskIds.2", "d-nope"),
            ("DiskName", "ab"),
        ])
        .await,
        NO_DISK,
    );
    let answer = harness
        .ecs(
            "AK1",
            "ModifyDiskAttribute",
            &[
                ("RegionId", "cn-shanghai"),
                ("DiskId", &a),
                ("DiskName", "ab"),
            ],
        )
        .await;
    assert_expected(&answer, NO_DISK);
    assert_eq!(state(&harness).await, before);
    assert_ok(
        &modify(&[
            ("DiskIds.1", &a),
            ("DiskIds.2", &b),
            ("DiskName", "renamed"),
            ("Description", "about"),
            ("DeleteWithInstance", "True"),
            ("DeleteAutoSnapshot", "true"),
            ("EnableAutoSnapshot", "False"),
        ])
        .await,
    );
    for id in [&a, &b] {
        let disk = described(&harness, id).await;
        assert_eq!(
            [
                &disk["DiskName"],
                &disk["Description"],
                &disk["DeleteWithInstance"],
                &disk["DeleteAutoSnapshot"],
                &disk["EnableAutoSnapshot"]
            ],
            [
                &json!("renamed"),
                &json!("about"),
                &json!(true),
                &json!(true),
                &json!(false)
            ]
        );
    }
}

#[tokio::test]
async fn resize_disk() {
    let harness = harness(json!({}));
    let id = created(&harness, &[("Encrypted", "true"), ("KMSKeyId", "k-ok")]).await;
    let resize = async |params: &[(&str, &str)]| harness.ecs("AK1", "ResizeDisk", params).await;
    assert_expected(&resize(&[("NewSize", "50")]).await, missing("DiskId"));
    assert_expected(&resize(&[("DiskId", &id)]).await, missing("NewSize"));
    assert_expected(
        &resize(&[("DiskId", &id), ("NewSize", "x")]).await,
        invalid("NewSize"),
    );
    assert_expected(
        &resize(&[("DiskId", &id), ("NewSize", "50"), ("Type", "hot")]).await,
        invalid("Type"),
    );
    assert_expected(
        &resize(&[("DiskId", "d-nope"), ("NewSize", "50")]).await,
        NO_DISK,
    );
    assert_expected(
        &resize(&[("DiskId", &id), ("NewSize", "40")]).await,
        TOO_SMALL,
    );
    assert_expected(
        &resize(&[("DiskId", &id), ("NewSize", "65537")]).await,
        TOO_LARGE,
    );
    assert_ok(
        &resize(&[
            ("DiskId", &id),
            ("NewSize", "65536"),
            ("Type", "online"),
            ("RegionId", "cn-shanghai"),
        ])
        .await,
    );
    let disk = described(&harness, &id).await;
    assert_eq!(
        (disk["Size"].clone(), disk["KMSKeyId"].clone()),
        (json!(65536), json!("k-ok"))
    );
}

/// `PUT /_emulator/state` with account 1's disks set to `disks`: the error text.
async fn refused_document(disks: Value) -> String {
    let harness = harness(json!({}));
    let mut document = document(json!({}));
    document["accounts"][0]["disks"] = disks;
    let (status, body) = harness
        .admin(Method::PUT, "/_emulator/state", Some(&document.to_string()))
        .await;
    assert_eq!(status, 400, "{body}");
    body["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_state_document_validates_disks_with_paths() {
    let base = || json!({"diskId": "d-00000000000000000001", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h", "size": 20});
    let with = |changes: Value| {
        let mut disk = base();
        for (k, v) in changes.as_object().unwrap() {
            disk[k] = v.clone();
        }
        json!([disk])
    };
    let cases = [
        (
            with(json!({"diskId": "d-1"})),
            "accounts[0].disks[0].diskId",
        ),
        (json!([base(), base()]), "accounts[0].disks[1].diskId"),
        (
            with(json!({"regionId": "cn-atlantis"})),
            "accounts[0].disks[0].regionId",
        ),
        (
            with(json!({"zoneId": "cn-shanghai-e"})),
            "accounts[0].disks[0].zoneId",
        ),
        (
            with(json!({"zoneId": "cn-hangzhou-k"})),
            "accounts[0].disks[0].category",
        ),
        (
            with(json!({"category": "cloud_hdd"})),
            "accounts[0].disks[0].category",
        ),
        (with(json!({"size": 19})), "accounts[0].disks[0].size"),
        (with(json!({"size": 32769})), "accounts[0].disks[0].size"),
        (
            with(json!({"category": "cloud_essd", "performanceLevel": "PL2", "size": 460})),
            "accounts[0].disks[0].size",
        ),
        (
            with(json!({"performanceLevel": "PL1"})),
            "accounts[0].disks[0].performanceLevel",
        ),
        (
            with(json!({"encrypted": true})),
            "accounts[0].disks[0].kmsKeyId",
        ),
        (
            with(json!({"encrypted": true, "kmsKeyId": "k-sh"})),
            "accounts[0].disks[0].kmsKeyId",
        ),
        (
            with(json!({"kmsKeyId": "k-ok"})),
            "accounts[0].disks[0].kmsKeyId",
        ),
        (
            with(json!({"status": "In_use"})),
            "accounts[0].disks[0].status",
        ),
        (
            with(json!({"status": "Broken"})),
            "accounts[0].disks[0].status",
        ),
        (
            with(json!({"creationTime": "yesterday"})),
            "accounts[0].disks[0].creationTime",
        ),
        (with(json!({"colour": "red"})), "accounts[0].disks[0]"),
        (
            with(
                json!({"tags": (0..21).map(|i| (i.to_string(), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            ),
            "accounts[0].disks[0].tags",
        ),
        (
            json!([{"diskId": "d-00000000000000000001", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h"}]),
            "accounts[0].disks[0]",
        ),
    ];
    for (disks, path) in cases {
        let error = refused_document(disks.clone()).await;
        assert!(error.starts_with(path), "{disks} → {error}");
    }
    // Unique in the whole document: another account's disk counts.
    let harness = harness(json!({}));
    let mut document = document(json!({}));
    document["accounts"][0]["disks"] = json!([base()]);
    document["accounts"][1]["disks"] = json!([{"diskId": "d-00000000000000000001", "regionId": "cn-shanghai", "zoneId": "cn-shanghai-e", "size": 20}]);
    let (status, body) = harness
        .admin(Method::PUT, "/_emulator/state", Some(&document.to_string()))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("accounts[1].disks[0].diskId"),
        "{body}"
    );
}

#[tokio::test]
async fn disks_go_through_every_admin_path() {
    let harness = harness(json!({}));
    let id = created(&harness, &[]).await;
    let dump = state(&harness).await;
    let disk = dump["accounts"][0]["disks"][0].clone();
    assert_eq!(disk["diskId"], id.as_str());
    // Snapshots.
    let (status, _) = harness
        .admin(Method::POST, "/_emulator/snapshots/one", None)
        .await;
    assert!(status.is_success(), "{status}");
    assert_ok(&harness.ecs("AK1", "DeleteDisk", &[("DiskId", &id)]).await);
    let (status, _) = harness
        .admin(Method::POST, "/_emulator/snapshots/one/restore", None)
        .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(state(&harness).await, dump);
    // PUT state with the dump gives the same dump back.
    let (status, _) = harness
        .admin(Method::PUT, "/_emulator/state", Some(&dump.to_string()))
        .await;
    assert!(status.is_success());
    assert_eq!(state(&harness).await, dump);
    // Reset: the boot document had no disks.
    harness.admin(Method::POST, "/_emulator/reset", None).await;
    assert_eq!(describe(&harness, &[]).await["TotalCount"], 0);
    // A new account may carry disks, validated, unique against other accounts'.
    let body = json!({"accountId": "3", "kmsKeys": [{"keyId": "k-3", "regionId": "cn-hangzhou"}],
        "disks": [{"diskId": "d-00000000000000000003", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h",
                   "size": 20, "encrypted": true, "kmsKeyId": "k-3"}]});
    let (status, created) = harness
        .admin(Method::POST, "/_emulator/accounts", Some(&body.to_string()))
        .await;
    assert!(status.is_success(), "{created}");
    let (status, error) = harness
        .admin(
            Method::POST,
            "/_emulator/accounts",
            Some(&json!({"accountId": "4", "disks": body["disks"]}).to_string()),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("account.disks[0].kmsKeyId"),
        "{error}"
    );
    let (status, error) = harness
        .admin(Method::PUT, "/_emulator/accounts/4", Some(&json!({"kmsKeys": [{"keyId": "k-4", "regionId": "cn-hangzhou"}],
            "disks": [{"diskId": "d-00000000000000000003", "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h", "size": 20}]}).to_string()))
        .await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("belongs to another account"),
        "{error}"
    );
    let (status, _) = harness
        .admin(Method::PUT, "/_emulator/accounts/3", Some(&json!({"disks": [{"diskId": "d-00000000000000000003",
            "regionId": "cn-hangzhou", "zoneId": "cn-hangzhou-h", "size": 30, "diskName": "again"}]}).to_string()))
        .await;
    assert!(status.is_success());
    let mut all = HashSet::new();
    for account in state(&harness).await["accounts"].as_array().unwrap() {
        for disk in account["disks"].as_array().into_iter().flatten() {
            assert!(all.insert(disk["diskId"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(all.len(), 1);
    let _ = create_params(&[]);
}
