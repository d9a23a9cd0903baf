//! The control plane: per-test accounts, key and region patches, snapshots, faults, the
//! request journal, coverage and the admin token.

use crate::support::{DEFAULT_ACCOUNT, DEFAULT_AK, DEFAULT_KEY, Harness, assert_error, assert_ok};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use ecs_emulator::app::Settings;
use ecs_emulator::auth::AuthMode;
use serde_json::{Value, json};

const HZ: (&str, &str) = ("RegionId", "cn-hangzhou");

async fn admin(harness: &Harness, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let body = if body.is_null() {
        None
    } else {
        Some(body.to_string())
    };
    harness.admin(method, path, body.as_deref()).await
}

#[tokio::test]
async fn a_fresh_account_is_isolated_and_callable() {
    let harness = Harness::default_fixture();
    let (status, created) = admin(&harness, Method::POST, "/_emulator/accounts", Value::Null).await;
    assert_eq!(status, 201, "{created}");
    let (account_id, access_key_id) = (
        created["accountId"].as_str().unwrap(),
        created["accessKeyId"].as_str().unwrap(),
    );
    assert_eq!(account_id.len(), 16);
    assert!(
        access_key_id.starts_with("LTAI5t")
            && created["accessKeySecret"].as_str().unwrap().len() == 30
    );
    assert_eq!(
        created["account"]["kmsServiceOpen"], true,
        "defaults fill the rest"
    );
    assert_ok(
        &harness
            .ecs(access_key_id, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    let mine = harness
        .ecs(
            access_key_id,
            "DescribeDiskEncryptionByDefaultStatus",
            &[HZ],
        )
        .await;
    let default = harness
        .ecs(DEFAULT_AK, "DescribeDiskEncryptionByDefaultStatus", &[HZ])
        .await;
    assert_eq!(
        (
            mine.json()["Encrypted"].as_bool(),
            default.json()["Encrypted"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let (status, read) = admin(
        &harness,
        Method::GET,
        &format!("/_emulator/accounts/{account_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        read["regionSettings"]["cn-hangzhou"]["defaultEncryption"]["enabled"],
        true
    );

    // A partial account keeps what it gives.
    let (status, created) = admin(
        &harness,
        Method::POST,
        "/_emulator/accounts",
        json!({"kmsServiceOpen": false}),
    )
    .await;
    assert_eq!(status, 201);
    let answer = harness
        .ecs(
            created["accessKeyId"].as_str().unwrap(),
            "EnableDiskEncryptionByDefault",
            &[HZ],
        )
        .await;
    assert_eq!(answer.code(), "InvalidOperation.KMSServiceNotOpen");
}

#[tokio::test]
async fn account_bodies_are_validated_with_their_path() {
    let harness = Harness::default_fixture();
    let cases = [
        (json!([1]), 400, "account: must be a JSON object"),
        (json!({"colour": "red"}), 400, "unknown field `colour`"),
        (
            json!({"kmsKeys": [["k", "cn-hangzhou"]]}),
            400,
            "account.kmsKeys[0]: invalid type: sequence, expected struct KmsKey",
        ),
        (
            json!({"kmsKeys": [{"keyId": "k", "regionId": "mars-1"}]}),
            400,
            "account.kmsKeys[0].regionId: unknown region \"mars-1\"",
        ),
        (
            json!({"accessKeys": [{"accessKeyId": DEFAULT_AK, "accessKeySecret": "s"}]}),
            400,
            "belongs to another account",
        ),
        (
            json!({"kmsKeys": [{"keyId": DEFAULT_KEY, "regionId": "cn-hangzhou"}]}),
            400,
            "belongs to another account",
        ),
        (json!({"accountId": DEFAULT_ACCOUNT}), 409, "exists"),
    ];
    for (body, status, expected) in cases {
        let (got, error) = admin(&harness, Method::POST, "/_emulator/accounts", body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body}: {error}");
        assert!(
            error["error"].as_str().unwrap().contains(expected),
            "{body}: {error}"
        );
    }
    let (status, error) = harness
        .admin(Method::POST, "/_emulator/accounts", Some("{not json"))
        .await;
    assert_eq!(status, 400, "{error}");
    let (_, state) = admin(&harness, Method::GET, "/_emulator/state", Value::Null).await;
    assert_eq!(
        state["accounts"].as_array().unwrap().len(),
        9,
        "nothing was added"
    );
}

#[tokio::test]
async fn accounts_are_read_replaced_merged_and_deleted() {
    let harness = Harness::default_fixture();
    let path = "/_emulator/accounts/1000000000000101";
    let (status, patched) = admin(
        &harness,
        Method::PATCH,
        path,
        json!({"diskWhitelisted": true, "kmsServiceOpen": false}),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (
            patched["diskWhitelisted"].as_bool(),
            patched["kmsServiceOpen"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let answer = harness
        .ecs(
            "LTAI5tDemoNotWhitelisted",
            "EnableDiskEncryptionByDefault",
            &[HZ],
        )
        .await;
    assert_eq!(answer.code(), "InvalidOperation.KMSServiceNotOpen");

    let (status, _) = admin(&harness, Method::PATCH, path, json!({"accountId": "other"})).await;
    assert_eq!(status, 409);
    let (status, _) = admin(&harness, Method::PUT, path, json!({"accountId": "other"})).await;
    assert_eq!(status, 409);
    let (status, error) = admin(
        &harness,
        Method::PATCH,
        path,
        json!({"kmsServiceOpen": "no"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("account.kmsServiceOpen"),
        "{error}"
    );

    let replacement = json!({"accessKeys": [{"accessKeyId": "LTAI5tReplaced", "accessKeySecret": "s"}], "diskWhitelisted": false});
    let (status, replaced) = admin(&harness, Method::PUT, path, replacement).await;
    assert_eq!(
        (status.as_u16(), replaced["accountId"].as_str()),
        (200, Some("1000000000000101"))
    );
    let answer = harness
        .ecs("LTAI5tReplaced", "EnableDiskEncryptionByDefault", &[HZ])
        .await;
    assert_eq!(answer.code(), "UserNotInTheWhiteList");
    let (status, _) = admin(&harness, Method::PUT, "/_emulator/accounts/42", json!({})).await;
    assert_eq!(status, 201, "PUT creates");

    let (status, _) = harness.admin(Method::DELETE, path, None).await;
    assert_eq!(status, 204);
    for method in [Method::GET, Method::DELETE, Method::PATCH] {
        let (status, error) = harness.admin(method.clone(), path, Some("{}")).await;
        assert_eq!(status, 404, "{method}: {error}");
    }
    let (_, state) = admin(&harness, Method::GET, "/_emulator/state", Value::Null).await;
    let ids: Vec<&str> = state["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"1000000000000101") && ids.last() == Some(&"42"));
}

#[tokio::test]
async fn key_and_region_facts_are_patched() {
    let harness = Harness::default_fixture();
    let key_path = format!("/_emulator/accounts/{DEFAULT_ACCOUNT}/kms-keys/{DEFAULT_KEY}");
    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    let (status, key) = admin(
        &harness,
        Method::PATCH,
        &key_path,
        json!({"keyState": "Disabled"}),
    )
    .await;
    assert_eq!(
        (status.as_u16(), key["keyState"].as_str()),
        (200, Some("Disabled"))
    );
    let answer = harness
        .ecs(
            DEFAULT_AK,
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", DEFAULT_KEY)],
        )
        .await;
    assert_error(
        &answer,
        400,
        "InvalidParameter.KMSKeyId.CMKNotEnabled",
        "The CMK needs to be enabled.",
    );
    admin(
        &harness,
        Method::PATCH,
        &key_path,
        json!({"keyState": "Enabled", "ecsAuthorized": false}),
    )
    .await;
    let answer = harness
        .ecs(
            DEFAULT_AK,
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", DEFAULT_KEY)],
        )
        .await;
    assert_eq!(answer.code(), "InvalidParameter.KMSKeyId.KMSUnauthorized");
    let (status, error) = admin(
        &harness,
        Method::PATCH,
        &key_path,
        json!({"keyState": "Broken"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("account.kmsKeys[0].keyState"),
        "{error}"
    );
    let (status, _) = admin(
        &harness,
        Method::PATCH,
        &key_path,
        json!({"keyId": "key-other"}),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = admin(
        &harness,
        Method::PATCH,
        &format!("/_emulator/accounts/{DEFAULT_ACCOUNT}/kms-keys/key-nope"),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);

    let (status, region) = admin(
        &harness,
        Method::PATCH,
        "/_emulator/regions/cn-shanghai",
        json!({"defaultEncryptionSupported": false}),
    )
    .await;
    assert_eq!(
        (
            status.as_u16(),
            region["defaultEncryptionSupported"].as_bool()
        ),
        (200, Some(false))
    );
    let answer = harness
        .ecs(
            DEFAULT_AK,
            "EnableDiskEncryptionByDefault",
            &[("RegionId", "cn-shanghai")],
        )
        .await;
    assert_eq!(answer.code(), "Abs.InvalidAction.RegionNotSupport");
    // Accounts kept every change made before the region patch.
    let status_now = harness
        .ecs(DEFAULT_AK, "DescribeDiskEncryptionByDefaultStatus", &[HZ])
        .await;
    assert_eq!(status_now.json()["Encrypted"], true);
    let (status, _) = admin(
        &harness,
        Method::PATCH,
        "/_emulator/regions/mars-1",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = admin(
        &harness,
        Method::PATCH,
        "/_emulator/regions/cn-shanghai",
        json!({"regionId": "x"}),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn snapshots_rewind_the_state() {
    let harness = Harness::default_fixture();
    let (status, saved) = harness
        .admin(Method::POST, "/_emulator/snapshots/clean", None)
        .await;
    assert_eq!(
        (status.as_u16(), saved["name"].as_str()),
        (201, Some("clean"))
    );
    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    let (status, _) = harness
        .admin(Method::POST, "/_emulator/snapshots/clean/restore", None)
        .await;
    assert_eq!(status, 200);
    let answer = harness
        .ecs(DEFAULT_AK, "DescribeDiskEncryptionByDefaultStatus", &[HZ])
        .await;
    assert_eq!(answer.json()["Encrypted"], false);
    let (_, listed) = harness
        .admin(Method::GET, "/_emulator/snapshots", None)
        .await;
    assert_eq!(listed["snapshots"][0]["name"], "clean");
    assert!(
        listed["snapshots"][0]["createdAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let (status, _) = harness
        .admin(Method::DELETE, "/_emulator/snapshots/clean", None)
        .await;
    assert_eq!(status, 204);
    for (method, path) in [
        (Method::DELETE, "/_emulator/snapshots/clean"),
        (Method::POST, "/_emulator/snapshots/clean/restore"),
    ] {
        let (status, _) = harness.admin(method, path, None).await;
        assert_eq!(status, 404);
    }
    let (status, _) = harness
        .admin(Method::POST, "/_emulator/snapshots/bad%20name", None)
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn faults_fire_in_the_normal_envelope_as_told() {
    let harness = Harness::default_fixture();
    let rule = json!({"action": "ModifyDiskDefaultKMSKeyId", "accessKeyId": DEFAULT_AK, "code": "Throttling.User", "skip": 1, "times": 2, "retryAfter": 3});
    let (status, added) = admin(&harness, Method::POST, "/_emulator/faults", rule).await;
    assert_eq!(status, 201);
    let fault_id = added["faultId"].as_str().unwrap().to_owned();
    // Faults come before the action's own checks (no KMSKeyId here), after routing.
    let modify = || harness.ecs(DEFAULT_AK, "ModifyDiskDefaultKMSKeyId", &[HZ]);
    assert_eq!(modify().await.code(), "MissingParameter", "skipped once");
    for _ in 0..2 {
        let answer = modify().await;
        assert_error(
            &answer,
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        );
        assert_eq!(
            answer.json()["RequestId"],
            Value::from(answer.request_id_header.clone())
        );
    }
    assert_eq!(modify().await.code(), "MissingParameter", "times ran out");
    // Other actions and other callers are untouched.
    assert_ok(&harness.ecs(DEFAULT_AK, "DescribeRegions", &[]).await);
    let (_, listed) = harness.admin(Method::GET, "/_emulator/faults", None).await;
    let fault = &listed["faults"][0];
    assert_eq!(
        (
            fault["faultId"].as_str(),
            fault["fired"].as_u64(),
            fault["matched"].as_u64()
        ),
        (Some(fault_id.as_str()), Some(2), Some(4))
    );
    let (status, _) = harness
        .admin(
            Method::DELETE,
            &format!("/_emulator/faults/{fault_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = harness
        .admin(
            Method::DELETE,
            &format!("/_emulator/faults/{fault_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // A code of one's own, the retry header, a KMS envelope, latency alone.
    let custom = json!({"version": "2016-01-20", "code": "Teapot", "httpStatus": 418, "message": "short and stout", "retryAfter": 2});
    admin(&harness, Method::POST, "/_emulator/faults", custom).await;
    let request = Request::builder()
        .uri(format!(
            "/?Action=ListKeys&Version=2016-01-20&Format=JSON&AccessKeyId={DEFAULT_AK}"
        ))
        .body(Body::empty())
        .unwrap();
    let answer = harness.send(request).await;
    assert_error(&answer, 418, "Teapot", "short and stout");
    assert_eq!(answer.json()["HttpStatus"], 418);
    let (status, _) = harness
        .admin(Method::DELETE, "/_emulator/faults", None)
        .await;
    assert_eq!(status, 204);
    admin(
        &harness,
        Method::POST,
        "/_emulator/faults",
        json!({"action": "DescribeRegions", "latencyMs": 150}),
    )
    .await;
    let started = std::time::Instant::now();
    assert_ok(&harness.ecs(DEFAULT_AK, "DescribeRegions", &[]).await);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
}

#[tokio::test]
async fn the_retry_header_is_set_when_asked() {
    let harness = Harness::default_fixture();
    admin(
        &harness,
        Method::POST,
        "/_emulator/faults",
        json!({"code": "Throttling", "retryAfter": 5}),
    )
    .await;
    let request = Request::builder()
        .uri("/?Action=DescribeRegions&Version=2014-05-26&Format=JSON")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(harness.router(), request)
        .await
        .unwrap();
    assert_eq!(response.headers()["x-acs-retry-after"], "5");
}

#[tokio::test]
async fn bad_fault_rules_are_refused() {
    let harness = Harness::default_fixture();
    for (rule, expected) in [
        (json!({}), "needs a code"),
        (json!({"code": "Made.Up"}), "not in the catalogue"),
        (
            json!({"code": "Throttling", "colour": 1}),
            "unknown field `colour`",
        ),
        (json!({"code": "Throttling", "times": "often"}), "times"),
        (
            json!({"code": "Throttling", "probability": 0}),
            "probability",
        ),
    ] {
        let (status, error) =
            admin(&harness, Method::POST, "/_emulator/faults", rule.clone()).await;
        assert_eq!(status, 400, "{rule}");
        assert!(
            error["error"].as_str().unwrap().contains(expected),
            "{rule}: {error}"
        );
    }
}

#[tokio::test]
async fn faults_fire_after_authentication() {
    let settings = Settings {
        auth: AuthMode::Strict,
        ..Settings::default()
    };
    let harness = Harness::with_settings(ecs_emulator::DEFAULT_FIXTURE, settings);
    admin(
        &harness,
        Method::POST,
        "/_emulator/faults",
        json!({"code": "Throttling"}),
    )
    .await;
    let unsigned = harness
        .get("Action=DescribeRegions&Version=2014-05-26&Format=JSON")
        .await;
    assert_eq!(unsigned.code(), "MissingParameter");
}

#[tokio::test]
async fn the_journal_records_what_was_asked_and_what_went_unread() {
    let harness = Harness::default_fixture();
    harness
        .admin(Method::DELETE, "/_emulator/requests", None)
        .await;
    let answer = harness
        .ecs(
            DEFAULT_AK,
            "ModifyDiskDefaultKMSKeyId",
            &[
                HZ,
                ("KMSKeyId", DEFAULT_KEY),
                ("OwnerId", "123"),
                ("Signature", "abc"),
                ("SecurityToken", "tok"),
            ],
        )
        .await;
    assert_ok(&harness.ecs(DEFAULT_AK, "DescribeRegions", &[]).await);
    let (_, journal) = harness
        .admin(
            Method::GET,
            "/_emulator/requests?action=ModifyDiskDefaultKMSKeyId",
            None,
        )
        .await;
    let entries = journal["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(
        entry["requestId"],
        Value::from(answer.request_id_header.clone())
    );
    assert_eq!(entry["unreadParams"], json!(["OwnerId"]));
    assert_eq!(
        (
            entry["params"]["Signature"].as_str(),
            entry["params"]["SecurityToken"].as_str()
        ),
        (Some("***"), Some("***"))
    );
    assert_eq!(entry["params"]["KMSKeyId"], DEFAULT_KEY);
    for (field, value) in [
        ("method", json!("GET")),
        ("product", json!("Ecs")),
        ("version", json!("2014-05-26")),
        ("accessKeyId", json!(DEFAULT_AK)),
        ("accountId", json!(DEFAULT_ACCOUNT)),
        ("principal", json!("root")),
        ("httpStatus", json!(403)),
        ("code", json!("InvalidDefaultEncryption.NotFound")),
    ] {
        assert_eq!(entry[field], value, "{field}");
    }
    assert_eq!(
        entry["signature"],
        json!({"scheme": "V2", "verdict": "skipped", "stringToSign": null})
    );
    assert!(
        entry["latencyMicros"].is_u64() && entry["receivedAt"].as_str().unwrap().ends_with('Z')
    );

    let (_, successes) = harness
        .admin(Method::GET, "/_emulator/requests?code=ok", None)
        .await;
    assert_eq!(successes["requests"].as_array().unwrap().len(), 1);
    let (_, limited) = harness
        .admin(Method::GET, "/_emulator/requests?limit=1", None)
        .await;
    assert_eq!(
        limited["requests"][0]["action"], "DescribeRegions",
        "the newest"
    );
    let (status, _) = harness
        .admin(Method::GET, "/_emulator/requests?colour=red", None)
        .await;
    assert_eq!(status, 400);
    harness
        .admin(Method::DELETE, "/_emulator/requests", None)
        .await;
    let (_, empty) = harness
        .admin(Method::GET, "/_emulator/requests", None)
        .await;
    assert_eq!(empty["requests"], json!([]));
}

#[tokio::test]
async fn a_write_that_changes_nothing_takes_no_state_seq_of_its_own() {
    let harness = Harness::default_fixture();
    let modify = [HZ, ("KMSKeyId", DEFAULT_KEY)];
    let calls = [
        ("EnableDiskEncryptionByDefault", &[HZ][..]),
        ("ModifyDiskDefaultKMSKeyId", &modify[..]),
        ("ModifyDiskDefaultKMSKeyId", &modify[..]),
        ("ResetDiskDefaultKMSKeyId", &[HZ][..]),
        ("ResetDiskDefaultKMSKeyId", &[HZ][..]),
        ("DisableDiskEncryptionByDefault", &[HZ][..]),
    ];
    for (action, params) in calls {
        assert_ok(&harness.ecs(DEFAULT_AK, action, params).await);
    }
    let (_, journal) = harness
        .admin(Method::GET, "/_emulator/requests", None)
        .await;
    let seqs: Vec<u64> = journal["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["stateSeq"].as_u64().unwrap())
        .collect();
    // Enable, the first Modify, the first Reset and Disable change the state; the repeats
    // find it as they would leave it.
    assert_eq!(seqs, [1, 2, 2, 3, 3, 4], "{journal}");
}

/// An admin change moves `stateSeq` like an action's change; a refused one does not.
#[tokio::test]
async fn admin_changes_move_the_state_seq() {
    let harness = Harness::default_fixture();
    let last_seq = async || {
        let status = "DescribeDiskEncryptionByDefaultStatus";
        assert_ok(&harness.ecs(DEFAULT_AK, status, &[HZ]).await);
        let (_, journal) = harness
            .admin(Method::GET, "/_emulator/requests?limit=1", None)
            .await;
        journal["requests"][0]["stateSeq"].as_u64().unwrap()
    };
    assert_eq!(last_seq().await, 0);
    let path = "/_emulator/accounts/1234567890123456";
    let patch = r#"{"displayName": "renamed"}"#;
    let changes: [(Method, &str, Option<&str>); 6] = [
        (Method::PATCH, path, Some(patch)),
        (Method::POST, "/_emulator/accounts", Some("{}")),
        (
            Method::PATCH,
            "/_emulator/regions/cn-hangzhou",
            Some(r#"{"status": "available"}"#),
        ),
        (
            Method::PUT,
            "/_emulator/state",
            Some(ecs_emulator::DEFAULT_FIXTURE),
        ),
        (Method::POST, "/_emulator/reset", None),
        (Method::DELETE, "/_emulator/accounts/1000000000000101", None),
    ];
    for (i, (method, path, body)) in changes.into_iter().enumerate() {
        let (status, answer) = harness.admin(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        assert_eq!(last_seq().await, i as u64 + 1, "after {method} {path}");
    }
    for (method, path, body) in [
        (Method::PATCH, "/_emulator/accounts/999", Some(patch)),
        (Method::PATCH, path, Some(r#"{"accountId": "1"}"#)),
        (Method::PUT, "/_emulator/state", Some(r#"{"unknown": 1}"#)),
        (Method::POST, "/_emulator/snapshots/none/restore", None),
    ] {
        let (status, answer) = harness.admin(method.clone(), path, body).await;
        assert!(
            status.is_client_error(),
            "{method} {path}: {status} {answer}"
        );
        assert_eq!(last_seq().await, 6, "after the refused {method} {path}");
    }
}

#[tokio::test]
async fn the_journal_is_bounded_and_shows_signature_verdicts() {
    let settings = Settings {
        journal_capacity: 3,
        auth: AuthMode::Verify,
        ..Settings::default()
    };
    let harness = Harness::with_settings(ecs_emulator::DEFAULT_FIXTURE, settings);
    for _ in 0..5 {
        harness.get(&format!("Action=DescribeRegions&Version=2014-05-26&Format=JSON&AccessKeyId={DEFAULT_AK}&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Signature=bad")).await;
    }
    let (_, journal) = harness
        .admin(Method::GET, "/_emulator/requests", None)
        .await;
    let entries = journal["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let signature = &entries[2]["signature"];
    assert_eq!(
        (signature["scheme"].as_str(), signature["verdict"].as_str()),
        (Some("V2"), Some("mismatch"))
    );
    assert!(
        signature["stringToSign"]
            .as_str()
            .unwrap()
            .starts_with("GET&%2F&AccessKeyId")
    );
    assert_eq!(entries[2]["code"], "SignatureDoesNotMatch");
}

#[tokio::test]
async fn the_journal_never_shows_a_security_token() {
    let settings = Settings {
        auth: AuthMode::Verify,
        ..Settings::default()
    };
    let harness = Harness::with_settings(ecs_emulator::DEFAULT_FIXTURE, settings);
    let token = "CAIDemoSecurityTokenRoot01";
    harness
        .get(&format!(
            "Action=DescribeRegions&Version=2014-05-26&Format=JSON&AccessKeyId=STS.DemoDefaultRoot01&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Signature=bad&SecurityToken={}",
            crate::support::encode(token)
        ))
        .await;
    let (_, journal) = harness
        .admin(Method::GET, "/_emulator/requests", None)
        .await;
    let text = journal.to_string();
    assert!(!text.contains("CAIDemoSecurityTokenRoot01"), "{text}");
    let string_to_sign = journal["requests"][0]["signature"]["stringToSign"]
        .as_str()
        .unwrap();
    assert!(
        string_to_sign.contains("SecurityToken%3D***"),
        "{string_to_sign}"
    );
}

#[tokio::test]
async fn coverage_lists_every_action_and_code() {
    let harness = Harness::default_fixture();
    let (status, coverage) = harness
        .admin(Method::GET, "/_emulator/coverage", None)
        .await;
    assert_eq!(status, 200);
    let entries = coverage["coverage"].as_array().unwrap();
    let find = |action: &str, code: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["code"] == code)
            .cloned()
    };
    let cmk = find(
        "ModifyDiskDefaultKMSKeyId",
        "InvalidParameter.KMSKeyId.CMKNotEnabled",
    )
    .unwrap();
    assert_eq!(
        (
            cmk["trigger"].as_str(),
            cmk["httpStatus"].as_u64(),
            cmk["product"].as_str()
        ),
        (Some("state"), Some(400), Some("Ecs"))
    );
    let throttling = find("ModifyDiskDefaultKMSKeyId", "Throttling").unwrap();
    assert_eq!(throttling["trigger"], "fault");
    assert!(
        throttling["how"]
            .as_str()
            .unwrap()
            .contains("/_emulator/faults")
    );
    assert_eq!(
        find(
            "DescribeDiskEncryptionByDefaultStatus",
            "UserNotInTheWhiteList"
        )
        .unwrap()["trigger"],
        "fault",
        "Describe does not check it"
    );
    assert_eq!(
        find("DisableKey", "Forbidden.NoPermission").unwrap()["trigger"],
        "state"
    );
    // Open to every caller: RAM refuses them nothing.
    for action in ["DescribeRegions", "DescribeZones"] {
        assert_eq!(
            find(action, "Forbidden.RAM").unwrap()["trigger"],
            "fault",
            "{action}"
        );
    }
    assert_eq!(
        find("DescribeZones", "InvalidRegionId.NotFound").unwrap()["trigger"],
        "state"
    );
    // Every action pairs with every code exactly once.
    let actions: std::collections::HashSet<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // A code may have several entries (another status or message on another action's page).
    let codes: std::collections::HashSet<(&str, u64, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap(),
                e["httpStatus"].as_u64().unwrap(),
                e["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(entries.len(), 26 * codes.len());
    assert_eq!(
        actions.len(),
        25,
        "DescribeRegions of ECS and KMS share a name"
    );
}

#[tokio::test]
async fn the_admin_token_guards_everything_but_health() {
    let settings = Settings {
        admin_token: Some("s3cret".into()),
        auth: AuthMode::Off,
        ..Settings::default()
    };
    let harness = Harness::with_settings(ecs_emulator::DEFAULT_FIXTURE, settings);
    let (status, _) = harness.admin(Method::GET, "/_emulator/health", None).await;
    assert_eq!(status, 200);
    for path in [
        "/_emulator/state",
        "/_emulator/requests",
        "/_emulator/nowhere",
    ] {
        let (status, error) = harness.admin(Method::GET, path, None).await;
        assert_eq!(status, 401, "{path}");
        assert!(error["error"].as_str().unwrap().contains("Bearer"));
    }
    let with = |token: &str| {
        Request::builder()
            .uri("/_emulator/state")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(harness.send(with("s3cret")).await.status, 200);
    assert_eq!(harness.send(with("wrong")).await.status, 401);
    // RPC is not affected.
    assert_ok(&harness.ecs(DEFAULT_AK, "DescribeRegions", &[]).await);
}
