//! Exact bodies (request id redacted), the effects of each action on state, and the default
//! fixture's demo accounts each showing their documented error.

use crate::support::{DEFAULT_ACCOUNT, DEFAULT_AK, DEFAULT_KEY, Harness, assert_error, assert_ok};
use axum::http::Method;
use serde_json::Value;

const HZ: (&str, &str) = ("RegionId", "cn-hangzhou");

async fn configured_key(harness: &Harness, access_key_id: &str) -> String {
    let answer = harness
        .ecs(access_key_id, "DescribeDiskDefaultKMSKeyId", &[HZ])
        .await;
    assert_ok(&answer);
    answer.json()["KMSKeyId"].as_str().unwrap().to_owned()
}

async fn encrypted(harness: &Harness) -> bool {
    let answer = harness
        .ecs(DEFAULT_AK, "DescribeDiskEncryptionByDefaultStatus", &[HZ])
        .await;
    assert_ok(&answer);
    answer.json()["Encrypted"]
        .as_bool()
        .expect("a JSON boolean")
}

#[tokio::test]
async fn success_bodies_are_exact_in_json_and_xml() {
    let harness = Harness::default_fixture();
    let answer = harness
        .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
        .await;
    assert_eq!(answer.redacted(), r#"{"RequestId":"<RequestId>"}"#);
    assert_eq!(answer.content_type, "application/json;charset=utf-8");

    let answer = harness
        .ecs(DEFAULT_AK, "DescribeDiskEncryptionByDefaultStatus", &[HZ])
        .await;
    assert_eq!(
        answer.redacted(),
        r#"{"RequestId":"<RequestId>","Encrypted":true}"#
    );

    let answer = harness
        .ecs(
            DEFAULT_AK,
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", DEFAULT_KEY)],
        )
        .await;
    assert_ok(&answer);
    let answer = harness
        .get(&format!("Version=2014-05-26&Action=DescribeDiskDefaultKMSKeyId&RegionId=cn-hangzhou&AccessKeyId={DEFAULT_AK}"))
        .await;
    assert_eq!(answer.content_type, "text/xml;charset=utf-8");
    assert_eq!(
        answer.redacted(),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeDiskDefaultKMSKeyIdResponse><RequestId><RequestId></RequestId><KMSKeyId>{DEFAULT_KEY}</KMSKeyId></DescribeDiskDefaultKMSKeyIdResponse>"
        )
    );
    let answer = harness
        .get("Version=2014-05-26&Action=DescribeDiskEncryptionByDefaultStatus&RegionId=cn-hangzhou&Format=xml")
        .await;
    assert_eq!(
        answer.redacted(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeDiskEncryptionByDefaultStatusResponse><RequestId><RequestId></RequestId><Encrypted>true</Encrypted></DescribeDiskEncryptionByDefaultStatusResponse>"
    );
}

#[tokio::test]
async fn error_bodies_are_exact_in_json_and_xml() {
    let harness = Harness::default_fixture();
    let answer = harness
        .ecs(
            DEFAULT_AK,
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", DEFAULT_KEY)],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.content_type, "application/json;charset=utf-8");
    assert_eq!(
        answer.redacted(),
        r#"{"RequestId":"<RequestId>","HostId":"ecs.aliyuncs.com","Code":"InvalidDefaultEncryption.NotFound","Message":"You have not configured default encryption setting in this region.","Recommend":"https://api.aliyun.com/troubleshoot?q=InvalidDefaultEncryption.NotFound&product=Ecs&requestId=<RequestId>"}"#
    );
    let answer = harness
        .get("Version=2014-05-26&Action=ModifyDiskDefaultKMSKeyId&RegionId=cn-hangzhou&KMSKeyId=a%3Cb")
        .await;
    assert_eq!(answer.content_type, "text/xml;charset=utf-8");
    assert_eq!(
        answer.redacted(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><RequestId><RequestId></RequestId><HostId>ecs.aliyuncs.com</HostId><Code>InvalidDefaultEncryption.NotFound</Code><Message>You have not configured default encryption setting in this region.</Message><Recommend>https://api.aliyun.com/troubleshoot?q=InvalidDefaultEncryption.NotFound&amp;product=Ecs&amp;requestId=<RequestId></Recommend></Error>"
    );
}

#[tokio::test]
async fn every_answer_has_a_fresh_request_id_in_body_and_header() {
    let harness = Harness::default_fixture();
    let mut seen = std::collections::HashSet::new();
    for action in [
        "DescribeRegions",
        "ModifyDiskDefaultKMSKeyId",
        "NoSuchAction",
    ] {
        for _ in 0..3 {
            let answer = harness.ecs(DEFAULT_AK, action, &[HZ]).await;
            let body_id = answer.json()["RequestId"].as_str().unwrap().to_owned();
            assert_eq!(body_id, answer.request_id_header);
            assert!(is_request_id(&body_id), "{body_id}");
            assert!(seen.insert(body_id));
        }
    }
}

fn is_request_id(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
        })
}

#[tokio::test]
async fn the_lifecycle_changes_state_as_the_spec_says() {
    let harness = Harness::default_fixture();
    let service_key = configured_key(&harness, DEFAULT_AK).await;
    assert!(
        service_key.starts_with("key-hzz") && service_key.len() == 28,
        "{service_key}"
    );
    assert_eq!(
        configured_key(&harness, DEFAULT_AK).await,
        service_key,
        "created once"
    );
    assert!(!encrypted(&harness).await);

    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    assert!(encrypted(&harness).await);

    // Id, alias and ARN all resolve; the stored value is the id.
    let arn = format!("acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT}:key/{DEFAULT_KEY}");
    for reference in [DEFAULT_KEY, "alias/demo", arn.as_str()] {
        assert_ok(
            &harness
                .ecs(DEFAULT_AK, "ResetDiskDefaultKMSKeyId", &[HZ])
                .await,
        );
        assert_eq!(configured_key(&harness, DEFAULT_AK).await, service_key);
        assert_ok(
            &harness
                .ecs(
                    DEFAULT_AK,
                    "ModifyDiskDefaultKMSKeyId",
                    &[HZ, ("KMSKeyId", reference)],
                )
                .await,
        );
        assert_eq!(
            configured_key(&harness, DEFAULT_AK).await,
            DEFAULT_KEY,
            "{reference}"
        );
    }
    // The service key can be named too.
    assert_ok(
        &harness
            .ecs(
                DEFAULT_AK,
                "ModifyDiskDefaultKMSKeyId",
                &[HZ, ("KMSKeyId", "alias/acs/ecs")],
            )
            .await,
    );
    assert_eq!(configured_key(&harness, DEFAULT_AK).await, service_key);
    assert_ok(
        &harness
            .ecs(
                DEFAULT_AK,
                "ModifyDiskDefaultKMSKeyId",
                &[HZ, ("KMSKeyId", DEFAULT_KEY)],
            )
            .await,
    );

    // Disable keeps the configured key; Enable again uses it.
    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "DisableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    assert!(!encrypted(&harness).await);
    assert_eq!(configured_key(&harness, DEFAULT_AK).await, DEFAULT_KEY);
    assert_ok(
        &harness
            .ecs(DEFAULT_AK, "EnableDiskEncryptionByDefault", &[HZ])
            .await,
    );
    assert_eq!(configured_key(&harness, DEFAULT_AK).await, DEFAULT_KEY);

    // Other regions are independent.
    let shanghai = harness
        .ecs(
            DEFAULT_AK,
            "DescribeDiskEncryptionByDefaultStatus",
            &[("RegionId", "cn-shanghai")],
        )
        .await;
    assert_eq!(shanghai.json()["Encrypted"], false);

    // The state document shows the setting and the service key.
    let (_, state) = harness.admin(Method::GET, "/_emulator/state", None).await;
    let account = &state["accounts"][0];
    assert_eq!(
        account["regionSettings"]["cn-hangzhou"]["defaultEncryption"]["enabled"],
        true
    );
    assert_eq!(
        account["regionSettings"]["cn-hangzhou"]["defaultEncryption"]["kmsKeyId"],
        DEFAULT_KEY
    );
    let service = account["kmsKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["creator"] == "Ecs")
        .expect("the service key is in the state");
    assert_eq!(service["keyId"], Value::from(service_key));
    assert_eq!(service["aliases"][0], "alias/acs/ecs");
}

#[tokio::test]
async fn keys_of_other_accounts_are_invisible() {
    let harness = Harness::default_fixture();
    // demo-encryption-enabled names the default account's key, by id and by ARN.
    let arn = format!("acs:kms:cn-hangzhou:{DEFAULT_ACCOUNT}:key/{DEFAULT_KEY}");
    for reference in [DEFAULT_KEY, arn.as_str()] {
        let answer = harness
            .ecs(
                "LTAI5tDemoEncryptionOn",
                "ModifyDiskDefaultKMSKeyId",
                &[HZ, ("KMSKeyId", reference)],
            )
            .await;
        let message = format!("The specified KMSKeyId not found, {reference}.");
        assert_error(&answer, 403, "InvalidOperation.KMSKeyIdNotFound", &message);
    }
}

#[tokio::test]
async fn describe_regions_answers_in_the_asked_language() {
    let harness = Harness::default_fixture();
    let regions = |answer: &crate::support::Answer| {
        answer.json()["Regions"]["Region"]
            .as_array()
            .unwrap()
            .clone()
    };
    let zh = harness.ecs(DEFAULT_AK, "DescribeRegions", &[]).await;
    assert_ok(&zh);
    let all = regions(&zh);
    assert_eq!(all.len(), 29);
    let hangzhou = all.iter().find(|r| r["RegionId"] == "cn-hangzhou").unwrap();
    assert_eq!(hangzhou["LocalName"], "华东1（杭州）");
    assert_eq!(hangzhou["RegionEndpoint"], "ecs-cn-hangzhou.aliyuncs.com");
    assert_eq!(hangzhou["Status"], "available");
    let en = harness
        .ecs(
            DEFAULT_AK,
            "DescribeRegions",
            &[("AcceptLanguage", "en-US")],
        )
        .await;
    let en = regions(&en);
    assert_eq!(
        en.iter().find(|r| r["RegionId"] == "cn-hangzhou").unwrap()["LocalName"],
        "China (Hangzhou)"
    );
    let ja = harness
        .ecs(DEFAULT_AK, "DescribeRegions", &[("AcceptLanguage", "ja")])
        .await;
    let ja = regions(&ja);
    let beijing = ja.iter().find(|r| r["RegionId"] == "cn-beijing").unwrap();
    assert_eq!(
        beijing["LocalName"], "China (Beijing)",
        "falls back to English"
    );
    assert_eq!(beijing["RegionEndpoint"], "ecs.cn-beijing.aliyuncs.com");

    let bad = harness
        .ecs(
            DEFAULT_AK,
            "DescribeRegions",
            &[("AcceptLanguage", "fr-FR")],
        )
        .await;
    assert_error(
        &bad,
        404,
        "InvalidAcceptLanguage.NotFound",
        "Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed.",
    );

    // RAM users may call it, with any policies or none, in ECS and in KMS; anything else the
    // user with no policy calls is refused.
    for user in ["LTAI5tDemoRamEcsReader", "LTAI5tDemoRamNoPolicy"] {
        assert_ok(&harness.ecs(user, "DescribeRegions", &[]).await);
        assert_ok(&harness.kms(user, "DescribeRegions", &[]).await);
    }
    let denied = harness
        .ecs(
            "LTAI5tDemoRamNoPolicy",
            "DescribeDiskEncryptionByDefaultStatus",
            &[HZ],
        )
        .await;
    assert_eq!(denied.code(), "Forbidden.RAM");
    assert_eq!(
        harness
            .kms("LTAI5tDemoRamNoPolicy", "ListKeys", &[])
            .await
            .code(),
        "Forbidden.RAM"
    );
    // XML lists each region as <Region>.
    let xml = harness
        .get("Version=2014-05-26&Action=DescribeRegions&AcceptLanguage=en-US")
        .await;
    assert!(
        xml.text.contains("<DescribeRegionsResponse><RequestId>"),
        "{}",
        xml.text
    );
    assert!(xml.text.contains("<Regions><Region><RegionId>cn-qingdao</RegionId><RegionEndpoint>ecs.cn-qingdao.aliyuncs.com</RegionEndpoint><LocalName>China (Qingdao)</LocalName><Status>available</Status></Region><Region>"), "{}", xml.text);
    assert_eq!(xml.text.matches("<Region>").count(), 29);
}

/// (AccessKeyId, action, parameters, expected code).
type DemoCase<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);

/// The README's table: each documented error, shown with the default fixture alone.
#[tokio::test]
async fn each_demo_account_shows_its_error() {
    let cases: &[DemoCase<'_>] = &[
        (
            DEFAULT_AK,
            "EnableDiskEncryptionByDefault",
            &[("RegionId", "cn-atlantis")],
            "InvalidParameter.RegionIdNotExists",
        ),
        (
            DEFAULT_AK,
            "EnableDiskEncryptionByDefault",
            &[("RegionId", "ap-south-1")],
            "Abs.InvalidAction.RegionNotSupport",
        ),
        (
            DEFAULT_AK,
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", DEFAULT_KEY)],
            "InvalidDefaultEncryption.NotFound",
        ),
        (
            "LTAI5tDemoNotWhitelisted",
            "EnableDiskEncryptionByDefault",
            &[HZ],
            "UserNotInTheWhiteList",
        ),
        (
            "LTAI5tDemoKmsServiceOff",
            "EnableDiskEncryptionByDefault",
            &[HZ],
            "InvalidOperation.KMSServiceNotOpen",
        ),
        (
            "LTAI5tDemoKmsRegionOff",
            "EnableDiskEncryptionByDefault",
            &[HZ],
            "InvalidParameter.Encrypted.KmsNotEnabled",
        ),
        (
            "LTAI5tDemoRoleNotGranted",
            "EnableDiskEncryptionByDefault",
            &[HZ],
            "InvalidParameter.KMSKeyId.KMSUnauthorized",
        ),
        (
            "LTAI5tDemoKeyUnauthorized",
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", "key-hzz1unauthorized000001")],
            "InvalidParameter.KMSKeyId.KMSUnauthorized",
        ),
        (
            "LTAI5tDemoKeyDisabled",
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", "key-hzz1disabled0000000001")],
            "InvalidParameter.KMSKeyId.CMKNotEnabled",
        ),
        (
            "LTAI5tDemoEncryptionOn",
            "EnableDiskEncryptionByDefault",
            &[HZ],
            "InvalidOperation.DefaultEncryptionAlreadyEnabled",
        ),
        (
            "LTAI5tDemoEncryptionOn",
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", "key-doesnotexist")],
            "InvalidOperation.KMSKeyIdNotFound",
        ),
        (
            "LTAI5tDemoRamEcsAdmin",
            "ModifyDiskDefaultKMSKeyId",
            &[HZ, ("KMSKeyId", "key-hzz1ramdemo00000000001")],
            "Forbidden.RAM",
        ),
        (
            "LTAI5tDemoRamEcsReader",
            "EnableDiskEncryptionByDefault",
            &[HZ],
            "Forbidden.RAM",
        ),
        (
            DEFAULT_AK,
            "DescribeRegions",
            &[("AcceptLanguage", "fr-FR")],
            "InvalidAcceptLanguage.NotFound",
        ),
    ];
    for (access_key_id, action, params, code) in cases {
        let harness = Harness::default_fixture();
        let answer = harness.ecs(access_key_id, action, params).await;
        assert_eq!(
            answer.code(),
            *code,
            "{access_key_id} {action}: {}",
            answer.text
        );
    }
    // And the same demo accounts' happy paths work where they should.
    let harness = Harness::default_fixture();
    assert_ok(
        &harness
            .ecs(
                "LTAI5tDemoRamRoot",
                "ModifyDiskDefaultKMSKeyId",
                &[HZ, ("KMSKeyId", "key-hzz1ramdemo00000000001")],
            )
            .await,
    );
    assert_ok(
        &harness
            .ecs(
                "LTAI5tDemoRamEcsAdmin",
                "DisableDiskEncryptionByDefault",
                &[HZ],
            )
            .await,
    );
    assert_ok(
        &harness
            .ecs("LTAI5tDemoKeyDisabled", "ResetDiskDefaultKMSKeyId", &[HZ])
            .await,
    );
}
