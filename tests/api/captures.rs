//! Replays every request the official SDKs were recorded sending
//! (`../shared/vectors/captures/`, or `$ECS_EMULATOR_VECTORS/captures`, and the project's own
//! recordings of the STS clients in `tests/vectors/captures/`) against a fresh app:
//! each must be decoded, routed by (Version, Action) and answered in JSON as the action
//! says. Signatures are not checked here (`--auth off`; `signing.rs` replays them verified).

use crate::support::{DEFAULT_AK, DEFAULT_KEY, Harness, assert_ok};
use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::Value;
use std::path::PathBuf;

pub fn vectors_dir() -> PathBuf {
    let vectors = std::env::var_os("ECS_EMULATOR_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    assert!(
        vectors.join("captures").is_dir(),
        "recorded SDK vectors not found at {} (set ECS_EMULATOR_VECTORS to the vectors folder)",
        vectors.display()
    );
    vectors
}

/// Every capture file, by name, sorted: the shared recordings, then the project's own
/// (`tests/vectors/captures/`: the STS clients, recorded by `tests/vectors/record_sts.py`).
pub fn captures() -> Vec<(String, Value)> {
    let own = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/captures");
    let mut all = Vec::new();
    for folder in [vectors_dir().join("captures"), own] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        all.extend(files.iter().map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let capture = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
            (name, capture)
        }));
    }
    all
}

pub fn replay_request(recorded: &Value) -> Request<Body> {
    let method = Method::from_bytes(recorded["method"].as_str().unwrap().as_bytes()).unwrap();
    let query = recorded["raw_query"].as_str().unwrap();
    let uri = if query.is_empty() {
        "/".to_owned()
    } else {
        format!("/?{query}")
    };
    let mut builder = Request::builder().method(method).uri(uri);
    for header in recorded["headers"].as_array().unwrap() {
        builder = builder.header(header[0].as_str().unwrap(), header[1].as_str().unwrap());
    }
    let body = recorded["body"].as_str().unwrap_or("").to_owned();
    builder.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn every_recorded_sdk_request_is_routed_and_answered() {
    let all = captures();
    assert!(all.len() >= 90, "only {} captures", all.len());
    for (name, capture) in &all {
        let action = capture["action"].as_str().unwrap();
        for recorded in capture["requests"].as_array().unwrap() {
            let harness = Harness::default_fixture();
            if matches!(
                action,
                "ModifyDiskDefaultKMSKeyId"
                    | "ResetDiskDefaultKMSKeyId"
                    | "DisableDiskEncryptionByDefault"
            ) {
                let enable = harness
                    .ecs(
                        DEFAULT_AK,
                        "EnableDiskEncryptionByDefault",
                        &[("RegionId", "cn-hangzhou")],
                    )
                    .await;
                assert_ok(&enable);
            }
            let answer = harness.send(replay_request(recorded)).await;
            assert_eq!(
                answer.content_type, "application/json;charset=utf-8",
                "{name}"
            );
            let body = answer.json();
            assert_ok(&answer);
            match capture["product"].as_str().unwrap() {
                "ecs" => check_ecs_effect(&harness, action, &body, name).await,
                "sts" => check_sts_answer(action, &body, name),
                _ => check_kms_effect(&harness, action, &body, name).await,
            }
        }
    }
}

async fn check_ecs_effect(harness: &Harness, action: &str, body: &Value, name: &str) {
    let hz = [("RegionId", "cn-hangzhou")];
    let status = harness
        .ecs(DEFAULT_AK, "DescribeDiskEncryptionByDefaultStatus", &hz)
        .await;
    let configured = harness
        .ecs(DEFAULT_AK, "DescribeDiskDefaultKMSKeyId", &hz)
        .await;
    let (encrypted, key) = (
        status.json()["Encrypted"].clone(),
        configured.json()["KMSKeyId"].clone(),
    );
    match action {
        "DescribeRegions" => {
            let regions = body["Regions"]["Region"].as_array().unwrap();
            assert_eq!(regions.len(), 29, "{name}");
            assert_eq!(
                regions[0]["LocalName"], "China (Qingdao)",
                "{name}: AcceptLanguage en-US"
            );
        }
        "DescribeDiskDefaultKMSKeyId" => assert!(
            body["KMSKeyId"].as_str().unwrap().starts_with("key-hzz"),
            "{name}"
        ),
        "DescribeDiskEncryptionByDefaultStatus" => assert_eq!(body["Encrypted"], false, "{name}"),
        "EnableDiskEncryptionByDefault" => assert_eq!(encrypted, true, "{name}"),
        "DisableDiskEncryptionByDefault" => assert_eq!(encrypted, false, "{name}"),
        "ModifyDiskDefaultKMSKeyId" => assert_eq!(key, DEFAULT_KEY, "{name}"),
        "ResetDiskDefaultKMSKeyId" => assert_ne!(key, DEFAULT_KEY, "{name}"),
        other => panic!("{name}: no expectation for {other}"),
    }
}

/// The STS captures: GetCallerIdentity signed with the default root key, AssumeRole with the
/// `deployer` user's.
fn check_sts_answer(action: &str, body: &Value, name: &str) {
    match action {
        "GetCallerIdentity" => {
            assert_eq!(body["IdentityType"], "Account", "{name}");
            assert_eq!(body["AccountId"], crate::support::DEFAULT_ACCOUNT, "{name}");
        }
        "AssumeRole" => {
            let id = body["Credentials"]["AccessKeyId"].as_str().unwrap();
            assert!(id.starts_with("STS."), "{name}: {body}");
            assert_eq!(
                body["AssumedRoleUser"]["Arn"].as_str().unwrap(),
                format!(
                    "acs:ram::1234567890123456:role/ecs-operator/{}",
                    body["AssumedRoleUser"]["AssumedRoleId"]
                        .as_str()
                        .unwrap()
                        .split_once(':')
                        .unwrap()
                        .1
                ),
                "{name}"
            );
        }
        other => panic!("{name}: no expectation for {other}"),
    }
}

async fn check_kms_effect(harness: &Harness, action: &str, body: &Value, name: &str) {
    let describe = harness
        .get(&format!("Action=DescribeKey&Version=2016-01-20&Format=JSON&AccessKeyId={DEFAULT_AK}&KeyId={DEFAULT_KEY}"))
        .await;
    let state = describe.json()["KeyMetadata"]["KeyState"].clone();
    match action {
        "CreateKey" => {
            let metadata = &body["KeyMetadata"];
            assert_eq!(
                metadata["Description"], "emu test ~*'()!+/=&:; 中文 key",
                "{name}"
            );
            assert_eq!(metadata["KeyState"], "Enabled", "{name}");
            assert_eq!(metadata["AutomaticRotation"], "Enabled", "{name}");
            assert_eq!(metadata["RotationInterval"], "604800s", "{name}");
            assert!(
                metadata["KeyId"].as_str().unwrap().starts_with("key-hzz"),
                "{name}"
            );
        }
        "DescribeKey" => assert_eq!(body["KeyMetadata"]["KeyId"], DEFAULT_KEY, "{name}"),
        "ListKeys" => {
            assert_eq!(body["PageNumber"], 1, "{name}");
            assert_eq!(body["PageSize"], 10, "{name}");
            assert_eq!(
                body["TotalCount"], 2,
                "{name}: the default account's Hangzhou keys"
            );
        }
        "EnableKey" => assert_eq!(state, "Enabled", "{name}"),
        "DisableKey" => assert_eq!(state, "Disabled", "{name}"),
        other => panic!("{name}: no expectation for {other}"),
    }
}
