//! KMS on the same port: the key lifecycle and its state table, aliases, listing, the KMS
//! error envelope, and how KMS state reaches ECS.

use crate::support::{
    Answer, DEFAULT_ACCOUNT, DEFAULT_AK, DEFAULT_KEY, Harness, assert_error, assert_ok,
};
use serde_json::{Value, json};

const HZ: (&str, &str) = ("RegionId", "cn-hangzhou");
const STATE_FAILED: (u16, &str, &str) = (
    409,
    "Rejected.StateModifiedFailed",
    "Keystate modified failed.",
);
const NO_PERMISSION: (u16, &str, &str) = (
    403,
    "Forbidden.NoPermission",
    "This operation is forbidden by permission system.",
);
const KEY_NOT_FOUND: (u16, &str, &str) = (
    404,
    "Forbidden.KeyNotFound",
    "The specified Key is not found.",
);
const ALIAS_NOT_FOUND: (u16, &str, &str) = (
    404,
    "Forbidden.AliasNotFound",
    "The specified Alias is not found.",
);

#[track_caller]
fn expect(answer: &Answer, (status, code, message): (u16, &str, &str)) {
    assert_error(answer, status, code, message);
    let body = answer.json();
    assert_eq!(
        body["HttpStatus"], status,
        "KMS errors carry HttpStatus: {}",
        answer.text
    );
}

/// `InvalidParameter` naming `name`, in the KMS envelope.
#[track_caller]
fn expect_invalid(answer: &Answer, name: &str) {
    let message = format!("The specified parameter \"{name}\" is not valid.");
    expect(answer, (400, "InvalidParameter", &message));
}

async fn create_key(harness: &Harness, params: &[(&str, &str)]) -> Value {
    let answer = harness.kms(DEFAULT_AK, "CreateKey", params).await;
    assert_ok(&answer);
    answer.json()["KeyMetadata"].clone()
}

async fn key_state(harness: &Harness, key_id: &str) -> String {
    let answer = harness
        .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", key_id)])
        .await;
    assert_ok(&answer);
    answer.json()["KeyMetadata"]["KeyState"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn ecs_modify(harness: &Harness, key: &str) -> Answer {
    harness
        .ecs(
            DEFAULT_AK,
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", key)],
        )
        .await
}

#[tokio::test]
async fn create_key_answers_its_metadata() {
    let harness = Harness::default_fixture();
    let metadata = create_key(&harness, &[("Description", "mine")]).await;
    let key_id = metadata["KeyId"].as_str().unwrap();
    assert!(
        key_id.starts_with("key-hzz") && key_id.len() == 28,
        "{key_id}"
    );
    assert_eq!(
        metadata["Arn"],
        format!("acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT}:key/{key_id}")
    );
    for (field, value) in [
        ("KeyState", "Enabled"),
        ("KeySpec", "Aliyun_AES_256"),
        ("KeyUsage", "ENCRYPT/DECRYPT"),
        ("Origin", "Aliyun_KMS"),
        ("ProtectionLevel", "SOFTWARE"),
        ("Description", "mine"),
        ("Creator", DEFAULT_ACCOUNT),
        ("DeleteDate", ""),
        ("AutomaticRotation", "Disabled"),
        ("RotationInterval", ""),
    ] {
        assert_eq!(metadata[field], value, "{field}");
    }
    let created = metadata["CreationDate"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    // Described the same way.
    let described = harness
        .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", key_id)])
        .await
        .json();
    assert_eq!(described["KeyMetadata"], metadata);
    // EXTERNAL keys await their material; rotation intervals are answered in seconds.
    let external = create_key(&harness, &[("Origin", "EXTERNAL")]).await;
    assert_eq!(external["KeyState"], "PendingImport");
    let rotating = create_key(
        &harness,
        &[
            ("EnableAutomaticRotation", "True"),
            ("RotationInterval", "30d"),
        ],
    )
    .await;
    assert_eq!(
        (
            rotating["AutomaticRotation"].as_str(),
            rotating["RotationInterval"].as_str()
        ),
        (Some("Enabled"), Some("2592000s"))
    );
    // In the region asked for.
    let shanghai = create_key(&harness, &[("RegionId", "cn-shanghai")]).await;
    assert!(shanghai["KeyId"].as_str().unwrap().starts_with("key-shh"));
}

#[tokio::test]
async fn create_key_refuses_bad_parameters() {
    let harness = Harness::default_fixture();
    for (name, value) in [
        ("KeySpec", "AES_512"),
        ("KeyUsage", "SIGN/VERIFY"),
        ("Origin", "Elsewhere"),
        ("ProtectionLevel", "TPM"),
        ("EnableAutomaticRotation", "maybe"),
        ("RotationInterval", "6d"),
        ("RotationInterval", "366d"),
        ("RotationInterval", "weekly"),
        ("RegionId", "mars-1"),
    ] {
        let answer = harness.kms(DEFAULT_AK, "CreateKey", &[(name, value)]).await;
        expect_invalid(&answer, name);
    }
}

#[tokio::test]
async fn references_resolve_by_id_alias_and_arn_within_the_account_and_region() {
    let harness = Harness::default_fixture();
    let arn = format!("acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT}:key/{DEFAULT_KEY}");
    let alias_arn = format!("acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT}:alias/demo");
    for reference in [DEFAULT_KEY, "alias/demo", arn.as_str(), alias_arn.as_str()] {
        let answer = harness
            .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", reference)])
            .await;
        assert_eq!(
            answer.json()["KeyMetadata"]["KeyId"],
            DEFAULT_KEY,
            "{reference}"
        );
    }
    // alias/demo in Shanghai is another key.
    let answer = harness
        .kms(
            DEFAULT_AK,
            "DescribeKey",
            &[("KeyId", "alias/demo"), ("RegionId", "cn-shanghai")],
        )
        .await;
    assert_eq!(
        answer.json()["KeyMetadata"]["KeyId"],
        "key-shh2c6ns1d8ah1s5r1jpq"
    );
    // Another account's key is invisible, by id, alias or ARN.
    for reference in [DEFAULT_KEY, arn.as_str()] {
        expect(
            &harness
                .kms(
                    "LTAI5tDemoEncryptionOn",
                    "DescribeKey",
                    &[("KeyId", reference)],
                )
                .await,
            KEY_NOT_FOUND,
        );
    }
    expect(
        &harness
            .kms(
                "LTAI5tDemoEncryptionOn",
                "DescribeKey",
                &[("KeyId", "alias/demo")],
            )
            .await,
        ALIAS_NOT_FOUND,
    );
    expect(
        &harness
            .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", "alias/nope")])
            .await,
        ALIAS_NOT_FOUND,
    );
    let missing = harness.kms(DEFAULT_AK, "DescribeKey", &[]).await;
    expect(
        &missing,
        (
            400,
            "MissingParameter",
            "The input parameter \"KeyId\" that is mandatory for processing this request is not supplied.",
        ),
    );
}

#[tokio::test]
async fn the_kms_error_body_is_exact() {
    let harness = Harness::default_fixture();
    let answer = harness
        .kms(
            DEFAULT_AK,
            "DescribeKey",
            &[("KeyId", "key-nope"), ("RegionId", "cn-shanghai")],
        )
        .await;
    assert_eq!(
        answer.redacted(),
        r#"{"RequestId":"<RequestId>","HostId":"kms.cn-shanghai.aliyuncs.com","Code":"Forbidden.KeyNotFound","Message":"The specified Key is not found.","Recommend":"https://api.aliyun.com/troubleshoot?q=Forbidden.KeyNotFound&product=Kms&requestId=<RequestId>","HttpStatus":404}"#
    );
}

/// Keys in every state, in cn-hangzhou of account "1".
fn states_document() -> String {
    json!({
        "regions": [{"regionId": "cn-hangzhou"}],
        "accounts": [{"accountId": "1", "accessKeys": [{"accessKeyId": "AK1", "accessKeySecret": "s"}],
            "kmsKeys": [
                {"keyId": "k-Enabled", "regionId": "cn-hangzhou"},
                {"keyId": "k-Disabled", "regionId": "cn-hangzhou", "keyState": "Disabled"},
                {"keyId": "k-PendingDeletion", "regionId": "cn-hangzhou", "keyState": "PendingDeletion", "deleteDate": "2030-01-01T00:00:00Z"},
                {"keyId": "k-PendingImport", "regionId": "cn-hangzhou", "keyState": "PendingImport", "origin": "EXTERNAL"},
            ]}]
    })
    .to_string()
}

/// (action, extra params, the state after it from [Enabled, Disabled, PendingDeletion,
/// PendingImport], `None` for rejected).
type StateRow<'a> = (&'a str, &'a [(&'a str, &'a str)], [Option<&'a str>; 4]);

#[tokio::test]
async fn the_state_table_holds() {
    let table: [StateRow<'_>; 5] = [
        (
            "EnableKey",
            &[],
            [Some("Enabled"), Some("Enabled"), None, None],
        ),
        (
            "DisableKey",
            &[],
            [Some("Disabled"), Some("Disabled"), None, None],
        ),
        (
            "ScheduleKeyDeletion",
            &[("PendingWindowInDays", "7")],
            [
                Some("PendingDeletion"),
                Some("PendingDeletion"),
                None,
                Some("PendingDeletion"),
            ],
        ),
        (
            "CancelKeyDeletion",
            &[],
            [None, None, Some("Disabled"), None],
        ),
        (
            "CreateAlias",
            &[("AliasName", "alias/new")],
            [
                Some("Enabled"),
                Some("Disabled"),
                None,
                Some("PendingImport"),
            ],
        ),
    ];
    let states = ["Enabled", "Disabled", "PendingDeletion", "PendingImport"];
    for (action, extra, outcomes) in table {
        for (from, outcome) in states.iter().zip(outcomes) {
            let harness = Harness::with_document(&states_document());
            let key = format!("k-{from}");
            let mut params = vec![("KeyId", key.as_str())];
            params.extend_from_slice(extra);
            let answer = harness.kms("AK1", action, &params).await;
            let described = harness
                .kms("AK1", "DescribeKey", &[("KeyId", key.as_str())])
                .await
                .json();
            let state = described["KeyMetadata"]["KeyState"]
                .as_str()
                .unwrap()
                .to_owned();
            match outcome {
                Some(after) => {
                    assert_ok(&answer);
                    assert_eq!(state, after, "{action} from {from}");
                }
                None => {
                    expect(&answer, STATE_FAILED);
                    assert_eq!(&state, from, "{action} from {from} changed nothing");
                }
            }
        }
    }
}

#[tokio::test]
async fn deletion_is_scheduled_with_a_date_and_cancelled_to_disabled() {
    let harness = Harness::default_fixture();
    let key = create_key(&harness, &[]).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    for days in ["6", "367", "x"] {
        let answer = harness
            .kms(
                DEFAULT_AK,
                "ScheduleKeyDeletion",
                &[("KeyId", &key), ("PendingWindowInDays", days)],
            )
            .await;
        expect_invalid(&answer, "PendingWindowInDays");
    }
    let answer = harness
        .kms(DEFAULT_AK, "ScheduleKeyDeletion", &[("KeyId", &key)])
        .await;
    assert_eq!(answer.code(), "MissingParameter");
    assert_ok(
        &harness
            .kms(
                DEFAULT_AK,
                "ScheduleKeyDeletion",
                &[("KeyId", &key), ("PendingWindowInDays", "30")],
            )
            .await,
    );
    let metadata = harness
        .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", &key)])
        .await
        .json()["KeyMetadata"]
        .clone();
    assert_eq!(metadata["KeyState"], "PendingDeletion");
    let delete_date = time::OffsetDateTime::parse(
        metadata["DeleteDate"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (delete_date - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((29 * 24..=30 * 24).contains(&days), "{days} hours");
    assert_ok(
        &harness
            .kms(DEFAULT_AK, "CancelKeyDeletion", &[("KeyId", &key)])
            .await,
    );
    let metadata = harness
        .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", &key)])
        .await
        .json()["KeyMetadata"]
        .clone();
    assert_eq!(
        (
            metadata["KeyState"].as_str(),
            metadata["DeleteDate"].as_str()
        ),
        (Some("Disabled"), Some(""))
    );
}

#[tokio::test]
async fn the_service_key_shows_in_kms_and_is_protected() {
    let harness = Harness::default_fixture();
    let service = harness
        .ecs(DEFAULT_AK, "DescribeDiskDefaultKMSKeyId", &[HZ])
        .await
        .json()["KMSKeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let metadata = harness
        .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", "alias/acs/ecs")])
        .await
        .json()["KeyMetadata"]
        .clone();
    assert_eq!(
        (metadata["KeyId"].as_str(), metadata["Creator"].as_str()),
        (Some(service.as_str()), Some("Ecs"))
    );
    for (action, extra) in [
        ("DisableKey", vec![]),
        ("ScheduleKeyDeletion", vec![("PendingWindowInDays", "7")]),
        ("CreateAlias", vec![("AliasName", "alias/mine")]),
    ] {
        let mut params = vec![("KeyId", service.as_str())];
        params.extend(extra);
        expect(
            &harness.kms(DEFAULT_AK, action, &params).await,
            NO_PERMISSION,
        );
    }
    expect(
        &harness
            .kms(DEFAULT_AK, "DeleteAlias", &[("AliasName", "alias/acs/ecs")])
            .await,
        NO_PERMISSION,
    );
    assert_ok(
        &harness
            .kms(DEFAULT_AK, "EnableKey", &[("KeyId", &service)])
            .await,
    );
    assert_eq!(key_state(&harness, &service).await, "Enabled");
    // Listed, and told apart by CreatorType.
    let filter = |creator: &str| json!([{"Key": "CreatorType", "Values": [creator]}]).to_string();
    let services = harness
        .kms(DEFAULT_AK, "ListKeys", &[("Filters", &filter("Service"))])
        .await
        .json();
    assert_eq!(services["TotalCount"], 1);
    assert_eq!(
        services["Keys"]["Key"][0]["KeyId"],
        Value::from(service.clone())
    );
    let users = harness
        .kms(DEFAULT_AK, "ListKeys", &[("Filters", &filter("User"))])
        .await
        .json();
    assert_eq!(users["TotalCount"], 2);
}

#[tokio::test]
async fn aliases_are_created_listed_and_deleted() {
    let harness = Harness::default_fixture();
    let key = create_key(&harness, &[]).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(
        &harness
            .kms(
                DEFAULT_AK,
                "CreateAlias",
                &[("AliasName", "alias/app/main"), ("KeyId", &key)],
            )
            .await,
    );
    let described = harness
        .kms(DEFAULT_AK, "DescribeKey", &[("KeyId", "alias/app/main")])
        .await
        .json();
    assert_eq!(described["KeyMetadata"]["KeyId"], Value::from(key.clone()));
    let taken = harness
        .kms(
            DEFAULT_AK,
            "CreateAlias",
            &[("AliasName", "alias/demo"), ("KeyId", &key)],
        )
        .await;
    expect(
        &taken,
        (400, "AliasAlreadyExists", "AliasName Already Exists."),
    );
    for bad in ["demo", "alias/", "alias/has space", "alias/acs/mine"] {
        let answer = harness
            .kms(
                DEFAULT_AK,
                "CreateAlias",
                &[("AliasName", bad), ("KeyId", &key)],
            )
            .await;
        expect_invalid(&answer, "AliasName");
    }
    expect(
        &harness
            .kms(
                DEFAULT_AK,
                "CreateAlias",
                &[("AliasName", "alias/x"), ("KeyId", "key-nope")],
            )
            .await,
        KEY_NOT_FOUND,
    );

    let listed = harness.kms(DEFAULT_AK, "ListAliases", &[]).await.json();
    assert_eq!(listed["TotalCount"], 2);
    let entry = &listed["Aliases"]["Alias"][1];
    assert_eq!(entry["AliasName"], "alias/app/main");
    assert_eq!(
        entry["AliasArn"],
        format!("acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT}:alias/app/main")
    );
    assert_eq!(entry["KeyId"], Value::from(key.clone()));

    assert_ok(
        &harness
            .kms(
                DEFAULT_AK,
                "DeleteAlias",
                &[("AliasName", "alias/app/main")],
            )
            .await,
    );
    expect(
        &harness
            .kms(
                DEFAULT_AK,
                "DeleteAlias",
                &[("AliasName", "alias/app/main")],
            )
            .await,
        ALIAS_NOT_FOUND,
    );
    assert_eq!(key_state(&harness, &key).await, "Enabled", "the key stays");
}

async fn filtered(harness: &Harness, filters: Value) -> Answer {
    harness
        .kms(DEFAULT_AK, "ListKeys", &[("Filters", &filters.to_string())])
        .await
}

#[tokio::test]
async fn listing_pages_and_filters() {
    let harness = Harness::default_fixture();
    for _ in 0..11 {
        create_key(&harness, &[]).await;
    }
    let ids = |body: &Value| -> Vec<String> {
        body["Keys"]["Key"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["KeyId"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = harness.kms(DEFAULT_AK, "ListKeys", &[]).await.json();
    assert_eq!(
        (
            first["TotalCount"].as_u64(),
            first["PageNumber"].as_u64(),
            first["PageSize"].as_u64()
        ),
        (Some(13), Some(1), Some(10))
    );
    assert_eq!(ids(&first)[0], DEFAULT_KEY, "creation order");
    let all = ids(&harness
        .kms(DEFAULT_AK, "ListKeys", &[("PageSize", "100")])
        .await
        .json());
    assert_eq!(all.len(), 13);
    assert_eq!(ids(&first), all[..10]);
    let page = harness
        .kms(
            DEFAULT_AK,
            "ListKeys",
            &[("PageSize", "5"), ("PageNumber", "3")],
        )
        .await
        .json();
    assert_eq!(ids(&page), all[10..]);
    let beyond = harness
        .kms(DEFAULT_AK, "ListKeys", &[("PageNumber", "9")])
        .await
        .json();
    assert_eq!(
        (ids(&beyond).len(), beyond["TotalCount"].as_u64()),
        (0, Some(13))
    );
    let arn = &first["Keys"]["Key"][0]["KeyArn"];
    assert_eq!(
        arn,
        &Value::from(format!(
            "acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT}:key/{DEFAULT_KEY}"
        ))
    );

    let disabled = filtered(
        &harness,
        json!([{"Key": "KeyState", "Values": ["Disabled"]}]),
    )
    .await
    .json();
    assert_eq!(ids(&disabled), ["key-hzz0disabled0000000001"]);
    let either = filtered(&harness, json!([{"Key": "KeyState", "Values": ["Enabled", "Disabled"]}, {"Key": "KeySpec", "Values": ["Aliyun_AES_256"]}])).await.json();
    assert_eq!(either["TotalCount"], 13);
    let none = filtered(&harness, json!([{"Key": "KeyState", "Values": ["Enabled"]}, {"Key": "KeyUsage", "Values": ["SIGN/VERIFY"]}])).await.json();
    assert_eq!(none["TotalCount"], 0);
    for bad in [
        json!("not a list"),
        json!([{"Key": "Colour", "Values": ["red"]}]),
        json!([{"Key": "KeyState", "Values": []}]),
        json!([{"Key": "KeyState"}]),
    ] {
        let answer = filtered(&harness, bad.clone()).await;
        expect_invalid(&answer, "Filters");
    }
    for (name, value) in [("PageSize", "0"), ("PageSize", "101"), ("PageNumber", "0")] {
        let answer = harness.kms(DEFAULT_AK, "ListKeys", &[(name, value)]).await;
        expect_invalid(&answer, name);
    }
}

#[tokio::test]
async fn kms_needs_the_service_open_except_for_describe_regions() {
    let harness = Harness::default_fixture();
    let answer = harness
        .kms("LTAI5tDemoKmsServiceOff", "ListKeys", &[])
        .await;
    expect(
        &answer,
        (
            403,
            "Forbidden.KmsServiceNotEnabled",
            "The KMS service is not enabled.",
        ),
    );
    let regions = harness
        .kms("LTAI5tDemoKmsServiceOff", "DescribeRegions", &[])
        .await;
    assert_ok(&regions);
    let regions = regions.json()["Regions"]["Region"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(regions.len(), 29);
    assert_eq!(regions[0], json!({"RegionId": "cn-qingdao"}));
}

#[tokio::test]
async fn kms_state_reaches_ecs() {
    let harness = Harness::default_fixture();
    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    let key = create_key(&harness, &[]).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(&ecs_modify(&harness, &key).await);
    let cmk_not_enabled = (
        400,
        "InvalidParameter.KMSKeyId.CMKNotEnabled",
        "The CMK needs to be enabled.",
    );
    assert_ok(
        &harness
            .kms(DEFAULT_AK, "DisableKey", &[("KeyId", &key)])
            .await,
    );
    let (status, code, message) = cmk_not_enabled;
    assert_error(&ecs_modify(&harness, &key).await, status, code, message);
    // Enable with the disabled key configured fails too.
    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "DisableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    assert_error(
        &harness
            .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
        status,
        code,
        message,
    );
    assert_ok(
        &harness
            .kms(DEFAULT_AK, "EnableKey", &[("KeyId", &key)])
            .await,
    );
    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    // A key scheduled for deletion likewise; an alias created in KMS resolves in ECS.
    assert_ok(
        &harness
            .kms(
                DEFAULT_AK,
                "CreateAlias",
                &[("AliasName", "alias/disks"), ("KeyId", &key)],
            )
            .await,
    );
    assert_ok(&ecs_modify(&harness, "alias/disks").await);
    assert_ok(
        &harness
            .kms(
                DEFAULT_AK,
                "ScheduleKeyDeletion",
                &[("KeyId", &key), ("PendingWindowInDays", "7")],
            )
            .await,
    );
    assert_error(
        &ecs_modify(&harness, "alias/disks").await,
        status,
        code,
        message,
    );
    // A key in another region is not found by ECS in this one.
    let shanghai = create_key(&harness, &[("RegionId", "cn-shanghai")]).await["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = ecs_modify(&harness, &shanghai).await;
    assert_eq!(answer.code(), "InvalidOperation.KMSKeyIdNotFound");
}

#[tokio::test]
async fn ram_policies_apply_to_kms() {
    let document = json!({
        "regions": [{"regionId": "cn-hangzhou"}],
        "accounts": [{"accountId": "1", "accessKeys": [{"accessKeyId": "ROOT", "accessKeySecret": "s"}],
            "ramUsers": [
                {"userName": "kms-ro", "policies": ["AliyunKMSReadOnlyAccess"], "accessKeys": [{"accessKeyId": "KMSRO", "accessKeySecret": "s"}]},
                {"userName": "kms-rw", "policies": ["AliyunKMSFullAccess"], "accessKeys": [{"accessKeyId": "KMSRW", "accessKeySecret": "s"}]},
                {"userName": "ecs", "policies": ["AliyunECSFullAccess"], "accessKeys": [{"accessKeyId": "ECS", "accessKeySecret": "s"}]},
            ]}]
    });
    let harness = Harness::with_document(&document.to_string());
    assert_ok(&harness.kms("KMSRO", "ListKeys", &[]).await);
    assert_ok(&harness.kms("KMSRO", "ListAliases", &[]).await);
    let denied = harness.kms("KMSRO", "CreateKey", &[]).await;
    assert_eq!(denied.code(), "Forbidden.RAM");
    assert_eq!(
        denied.json()["AccessDeniedDetail"]["AuthAction"],
        "kms:CreateKey"
    );
    assert_ok(&harness.kms("KMSRW", "CreateKey", &[]).await);
    assert_eq!(
        harness.kms("ECS", "ListKeys", &[]).await.code(),
        "Forbidden.RAM"
    );
}
