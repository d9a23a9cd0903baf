//! STS on the same port (`sts.md`): who is calling, AssumeRole's checks in order, and the
//! issued sessions as credentials of the emulator. Signatures and tokens of sessions under
//! `strict`: `signing.rs`.

use crate::support::{Answer, DEFAULT_ACCOUNT, DEFAULT_AK, Harness, assert_error, assert_ok};
use axum::http::Method;
use serde_json::{Value, json};

const DEPLOYER: &str = "LTAI5tDemoDeployer01";
const ROLE_ARN: &str = "acs:ram::1234567890123456:role/ecs-operator";
const ROLE_ID: &str = "300012345678901234";
const NO_PERMISSION: Expected = (
    403,
    "NoPermission",
    "You are not authorized to do this action. You should be authorized by RAM.",
);
const DURATION: Expected = (
    400,
    "InvalidParameter.DurationSeconds",
    "The Min/Max value of DurationSeconds is 15min/1hr.",
);

/// An error's (status, code, message).
type Expected<'a> = (u16, &'a str, &'a str);

#[track_caller]
fn expect(answer: &Answer, (status, code, message): Expected) {
    assert_error(answer, status, code, message);
    let body = answer.json();
    assert_eq!(body["HostId"], "sts.aliyuncs.com", "{}", answer.text);
    let recommend = body["Recommend"].as_str().unwrap();
    assert!(recommend.contains("&product=Sts&"), "{recommend}");
}

async fn who(harness: &Harness, access_key_id: &str) -> Value {
    let answer = harness.sts(access_key_id, "GetCallerIdentity", &[]).await;
    assert_ok(&answer);
    let mut body = answer.json();
    body.as_object_mut().unwrap().remove("RequestId");
    body
}

async fn assume(harness: &Harness, params: &[(&str, &str)]) -> Answer {
    harness.sts(DEPLOYER, "AssumeRole", params).await
}

/// Assumes the default fixture's role as `deployer`; answers the issued AccessKeyId.
async fn session(harness: &Harness, name: &str) -> String {
    let answer = assume(harness, &[("RoleArn", ROLE_ARN), ("RoleSessionName", name)]).await;
    assert_ok(&answer);
    answer.json()["Credentials"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `PATCH /_emulator/accounts/{default account}` with `patch`, which must succeed.
async fn patch_default_account(harness: &Harness, patch: &Value) {
    let (status, body) = harness
        .admin(
            Method::PATCH,
            &format!("/_emulator/accounts/{DEFAULT_ACCOUNT}"),
            Some(&patch.to_string()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn get_caller_identity_names_every_kind_of_caller() {
    let harness = Harness::default_fixture();
    assert_eq!(
        who(&harness, DEFAULT_AK).await,
        json!({"AccountId": DEFAULT_ACCOUNT, "Arn": "acs:ram::1234567890123456:root",
               "IdentityType": "Account", "PrincipalId": DEFAULT_ACCOUNT, "UserId": DEFAULT_ACCOUNT})
    );
    assert_eq!(
        who(&harness, DEPLOYER).await,
        json!({"AccountId": DEFAULT_ACCOUNT, "Arn": "acs:ram::1234567890123456:user/deployer",
               "IdentityType": "RAMUser", "PrincipalId": "200012345678901234",
               "UserId": "200012345678901234"})
    );
    // A state `stsTokens` entry answers as the identity it acts as.
    assert_eq!(
        who(&harness, "STS.DemoDefaultRoot01").await["IdentityType"],
        "Account"
    );
    assert_eq!(
        who(&harness, "STS.DemoRamReader01").await,
        json!({"AccountId": "1000000000000108", "Arn": "acs:ram::1000000000000108:user/ecs-reader",
               "IdentityType": "RAMUser", "PrincipalId": "200000000000010802",
               "UserId": "200000000000010802"})
    );
    // Open to every caller: a RAM user without any policy.
    assert_eq!(
        who(&harness, "LTAI5tDemoRamNoPolicy").await["IdentityType"],
        "RAMUser"
    );
    let role = session(&harness, "ci-session").await;
    assert_eq!(
        who(&harness, &role).await,
        json!({"AccountId": DEFAULT_ACCOUNT,
               "Arn": "acs:ram::1234567890123456:assumed-role/ecs-operator/ci-session",
               "IdentityType": "AssumedRoleUser", "PrincipalId": format!("{ROLE_ID}:ci-session"),
               "RoleId": ROLE_ID})
    );
}

#[tokio::test]
async fn get_caller_identity_answers_in_xml_too() {
    let harness = Harness::default_fixture();
    let answer = harness
        .get(&format!(
            "Version=2015-04-01&Action=GetCallerIdentity&AccessKeyId={DEPLOYER}"
        ))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/xml;charset=utf-8");
    assert!(
        answer.text.contains("<GetCallerIdentityResponse>")
            && answer.text.contains("<IdentityType>RAMUser</IdentityType>"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn assume_role_issues_credentials_of_the_documented_shape() {
    let harness = Harness::default_fixture();
    let before = time::OffsetDateTime::now_utc();
    // The role name is compared case-insensitively; the answer spells it as the state does.
    let answer = assume(
        &harness,
        &[
            ("RoleArn", "acs:ram::1234567890123456:role/ECS-Operator"),
            ("RoleSessionName", "ci-session"),
            ("DurationSeconds", "900"),
        ],
    )
    .await;
    assert_ok(&answer);
    let body = answer.json();
    assert_eq!(
        body["AssumedRoleUser"],
        json!({"AssumedRoleId": format!("{ROLE_ID}:ci-session"),
               "Arn": "acs:ram::1234567890123456:role/ecs-operator/ci-session"})
    );
    let credentials = &body["Credentials"];
    let id = credentials["AccessKeyId"].as_str().unwrap();
    assert!(
        id.len() >= 28 && id[4..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id}"
    );
    assert!(id.starts_with("STS."));
    assert!(!credentials["AccessKeySecret"].as_str().unwrap().is_empty());
    assert!(
        credentials["SecurityToken"]
            .as_str()
            .unwrap()
            .starts_with("CAIS")
    );
    // `%Y-%m-%dT%H:%M:%SZ`: no fractional seconds, UTC (the credentials library parses it so).
    let expiration = credentials["Expiration"].as_str().unwrap();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let at = time::PrimitiveDateTime::parse(expiration, &format)
        .unwrap()
        .assume_utc();
    let lifetime = (at - before).whole_seconds();
    assert!((899..=901).contains(&lifetime), "{expiration}: {lifetime}");
    // Each call issues other credentials.
    assert_ne!(session(&harness, "ci-session").await, id);
}

#[tokio::test]
async fn assume_role_checks_its_parameters_in_order() {
    let harness = Harness::default_fixture();
    let arn = ("RoleArn", ROLE_ARN);
    let name = ("RoleSessionName", "ci");
    let long_policy = "x".repeat(2049);
    let cases: Vec<(Vec<(&str, &str)>, Expected)> = vec![
        (
            vec![],
            (
                400,
                "MissingParameter",
                "The input parameter \"RoleArn\" that is mandatory for processing this request is not supplied.",
            ),
        ),
        (
            vec![arn],
            (
                400,
                "MissingParameter",
                "The input parameter \"RoleSessionName\" that is mandatory for processing this request is not supplied.",
            ),
        ),
        (
            vec![
                ("RoleArn", "acs:ram::1234567890123456:user/deployer"),
                ("RoleSessionName", "x"),
            ],
            (
                400,
                "InvalidParameter.RoleArn",
                "The parameter RoleArn is wrongly formed.",
            ),
        ),
        (
            vec![arn, ("RoleSessionName", "x")],
            (
                400,
                "InvalidParameter.RoleSessionName",
                "The parameter RoleSessionName is wrongly formed.",
            ),
        ),
        (
            vec![arn, ("RoleSessionName", "a b")],
            (
                400,
                "InvalidParameter.RoleSessionName",
                "The parameter RoleSessionName is wrongly formed.",
            ),
        ),
        (vec![arn, name, ("DurationSeconds", "899")], DURATION),
        (vec![arn, name, ("DurationSeconds", "43201")], DURATION),
        (vec![arn, name, ("DurationSeconds", "1h")], DURATION),
        (vec![arn, name, ("DurationSeconds", "+900")], DURATION),
        (vec![arn, name, ("DurationSeconds", "900.0")], DURATION),
        (
            vec![arn, name, ("DurationSeconds", "1h"), ("Policy", "x")],
            DURATION,
        ),
        (
            vec![arn, name, ("Policy", long_policy.as_str())],
            (
                400,
                "InvalidParameter.PolicySize",
                "The size of Policy must be smaller than 2048 bytes.",
            ),
        ),
        (
            vec![arn, name, ("Policy", r#"{"Version": "1"}"#)],
            (
                400,
                "InvalidParameter.PolicyGrammar",
                "The parameter Policy has not passed grammar check.",
            ),
        ),
        (
            vec![arn, name, ("Policy", "{"), ("ExternalId", "x")],
            (
                400,
                "InvalidParameter.PolicyGrammar",
                "The parameter Policy has not passed grammar check.",
            ),
        ),
        (
            vec![arn, name, ("ExternalId", "a b")],
            (
                400,
                "InvalidParameter.ExternalId",
                "The parameter ExternalId is wrongly formed.",
            ),
        ),
        // Parameters come before who is calling: the account root gets them first.
    ];
    for (params, expected) in cases {
        expect(&assume(&harness, &params).await, expected);
        let as_root = harness.sts(DEFAULT_AK, "AssumeRole", &params).await;
        expect(&as_root, expected);
    }
    // A valid Policy and ExternalId are accepted (and narrow nothing).
    let policy = r#"{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]}"#;
    let answer = assume(
        &harness,
        &[arn, name, ("Policy", policy), ("ExternalId", "abc-123")],
    )
    .await;
    assert_ok(&answer);
}

/// An account with a user of each kind and roles of each trust, and a second account whose
/// RAM users the first account's `cross` role trusts.
fn trust_document() -> String {
    let state: Value = serde_json::from_str(ecs_emulator::DEFAULT_FIXTURE).unwrap();
    let regions = state["regions"].clone();
    json!({
        "regions": regions,
        "accounts": [
            {"accountId": "500",
             "accessKeys": [{"accessKeyId": "AK-root", "accessKeySecret": "s"}],
             "ramUsers": [
                 {"userName": "assumer", "policies": ["AliyunSTSAssumeRoleAccess"],
                  "accessKeys": [{"accessKeyId": "AK-assumer", "accessKeySecret": "s"}]},
                 {"userName": "other", "policies": ["AliyunSTSAssumeRoleAccess"],
                  "accessKeys": [{"accessKeyId": "AK-other", "accessKeySecret": "s"}]},
                 {"userName": "admin", "policies": ["AliyunECSFullAccess"],
                  "accessKeys": [{"accessKeyId": "AK-admin", "accessKeySecret": "s"}]}],
             "ramRoles": [
                 {"roleName": "only-assumer", "maxSessionDuration": 7200,
                  "trustedPrincipals": ["acs:ram::500:user/assumer"],
                  "policies": ["AliyunECSReadOnlyAccess"]},
                 {"roleName": "cross", "trustedPrincipals": ["acs:ram::600:root"],
                  "policies": ["AliyunSTSAssumeRoleAccess"]},
                 {"roleName": "chain", "trustedPrincipals": ["acs:ram::500:root"],
                  "policies": []}]},
            {"accountId": "600",
             "accessKeys": [{"accessKeyId": "AK-600", "accessKeySecret": "s"}],
             "ramUsers": [
                 {"userName": "ci", "policies": ["AliyunSTSAssumeRoleAccess"],
                  "accessKeys": [{"accessKeyId": "AK-ci", "accessKeySecret": "s"}]}]}
        ]
    })
    .to_string()
}

#[tokio::test]
async fn assume_role_checks_who_is_calling_and_the_role_in_order() {
    let harness = Harness::with_document(&trust_document());
    let call =
        |key: &'static str, role: &'static str, extra: Option<(&'static str, &'static str)>| {
            let harness = &harness;
            async move {
                let arn = format!("acs:ram::{role}");
                let mut params = vec![("RoleArn", arn.as_str()), ("RoleSessionName", "s1")];
                params.extend(extra);
                harness.sts(key, "AssumeRole", &params).await
            }
        };
    let not_exist = (
        404,
        "EntityNotExist.Role",
        "The specified Role not exists .",
    );
    // 2. An account root, even for a role that does not exist.
    expect(
        &call("AK-root", "500:role/nothing", None).await,
        NO_PERMISSION,
    );
    // 3. Without AliyunSTSAssumeRoleAccess, even for a role that does not exist.
    expect(
        &call("AK-admin", "500:role/nothing", None).await,
        NO_PERMISSION,
    );
    // 4. The role, in the account the ARN names.
    expect(
        &call("AK-assumer", "500:role/nothing", None).await,
        not_exist,
    );
    expect(
        &call("AK-assumer", "600:role/only-assumer", None).await,
        not_exist,
    );
    expect(
        &call("AK-assumer", "999:role/only-assumer", None).await,
        not_exist,
    );
    // Then DurationSeconds against the role's own maximum, before its trust.
    let long = Some(("DurationSeconds", "7201"));
    expect(
        &call("AK-other", "500:role/only-assumer", long).await,
        DURATION,
    );
    assert_ok(
        &call(
            "AK-assumer",
            "500:role/only-assumer",
            Some(("DurationSeconds", "7200")),
        )
        .await,
    );
    // 5. Trust: that user only; another account's users; an account's own identities.
    expect(
        &call("AK-other", "500:role/only-assumer", None).await,
        NO_PERMISSION,
    );
    expect(&call("AK-ci", "500:role/chain", None).await, NO_PERMISSION);
    let cross = call("AK-ci", "500:role/cross", None).await;
    assert_ok(&cross);
    // The session acts in the role's account, and may itself assume a role that trusts
    // that account (`…:root` admits its role sessions too).
    let cross_key = cross.json()["Credentials"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(who(&harness, &cross_key).await["AccountId"], "500");
    let chained = harness
        .sts(
            &cross_key,
            "AssumeRole",
            &[
                ("RoleArn", "acs:ram::500:role/chain"),
                ("RoleSessionName", "s2"),
            ],
        )
        .await;
    assert_ok(&chained);
}

#[tokio::test]
async fn a_session_calls_as_its_role() {
    let harness = Harness::default_fixture();
    let key = session(&harness, "ci-session").await;
    // The role's policies: ECS and KMS.
    assert_ok(
        &harness
            .ecs(
                &key,
                "DescribeDiskEncryptionByDefaultStatus",
                &[("RegionId", "cn-hangzhou")],
            )
            .await,
    );
    assert_ok(&harness.kms(&key, "ListKeys", &[]).await);
    // Not STS AssumeRole, nor the root-only action.
    expect(
        &harness
            .sts(
                &key,
                "AssumeRole",
                &[("RoleArn", ROLE_ARN), ("RoleSessionName", "again")],
            )
            .await,
        NO_PERMISSION,
    );
    let refused = harness
        .ecs(
            &key,
            "ModifyDiskDefaultKMSKeyId",
            &[
                ("RegionId", "cn-hangzhou"),
                ("KMSKeyId", "key-hzz65e1c1f1wh3ka4wq4e"),
            ],
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (403, "Forbidden.RAM".into())
    );
    let detail = &refused.json()["AccessDeniedDetail"];
    assert_eq!(detail["AuthPrincipalType"], "AssumedRoleUser");
    assert_eq!(
        detail["AuthPrincipalDisplayName"],
        "ecs-operator:ci-session"
    );
    assert_eq!(detail["AuthPrincipalOwnerId"], DEFAULT_ACCOUNT);
    assert_eq!(detail["AuthAction"], "ecs:ModifyDiskDefaultKMSKeyId");

    // The journal names the caller.
    let (_, journal) = harness
        .admin(Method::GET, "/_emulator/requests?action=ListKeys", None)
        .await;
    let entry = &journal["requests"][0];
    assert_eq!(entry["principal"], "assumed-role/ecs-operator/ci-session");
    assert_eq!(entry["accountId"], DEFAULT_ACCOUNT);

    // A change of the role's policies applies to its sessions at once.
    let patch = json!({"ramRoles": [{"roleName": "ecs-operator", "roleId": ROLE_ID,
        "trustedPrincipals": ["acs:ram::1234567890123456:root"], "policies": ["AliyunKMSFullAccess"]}]});
    patch_default_account(&harness, &patch).await;
    let ecs = harness
        .ecs(
            &key,
            "DescribeDiskEncryptionByDefaultStatus",
            &[("RegionId", "cn-hangzhou")],
        )
        .await;
    assert_eq!(ecs.code(), "Forbidden.RAM");
}

/// Signed (strict) calls with an issued session: its token is checked as every STS
/// credential's, and it ends with its role, its account and a reset.
mod strict {
    use super::*;
    use crate::signing::{V2, strict};

    const DEPLOYER_SECRET: &str = "DemoSecretDeployer01";

    struct Issued {
        id: String,
        secret: String,
        token: String,
    }

    async fn issue(harness: &Harness) -> Issued {
        let request = V2::new("AssumeRole", DEPLOYER)
            .set("Version", "2015-04-01")
            .without("RegionId")
            .set("RoleArn", ROLE_ARN)
            .set("RoleSessionName", "signed")
            .signed(DEPLOYER_SECRET);
        let answer = harness.send(request).await;
        assert_ok(&answer);
        let credentials = &answer.json()["Credentials"];
        let text = |name: &str| credentials[name].as_str().unwrap().to_owned();
        Issued {
            id: text("AccessKeyId"),
            secret: text("AccessKeySecret"),
            token: text("SecurityToken"),
        }
    }

    async fn who(harness: &Harness, issued: &Issued, token: Option<&str>) -> Answer {
        let mut request = V2::new("GetCallerIdentity", &issued.id)
            .set("Version", "2015-04-01")
            .without("RegionId");
        if let Some(token) = token {
            request = request.set("SecurityToken", token);
        }
        harness.send(request.signed(&issued.secret)).await
    }

    #[tokio::test]
    async fn an_issued_session_is_checked_as_every_sts_credential() {
        let harness = strict();
        let issued = issue(&harness).await;
        let answer = who(&harness, &issued, Some(&issued.token)).await;
        assert_ok(&answer);
        assert_eq!(answer.json()["IdentityType"], "AssumedRoleUser");
        expect(
            &who(&harness, &issued, None).await,
            (
                400,
                "MissingSecurityToken",
                "SecurityToken is mandatory for this action.",
            ),
        );
        expect(
            &who(&harness, &issued, Some("CAISanother")).await,
            (
                400,
                "InvalidSecurityToken.Mismatch",
                "Specified SecurityToken mismatch with the AccessKey.",
            ),
        );
        // ECS with the session: allowed by the role's policies.
        let ecs = V2::new("DescribeDiskEncryptionByDefaultStatus", &issued.id)
            .set("SecurityToken", &issued.token)
            .signed(&issued.secret);
        assert_ok(&harness.send(ecs).await);
    }

    #[tokio::test]
    async fn sessions_end_with_their_role_and_do_not_come_back_with_it() {
        let harness = strict();
        let issued = issue(&harness).await;
        let account = harness.account(DEFAULT_ACCOUNT).await;
        let roles = account["ramRoles"].clone();
        patch_default_account(&harness, &json!({"ramRoles": []})).await;
        let gone = who(&harness, &issued, Some(&issued.token)).await;
        assert_eq!(gone.code(), "InvalidAccessKeyId.NotFound");
        patch_default_account(&harness, &json!({ "ramRoles": roles })).await;
        let still = who(&harness, &issued, Some(&issued.token)).await;
        assert_eq!(still.code(), "InvalidAccessKeyId.NotFound");
        // A new session of the role added again works.
        let fresh = issue(&harness).await;
        assert_ok(&who(&harness, &fresh, Some(&fresh.token)).await);
    }

    #[tokio::test]
    async fn sessions_end_with_their_account_and_with_reset() {
        let harness = strict();
        let issued = issue(&harness).await;
        harness.admin(Method::POST, "/_emulator/reset", None).await;
        let gone = who(&harness, &issued, Some(&issued.token)).await;
        assert_eq!(gone.code(), "InvalidAccessKeyId.NotFound");
        let issued = issue(&harness).await;
        let (status, _) = harness
            .admin(
                Method::DELETE,
                &format!("/_emulator/accounts/{DEFAULT_ACCOUNT}"),
                None,
            )
            .await;
        assert_eq!(status, 204);
        let gone = who(&harness, &issued, Some(&issued.token)).await;
        assert_eq!(gone.code(), "InvalidAccessKeyId.NotFound");
    }
}

#[tokio::test]
async fn a_session_changes_no_state() {
    let harness = Harness::default_fixture();
    let (_, before) = harness.admin(Method::GET, "/_emulator/state", None).await;
    session(&harness, "quiet").await;
    let (_, after) = harness.admin(Method::GET, "/_emulator/state", None).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn faults_fire_before_assume_roles_own_checks() {
    let harness = Harness::default_fixture();
    let rule = json!({"action": "AssumeRole", "code": "Throttling.User"});
    let (status, _) = harness
        .admin(Method::POST, "/_emulator/faults", Some(&rule.to_string()))
        .await;
    assert_eq!(status, 201);
    let answer = assume(&harness, &[]).await;
    expect(
        &answer,
        (
            400,
            "Throttling.User",
            "Request was denied due to user flow control.",
        ),
    );
}

#[tokio::test]
async fn roles_and_ids_are_part_of_the_state() {
    let harness = Harness::default_fixture();
    // Ids the state leaves out are derived (stable) and written in.
    let body = json!({"accountId": "700",
        "ramUsers": [{"userName": "u"}],
        "ramRoles": [{"roleName": "r", "trustedPrincipals": ["acs:ram::700:root"]}]});
    let (status, created) = harness
        .admin(Method::POST, "/_emulator/accounts", Some(&body.to_string()))
        .await;
    assert_eq!(status, 201, "{created}");
    let account = harness.account("700").await;
    let user_id = account["ramUsers"][0]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = &account["ramRoles"][0];
    assert_eq!(role["maxSessionDuration"], 3600);
    let role_id = role["roleId"].as_str().unwrap();
    for id in [user_id.as_str(), role_id] {
        assert!(
            id.len() == 18 && id.bytes().all(|b| b.is_ascii_digit()),
            "{id}"
        );
    }
    assert_eq!(created["account"]["ramRoles"][0]["roleId"], role_id);
    // The same document gives the same ids.
    harness
        .admin(Method::DELETE, "/_emulator/accounts/700", None)
        .await;
    let (_, again) = harness
        .admin(Method::POST, "/_emulator/accounts", Some(&body.to_string()))
        .await;
    assert_eq!(again["account"]["ramUsers"][0]["userId"], user_id.as_str());

    // Refusals name the path.
    for (account, path) in [
        (
            json!({"ramRoles": [{"roleName": "a_b"}]}),
            "account.ramRoles[0].roleName",
        ),
        (
            json!({"ramRoles": [{"roleName": "a"}, {"roleName": "A"}]}),
            "account.ramRoles[1].roleName",
        ),
        (
            json!({"ramRoles": [{"roleName": "a", "roleId": "12"}]}),
            "account.ramRoles[0].roleId",
        ),
        (
            json!({"ramRoles": [{"roleName": "a", "maxSessionDuration": 900}]}),
            "account.ramRoles[0].maxSessionDuration",
        ),
        (
            json!({"ramRoles": [{"roleName": "a", "trustedPrincipals": ["*"]}]}),
            "account.ramRoles[0].trustedPrincipals[0]",
        ),
        (
            json!({"ramRoles": [{"roleName": "a", "policies": ["AliyunRAMFullAccess"]}]}),
            "account.ramRoles[0].policies[0]",
        ),
        (
            json!({"ramUsers": [{"userName": "u", "userId": "x"}]}),
            "account.ramUsers[0].userId",
        ),
    ] {
        let (status, error) = harness
            .admin(
                Method::POST,
                "/_emulator/accounts",
                Some(&account.to_string()),
            )
            .await;
        assert_eq!(status, 400, "{account}: {error}");
        let message = error["error"].as_str().unwrap_or_default();
        assert!(message.contains(path), "{account}: {error}");
    }
}

#[tokio::test]
async fn coverage_lists_the_sts_codes() {
    let harness = Harness::default_fixture();
    let (_, coverage) = harness
        .admin(Method::GET, "/_emulator/coverage", None)
        .await;
    let natural = |action: &str| -> Vec<String> {
        coverage["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action && e["trigger"] == "state")
            .map(|e| e["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let assume_role = natural("AssumeRole");
    for code in [
        "InvalidParameter.RoleArn",
        "InvalidParameter.RoleSessionName",
        "InvalidParameter.DurationSeconds",
        "InvalidParameter.PolicySize",
        "InvalidParameter.PolicyGrammar",
        "InvalidParameter.ExternalId",
        "NoPermission",
        "EntityNotExist.Role",
    ] {
        assert!(assume_role.contains(&code.to_owned()), "{code}");
    }
    // Neither action answers Forbidden.RAM: one is open to all, the other checks itself.
    assert!(!assume_role.contains(&"Forbidden.RAM".to_owned()));
    assert!(!natural("GetCallerIdentity").contains(&"Forbidden.RAM".to_owned()));
}

#[tokio::test]
async fn the_admin_api_lists_live_sessions_without_secrets() {
    let harness = Harness::default_fixture();
    let (status, empty) = harness
        .admin(Method::GET, "/_emulator/sessions", None)
        .await;
    assert_eq!((status.as_u16(), empty), (200, json!({"sessions": []})));
    let first = session(&harness, "first").await;
    let second = session(&harness, "second").await;
    let (_, listed) = harness
        .admin(
            Method::GET,
            &format!("/_emulator/sessions?accountId={DEFAULT_ACCOUNT}"),
            None,
        )
        .await;
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert_eq!(sessions[0]["accessKeyId"], first.as_str());
    assert_eq!(sessions[1]["accessKeyId"], second.as_str());
    let entry = sessions[0].as_object().unwrap();
    let mut fields: Vec<&str> = entry.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "accessKeyId",
            "accountId",
            "expiration",
            "expired",
            "principal",
            "roleId",
            "roleName",
            "sessionName"
        ]
    );
    assert_eq!(entry["principal"], "assumed-role/ecs-operator/first");
    assert_eq!(entry["expired"], false);
    let (_, other) = harness
        .admin(
            Method::GET,
            "/_emulator/sessions?accountId=1000000000000108",
            None,
        )
        .await;
    assert_eq!(other, json!({"sessions": []}));
    let (status, _) = harness
        .admin(Method::GET, "/_emulator/sessions?limit=1", None)
        .await;
    assert_eq!(status, 400);
}
