//! Routing by hostname (`endpoints.md` §1): the product a host names, the region KMS takes
//! from it, and the `Version` a product host refuses. The host comes from the `Host` header
//! here; the absolute URI and the tunnel's host are covered by `tests/endpoints.rs`.

use crate::support::{DEFAULT_AK, Harness, assert_error, request};
use axum::body::Body;
use axum::http::{Method, Request};

fn to_host(host: &str, query: &str) -> Request<Body> {
    let mut request = request(Method::GET, &format!("/?{query}"), Body::empty());
    request
        .headers_mut()
        .insert("host", host.parse().expect("a header value"));
    request
}

fn call(version: &str, action: &str, extra: &str) -> String {
    format!("Version={version}&Action={action}&Format=JSON&AccessKeyId={DEFAULT_AK}{extra}")
}

const INVALID_VERSION: &str = "Specified parameter Version is not valid.";

#[tokio::test]
async fn a_kms_host_gives_its_region_when_the_request_names_none() {
    let harness = Harness::default_fixture();
    let created = harness
        .send(to_host(
            "kms.cn-shanghai.aliyuncs.com",
            &call("2016-01-20", "CreateKey", ""),
        ))
        .await
        .json();
    let arn = created["KeyMetadata"]["Arn"].as_str().unwrap_or_default();
    assert!(arn.starts_with("acs:kms:cn-shanghai:"), "{created}");
    // The VPC host too; and RegionId still wins over the host.
    let created = harness
        .send(to_host(
            "kms-vpc.cn-shanghai.aliyuncs.com:443",
            &call("2016-01-20", "CreateKey", "&RegionId=cn-hangzhou"),
        ))
        .await
        .json();
    let arn = created["KeyMetadata"]["Arn"].as_str().unwrap_or_default();
    assert!(arn.starts_with("acs:kms:cn-hangzhou:"), "{created}");
}

#[tokio::test]
async fn a_product_host_refuses_another_products_version_in_its_own_envelope() {
    let harness = Harness::default_fixture();
    let answer = harness
        .send(to_host(
            "kms.cn-shanghai.aliyuncs.com",
            &call("2014-05-26", "DescribeRegions", ""),
        ))
        .await;
    assert_error(&answer, 400, "InvalidVersion", INVALID_VERSION);
    assert_eq!(
        answer.json()["HostId"],
        "kms.cn-shanghai.aliyuncs.com",
        "{}",
        answer.text
    );
    for host in [
        "ecs.aliyuncs.com",
        "ecs-cn-hangzhou.aliyuncs.com",
        "ECS.cn-hangzhou.aliyuncs.com.",
        "ecs-vpc.cn-hangzhou.aliyuncs.com",
    ] {
        let answer = harness
            .send(to_host(host, &call("2016-01-20", "DescribeRegions", "")))
            .await;
        assert_error(&answer, 400, "InvalidVersion", INVALID_VERSION);
        assert_eq!(
            answer.json()["HostId"],
            "ecs.aliyuncs.com",
            "{host}: {}",
            answer.text
        );
        let answer = harness
            .send(to_host(host, &call("2014-05-26", "DescribeRegions", "")))
            .await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.text);
    }
    // An unknown Version on a product host: the same error, the host's envelope.
    let answer = harness
        .send(to_host(
            "kms.cn-shanghai.aliyuncs.com",
            &call("2099-01-01", "ListKeys", ""),
        ))
        .await;
    assert_error(&answer, 400, "InvalidVersion", INVALID_VERSION);
    assert_eq!(answer.json()["HostId"], "kms.cn-shanghai.aliyuncs.com");
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
            ("2014-05-26", "DescribeRegions"),
            ("2016-01-20", "ListKeys"),
        ] {
            let answer = harness
                .send(to_host(host, &call(version, action, "")))
                .await;
            assert_eq!(answer.status, 200, "{host} {action}: {}", answer.text);
        }
        let answer = harness
            .send(to_host(host, &call("2099-01-01", "DescribeRegions", "")))
            .await;
        assert_error(&answer, 400, "InvalidVersion", INVALID_VERSION);
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
        let answer = harness
            .send(to_host(host, &call("2015-04-01", "GetCallerIdentity", "")))
            .await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.text);
        assert!(answer.json()["AccountId"].is_string(), "{}", answer.text);
        let answer = harness
            .send(to_host(host, &call("2014-05-26", "DescribeRegions", "")))
            .await;
        assert_error(&answer, 400, "InvalidVersion", INVALID_VERSION);
        assert_eq!(
            answer.json()["HostId"],
            "sts.aliyuncs.com",
            "{}",
            answer.text
        );
    }
    // And STS's Version on an ECS host is refused there.
    let answer = harness
        .send(to_host(
            "ecs.aliyuncs.com",
            &call("2015-04-01", "GetCallerIdentity", ""),
        ))
        .await;
    assert_error(&answer, 400, "InvalidVersion", INVALID_VERSION);
}
