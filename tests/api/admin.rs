//! The admin subset: health, state dump and replace, reset; JSON errors for everything else.

use crate::support::{DEFAULT_AK, Harness, assert_ok};
use axum::http::Method;
use serde_json::json;

#[tokio::test]
async fn health_is_ready() {
    let (status, body) = Harness::default_fixture()
        .admin(Method::GET, "/_emulator/health", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_state_round_trips_through_get_and_put() {
    let harness = Harness::default_fixture();
    let (status, state) = harness.admin(Method::GET, "/_emulator/state", None).await;
    assert_eq!(status, 200);
    assert_eq!(state["regions"].as_array().unwrap().len(), 29);
    assert_eq!(state["accounts"][0]["accountId"], "1234567890123456");
    // Defaults are written out, so the dump is the whole truth.
    assert_eq!(state["accounts"][0]["diskWhitelisted"], true);
    let (status, replaced) = harness
        .admin(Method::PUT, "/_emulator/state", Some(&state.to_string()))
        .await;
    assert_eq!(status, 200);
    assert_eq!(replaced, state);
}

#[tokio::test]
async fn a_bad_document_changes_nothing_and_names_the_path() {
    let harness = Harness::default_fixture();
    let (_, before) = harness.admin(Method::GET, "/_emulator/state", None).await;
    let cases = [
        ("not json", "expected ident"),
        (
            r#"{"accounts":[{"accountId":"1","kmsKeys":[{"keyId":"k","regionId":"nowhere"}]}]}"#,
            "accounts[0].kmsKeys[0].regionId: unknown region \"nowhere\"",
        ),
        (r#"{"regions":[],"acounts":[]}"#, "unknown field `acounts`"),
        (
            r#"{"accounts":[{"accountId":"1","kmsKeys":[{"keyId":"k","regionId":"r","keyState":"Broken"}]}]}"#,
            "accounts[0].kmsKeys[0].keyState: unknown variant `Broken`",
        ),
        // Objects given as arrays (serde would read them by position), at every depth.
        (
            r#"{"regions":[["cn-hangzhou"]]}"#,
            "regions[0]: invalid type: sequence, expected struct Region",
        ),
        (
            r#"{"accounts":[["1"]]}"#,
            "accounts[0]: invalid type: sequence, expected struct Account",
        ),
        (
            r#"{"accounts":[{"accountId":"1","accessKeys":[["AK","s","Active"]]}]}"#,
            "accounts[0].accessKeys[0]: invalid type: sequence, expected struct AccessKey",
        ),
        (
            r#"{"accounts":[{"accountId":"1","regionSettings":{"cn-hangzhou":{"defaultEncryption":[true]}}}]}"#,
            "defaultEncryption: invalid type: sequence, expected struct DefaultEncryption",
        ),
    ];
    for (body, expected) in cases {
        let (status, error) = harness
            .admin(Method::PUT, "/_emulator/state", Some(body))
            .await;
        assert_eq!(status, 400, "{body}");
        let message = error["error"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    let (_, after) = harness.admin(Method::GET, "/_emulator/state", None).await;
    assert_eq!(before, after);
}

/// Other admin bodies read their structs from objects only too.
#[tokio::test]
async fn admin_bodies_given_as_arrays_are_refused() {
    let harness = Harness::default_fixture();
    let body = r#"["ModifyDiskDefaultKMSKeyId", null, null, null, null, "Throttling.User"]"#;
    let (status, error) = harness
        .admin(Method::POST, "/_emulator/faults", Some(body))
        .await;
    assert_eq!(status, 400, "{error}");
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("invalid type: sequence, expected struct Rule"),
        "{message}"
    );
    let (_, faults) = harness.admin(Method::GET, "/_emulator/faults", None).await;
    assert_eq!(faults["faults"], serde_json::json!([]));
}

#[tokio::test]
async fn put_replaces_and_reset_restores_the_boot_state() {
    let harness = Harness::default_fixture();
    let minimal = json!({
        "regions": [{"regionId": "cn-hangzhou"}],
        "accounts": [{"accountId": "42", "accessKeys": [{"accessKeyId": "AK42", "accessKeySecret": "s"}]}],
    });
    let (status, _) = harness
        .admin(Method::PUT, "/_emulator/state", Some(&minimal.to_string()))
        .await;
    assert_eq!(status, 200);
    let answer = harness.ecs("AK42", "DescribeRegions", &[]).await;
    assert_eq!(
        answer.json()["Regions"]["Region"].as_array().unwrap().len(),
        1
    );

    let (status, state) = harness.admin(Method::POST, "/_emulator/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(state["regions"].as_array().unwrap().len(), 29);
    // Changes made after boot are gone too.
    assert_ok(
        &harness
            .ecs(
                DEFAULT_AK,
                "EnableDiskEncryptionByDefault",
                &[("RegionId", "cn-hangzhou")],
            )
            .await,
    );
    harness.admin(Method::POST, "/_emulator/reset", None).await;
    let answer = harness
        .ecs(
            DEFAULT_AK,
            "DescribeDiskEncryptionByDefaultStatus",
            &[("RegionId", "cn-hangzhou")],
        )
        .await;
    assert_eq!(answer.json()["Encrypted"], false);
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let harness = Harness::default_fixture();
    let (status, body) = harness.admin(Method::GET, "/_emulator/nothing", None).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (404, Some("no admin endpoint at /_emulator/nothing"))
    );
    let (status, body) = harness
        .admin(Method::DELETE, "/_emulator/state", None)
        .await;
    assert_eq!(status, 405);
    assert!(body["error"].as_str().unwrap().contains("DELETE"));
    let (status, _) = harness.admin(Method::GET, "/_emulator/reset", None).await;
    assert_eq!(status, 405);
    let (status, _) = harness.admin(Method::POST, "/_emulator/health", None).await;
    assert_eq!(status, 405);
}
