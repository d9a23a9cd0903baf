//! Routing by hostname (`endpoints.md` §1): the product a host names, the region KMS takes
//! from it, and the `Version` a product host refuses. The host comes from the `Host` header
//! here; the absolute URI and the tunnel's host are covered by `tests/endpoints.rs`.

use crate::support::{Answer, DEFAULT_AK, Harness, assert_error, request};
use axum::body::Body;
use axum::http::Method;

const INVALID_VERSION: &str = "Specified parameter Version is not valid.";
const ECS: &str = "2014-05-26";
const KMS: &str = "2016-01-20";
const STS: &str = "2015-04-01";

/// `action` of `version` (and `extra` parameters), sent to `host`.
async fn at(harness: &Harness, host: &str, version: &str, action: &str, extra: &str) -> Answer {
    let query =
        format!("Version={version}&Action={action}&Format=JSON&AccessKeyId={DEFAULT_AK}{extra}");
    let mut request = request(Method::GET, &format!("/?{query}"), Body::empty());
    let host = host.parse().expect("a header value");
    request.headers_mut().insert("host", host);
    harness.send(request).await
}

/// A refusal as `InvalidVersion` whose envelope names `host_id`.
#[track_caller]
fn assert_invalid_version(answer: &Answer, host_id: &str) {
    assert_error(answer, 400, "InvalidVersion", INVALID_VERSION);
    assert_eq!(answer.json()["HostId"], host_id, "{}", answer.text);
}

#[tokio::test]
async fn a_kms_host_gives_its_region_when_the_request_names_none() {
    let harness = Harness::default_fixture();
    for (host, extra, region) in [
        ("kms.cn-shanghai.aliyuncs.com", "", "cn-shanghai"),
        ("kms-vpc.cn-shanghai.aliyuncs.com:443", "", "cn-shanghai"),
        // RegionId still wins over the host.
        (
            "kms.cn-shanghai.aliyuncs.com",
            "&RegionId=cn-hangzhou",
            "cn-hangzhou",
        ),
    ] {
        let created = at(&harness, host, KMS, "CreateKey", extra).await.json();
        let arn = created["KeyMetadata"]["Arn"].as_str().unwrap_or_default();
        assert!(
            arn.starts_with(&format!("acs:kms:{region}:")),
            "{host}{extra}: {created}"
        );
    }
}

#[tokio::test]
async fn a_product_host_refuses_another_products_version_in_its_own_envelope() {
    let harness = Harness::default_fixture();
    let kms_host = "kms.cn-shanghai.aliyuncs.com";
    let answer = at(&harness, kms_host, ECS, "DescribeRegions", "").await;
    assert_invalid_version(&answer, kms_host);
    // An unknown Version on a product host: the same error, the host's envelope.
    let answer = at(&harness, kms_host, "2099-01-01", "ListKeys", "").await;
    assert_invalid_version(&answer, kms_host);
    for host in [
        "ecs.aliyuncs.com",
        "ecs-cn-hangzhou.aliyuncs.com",
        "ECS.cn-hangzhou.aliyuncs.com.",
        "ecs-vpc.cn-hangzhou.aliyuncs.com",
    ] {
        let answer = at(&harness, host, KMS, "DescribeRegions", "").await;
        assert_invalid_version(&answer, "ecs.aliyuncs.com");
        let answer = at(&harness, host, STS, "GetCallerIdentity", "").await;
        assert_invalid_version(&answer, "ecs.aliyuncs.com");
        let answer = at(&harness, host, ECS, "DescribeRegions", "").await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.text);
    }
}

#[tokio::test]
async fn sts_hosts_are_the_sts_product() {
    let harness = Harness::default_fixture();
    for host in [
        "sts.aliyuncs.com",
        "sts.cn-hangzhou.aliyuncs.com",
        "sts-vpc.cn-shanghai.aliyuncs.com",
    ] {
        let answer = at(&harness, host, STS, "GetCallerIdentity", "").await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.text);
        assert!(answer.json()["AccountId"].is_string(), "{}", answer.text);
        let answer = at(&harness, host, ECS, "DescribeRegions", "").await;
        assert_invalid_version(&answer, "sts.aliyuncs.com");
    }
}

#[tokio::test]
async fn other_hosts_route_by_version_as_before() {
    let harness = Harness::default_fixture();
    for host in [
        "127.0.0.1:8080",
        "localhost",
        "ecs-emulator:8080",
        "ram.aliyuncs.com",
        "vpc.cn-hangzhou.aliyuncs.com",
    ] {
        for (version, action) in [
            (ECS, "DescribeRegions"),
            (KMS, "ListKeys"),
            (STS, "GetCallerIdentity"),
        ] {
            let answer = at(&harness, host, version, action, "").await;
            assert_eq!(answer.status, 200, "{host} {action}: {}", answer.text);
        }
        let answer = at(&harness, host, "2099-01-01", "DescribeRegions", "").await;
        assert_error(&answer, 400, "InvalidVersion", INVALID_VERSION);
    }
}
