//! Every row of the checks table of `ecs-default-encryption.md`, for every action it applies
//! to, and the precedence when two conditions hold at once. Expected statuses and messages are
//! written out from `errors.md`, not taken from the catalogue under test.

use crate::support::{Harness, assert_error, assert_ok};
use serde_json::{Value, json};

const ENABLE: &str = "EnableDiskEncryptionByDefault";
const DISABLE: &str = "DisableDiskEncryptionByDefault";
const STATUS: &str = "DescribeDiskEncryptionByDefaultStatus";
const MODIFY: &str = "ModifyDiskDefaultKMSKeyId";
const RESET: &str = "ResetDiskDefaultKMSKeyId";
const DESCRIBE_KEY: &str = "DescribeDiskDefaultKMSKeyId";

/// (status, code, message) of `errors.md`.
type Expected = (u16, &'static str, &'static str);
const REGION_NOT_EXISTS: Expected = (
    403,
    "InvalidParameter.RegionIdNotExists",
    "The specified region does not exists.",
);
const REGION_NOT_SUPPORT: Expected = (
    403,
    "Abs.InvalidAction.RegionNotSupport",
    "This region does not support this action.",
);
const NOT_WHITELISTED: Expected = (
    403,
    "UserNotInTheWhiteList",
    "The user is not in disk white list.",
);
const KMS_NOT_OPEN: Expected = (
    403,
    "InvalidOperation.KMSServiceNotOpen",
    "KMS service is currently not open.",
);
const KMS_NOT_ENABLED: Expected = (
    400,
    "InvalidParameter.Encrypted.KmsNotEnabled",
    "KMS must be enabled for encrypted disks.",
);
const ALREADY_ENABLED: Expected = (
    403,
    "InvalidOperation.DefaultEncryptionAlreadyEnabled",
    "The specified region is already default encryption settings.",
);
const NOT_CONFIGURED: Expected = (
    403,
    "InvalidDefaultEncryption.NotFound",
    "You have not configured default encryption setting in this region.",
);
const UNAUTHORIZED: Expected = (
    403,
    "InvalidParameter.KMSKeyId.KMSUnauthorized",
    "ECS service have no right to access your KMS.",
);
const CMK_NOT_ENABLED: Expected = (
    400,
    "InvalidParameter.KMSKeyId.CMKNotEnabled",
    "The CMK needs to be enabled.",
);
const MISSING_REGION: Expected = (
    400,
    "MissingParameter",
    "The input parameter \"RegionId\" that is mandatory for processing this request is not supplied.",
);
const MISSING_KEY: Expected = (
    400,
    "MissingParameter",
    "The input parameter \"KMSKeyId\" that is mandatory for processing this request is not supplied.",
);
const FORBIDDEN_RAM: Expected = (
    403,
    "Forbidden.RAM",
    "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
);

/// An account in cn-hangzhou with one key of each kind, with `facts` merged over it.
/// `enabled: true` in facts is shorthand for the feature being on in cn-hangzhou.
fn account(facts: Value) -> Value {
    let mut account = json!({
        "kmsKeys": [
            {"keyId": "k-ok", "regionId": "cn-hangzhou", "aliases": ["alias/ok"]},
            {"keyId": "k-off", "regionId": "cn-hangzhou", "keyState": "Disabled"},
            {"keyId": "k-pending", "regionId": "cn-hangzhou", "keyState": "PendingDeletion"},
            {"keyId": "k-import", "regionId": "cn-hangzhou", "keyState": "PendingImport"},
            {"keyId": "k-unauth", "regionId": "cn-hangzhou", "ecsAuthorized": false},
            {"keyId": "k-unauth-off", "regionId": "cn-hangzhou", "ecsAuthorized": false, "keyState": "Disabled"},
            {"keyId": "k-other-region", "regionId": "xx-unsupported"},
        ],
    });
    crate::support::with_facts(&mut account, &facts);
    account
}

/// Runs `action` with `params` (RegionId defaults to cn-hangzhou unless given) against an
/// account with `facts`, in a harness of its own.
async fn run_in(
    facts: Value,
    action: &str,
    params: &[(&str, &str)],
) -> (Harness, crate::support::Answer) {
    let harness = Harness::with_account(account(facts));
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if !params
        .iter()
        .any(|(name, _)| *name == "RegionId" || *name == "-RegionId")
    {
        all.push(("RegionId", "cn-hangzhou"));
    }
    all.retain(|(name, _)| *name != "-RegionId");
    let answer = harness.ecs("AK1", action, &all).await;
    (harness, answer)
}

async fn run(facts: Value, action: &str, params: &[(&str, &str)]) -> crate::support::Answer {
    run_in(facts, action, params).await.1
}

/// The key ids KMS `ListKeys` answers in cn-hangzhou.
async fn listed_keys(harness: &Harness) -> Vec<String> {
    let answer = harness.kms("AK1", "ListKeys", &[("PageSize", "100")]).await;
    assert_ok(&answer);
    answer.json()["Keys"]["Key"]
        .as_array()
        .expect("a key list")
        .iter()
        .map(|key| key["KeyId"].as_str().expect("a key id").to_owned())
        .collect()
}

/// The refused request changed nothing: the same state document, the same keys in KMS (no
/// service key created on the way to the refusal).
async fn expect(facts: Value, action: &str, params: &[(&str, &str)], expected: Expected) {
    let untouched = Harness::with_account(account(facts.clone()));
    let (harness, answer) = run_in(facts.clone(), action, params).await;
    let (status, code, message) = expected;
    assert_error(&answer, status, code, message);
    let state = async |harness: &Harness| {
        harness
            .admin(axum::http::Method::GET, "/_emulator/state", None)
            .await
            .1
    };
    assert_eq!(
        state(&harness).await,
        state(&untouched).await,
        "{action} {params:?} refused with {code} changed the state"
    );
    if facts.get("kmsServiceOpen") != Some(&Value::Bool(false)) {
        assert_eq!(
            listed_keys(&harness).await,
            listed_keys(&untouched).await,
            "{action} {params:?} refused with {code} changed the keys"
        );
    }
}

async fn expect_ok(facts: Value, action: &str, params: &[(&str, &str)]) {
    assert_ok(&run(facts, action, params).await);
}

const ALL: [&str; 6] = [ENABLE, DISABLE, STATUS, MODIFY, RESET, DESCRIBE_KEY];
const MANAGING: [&str; 4] = [ENABLE, DISABLE, MODIFY, RESET];
const WITH_KMS: [&str; 3] = [ENABLE, MODIFY, RESET];

fn key_param(action: &str) -> Vec<(&'static str, &'static str)> {
    if action == MODIFY {
        vec![("KMSKeyId", "k-ok")]
    } else {
        vec![]
    }
}

#[tokio::test]
async fn region_id_is_required_by_every_action() {
    for action in ALL {
        let mut params = key_param(action);
        params.push(("-RegionId", ""));
        expect(json!({}), action, &params, MISSING_REGION).await;
        for empty in ["", "None"] {
            let mut params = key_param(action);
            params.push(("RegionId", empty));
            expect(json!({}), action, &params, MISSING_REGION).await;
        }
    }
}

#[tokio::test]
async fn r1_region_must_exist_for_every_action() {
    for action in ALL {
        let mut params = key_param(action);
        params.push(("RegionId", "cn-atlantis"));
        expect(json!({"enabled": true}), action, &params, REGION_NOT_EXISTS).await;
    }
}

#[tokio::test]
async fn r2_region_must_support_the_feature_except_for_describes() {
    for action in MANAGING {
        let mut params = key_param(action);
        params.push(("RegionId", "xx-unsupported"));
        expect(json!({}), action, &params, REGION_NOT_SUPPORT).await;
    }
    for action in [STATUS, DESCRIBE_KEY] {
        expect_ok(json!({}), action, &[("RegionId", "xx-unsupported")]).await;
    }
}

#[tokio::test]
async fn a1_account_must_be_whitelisted_except_for_describes() {
    for action in MANAGING {
        let facts = json!({"diskWhitelisted": false, "enabled": true});
        expect(facts, action, &key_param(action), NOT_WHITELISTED).await;
    }
    for action in [STATUS, DESCRIBE_KEY] {
        expect_ok(json!({"diskWhitelisted": false}), action, &[]).await;
    }
}

#[tokio::test]
async fn a2_kms_service_must_be_open_for_enable_modify_reset() {
    for action in WITH_KMS {
        let facts = json!({"kmsServiceOpen": false, "enabled": action != ENABLE});
        expect(facts, action, &key_param(action), KMS_NOT_OPEN).await;
    }
    expect_ok(
        json!({"kmsServiceOpen": false, "enabled": true}),
        DISABLE,
        &[],
    )
    .await;
    expect_ok(json!({"kmsServiceOpen": false}), STATUS, &[]).await;
    expect_ok(json!({"kmsServiceOpen": false}), DESCRIBE_KEY, &[]).await;
}

#[tokio::test]
async fn a3_kms_must_be_enabled_in_the_region_for_enable_modify_reset() {
    for action in WITH_KMS {
        let facts = json!({"kmsEnabled": false, "enabled": action != ENABLE});
        expect(facts, action, &key_param(action), KMS_NOT_ENABLED).await;
    }
    expect_ok(json!({"kmsEnabled": false, "enabled": true}), DISABLE, &[]).await;
}

#[tokio::test]
async fn f1_enable_refuses_when_already_enabled() {
    expect(json!({"enabled": true}), ENABLE, &[], ALREADY_ENABLED).await;
}

#[tokio::test]
async fn f2_modify_reset_disable_need_the_feature_on() {
    for action in [MODIFY, RESET, DISABLE] {
        expect(json!({}), action, &key_param(action), NOT_CONFIGURED).await;
    }
}

#[tokio::test]
async fn k1_modify_names_the_key_as_given_when_it_does_not_resolve() {
    let on = || json!({"enabled": true});
    for reference in [
        "key-nope",
        "alias/nope",
        "k-other-region",
        "acs:kms:cn-hangzhou:999:key/k-ok",
        "acs:kms:cn-beijing:1:key/k-ok",
        "acs:kms:cn-hangzhou:1:secret/k-ok",
    ] {
        let message = format!("The specified KMSKeyId not found, {reference}.");
        let answer = run(on(), MODIFY, &[("KMSKeyId", reference)]).await;
        assert_error(&answer, 403, "InvalidOperation.KMSKeyIdNotFound", &message);
    }
}

#[tokio::test]
async fn k2_ecs_must_be_allowed_to_use_the_key() {
    // The account's role, for every key-using action (the service key too).
    let no_role = |enabled: bool| json!({"ecsKmsRoleGranted": false, "enabled": enabled});
    expect(no_role(false), ENABLE, &[], UNAUTHORIZED).await;
    expect(no_role(true), MODIFY, &[("KMSKeyId", "k-ok")], UNAUTHORIZED).await;
    expect(no_role(true), RESET, &[], UNAUTHORIZED).await;
    // The key's own authorization.
    expect(
        json!({"enabled": true}),
        MODIFY,
        &[("KMSKeyId", "k-unauth")],
        UNAUTHORIZED,
    )
    .await;
    expect(json!({"configured": "k-unauth"}), ENABLE, &[], UNAUTHORIZED).await;
}

#[tokio::test]
async fn k3_the_key_must_be_enabled() {
    for key in ["k-off", "k-pending", "k-import"] {
        expect(
            json!({"enabled": true}),
            MODIFY,
            &[("KMSKeyId", key)],
            CMK_NOT_ENABLED,
        )
        .await;
        expect(json!({"configured": key}), ENABLE, &[], CMK_NOT_ENABLED).await;
    }
}

#[tokio::test]
async fn modify_requires_kms_key_id() {
    expect(json!({"enabled": true}), MODIFY, &[], MISSING_KEY).await;
    expect(
        json!({"enabled": true}),
        MODIFY,
        &[("KMSKeyId", "")],
        MISSING_KEY,
    )
    .await;
}

#[tokio::test]
async fn precedence_when_two_conditions_hold() {
    // Parameters before any state.
    expect(
        json!({}),
        MODIFY,
        &[("RegionId", "cn-atlantis")],
        MISSING_KEY,
    )
    .await;
    // R1 before A1; R2 before A1.
    expect(
        json!({"diskWhitelisted": false}),
        ENABLE,
        &[("RegionId", "cn-atlantis")],
        REGION_NOT_EXISTS,
    )
    .await;
    expect(
        json!({"diskWhitelisted": false}),
        ENABLE,
        &[("RegionId", "xx-unsupported")],
        REGION_NOT_SUPPORT,
    )
    .await;
    // A1 before A2; A2 before A3; A3 before F1 and F2.
    expect(
        json!({"diskWhitelisted": false, "kmsServiceOpen": false}),
        ENABLE,
        &[],
        NOT_WHITELISTED,
    )
    .await;
    expect(
        json!({"kmsServiceOpen": false, "kmsEnabled": false}),
        ENABLE,
        &[],
        KMS_NOT_OPEN,
    )
    .await;
    expect(
        json!({"kmsEnabled": false, "enabled": true}),
        ENABLE,
        &[],
        KMS_NOT_ENABLED,
    )
    .await;
    expect(
        json!({"kmsEnabled": false}),
        MODIFY,
        &[("KMSKeyId", "k-ok")],
        KMS_NOT_ENABLED,
    )
    .await;
    // A1 before F2 for Disable.
    expect(
        json!({"diskWhitelisted": false}),
        DISABLE,
        &[],
        NOT_WHITELISTED,
    )
    .await;
    // F1 before K2; F2 before K1.
    expect(
        json!({"ecsKmsRoleGranted": false, "enabled": true}),
        ENABLE,
        &[],
        ALREADY_ENABLED,
    )
    .await;
    expect(
        json!({}),
        MODIFY,
        &[("KMSKeyId", "key-nope")],
        NOT_CONFIGURED,
    )
    .await;
    // K1 before K2; K2 before K3.
    let answer = run(
        json!({"ecsKmsRoleGranted": false, "enabled": true}),
        MODIFY,
        &[("KMSKeyId", "key-nope")],
    )
    .await;
    assert_eq!(answer.code(), "InvalidOperation.KMSKeyIdNotFound");
    expect(
        json!({"enabled": true}),
        MODIFY,
        &[("KMSKeyId", "k-unauth-off")],
        UNAUTHORIZED,
    )
    .await;
    expect(
        json!({"ecsKmsRoleGranted": false, "enabled": true}),
        MODIFY,
        &[("KMSKeyId", "k-off")],
        UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn authorization_comes_before_the_action_checks() {
    let facts = json!({"ramUsers": [{"userName": "ro", "policies": ["AliyunECSReadOnlyAccess"],
        "accessKeys": [{"accessKeyId": "AK-RO", "accessKeySecret": "s"}]}]});
    let harness = Harness::with_account(account(facts));
    let answer = harness
        .ecs("AK-RO", ENABLE, &[("RegionId", "cn-atlantis")])
        .await;
    let (status, code, message) = FORBIDDEN_RAM;
    assert_error(&answer, status, code, message);
    // Read-only may describe.
    assert_ok(
        &harness
            .ecs("AK-RO", STATUS, &[("RegionId", "cn-hangzhou")])
            .await,
    );
}

#[tokio::test]
async fn modify_is_for_root_identities_only() {
    let facts = json!({"enabled": true, "ramUsers": [{"userName": "admin", "policies": ["AliyunECSFullAccess"],
        "accessKeys": [{"accessKeyId": "AK-ADMIN", "accessKeySecret": "s"}]}]});
    let harness = Harness::with_account(account(facts));
    let answer = harness
        .ecs(
            "AK-ADMIN",
            MODIFY,
            &[("RegionId", "cn-hangzhou"), ("KMSKeyId", "k-ok")],
        )
        .await;
    let (status, code, message) = FORBIDDEN_RAM;
    assert_error(&answer, status, code, message);
    let detail = &answer.json()["AccessDeniedDetail"];
    assert_eq!(detail["AuthAction"], "ecs:ModifyDiskDefaultKMSKeyId");
    assert_eq!(detail["AuthPrincipalType"], "SubUser");
    assert_eq!(detail["AuthPrincipalDisplayName"], "admin");
    assert_eq!(detail["AuthPrincipalOwnerId"], "1");
    assert_eq!(detail["NoPermissionType"], "ImplicitDeny");
    // Full access may do the rest.
    assert_ok(
        &harness
            .ecs("AK-ADMIN", RESET, &[("RegionId", "cn-hangzhou")])
            .await,
    );
    // A KMS-only policy grants nothing in ECS.
    let facts = json!({"ramUsers": [{"userName": "kms", "policies": ["AliyunKMSFullAccess"],
        "accessKeys": [{"accessKeyId": "AK-KMS", "accessKeySecret": "s"}]}]});
    let harness = Harness::with_account(account(facts));
    let answer = harness
        .ecs("AK-KMS", STATUS, &[("RegionId", "cn-hangzhou")])
        .await;
    assert_eq!(answer.code(), "Forbidden.RAM");
}
