//! The gateway steps before any action: method, path, decoding, routing, format, limits,
//! and the identity a request acts as while signatures are not verified.

use crate::support::{DEFAULT_AK, Harness, assert_error, assert_ok, request};
use axum::body::Body;
use axum::http::{Method, Request};

const MISSING_ACTION: &str =
    "The input parameter \"Action\" that is mandatory for processing this request is not supplied.";

#[tokio::test]
async fn only_get_and_post_on_slash() {
    let harness = Harness::default_fixture();
    for method in [
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        let answer = harness
            .send(request(
                method.clone(),
                "/?Action=DescribeRegions&Version=2014-05-26&Format=JSON",
                Body::empty(),
            ))
            .await;
        assert_eq!(answer.status, 403, "{method}");
        if method != Method::HEAD {
            assert_error(
                &answer,
                403,
                "UnsupportedHTTPMethod",
                "This HTTP method is not supported.",
            );
        }
    }
    let answer = harness
        .send(request(
            Method::GET,
            "/other?Action=DescribeRegions&Version=2014-05-26&Format=JSON",
            Body::empty(),
        ))
        .await;
    assert_error(
        &answer,
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    );
}

#[tokio::test]
async fn routing_by_version_and_action() {
    let harness = Harness::default_fixture();
    assert_error(
        &harness.get("Version=2014-05-26&Format=JSON").await,
        400,
        "MissingParameter",
        MISSING_ACTION,
    );
    assert_error(
        &harness.get("Action=DescribeRegions&Format=JSON").await,
        400,
        "MissingParameter",
        "The input parameter \"Version\" that is mandatory for processing this request is not supplied.",
    );
    assert_error(
        &harness
            .get("Action=DescribeRegions&Version=2099-01-01&Format=JSON")
            .await,
        400,
        "InvalidVersion",
        "Specified parameter Version is not valid.",
    );
    assert_error(
        &harness
            .get("Action=DescribeInstances2&Version=2014-05-26&Format=JSON")
            .await,
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    );
    // Action names are exact: the ECS name is not found under the KMS version.
    let kms = harness
        .get("Action=ModifyDiskDefaultKMSKeyId&Version=2016-01-20&Format=JSON&RegionId=cn-shanghai")
        .await;
    assert_error(
        &kms,
        404,
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    );
    // KMS errors use the KMS envelope: regional HostId, product Kms, HttpStatus.
    let body = kms.json();
    assert_eq!(body["HostId"], "kms.cn-shanghai.aliyuncs.com");
    assert_eq!(body["HttpStatus"], 404);
    assert!(
        body["Recommend"]
            .as_str()
            .unwrap()
            .contains("&product=Kms&")
    );
    // Without a region, the server's default region.
    let kms = harness
        .get("Action=Nope&Version=2016-01-20&Format=JSON&RegionId=None")
        .await;
    assert_eq!(kms.json()["HostId"], "kms.cn-hangzhou.aliyuncs.com");
}

#[tokio::test]
async fn v3_requests_route_by_headers_and_default_to_json() {
    let harness = Harness::default_fixture();
    let v3 = Request::builder()
        .method(Method::POST)
        .uri("/?RegionId=cn-hangzhou")
        .header("x-acs-action", "DescribeDiskEncryptionByDefaultStatus")
        .header("x-acs-version", "2014-05-26")
        .header(
            "authorization",
            format!("ACS3-HMAC-SHA256 Credential={DEFAULT_AK},SignedHeaders=host,Signature=00"),
        )
        .body(Body::empty())
        .unwrap();
    let answer = harness.send(v3).await;
    assert_ok(&answer);
    assert_eq!(answer.content_type, "application/json;charset=utf-8");
    assert_eq!(answer.json()["Encrypted"], false);
    // V2 parameters win over the (unsigned) headers.
    let v2 = Request::builder()
        .method(Method::GET)
        .uri("/?Action=DescribeRegions&Version=2014-05-26&Format=JSON")
        .header("x-acs-action", "DescribeDiskEncryptionByDefaultStatus")
        .body(Body::empty())
        .unwrap();
    assert!(harness.send(v2).await.json()["Regions"].is_object());
}

#[tokio::test]
async fn post_form_body_merges_with_the_query() {
    let harness = Harness::default_fixture();
    let post = Request::builder()
        .method(Method::POST)
        .uri("/?Format=JSON")
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .body(Body::from(format!(
            "Action=DescribeDiskDefaultKMSKeyId&Version=2014-05-26&RegionId=cn-hangzhou&AccessKeyId={DEFAULT_AK}"
        )))
        .unwrap();
    let answer = harness.send(post).await;
    assert_ok(&answer);
    assert!(
        answer.json()["KMSKeyId"]
            .as_str()
            .unwrap()
            .starts_with("key-")
    );
    // A body that is not a form is not read as parameters.
    let json_body = Request::builder()
        .method(Method::POST)
        .uri("/?Format=JSON&Version=2014-05-26")
        .header("content-type", "application/json")
        .body(Body::from("Action=DescribeRegions"))
        .unwrap();
    assert_error(
        &harness.send(json_body).await,
        400,
        "MissingParameter",
        MISSING_ACTION,
    );
}

#[tokio::test]
async fn format_is_case_insensitive_and_validated() {
    let harness = Harness::default_fixture();
    for format in ["JSON", "json", "Json"] {
        let answer = harness
            .get(&format!(
                "Action=DescribeRegions&Version=2014-05-26&Format={format}"
            ))
            .await;
        assert_eq!(answer.content_type, "application/json;charset=utf-8");
    }
    for format in ["XML", "xml"] {
        let answer = harness
            .get(&format!(
                "Action=DescribeRegions&Version=2014-05-26&Format={format}"
            ))
            .await;
        assert_eq!(answer.content_type, "text/xml;charset=utf-8");
    }
    let answer = harness
        .get("Action=DescribeRegions&Version=2014-05-26&Format=yaml")
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_type, "text/xml;charset=utf-8", "V2 default");
    assert!(answer.text.contains("<Code>InvalidParameter</Code><Message>The specified parameter \"Format\" is not valid.</Message>"), "{}", answer.text);
}

#[tokio::test]
async fn malformed_parameters_are_answered_in_the_envelope() {
    let harness = Harness::default_fixture();
    let invalid = |name: &str| format!("The specified parameter \"{name}\" is not valid.");
    let cases = [
        (
            "Action=DescribeRegions&Version=2014-05-26&Format=JSON&RegionId=%ZZ",
            "RegionId",
        ),
        (
            "Action=DescribeRegions&Version=2014-05-26&Format=JSON&RegionId=%E4%B8",
            "RegionId",
        ),
        (
            "Action=DescribeRegions&Version=2014-05-26&Format=JSON&RegionId=a&RegionId=b",
            "RegionId",
        ),
        (
            "Action=DescribeRegions&Version=2014-05-26&Format=JSON&RegionId=a%00b",
            "RegionId",
        ),
        (
            "Action=DescribeRegions&Version=2014-05-26&Format=JSON&Bad%01Name=x",
            "Bad?Name",
        ),
    ];
    for (query, name) in cases {
        let answer = harness.get(query).await;
        assert_error(&answer, 400, "InvalidParameter", &invalid(name));
    }
    // The same parameter twice with the same value is accepted.
    assert_ok(
        &harness
            .get("Action=DescribeRegions&Version=2014-05-26&Format=JSON&Format=JSON")
            .await,
    );
    // `+` is a space, as the Python SDKs send it.
    let answer = harness
        .get("Action=ModifyDiskDefaultKMSKeyId&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou&KMSKeyId=a+b")
        .await;
    assert_eq!(answer.code(), "InvalidDefaultEncryption.NotFound");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_in_the_envelope() {
    let harness = Harness::default_fixture();
    let big = "A=".to_owned() + &"x".repeat(1024 * 1024);
    let post = Request::builder()
        .method(Method::POST)
        .uri("/?Action=DescribeRegions&Version=2014-05-26&Format=JSON")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(big))
        .unwrap();
    let answer = harness.send(post).await;
    assert_error(
        &answer,
        413,
        "RequestEntityTooLarge",
        "The request body exceeds the emulator's limit of 1048576 bytes.",
    );
    // Without a Content-Length (a stream), the limit still holds.
    let chunks = futures_chunks(2 * 1024 * 1024);
    let post = Request::builder()
        .method(Method::POST)
        .uri("/?Action=DescribeRegions&Version=2014-05-26&Format=JSON")
        .body(chunks)
        .unwrap();
    assert_eq!(harness.send(post).await.code(), "RequestEntityTooLarge");
}

fn futures_chunks(total: usize) -> Body {
    let chunk = axum::body::Bytes::from(vec![b'x'; 64 * 1024]);
    let stream = tokio_stream_of(chunk, total / (64 * 1024));
    Body::from_stream(stream)
}

fn tokio_stream_of(
    chunk: axum::body::Bytes,
    count: usize,
) -> impl futures_core::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    struct Repeat(axum::body::Bytes, usize);
    impl futures_core::Stream for Repeat {
        type Item = Result<axum::body::Bytes, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            if self.1 == 0 {
                return std::task::Poll::Ready(None);
            }
            self.1 -= 1;
            std::task::Poll::Ready(Some(Ok(self.0.clone())))
        }
    }
    Repeat(chunk, count)
}

#[tokio::test]
async fn a_header_that_is_not_text_is_answered_in_the_envelope() {
    let harness = Harness::default_fixture();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/?RegionId=cn-hangzhou")
        .header(
            "x-acs-action",
            axum::http::HeaderValue::from_bytes(b"Describe\xffRegions").unwrap(),
        )
        .header("x-acs-version", "2014-05-26")
        .header(
            "authorization",
            "ACS3-HMAC-SHA256 Credential=x,SignedHeaders=host,Signature=00",
        )
        .body(Body::empty())
        .unwrap();
    assert_error(
        &harness.send(request).await,
        400,
        "InvalidParameter",
        "The specified parameter \"x-acs-action\" is not valid.",
    );
}

#[tokio::test]
async fn an_unknown_or_absent_access_key_acts_as_the_first_account() {
    let harness = Harness::default_fixture();
    let enable =
        "Action=EnableDiskEncryptionByDefault&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou";
    assert_ok(&harness.get(enable).await);
    // The default account is now enabled, whoever the unknown caller claimed to be.
    let answer = harness
        .get(&format!("{enable}&AccessKeyId=LTAI-unknown"))
        .await;
    assert_eq!(
        answer.code(),
        "InvalidOperation.DefaultEncryptionAlreadyEnabled"
    );
    // A state without accounts has no one to act as.
    let empty = Harness::with_document(r#"{"regions":[{"regionId":"cn-hangzhou"}]}"#);
    assert_error(
        &empty.get(enable).await,
        404,
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    );
}

#[tokio::test]
async fn past_the_concurrency_bound_requests_get_503_at_once() {
    let settings = ecs_emulator::app::Settings {
        max_in_flight: 0,
        ..Default::default()
    };
    let harness = Harness::with_settings(ecs_emulator::DEFAULT_FIXTURE, settings);
    let answer = harness
        .get("Action=DescribeRegions&Version=2014-05-26&Format=JSON")
        .await;
    assert_error(
        &answer,
        503,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
    );
    // The control plane is not bound by it.
    let (status, _) = harness.admin(Method::GET, "/_emulator/health", None).await;
    assert_eq!(status, 200);
}
