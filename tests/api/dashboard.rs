//! The dashboard's server side: `POST /_emulator/invoke` (signed server-side, run through the
//! whole pipeline under `--auth strict`, answered as an SDK would see it), the lists the page
//! reads, and the page's own files. The page itself is driven in a browser by `tests/ui`.

use crate::support::{DEFAULT_ACCOUNT, DEFAULT_AK, DEFAULT_KEY, Harness};
use axum::body::Body;
use axum::http::{Method, Request};
use ecs_emulator::app::Settings;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Over the default fixture with the real authenticator (`--auth strict`, the default).
fn strict() -> Harness {
    Harness::with_settings(ecs_emulator::DEFAULT_FIXTURE, Settings::default())
}

async fn invoke(harness: &Harness, body: Value) -> (u16, Value) {
    let (status, answer) = harness
        .admin(Method::POST, "/_emulator/invoke", Some(&body.to_string()))
        .await;
    (status.as_u16(), answer)
}

async fn journal_entry(harness: &Harness, request_id: &str) -> Value {
    let (_, journal) = harness
        .admin(Method::GET, "/_emulator/requests", None)
        .await;
    journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["requestId"] == request_id)
        .cloned()
        .unwrap_or_else(|| panic!("{request_id} is not in the journal: {journal}"))
}

#[tokio::test]
async fn invoke_signs_as_the_account_and_answers_what_the_sdk_would_see() {
    let harness = strict();
    // The demo account whose KMS service is not open.
    let (status, answer) = invoke(
        &harness,
        json!({
            "action": "ModifyDiskDefaultKMSKeyId",
            "accountId": "1000000000000102",
            "params": {"RegionId": "cn-hangzhou", "KMSKeyId": DEFAULT_KEY},
        }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["httpStatus"], 403);
    assert_eq!(answer["code"], "InvalidOperation.KMSServiceNotOpen");
    assert_eq!(answer["message"], "KMS service is currently not open.");
    assert_eq!(answer["contentType"], "application/json;charset=utf-8");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["Code"], answer["code"]);
    assert_eq!(body["RequestId"], answer["requestId"]);
    // What was sent: a V3 request, as the tea SDKs send it.
    let sent = &answer["request"];
    assert_eq!(sent["method"], "POST");
    assert!(
        sent["url"].as_str().unwrap().starts_with("/?KMSKeyId=key-"),
        "{sent}"
    );
    assert!(
        sent["headers"]["authorization"]
            .as_str()
            .unwrap()
            .starts_with("ACS3-HMAC-SHA256 Credential=LTAI5tDemoKmsServiceOff,"),
        "{sent}"
    );
    // And it went through the pipeline like any call: verified, journaled.
    let entry = journal_entry(&harness, answer["requestId"].as_str().unwrap()).await;
    assert_eq!(entry["accountId"], "1000000000000102");
    assert_eq!(entry["signature"]["scheme"], "V3");
    assert_eq!(entry["signature"]["verdict"], "ok");
    assert_eq!(entry["code"], "InvalidOperation.KMSServiceNotOpen");
}

#[tokio::test]
async fn invoke_defaults_to_the_first_account_and_changes_state() {
    let harness = strict();
    let (_, account) = harness
        .admin(
            Method::PATCH,
            &format!("/_emulator/accounts/{DEFAULT_ACCOUNT}"),
            Some(
                r#"{"regionSettings": {"cn-hangzhou": {"defaultEncryption": {"enabled": true}}}}"#,
            ),
        )
        .await;
    assert_eq!(
        account["regionSettings"]["cn-hangzhou"]["defaultEncryption"]["enabled"],
        true
    );
    let (status, answer) = invoke(
        &harness,
        json!({
            "action": "ModifyDiskDefaultKMSKeyId",
            "params": {"RegionId": "cn-hangzhou", "KMSKeyId": DEFAULT_KEY},
        }),
    )
    .await;
    assert_eq!(
        (status, &answer["httpStatus"]),
        (200, &json!(200)),
        "{answer}"
    );
    assert_eq!(answer["code"], Value::Null);
    assert_eq!(answer["message"], Value::Null);
    assert_eq!(
        serde_json::from_str::<Value>(answer["body"].as_str().unwrap()).unwrap(),
        json!({"RequestId": answer["requestId"]})
    );
    let account = harness.account(DEFAULT_ACCOUNT).await;
    assert_eq!(
        account["regionSettings"]["cn-hangzhou"]["defaultEncryption"]["kmsKeyId"],
        DEFAULT_KEY
    );
    let entry = journal_entry(&harness, answer["requestId"].as_str().unwrap()).await;
    assert_eq!(entry["accessKeyId"], DEFAULT_AK);
}

#[tokio::test]
async fn invoke_signs_v2_and_reads_xml_answers() {
    let harness = strict();
    let (_, answer) = invoke(
        &harness,
        json!({
            "action": "DescribeDiskDefaultKMSKeyId",
            "signature": "v2",
            "params": {"RegionId": "cn-hangzhou", "Format": "XML", "OwnerId": 7},
        }),
    )
    .await;
    assert_eq!(answer["httpStatus"], 200, "{answer}");
    assert!(answer["contentType"].as_str().unwrap().contains("xml"));
    assert!(
        answer["body"]
            .as_str()
            .unwrap()
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{answer}"
    );
    let url = answer["request"]["url"].as_str().unwrap();
    assert!(
        url.contains("&Signature=") && url.contains("Format=XML") && !url.contains("Format=JSON"),
        "the caller's Format wins over the default: {url}"
    );
    let request_id = answer["requestId"].as_str().unwrap();
    let entry = journal_entry(&harness, request_id).await;
    assert_eq!(entry["signature"]["scheme"], "V2");
    assert_eq!(entry["signature"]["verdict"], "ok");
    assert_eq!(entry["unreadParams"], json!(["OwnerId"]));
    // An XML error's code and message are read from the XML.
    let (_, answer) = invoke(
        &harness,
        json!({
            "action": "DescribeDiskDefaultKMSKeyId",
            "signature": "v2",
            "params": {"RegionId": "xx-nowhere", "Format": "XML"},
        }),
    )
    .await;
    assert_eq!(
        (&answer["httpStatus"], &answer["code"], &answer["message"]),
        (
            &json!(403),
            &json!("InvalidParameter.RegionIdNotExists"),
            &json!("The specified region does not exists.")
        ),
        "{answer}"
    );
    let body = answer["body"].as_str().unwrap();
    assert!(
        body.contains("<Code>InvalidParameter.RegionIdNotExists</Code>")
            && body.contains(&format!(
                "<RequestId>{}</RequestId>",
                answer["requestId"].as_str().unwrap()
            )),
        "{answer}"
    );
}

#[tokio::test]
async fn invoke_signs_as_any_access_key_of_the_state() {
    let harness = strict();
    // A RAM user with read-only ECS access may not modify.
    let (_, answer) = invoke(
        &harness,
        json!({
            "action": "ModifyDiskDefaultKMSKeyId",
            "accessKeyId": "LTAI5tDemoRamEcsReader",
            "params": {"RegionId": "cn-hangzhou", "KMSKeyId": DEFAULT_KEY},
        }),
    )
    .await;
    assert_eq!(answer["code"], "Forbidden.RAM", "{answer}");
    // STS: the token is sent with the key.
    let (_, answer) = invoke(
        &harness,
        json!({"action": "DescribeRegions", "accessKeyId": "STS.DemoDefaultRoot01"}),
    )
    .await;
    assert_eq!(answer["httpStatus"], 200, "{answer}");
    assert_eq!(
        answer["request"]["headers"]["x-acs-security-token"],
        "CAIDemoSecurityTokenRoot01"
    );
    // KMS, by its version.
    let (_, answer) = invoke(
        &harness,
        json!({
            "action": "DescribeKey",
            "version": "2016-01-20",
            "params": {"RegionId": "cn-hangzhou", "KeyId": DEFAULT_KEY},
        }),
    )
    .await;
    assert_eq!(answer["httpStatus"], 200, "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["KeyMetadata"]["KeyId"], DEFAULT_KEY);
}

#[tokio::test]
async fn invoke_shows_authentication_failures_when_asked_to() {
    let harness = strict();
    let (_, answer) = invoke(
        &harness,
        json!({"action": "DescribeRegions", "accessKeySecret": "not-the-secret"}),
    )
    .await;
    assert_eq!(answer["code"], "SignatureDoesNotMatch", "{answer}");
    let (_, answer) = invoke(
        &harness,
        json!({
            "action": "DescribeRegions",
            "accessKeyId": "LTAI5tNoSuchKey",
            "accessKeySecret": "x",
        }),
    )
    .await;
    assert_eq!(answer["code"], "InvalidAccessKeyId.NotFound", "{answer}");
    let (_, answer) = invoke(&harness, json!({"action": "NoSuchAction"})).await;
    assert_eq!(
        (&answer["httpStatus"], &answer["code"]),
        (&json!(404), &json!("InvalidAction.NotFound"))
    );
}

#[tokio::test]
async fn a_wrong_invocation_is_refused_and_nothing_is_sent() {
    let harness = strict();
    let cases = [
        (json!({}), 400, "body: missing field `action`"),
        (
            json!({"action": "DescribeRegions", "regionId": "x"}),
            400,
            "unknown field `regionId`",
        ),
        (
            json!({"action": "DescribeRegions", "signature": "v4"}),
            400,
            "signature: unknown variant `v4`",
        ),
        (
            json!({"action": "DescribeRegions", "params": {"Tag": [1]}}),
            400,
            ".params.Tag: a parameter is a string, number or boolean",
        ),
        (
            json!({"action": "DescribeRegions", "accountId": DEFAULT_ACCOUNT, "accessKeyId": DEFAULT_AK}),
            400,
            "give accountId or accessKeyId, not both",
        ),
        (
            json!({"action": "DescribeRegions", "accountId": "999"}),
            404,
            "no account 999",
        ),
        (
            json!({"action": "DescribeRegions", "accessKeyId": "LTAI5tNoSuchKey"}),
            404,
            "no AccessKey LTAI5tNoSuchKey in the state",
        ),
    ];
    for (body, status, error) in cases {
        let (got, answer) = invoke(&harness, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(error),
            "{body} → {answer}"
        );
    }
    let (_, journal) = harness
        .admin(Method::GET, "/_emulator/requests", None)
        .await;
    assert_eq!(journal["requests"], json!([]));
}

#[tokio::test]
async fn the_lists_the_page_reads() {
    let harness = strict();
    let (status, actions) = harness.admin(Method::GET, "/_emulator/invoke", None).await;
    assert_eq!(status, 200);
    let actions = actions["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 26);
    assert!(actions.contains(&json!({
        "product": "Ecs", "version": "2014-05-26",
        "action": "ModifyDiskDefaultKMSKeyId", "readOnly": false,
    })));
    assert!(actions.contains(&json!({
        "product": "Kms", "version": "2016-01-20", "action": "ListKeys", "readOnly": true,
    })));

    let (status, accounts) = harness
        .admin(Method::GET, "/_emulator/accounts", None)
        .await;
    assert_eq!(status, 200);
    let accounts = accounts["accounts"].as_array().unwrap();
    assert_eq!(
        accounts[0],
        json!({"accountId": DEFAULT_ACCOUNT, "displayName": "default"})
    );
    assert_eq!(accounts[1]["displayName"], "demo-not-whitelisted");
    let (_, state) = harness.admin(Method::GET, "/_emulator/state", None).await;
    assert_eq!(accounts.len(), state["accounts"].as_array().unwrap().len());

    let (status, regions) = harness.admin(Method::GET, "/_emulator/regions", None).await;
    assert_eq!(status, 200);
    assert_eq!(regions["regions"], state["regions"]);

    let (status, error) = harness.admin(Method::GET, "/_emulator/", None).await;
    assert_eq!(
        (status.as_u16(), &error["error"]),
        (404, &json!("no admin endpoint at /_emulator/"))
    );
    let (status, error) = harness
        .admin(Method::GET, "/_emulator/ui/other.js", None)
        .await;
    assert_eq!(
        (status.as_u16(), &error["error"]),
        (404, &json!("no admin endpoint at /_emulator/ui/other.js"))
    );
}

#[tokio::test]
async fn the_page_and_its_files_are_served_without_the_token() {
    let settings = Settings {
        admin_token: Some("s3cret".into()),
        ..Settings::default()
    };
    let harness = Harness::with_settings(ecs_emulator::DEFAULT_FIXTURE, settings);
    for (path, content_type, needle) in [
        (
            "/_emulator/ui",
            "text/html; charset=utf-8",
            "<title>ecs-emulator dashboard</title>",
        ),
        (
            "/_emulator/ui/app.js",
            "text/javascript; charset=utf-8",
            "'/invoke'",
        ),
        (
            "/_emulator/ui/style.css",
            "text/css; charset=utf-8",
            ":root",
        ),
    ] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = harness.router().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), content_type, "{path}");
        assert!(
            header("content-security-policy").starts_with("default-src 'none'"),
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains(needle), "{path}");
    }
    // The calls the page makes need the token.
    for (method, path) in [
        (Method::POST, "/_emulator/invoke"),
        (Method::GET, "/_emulator/accounts"),
    ] {
        let (status, _) = harness.admin(method, path, Some("{}")).await;
        assert_eq!(status, 401, "{path}");
    }
    let (status, _) = harness.admin(Method::POST, "/_emulator/ui", None).await;
    assert_eq!(status, 405);
    for path in ["/_emulator", "/_emulator/"] {
        let (status, _) = harness.admin(Method::GET, path, None).await;
        assert_eq!(status, 401, "{path}");
    }
    // Only the page's own files are open: nothing reached through them.
    for path in [
        "/_emulator/ui/../state",
        "/_emulator/ui/other.js",
        "/_emulator/ui/app.js/x",
        "/_emulator/ui/",
    ] {
        let (status, _) = harness.admin(Method::GET, path, None).await;
        assert_eq!(status, 401, "{path}");
    }
}

/// The disks panel reads no endpoint of its own: the account's `disks` and the regions'
/// `zones`, from the reads the page makes every second, and it creates and deletes through
/// `/invoke`.
#[tokio::test]
async fn the_disks_panel_reads_the_account_and_the_regions() {
    let harness = strict();
    let account_path = format!("/_emulator/accounts/{DEFAULT_ACCOUNT}");
    let (_, account) = harness.admin(Method::GET, &account_path, None).await;
    assert_eq!(
        account.get("disks"),
        None,
        "no disk: no field (the page reads `?? []`)"
    );
    let (_, regions) = harness.admin(Method::GET, "/_emulator/regions", None).await;
    let hangzhou = regions["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["regionId"] == "cn-hangzhou")
        .unwrap();
    let zones: Vec<(&str, usize)> = hangzhou["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| {
            let categories = z["diskCategories"].as_array().unwrap().len();
            (z["zoneId"].as_str().unwrap(), categories)
        })
        .collect();
    assert_eq!(
        zones,
        [
            ("cn-hangzhou-h", 6),
            ("cn-hangzhou-i", 6),
            ("cn-hangzhou-j", 6),
            ("cn-hangzhou-k", 2)
        ]
    );

    // As the page sends it: default encryption on with the key, then no Encrypted.
    harness
        .admin(
            Method::PATCH,
            &account_path,
            Some(&format!(
                r#"{{"regionSettings": {{"cn-hangzhou": {{"defaultEncryption":
                    {{"enabled": true, "kmsKeyId": "{DEFAULT_KEY}"}}}}}}}}"#
            )),
        )
        .await;
    let (_, answer) = invoke(
        &harness,
        json!({
            "action": "CreateDisk",
            "accountId": DEFAULT_ACCOUNT,
            "params": {"RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-h",
                       "DiskCategory": "cloud_essd", "Size": "40"},
        }),
    )
    .await;
    assert_eq!(answer["httpStatus"], 200, "{answer}");
    let created: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    let disk_id = created["DiskId"].as_str().unwrap();
    let (_, account) = harness.admin(Method::GET, &account_path, None).await;
    let disk = &account["disks"][0];
    assert_eq!(account["disks"].as_array().unwrap().len(), 1);
    // The fields the table shows and sorts by.
    assert_eq!(
        [
            &disk["diskId"],
            &disk["regionId"],
            &disk["zoneId"],
            &disk["category"],
            &disk["performanceLevel"],
            &disk["size"],
            &disk["encrypted"],
            &disk["kmsKeyId"]
        ],
        [
            &json!(disk_id),
            &json!("cn-hangzhou"),
            &json!("cn-hangzhou-h"),
            &json!("cloud_essd"),
            &json!("PL1"),
            &json!(40),
            &json!(true),
            &json!(DEFAULT_KEY)
        ]
    );
    assert!(
        disk["creationTime"].as_str().unwrap().ends_with('Z'),
        "{disk}"
    );

    // Encrypted=false while default encryption is on: the code and message the page shows.
    let (_, answer) = invoke(
        &harness,
        json!({
            "action": "CreateDisk",
            "params": {"RegionId": "cn-hangzhou", "ZoneId": "cn-hangzhou-h", "Size": "40",
                       "Encrypted": "false"},
        }),
    )
    .await;
    assert_eq!(
        (&answer["httpStatus"], &answer["code"]),
        (
            &json!(403),
            &json!("InvalidEncrypted.NotMatchDiskDefaultEncryption")
        ),
        "{answer}"
    );
    assert_eq!(
        answer["message"],
        "Enabling disk default encryption prevents the creation of non-encrypted disks."
    );

    let (_, answer) = invoke(
        &harness,
        json!({"action": "DeleteDisk", "params": {"DiskId": disk_id}}),
    )
    .await;
    assert_eq!(answer["httpStatus"], 200, "{answer}");
    let (_, account) = harness.admin(Method::GET, &account_path, None).await;
    assert_eq!(account.get("disks"), None, "{account}");
}
