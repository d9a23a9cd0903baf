//! CreateDisk (`disks.md` §3.2): every row of the encryption table, every check in order and
//! the precedence of adjacent ones, nothing created on a refusal, the boundaries of sizes and
//! names, idempotency. Expected statuses and messages are written out from `disks.md`.

use crate::support::{ALL_CATEGORIES, Answer, Harness, assert_error, assert_ok};
use axum::http::Method;
use serde_json::{Value, json};

/// (status, code, message) of `disks.md`.
pub type Expected = (u16, &'static str, &'static str);

pub const MISSING_SIZE: Expected = (
    400,
    "MissingParameter",
    "The input parameter either \"SnapshotId\" or \"Size\" should be specified.",
);
const MISSING_ZONE: Expected = (
    400,
    "MissingParameter",
    "The input parameter \"ZoneId\" that is mandatory for processing this request is not supplied.",
);
const BAD_CATEGORY: Expected = (
    400,
    "InvalidDiskCategory.ValueNotSupported",
    "The specified parameter \"DiskCategory\" is not valid.",
);
const BAD_LEVEL: Expected = (
    400,
    "InvalidPerformanceLevel.Malformed",
    "The specified parameter PerformanceLevel is not valid.",
);
pub const BAD_NAME: Expected = (
    400,
    "InvalidDiskName.Malformed",
    "The specified disk name is wrongly formed.",
);
pub const BAD_DESCRIPTION: Expected = (
    400,
    "InvalidDescription.Malformed",
    "The specified description is wrongly formed.",
);
const BAD_TAG_KEY: Expected = (
    400,
    "InvalidTagKey.Malformed",
    "The specified Tag.n.Key is not valid.",
);
const BAD_TAG_VALUE: Expected = (
    400,
    "InvalidTagValue.Malformed",
    "The specified Tag.n.Value is not valid.",
);
const DUPLICATE_TAG: Expected = (
    400,
    "Duplicate.TagKey",
    "The Tag.N.Key contain duplicate key.",
);
const TAG_COUNT: Expected = (
    400,
    "InvalidTagCount",
    "The specified tags are beyond the permitted range.",
);
const MULTI_ATTACH: Expected = (
    403,
    "InvalidParameter.MultiAttach",
    "The specified param MultiAttach is not valid.",
);
const ENCRYPTED_ILLEGAL: Expected = (
    400,
    "InvalidParameter.EncryptedIllegal",
    "The specified parameter Encrypted must be true when kmsKeyId is not empty.",
);
const ZONE_AND_INSTANCE: Expected = (
    403,
    "InvalidParam.ZoneIdAndInstanceId.Conflict",
    "The specified parameter 'ZoneId' and 'InstanceId' are not blank at the same time.",
);
const NO_INSTANCE: Expected = (
    404,
    "InvalidInstanceId.NotFound",
    "The specified InstanceId does not exist.",
);
const NO_SNAPSHOT: Expected = (
    404,
    "InvalidSnapshotId.NotFound",
    "The specified SnapshotId does not exist.",
);
pub const NO_REGION: Expected = (
    404,
    "InvalidRegionId.NotFound",
    "The specified RegionId does not exist.",
);
const NO_ZONE: Expected = (
    404,
    "InvalidZoneId.NotFound",
    "The specified zone does not exist.",
);
const CATEGORY_NOT_IN_ZONE: Expected = (
    400,
    "InvalidDataDiskCategory.NotSupported",
    "Specified disk category is not supported.",
);
const BAD_SIZE: Expected = (
    403,
    "InvalidDataDiskSize.ValueNotSupported",
    "The specified disk size is beyond the permitted range, or the snapshot capacity exceeds the size limit for the specified disk category.",
);
const LEVEL_SIZE: Expected = (
    403,
    "OperationDenied.PerformanceLevelNotMatch",
    "The specified PerformanceLevel and Size do not match.",
);
const TOKEN_USED: Expected = (
    403,
    "IdempotentParameterMismatch",
    "The specified clientToken is used.",
);
const NOT_MATCH_DEFAULT: Expected = (
    403,
    "InvalidEncrypted.NotMatchDiskDefaultEncryption",
    "Enabling disk default encryption prevents the creation of non-encrypted disks.",
);
const KMS_OFF: Expected = (
    400,
    "InvalidParameter.KmsNotEnabled",
    "Failed to perform this operation because KMS is not activated.",
);
const KEY_NOT_FOUND: Expected = (
    404,
    "InvalidParameter.KMSKeyId.NotFound",
    "The specified KMSKeyId does not exist.",
);
const UNAUTHORIZED: Expected = (
    403,
    "InvalidParameter.KMSKeyId.KMSUnauthorized",
    "ECS service have no right to access your KMS.",
);
const CMK_NOT_ENABLED: Expected = (
    403,
    "InvalidParameter.KMSKeyId.CMKNotEnabled",
    "The CMK (Customer Master Key) must be in an active state.",
);
pub const FORBIDDEN_RAM: Expected = (
    403,
    "Forbidden.RAM",
    "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
);

/// Two regions with zones (cn-hangzhou-k offers only cloud_essd and cloud_auto) and two
/// accounts; the first, `AK1`, has keys of each kind and `facts` merged over it (`enabled`,
/// `configured` and `kmsEnabled` are shorthands for its cn-hangzhou setting).
pub fn document(facts: Value) -> Value {
    let mut account = json!({
        "accountId": "1",
        "accessKeys": [{"accessKeyId": "AK1", "accessKeySecret": "s"}],
        "ramUsers": [
            {"userName": "reader", "policies": ["AliyunECSReadOnlyAccess"],
             "accessKeys": [{"accessKeyId": "AK-reader", "accessKeySecret": "s"}]},
            {"userName": "admin", "policies": ["AliyunECSFullAccess"],
             "accessKeys": [{"accessKeyId": "AK-admin", "accessKeySecret": "s"}]},
        ],
        "kmsKeys": [
            {"keyId": "k-ok", "regionId": "cn-hangzhou", "aliases": ["alias/ok"]},
            {"keyId": "k-conf", "regionId": "cn-hangzhou"},
            {"keyId": "k-off", "regionId": "cn-hangzhou", "keyState": "Disabled"},
            {"keyId": "k-pending", "regionId": "cn-hangzhou", "keyState": "PendingDeletion"},
            {"keyId": "k-unauth", "regionId": "cn-hangzhou", "ecsAuthorized": false},
            {"keyId": "k-unauth-off", "regionId": "cn-hangzhou", "ecsAuthorized": false, "keyState": "Disabled"},
            {"keyId": "k-sh", "regionId": "cn-shanghai"},
        ],
    });
    crate::support::with_facts(&mut account, &facts);
    json!({
        "regions": [
            {"regionId": "cn-hangzhou", "zones": [
                {"zoneId": "cn-hangzhou-h", "diskCategories": ALL_CATEGORIES},
                {"zoneId": "cn-hangzhou-k", "diskCategories": ["cloud_essd", "cloud_auto"]},
            ]},
            {"regionId": "cn-shanghai", "zones": [
                {"zoneId": "cn-shanghai-e", "diskCategories": ALL_CATEGORIES},
            ]},
        ],
        "accounts": [
            account,
            {"accountId": "2", "accessKeys": [{"accessKeyId": "AK2", "accessKeySecret": "s"}]},
        ],
    })
}

pub fn harness(facts: Value) -> Harness {
    Harness::with_document(&document(facts).to_string())
}

/// A valid CreateDisk (cloud_essd PL1, 40 GiB in cn-hangzhou-h) with `params` over it; a
/// name starting `-` removes that parameter.
pub fn create_params<'a>(params: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("RegionId", "cn-hangzhou"),
        ("ZoneId", "cn-hangzhou-h"),
        ("DiskCategory", "cloud_essd"),
        ("Size", "40"),
    ];
    for &(name, value) in params {
        let bare = name.trim_start_matches('-');
        all.retain(|(n, _)| *n != bare);
        if !name.starts_with('-') {
            all.push((name, value));
        }
    }
    all
}

pub async fn create(harness: &Harness, params: &[(&str, &str)]) -> Answer {
    harness
        .ecs("AK1", "CreateDisk", &create_params(params))
        .await
}

/// Creates a disk and answers its id.
pub async fn created(harness: &Harness, params: &[(&str, &str)]) -> String {
    let answer = create(harness, params).await;
    assert_ok(&answer);
    let id = answer.json()["DiskId"].as_str().unwrap().to_owned();
    assert!(
        id.len() == 22
            && id.starts_with("d-")
            && id[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
        "{id}"
    );
    id
}

pub async fn state(harness: &Harness) -> Value {
    harness.admin(Method::GET, "/_emulator/state", None).await.1
}

async fn listed_keys(harness: &Harness) -> Value {
    let answer = harness.kms("AK1", "ListKeys", &[("PageSize", "100")]).await;
    assert_ok(&answer);
    answer.json()["Keys"].clone()
}

/// The disk `id` as DescribeDisks answers it in cn-hangzhou.
pub async fn described(harness: &Harness, id: &str) -> Value {
    let ids = format!("[\"{id}\"]");
    let answer = harness
        .ecs(
            "AK1",
            "DescribeDisks",
            &[("RegionId", "cn-hangzhou"), ("DiskIds", &ids)],
        )
        .await;
    assert_ok(&answer);
    answer.json()["Disks"]["Disk"][0].clone()
}

/// CreateDisk with `params` is refused as `expected`, and nothing changed: the same state
/// document, the same keys in KMS (no service key created on the way).
async fn refused(facts: Value, params: &[(&str, &str)], expected: Expected) {
    let harness = harness(facts.clone());
    let kms_open = facts.get("kmsServiceOpen") != Some(&Value::Bool(false));
    let before = state(&harness).await;
    let keys = if kms_open {
        listed_keys(&harness).await
    } else {
        Value::Null
    };
    let answer = create(&harness, params).await;
    let (status, code, message) = expected;
    assert_error(&answer, status, code, message);
    assert_eq!(
        state(&harness).await,
        before,
        "{params:?} changed the state"
    );
    if kms_open {
        assert_eq!(
            listed_keys(&harness).await,
            keys,
            "{params:?} changed the keys"
        );
    }
}

/// The id of the region's service key (created by the call if need be).
async fn service_key(harness: &Harness) -> String {
    let answer = harness
        .kms("AK1", "DescribeKey", &[("KeyId", "alias/acs/ecs")])
        .await;
    assert_ok(&answer);
    answer.json()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What the disk created with `params` is encrypted with: `""` when it is not.
async fn encrypted_with(facts: Value, params: &[(&str, &str)]) -> (String, Harness) {
    let harness = harness(facts);
    let id = created(&harness, params).await;
    let disk = described(&harness, &id).await;
    let key = disk["KMSKeyId"].as_str().unwrap().to_owned();
    assert_eq!(disk["Encrypted"], json!(!key.is_empty()), "{disk}");
    (key, harness)
}

#[tokio::test]
async fn every_row_of_the_encryption_table() {
    let off = || json!({});
    let on = || json!({"enabled": true});
    // off, absent or false, absent → not encrypted, KMSKeyId "".
    for params in [
        &[][..],
        &[("Encrypted", "false")],
        &[("Encrypted", "False")],
    ] {
        assert_eq!(encrypted_with(off(), params).await.0, "", "{params:?}");
    }
    // off, true, absent → the region's service key, created on first need.
    for value in ["true", "True"] {
        let (key, harness) = encrypted_with(off(), &[("Encrypted", value)]).await;
        assert_eq!(key, service_key(&harness).await);
    }
    // any, true, K → K (an alias or ARN is resolved to the key id).
    for facts in [
        off(),
        on(),
        json!({"enabled": true, "configured": "k-conf"}),
    ] {
        for reference in ["k-ok", "alias/ok", "acs:kms:cn-hangzhou:1:key/k-ok"] {
            let params = [("Encrypted", "true"), ("KMSKeyId", reference)];
            assert_eq!(encrypted_with(facts.clone(), &params).await.0, "k-ok");
        }
    }
    // off, absent or false, K → EncryptedIllegal; on, false, K → EncryptedIllegal.
    refused(off(), &[("KMSKeyId", "k-ok")], ENCRYPTED_ILLEGAL).await;
    let false_and_key = [("Encrypted", "false"), ("KMSKeyId", "k-ok")];
    refused(off(), &false_and_key, ENCRYPTED_ILLEGAL).await;
    refused(on(), &false_and_key, ENCRYPTED_ILLEGAL).await;
    // on, absent or true, absent → the account's default key: the configured one, else the
    // service key.
    for params in [&[][..], &[("Encrypted", "True")]] {
        let configured = json!({"enabled": true, "configured": "k-conf"});
        assert_eq!(encrypted_with(configured, params).await.0, "k-conf");
        let (key, harness) = encrypted_with(on(), params).await;
        assert_eq!(key, service_key(&harness).await);
    }
    // on, absent, K → K.
    assert_eq!(
        encrypted_with(on(), &[("KMSKeyId", "k-ok")]).await.0,
        "k-ok"
    );
    // on, false, absent → NotMatchDiskDefaultEncryption.
    refused(on(), &[("Encrypted", "false")], NOT_MATCH_DEFAULT).await;
}

#[tokio::test]
async fn the_account_default_is_what_describe_default_key_answers_and_later_changes_do_not_touch_disks()
 {
    let harness = harness(json!({"enabled": true, "configured": "k-conf"}));
    let first = created(&harness, &[]).await;
    assert_ok(
        &harness
            .ecs(
                "AK1",
                "ResetDiskDefaultKMSKeyId",
                &[("RegionId", "cn-hangzhou")],
            )
            .await,
    );
    let default = harness
        .ecs(
            "AK1",
            "DescribeDiskDefaultKMSKeyId",
            &[("RegionId", "cn-hangzhou")],
        )
        .await
        .json()["KMSKeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = created(&harness, &[]).await;
    assert_eq!(described(&harness, &second).await["KMSKeyId"], default);
    assert_ne!(default, "k-conf");
    assert_ok(
        &harness
            .ecs(
                "AK1",
                "DisableDiskEncryptionByDefault",
                &[("RegionId", "cn-hangzhou")],
            )
            .await,
    );
    assert_ok(
        &harness
            .kms("AK1", "DisableKey", &[("KeyId", "k-conf")])
            .await,
    );
    assert_eq!(described(&harness, &first).await["KMSKeyId"], "k-conf");
    assert_eq!(described(&harness, &first).await["Encrypted"], true);
    assert_eq!(described(&harness, &second).await["KMSKeyId"], default);
    let third = created(&harness, &[]).await;
    assert_eq!(described(&harness, &third).await["Encrypted"], false);
}

#[tokio::test]
async fn step_one_checks_in_order() {
    let f = || json!({});
    refused(f(), &[("-RegionId", "")], crate::disks::missing("RegionId")).await;
    refused(
        f(),
        &[("RegionId", "None")],
        crate::disks::missing("RegionId"),
    )
    .await;
    refused(f(), &[("-ZoneId", "")], MISSING_ZONE).await;
    refused(f(), &[("-Size", "")], MISSING_SIZE).await;
    // Adjacent checks: the missing size wins over a bad type, a bad type over a bad category.
    refused(f(), &[("-Size", ""), ("Encrypted", "yes")], MISSING_SIZE).await;
    refused(f(), &[("Size", "forty")], invalid("Size")).await;
    refused(f(), &[("Size", "-1")], invalid("Size")).await;
    refused(
        f(),
        &[("Encrypted", "yes"), ("DiskCategory", "cloud_hdd")],
        invalid("Encrypted"),
    )
    .await;
    refused(
        f(),
        &[("DiskCategory", "cloud_hdd"), ("PerformanceLevel", "PL9")],
        BAD_CATEGORY,
    )
    .await;
    refused(
        f(),
        &[("PerformanceLevel", "PL9"), ("DiskName", "1")],
        BAD_LEVEL,
    )
    .await;
    // Checked whatever the category, and then ignored for another than cloud_essd.
    refused(
        f(),
        &[("DiskCategory", "cloud_ssd"), ("PerformanceLevel", "pl1")],
        BAD_LEVEL,
    )
    .await;
    refused(
        f(),
        &[("DiskName", "1disk"), ("Description", "x")],
        BAD_NAME,
    )
    .await;
    refused(
        f(),
        &[("Description", "x"), ("Tag.1.Key", "aliyun")],
        BAD_DESCRIPTION,
    )
    .await;
    refused(
        f(),
        &[
            ("Tag.1.Key", "acs:x"),
            ("Tag.2.Key", "k"),
            ("Tag.2.Value", "http://x"),
        ],
        BAD_TAG_KEY,
    )
    .await;
    refused(
        f(),
        &[
            ("Tag.1.Key", "k"),
            ("Tag.1.Value", "https://x"),
            ("Tag.2.Key", "k"),
        ],
        BAD_TAG_VALUE,
    )
    .await;
    refused(
        f(),
        &[
            ("Tag.1.Key", "k"),
            ("Tag.2.Key", "k"),
            ("MultiAttach", "On"),
        ],
        DUPLICATE_TAG,
    )
    .await;
    refused(
        f(),
        &[("Tag.21.Key", "k"), ("MultiAttach", "On")],
        TAG_COUNT,
    )
    .await;
    refused(
        f(),
        &[("MultiAttach", "On"), ("ClientToken", "é")],
        MULTI_ATTACH,
    )
    .await;
    refused(
        f(),
        &[("MultiAttach", "Enabled"), ("DiskCategory", "cloud_ssd")],
        MULTI_ATTACH,
    )
    .await;
    refused(
        f(),
        &[("ClientToken", "é"), ("KMSKeyId", "k-ok")],
        invalid("ClientToken"),
    )
    .await;
    let long = "t".repeat(65);
    refused(f(), &[("ClientToken", &long)], invalid("ClientToken")).await;
    // EncryptedIllegal is the last of step 1: it wins over every later step.
    refused(
        f(),
        &[
            ("KMSKeyId", "k-ok"),
            ("InstanceId", "i-1"),
            ("RegionId", "cn-atlantis"),
        ],
        ENCRYPTED_ILLEGAL,
    )
    .await;
    // An unknown region counts as default encryption off here.
    refused(
        json!({"enabled": true}),
        &[("KMSKeyId", "k-ok"), ("RegionId", "cn-atlantis")],
        ENCRYPTED_ILLEGAL,
    )
    .await;
}

#[tokio::test]
async fn tag_key_rules() {
    let f = || json!({});
    for key in [
        "",
        "aliyunx",
        "acs:k",
        "a http://x",
        "a https://x",
        &"k".repeat(129),
    ] {
        refused(f(), &[("Tag.1.Key", key)], BAD_TAG_KEY).await;
    }
    // A value without its key.
    refused(f(), &[("Tag.1.Value", "v")], BAD_TAG_KEY).await;
    refused(
        f(),
        &[("Tag.1.Key", "k"), ("Tag.1.Value", &"v".repeat(129))],
        BAD_TAG_VALUE,
    )
    .await;
    let harness = harness(f());
    let (key, value) = ("k".repeat(128), "v".repeat(128));
    let mut params = vec![("Tag.1.Key", key.as_str()), ("Tag.1.Value", value.as_str())];
    let names: Vec<(String, String)> = (2..=20)
        .map(|n| (format!("Tag.{n}.Key"), format!("key{n}")))
        .collect();
    params.extend(names.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    params.push(("Tag.2.Value", ""));
    let id = created(&harness, &params).await;
    let tags = described(&harness, &id).await["Tags"]["Tag"].clone();
    assert_eq!(tags.as_array().unwrap().len(), 20);
    assert!(
        tags.as_array()
            .unwrap()
            .contains(&json!({"TagKey": key, "TagValue": value}))
    );
    assert!(
        tags.as_array()
            .unwrap()
            .contains(&json!({"TagKey": "key2", "TagValue": ""}))
    );
}

#[tokio::test]
async fn name_and_description_boundaries() {
    let f = || json!({});
    let harness = harness(f());
    for name in ["ab", "中文", &format!("a{}", "b".repeat(127)), "a1:_.-"] {
        let id = created(&harness, &[("DiskName", name)]).await;
        assert_eq!(described(&harness, &id).await["DiskName"], name);
    }
    for name in [
        "a",
        &format!("a{}", "b".repeat(128)),
        "1a",
        "_a",
        "a b",
        "a/b",
        "http://ab",
    ] {
        refused(f(), &[("DiskName", name)], BAD_NAME).await;
    }
    for text in ["ab", &"d".repeat(256), "any text: ok / yes"] {
        let id = created(&harness, &[("Description", text)]).await;
        assert_eq!(described(&harness, &id).await["Description"], text);
    }
    for text in ["d", &"d".repeat(257), "http://x", "https://x"] {
        refused(f(), &[("Description", text)], BAD_DESCRIPTION).await;
    }
}

#[tokio::test]
async fn steps_two_to_four_in_order() {
    let f = || json!({});
    refused(
        f(),
        &[
            ("InstanceId", "i-1"),
            ("SnapshotId", "s-1"),
            ("RegionId", "cn-atlantis"),
        ],
        ZONE_AND_INSTANCE,
    )
    .await;
    refused(
        f(),
        &[
            ("-ZoneId", ""),
            ("InstanceId", "i-1"),
            ("SnapshotId", "s-1"),
        ],
        NO_INSTANCE,
    )
    .await;
    refused(f(), &[("SnapshotId", "s-1"), ("-Size", "")], NO_SNAPSHOT).await;
    refused(
        f(),
        &[("SnapshotId", "s-1"), ("RegionId", "cn-atlantis")],
        NO_SNAPSHOT,
    )
    .await;
    refused(
        f(),
        &[("RegionId", "cn-atlantis"), ("Size", "0")],
        NO_REGION,
    )
    .await;
    // A zone of another region is not in this one.
    refused(f(), &[("ZoneId", "cn-shanghai-e"), ("Size", "0")], NO_ZONE).await;
    refused(
        f(),
        &[
            ("ZoneId", "cn-hangzhou-k"),
            ("DiskCategory", "cloud"),
            ("Size", "0"),
        ],
        CATEGORY_NOT_IN_ZONE,
    )
    .await;
    refused(f(), &[("Size", "0"), ("PerformanceLevel", "PL3")], BAD_SIZE).await;
    refused(
        f(),
        &[("Size", "100"), ("PerformanceLevel", "PL2")],
        LEVEL_SIZE,
    )
    .await;
    // The size check wins over idempotency and the default-encryption refusal.
    refused(
        json!({"enabled": true}),
        &[("Size", "0"), ("Encrypted", "false")],
        BAD_SIZE,
    )
    .await;
}

#[tokio::test]
async fn every_size_range_at_its_boundaries() {
    let harness = harness(json!({}));
    let ranges = [
        ("cloud", "", 5, 2000),
        ("cloud_efficiency", "", 20, 32768),
        ("cloud_ssd", "", 20, 32768),
        ("cloud_essd", "PL0", 1, 65536),
        ("cloud_essd", "PL1", 20, 65536),
        ("cloud_essd", "", 20, 65536),
        ("cloud_essd", "PL2", 461, 65536),
        ("cloud_essd", "PL3", 1261, 65536),
        ("cloud_auto", "", 1, 65536),
        ("cloud_essd_entry", "", 10, 32768),
    ];
    for (category, level, min, max) in ranges {
        let with = |size: u32| size.to_string();
        let params = |size: &str| {
            let mut p = vec![("DiskCategory", category), ("Size", size)];
            p.push(if level.is_empty() {
                ("-PerformanceLevel", "")
            } else {
                ("PerformanceLevel", level)
            });
            p.into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect::<Vec<_>>()
        };
        for size in [min, max] {
            let p = params(&with(size));
            let p: Vec<(&str, &str)> = p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let id = created(&harness, &p).await;
            let disk = described(&harness, &id).await;
            assert_eq!(disk["Size"], size, "{category} {level}");
            let shown = if category == "cloud_essd" {
                if level.is_empty() { "PL1" } else { level }
            } else {
                ""
            };
            assert_eq!(disk["PerformanceLevel"], shown, "{category} {level}");
        }
        let essd_level_min = category == "cloud_essd" && min > 1;
        let below = if essd_level_min { LEVEL_SIZE } else { BAD_SIZE };
        for (size, expected) in [(min - 1, below), (max + 1, BAD_SIZE)] {
            let p = params(&with(size));
            let p: Vec<(&str, &str)> = p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let answer = create(&harness, &p).await;
            assert_error(&answer, expected.0, expected.1, expected.2);
        }
    }
}

#[tokio::test]
async fn step_five_to_seven_in_order() {
    let on = json!({"enabled": true});
    // Default on, Encrypted=false, no key wins over KMS checks.
    refused(
        json!({"enabled": true, "kmsEnabled": false}),
        &[("Encrypted", "false")],
        NOT_MATCH_DEFAULT,
    )
    .await;
    refused(
        json!({"kmsServiceOpen": false}),
        &[("Encrypted", "true")],
        KMS_OFF,
    )
    .await;
    refused(json!({"enabled": true, "kmsEnabled": false}), &[], KMS_OFF).await;
    // KMS off wins over an unknown key.
    refused(
        json!({"kmsEnabled": false}),
        &[("Encrypted", "true"), ("KMSKeyId", "nope")],
        KMS_OFF,
    )
    .await;
    let key = |k: &'static str| [("Encrypted", "true"), ("KMSKeyId", k)];
    refused(on.clone(), &key("nope"), KEY_NOT_FOUND).await;
    // A key of another region or account does not exist here.
    refused(on.clone(), &key("k-sh"), KEY_NOT_FOUND).await;
    refused(
        on.clone(),
        &key("acs:kms:cn-hangzhou:2:key/k-ok"),
        KEY_NOT_FOUND,
    )
    .await;
    refused(on.clone(), &key("k-unauth"), UNAUTHORIZED).await;
    refused(on.clone(), &key("k-unauth-off"), UNAUTHORIZED).await;
    // The service key needs the role too; refused, it is not created.
    refused(
        json!({"ecsKmsRoleGranted": false}),
        &[("Encrypted", "true")],
        UNAUTHORIZED,
    )
    .await;
    refused(
        json!({"ecsKmsRoleGranted": false}),
        &key("k-ok"),
        UNAUTHORIZED,
    )
    .await;
    refused(on.clone(), &key("k-off"), CMK_NOT_ENABLED).await;
    refused(on.clone(), &key("k-pending"), CMK_NOT_ENABLED).await;
    // The family's gates do not apply to CreateDisk.
    let harness = harness(json!({"diskWhitelisted": false}));
    created(&harness, &[("Encrypted", "true")]).await;
}

#[tokio::test]
async fn a_client_token_answers_the_same_disk_for_the_same_parameters() {
    let harness = harness(json!({}));
    let first = created(&harness, &[("ClientToken", "tok"), ("Encrypted", "true")]).await;
    let before = state(&harness).await;
    // The same values once decoded: True is true; OwnerId does not count.
    let again = created(
        &harness,
        &[
            ("ClientToken", "tok"),
            ("Encrypted", "True"),
            ("OwnerId", "9"),
        ],
    )
    .await;
    assert_eq!(again, first);
    assert_eq!(state(&harness).await, before, "nothing created");
    let answer = create(&harness, &[("ClientToken", "tok"), ("Size", "41")]).await;
    let (status, code, message) = TOKEN_USED;
    assert_error(&answer, status, code, message);
    assert_eq!(state(&harness).await, before);
    // Tokens are per account, and another token is another disk.
    assert_ne!(created(&harness, &[("ClientToken", "tok2")]).await, first);
    let other = harness
        .ecs(
            "AK2",
            "CreateDisk",
            &create_params(&[("ClientToken", "tok")]),
        )
        .await;
    assert_ok(&other);
    assert_ne!(other.json()["DiskId"], first.as_str());
    // Reset forgets them.
    assert_eq!(
        harness
            .admin(Method::POST, "/_emulator/reset", None)
            .await
            .0,
        200
    );
    assert_ne!(
        created(&harness, &[("ClientToken", "tok"), ("Size", "41")]).await,
        first
    );
}

#[tokio::test]
async fn a_new_disk_has_every_default_and_its_creation_time() {
    let harness = harness(json!({}));
    let id = created(
        &harness,
        &[
            ("-DiskCategory", ""),
            ("Size", "5"),
            ("ResourceGroupId", "rg-1"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "test"),
        ],
    )
    .await;
    let disk = described(&harness, &id).await;
    let time = disk["CreationTime"].as_str().unwrap();
    assert!(
        time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );
    for (field, value) in [
        ("Category", json!("cloud")),
        ("PerformanceLevel", json!("")),
        ("Status", json!("Available")),
        ("Portable", json!(true)),
        ("DeleteWithInstance", json!(false)),
        ("DeleteAutoSnapshot", json!(false)),
        ("EnableAutoSnapshot", json!(true)),
        ("ResourceGroupId", json!("rg-1")),
        ("MultiAttach", json!("Disabled")),
        ("Encrypted", json!(false)),
        ("KMSKeyId", json!("")),
        ("IOPS", json!(0)),
    ] {
        assert_eq!(disk[field], value, "{field}");
    }
    let stored = &state(&harness).await["accounts"][0]["disks"][0];
    assert_eq!(stored["diskId"], id.as_str());
    assert_eq!(stored["creationTime"], time);
    assert_eq!(stored["tags"], json!({"env": "test"}));
}

#[tokio::test]
async fn ram_users_may_create_disks_with_full_access_only() {
    let harness = harness(json!({}));
    let answer = harness
        .ecs("AK-admin", "CreateDisk", &create_params(&[]))
        .await;
    assert_ok(&answer);
    let answer = harness
        .ecs("AK-reader", "CreateDisk", &create_params(&[]))
        .await;
    let (status, code, message) = FORBIDDEN_RAM;
    assert_error(&answer, status, code, message);
    assert_ok(
        &harness
            .ecs("AK-reader", "DescribeDisks", &[("RegionId", "cn-hangzhou")])
            .await,
    );
}

#[tokio::test]
async fn disk_ids_repeat_under_a_seed() {
    let run = async || {
        let settings = ecs_emulator::app::Settings {
            auth: ecs_emulator::auth::AuthMode::Off,
            seed: Some(42),
            ..ecs_emulator::app::Settings::default()
        };
        let harness = Harness::with_settings(&document(json!({})).to_string(), settings);
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(created(&harness, &[]).await);
        }
        ids
    };
    let first = run().await;
    assert_eq!(run().await, first);
}

pub fn missing(name: &str) -> Expected {
    let message = format!(
        "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
    );
    (400, "MissingParameter", Box::leak(message.into_boxed_str()))
}

pub fn invalid(name: &str) -> Expected {
    let message = format!("The specified parameter \"{name}\" is not valid.");
    (400, "InvalidParameter", Box::leak(message.into_boxed_str()))
}
