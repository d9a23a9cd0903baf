//! Authentication: every recorded signature vector verifies (and fails with the wrong secret),
//! recorded requests replay under `verify` and are refused as expired under `strict`, and
//! each failure of `wire.md` §2 comes back in its order with its code.

use crate::captures::{captures, replay_request, vectors_dir};
use crate::support::{DEFAULT_AK, Harness, assert_error, assert_ok, encode};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use ecs_emulator::app::Settings;
use ecs_emulator::auth::{AuthMode, Credentials};
use ecs_emulator::protocol::parse;
use ecs_emulator::protocol::signature::{v2, v3};
use serde_json::{Value, json};

const SECRET: &str = "TestSecret01";

fn vectors(file: &str) -> Vec<Value> {
    let path = vectors_dir().join(file);
    let document: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    document["vectors"].as_array().unwrap().clone()
}

/// Decodes a recorded request through the server's own parser.
fn decoded(recorded: &Value) -> parse::RpcRequest {
    let mut headers = HeaderMap::new();
    for header in recorded["headers"].as_array().unwrap() {
        headers.append(
            HeaderName::from_bytes(header[0].as_str().unwrap().as_bytes()).unwrap(),
            HeaderValue::from_str(header[1].as_str().unwrap()).unwrap(),
        );
    }
    let method = Method::from_bytes(recorded["method"].as_str().unwrap().as_bytes()).unwrap();
    let body = recorded["body"].as_str().unwrap_or("").to_owned();
    parse::decode(method, headers, recorded["raw_query"].as_str(), body.into()).unwrap()
}

#[test]
fn every_recorded_vector_verifies_and_fails_with_the_wrong_secret() {
    let mut count = 0;
    for file in [
        "v2-rpc-hmac-sha1.json",
        "v3-acs3-hmac-sha256.json",
        "v4-acs4-hmac-sha256.json",
    ] {
        for vector in vectors(file) {
            let name = format!("{file}: {}", vector["source"]);
            let request = decoded(&vector["request"]);
            let credentials = Credentials::extract(&request).unwrap();
            assert_eq!(credentials.access_key_id, vector["access_key_id"], "{name}");
            let secret = vector["secret"].as_str().unwrap();
            let (string_to_sign, signature) = credentials.expected(&request, secret);
            assert_eq!(string_to_sign, vector["string_to_sign"], "{name}");
            assert_eq!(signature.as_str(), vector["expected_signature"], "{name}");
            assert!(credentials.verify(&request, secret).is_ok(), "{name}");
            let (_, wrong) = credentials.expected(&request, "WrongSecret");
            assert_eq!(wrong.as_str(), vector["wrong_secret_signature"], "{name}");
            let refused = credentials.verify(&request, "WrongSecret").unwrap_err();
            assert_eq!(
                refused.message,
                format!(
                    "Specified signature is not matched with our calculation. server string to sign is:{}",
                    vector["string_to_sign"].as_str().unwrap()
                ),
                "{name}"
            );
            count += 1;
        }
    }
    assert_eq!(count, 97);
}

/// The state the STS captures were made with: the vectors' key pair as an STS credential.
fn sts_replay_document() -> String {
    json!({
        "regions": [{"regionId": "cn-hangzhou"}],
        "accounts": [{"accountId": "1234567890123456",
            "kmsKeys": [{"keyId": "key-hzz65e1c1f1wh3ka4wq4e", "regionId": "cn-hangzhou"}],
            "regionSettings": {"cn-hangzhou": {"defaultEncryption": {"enabled": true}}},
            "stsTokens": [{"accessKeyId": "LTAI5tTestAccessKey01", "accessKeySecret": SECRET,
                "securityToken": "CAIStsTestSecurityToken01+/=", "expiration": "2099-01-01T00:00:00Z"}]}]
    })
    .to_string()
}

fn harness(document: &str, auth: AuthMode) -> Harness {
    Harness::with_settings(
        document,
        Settings {
            auth,
            ..Settings::default()
        },
    )
}

#[tokio::test]
async fn recorded_requests_verify_under_verify_and_are_expired_under_strict() {
    let sts_document = sts_replay_document();
    let mut verified = 0;
    for (name, capture) in captures() {
        let sts = name.contains("__sts");
        let document = if sts {
            sts_document.as_str()
        } else {
            ecs_emulator::DEFAULT_FIXTURE
        };
        for recorded in capture["requests"].as_array().unwrap() {
            let verify = harness(document, AuthMode::Verify);
            let answer = verify.send(replay_request(recorded)).await;
            // Past authentication, the action ran: success, or a state check of the family.
            let code = answer.code();
            assert!(
                !is_auth_failure(&code),
                "{name}: refused under verify: {}",
                answer.text
            );
            verified += 1;
            let strict = harness(document, AuthMode::Strict);
            let answer = strict.send(replay_request(recorded)).await;
            assert_error(
                &answer,
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            );
        }
        // Against the default fixture, a token with a permanent key is a mismatch.
        if sts {
            let answer = harness(ecs_emulator::DEFAULT_FIXTURE, AuthMode::Verify)
                .send(replay_request(&capture["requests"][0]))
                .await;
            assert_eq!(answer.code(), "InvalidSecurityToken.Mismatch", "{name}");
        }
    }
    // The shared recordings, and the project's own of the STS clients.
    assert_eq!(verified, 97 + 16);
}

fn is_auth_failure(code: &str) -> bool {
    code.starts_with("Signature")
        || code.starts_with("InvalidTimeStamp")
        || code.starts_with("InvalidAccessKeyId")
        || code.starts_with("InvalidSecurityToken")
        || matches!(
            code,
            "IncompleteSignature"
                | "MissingSecurityToken"
                | "Forbidden.AccessKeyDisabled"
                | "MissingParameter"
        )
}

/// A V2 request signed now, as the SDKs sign it.
#[derive(Clone)]
pub struct V2 {
    method: Method,
    params: Vec<(String, String)>,
}

impl V2 {
    pub fn new(action: &str, access_key_id: &str) -> Self {
        let now = timestamp_now();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let params = [
            ("Action", action),
            ("Version", "2014-05-26"),
            ("Format", "JSON"),
            ("RegionId", "cn-hangzhou"),
            ("AccessKeyId", access_key_id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce.as_str()),
            ("Timestamp", now.as_str()),
        ];
        let params = params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        Self {
            method: Method::GET,
            params,
        }
    }

    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.params.retain(|(n, _)| n != name);
        self.params.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.params.retain(|(n, _)| n != name);
        self
    }

    pub fn string_to_sign(&self) -> String {
        v2::string_to_sign(
            self.method.as_str(),
            self.params.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        )
    }

    pub fn signed(self, secret: &str) -> Request<Body> {
        let signature = v2::sign(secret, &self.string_to_sign());
        self.with_signature(&signature)
    }

    pub fn with_signature(self, signature: &str) -> Request<Body> {
        let mut query: Vec<String> = self
            .params
            .iter()
            .map(|(n, v)| format!("{n}={}", encode(v)))
            .collect();
        query.push(format!("Signature={}", encode(signature)));
        Request::builder()
            .method(self.method)
            .uri(format!("/?{}", query.join("&")))
            .body(Body::empty())
            .unwrap()
    }
}

/// Now, as the SDKs write it: `YYYY-MM-DDTHH:MM:SSZ`.
fn timestamp_now() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap()
}

pub fn strict() -> Harness {
    harness(ecs_emulator::DEFAULT_FIXTURE, AuthMode::Strict)
}

const STATUS: &str = "DescribeDiskEncryptionByDefaultStatus";

#[tokio::test]
async fn a_correctly_signed_request_passes_strict() {
    let harness = strict();
    assert_ok(
        &harness
            .send(V2::new(STATUS, DEFAULT_AK).signed(SECRET))
            .await,
    );
    // An STS credential with its token acts as its account's root.
    let sts =
        V2::new(STATUS, "STS.DemoDefaultRoot01").set("SecurityToken", "CAIDemoSecurityTokenRoot01");
    assert_ok(&harness.send(sts.signed("DemoSecretStsRoot01")).await);
}

#[tokio::test]
async fn each_failure_has_its_code() {
    let harness = strict();
    let missing = |name: &str| {
        format!(
            "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
        )
    };
    let invalid = |name: &str| format!("The specified parameter \"{name}\" is not valid.");
    let cases: Vec<(Request<Body>, u16, &str, String)> = vec![
        (
            V2::new(STATUS, DEFAULT_AK)
                .without("AccessKeyId")
                .signed(SECRET),
            400,
            "MissingParameter",
            missing("AccessKeyId"),
        ),
        (
            V2::new(STATUS, DEFAULT_AK)
                .set("SignatureMethod", "HMAC-SHA256")
                .signed(SECRET),
            400,
            "InvalidParameter",
            invalid("SignatureMethod"),
        ),
        (
            V2::new(STATUS, DEFAULT_AK)
                .set("SignatureVersion", "2.0")
                .signed(SECRET),
            400,
            "InvalidParameter",
            invalid("SignatureVersion"),
        ),
        (
            V2::new(STATUS, DEFAULT_AK)
                .set("Timestamp", "yesterday")
                .signed(SECRET),
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.".into(),
        ),
        (
            V2::new(STATUS, DEFAULT_AK)
                .set("Timestamp", "2020-01-01T00:00:00Z")
                .signed(SECRET),
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.".into(),
        ),
        (
            V2::new(STATUS, DEFAULT_AK)
                .without("Timestamp")
                .signed(SECRET),
            400,
            "MissingParameter",
            missing("Timestamp"),
        ),
        (
            V2::new(STATUS, "LTAI5tNoSuchKey").signed(SECRET),
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.".into(),
        ),
        (
            V2::new(STATUS, "LTAI5tDemoInactiveKey01").signed("DemoSecretInactive01"),
            403,
            "Forbidden.AccessKeyDisabled",
            "The AccessKey is disabled.".into(),
        ),
        (
            V2::new(STATUS, "STS.DemoDefaultRoot01").signed("DemoSecretStsRoot01"),
            400,
            "MissingSecurityToken",
            "SecurityToken is mandatory for this action.".into(),
        ),
        (
            V2::new(STATUS, "STS.DemoDefaultRoot01")
                .set("SecurityToken", "CAIsomeoneElse")
                .signed("DemoSecretStsRoot01"),
            400,
            "InvalidSecurityToken.Mismatch",
            "Specified SecurityToken mismatch with the AccessKey.".into(),
        ),
        (
            V2::new(STATUS, DEFAULT_AK)
                .set("SecurityToken", "CAIDemoSecurityTokenRoot01")
                .signed(SECRET),
            400,
            "InvalidSecurityToken.Mismatch",
            "Specified SecurityToken mismatch with the AccessKey.".into(),
        ),
        (
            V2::new(STATUS, "STS.DemoExpired01")
                .set("SecurityToken", "CAIDemoSecurityTokenExpired01")
                .signed("DemoSecretStsExpired01"),
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.".into(),
        ),
        (
            V2::new(STATUS, DEFAULT_AK)
                .without("SignatureNonce")
                .signed(SECRET),
            400,
            "MissingParameter",
            missing("SignatureNonce"),
        ),
    ];
    for (request, status, code, message) in cases {
        let uri = request.uri().to_string();
        let answer = harness.send(request).await;
        assert_eq!(
            (
                answer.status.as_u16(),
                answer.code(),
                answer.json()["Message"].as_str().unwrap().to_owned()
            ),
            (status, code.to_owned(), message),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_wrong_signature_gets_the_servers_string_to_sign() {
    let harness = strict();
    let request = V2::new(STATUS, DEFAULT_AK);
    let expected = request.string_to_sign();
    let answer = harness.send(request.signed("WrongSecret")).await;
    let message = format!(
        "Specified signature is not matched with our calculation. server string to sign is:{expected}"
    );
    assert_error(&answer, 400, "SignatureDoesNotMatch", &message);
    assert_eq!(
        message.matches(':').count(),
        1,
        "py-core splits the message on ':'"
    );
}

#[tokio::test]
async fn a_nonce_is_consumed_only_by_a_verified_request() {
    let harness = strict();
    let request = || V2::new(STATUS, DEFAULT_AK).set("SignatureNonce", "fixed-nonce-1");
    assert_eq!(
        harness.send(request().signed("WrongSecret")).await.code(),
        "SignatureDoesNotMatch"
    );
    assert_ok(&harness.send(request().signed(SECRET)).await);
    let replay = harness.send(request().signed(SECRET)).await;
    assert_error(
        &replay,
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    );
    // Under verify, nonces are not remembered.
    let verify = harness_verify();
    assert_ok(&verify.send(request().signed(SECRET)).await);
    assert_ok(&verify.send(request().signed(SECRET)).await);
}

fn harness_verify() -> Harness {
    harness(ecs_emulator::DEFAULT_FIXTURE, AuthMode::Verify)
}

#[tokio::test]
async fn failures_come_in_the_specs_order() {
    let harness = strict();
    // Timestamp (3) before an unknown key (4) before the signature (6).
    let answer = harness
        .send(
            V2::new(STATUS, "LTAI5tNoSuchKey")
                .set("Timestamp", "2020-01-01T00:00:00Z")
                .signed("x"),
        )
        .await;
    assert_eq!(answer.code(), "InvalidTimeStamp.Expired");
    let answer = harness
        .send(V2::new(STATUS, "LTAI5tNoSuchKey").signed("x"))
        .await;
    assert_eq!(answer.code(), "InvalidAccessKeyId.NotFound");
    // Disabled key (4) before the signature (6); STS (5) before the signature.
    let answer = harness
        .send(V2::new(STATUS, "LTAI5tDemoInactiveKey01").signed("x"))
        .await;
    assert_eq!(answer.code(), "Forbidden.AccessKeyDisabled");
    let answer = harness
        .send(V2::new(STATUS, "STS.DemoDefaultRoot01").signed("x"))
        .await;
    assert_eq!(answer.code(), "MissingSecurityToken");
    // Authentication (4) before authorization (5) and before the action's checks.
    let answer = harness
        .send(V2::new("ModifyDiskDefaultKMSKeyId", "LTAI5tDemoRamEcsAdmin").signed("x"))
        .await;
    assert_eq!(answer.code(), "SignatureDoesNotMatch");
    let answer = harness
        .send(
            V2::new("ModifyDiskDefaultKMSKeyId", "LTAI5tDemoRamEcsAdmin")
                .signed("DemoSecretRamEcsAdmin"),
        )
        .await;
    assert_eq!(answer.code(), "Forbidden.RAM");
    // Verify mode ignores the clock: an old timestamp passes, a malformed one does not.
    let verify = harness_verify();
    assert_ok(
        &verify
            .send(
                V2::new(STATUS, DEFAULT_AK)
                    .set("Timestamp", "2020-01-01T00:00:00Z")
                    .signed(SECRET),
            )
            .await,
    );
    let answer = verify
        .send(
            V2::new(STATUS, DEFAULT_AK)
                .set("Timestamp", "01/01/2020")
                .signed(SECRET),
        )
        .await;
    assert_eq!(answer.code(), "InvalidTimeStamp.Format");
}

#[tokio::test]
async fn an_sts_credential_of_a_ram_user_is_held_to_its_policies() {
    let harness = strict();
    let request = |action: &str| {
        V2::new(action, "STS.DemoRamReader01")
            .set("SecurityToken", "CAIDemoSecurityTokenRamReader01")
            .signed("DemoSecretStsRamReader01")
    };
    assert_ok(&harness.send(request(STATUS)).await);
    assert_eq!(
        harness
            .send(request("EnableDiskEncryptionByDefault"))
            .await
            .code(),
        "Forbidden.RAM"
    );
}

#[tokio::test]
async fn v3_headers_are_verified_as_signed() {
    let harness = strict();
    let date = timestamp_now();
    let build = |secret: &str, nonce: &str, body_hash: &str| {
        let headers = [
            ("host", "127.0.0.1"),
            ("x-acs-action", STATUS),
            ("x-acs-content-sha256", body_hash),
            ("x-acs-date", date.as_str()),
            ("x-acs-signature-nonce", nonce),
            ("x-acs-version", "2014-05-26"),
        ];
        let owned: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, v.to_string())).collect();
        let query = [("RegionId".to_owned(), "cn-hangzhou".to_owned())];
        let authorization = v3::authorization("POST", &query, &owned, DEFAULT_AK, secret);
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/?RegionId=cn-hangzhou");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
            .header("authorization", authorization)
            .body(Body::empty())
            .unwrap()
    };
    let empty = v3::hex_sha256(b"");
    assert_ok(&harness.send(build(SECRET, "n-1", &empty)).await);
    assert_eq!(
        harness.send(build(SECRET, "n-1", &empty)).await.code(),
        "SignatureNonceUsed"
    );
    let answer = harness.send(build("WrongSecret", "n-2", &empty)).await;
    assert_eq!(answer.code(), "SignatureDoesNotMatch");
    let message = answer.json()["Message"].as_str().unwrap().to_owned();
    let string_to_sign = message.split_once("server string to sign is:").unwrap().1;
    assert!(
        string_to_sign.starts_with("ACS3-HMAC-SHA256\n") && string_to_sign.len() == 17 + 64,
        "{message}"
    );
    // A claimed body hash that is not the body's fails even when signed consistently.
    let wrong_hash = v3::hex_sha256(b"something else");
    assert_eq!(
        harness.send(build(SECRET, "n-3", &wrong_hash)).await.code(),
        "SignatureDoesNotMatch"
    );
    // A partial Authorization header.
    let partial = Request::builder()
        .method(Method::POST)
        .uri("/?RegionId=cn-hangzhou")
        .header("x-acs-action", STATUS)
        .header("x-acs-version", "2014-05-26")
        .header(
            "authorization",
            format!("ACS3-HMAC-SHA256 Credential={DEFAULT_AK}"),
        )
        .body(Body::empty())
        .unwrap();
    assert_error(
        &harness.send(partial).await,
        400,
        "IncompleteSignature",
        "The request signature does not conform to Alibaba Cloud standards.",
    );
}

/// An `Authorization` header that is there but is no well-formed ACS3/ACS4 header is
/// `IncompleteSignature` (`wire.md` §2, failure 1), whether the action is named in headers (as
/// V3 clients do) or in the query (as V2 clients do), and in the format the request asks for.
#[tokio::test]
async fn a_malformed_authorization_header_is_an_incomplete_signature() {
    let harness = strict();
    for authorization in [
        "Bearer abc".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        String::new(),
        "ACS3-HMAC-SHA256".to_owned(),
        "ACS4-HMAC-SHA256 ".to_owned(),
        format!("ACS3-HMAC-SHA256 Credential={DEFAULT_AK},SignedHeaders=host"),
        format!("ACS4-HMAC-SHA256 Credential={DEFAULT_AK},SignedHeaders=host,Signature=00"),
        format!("ACS3-HMAC-SHA1 Credential={DEFAULT_AK},SignedHeaders=host,Signature=00"),
    ] {
        for (uri, in_headers) in [
            ("/?RegionId=cn-hangzhou", true),
            (
                "/?Action=DescribeDiskEncryptionByDefaultStatus&Version=2014-05-26&RegionId=cn-hangzhou&Format=JSON&AccessKeyId=LTAI5tTestAccessKey01",
                false,
            ),
        ] {
            let mut request = Request::builder().method(Method::GET).uri(uri);
            if in_headers {
                request = request
                    .header("x-acs-action", STATUS)
                    .header("x-acs-version", "2014-05-26");
            }
            let request = request
                .header("authorization", authorization.as_str())
                .body(Body::empty())
                .unwrap();
            let answer = harness.send(request).await;
            assert_error(
                &answer,
                400,
                "IncompleteSignature",
                "The request signature does not conform to Alibaba Cloud standards.",
            );
            assert_eq!(answer.content_type, "application/json;charset=utf-8");
        }
    }
}

/// `alibabacloud_credentials` form-encodes each name and value before signing (a space is
/// `+`, then `%2B`): such a signature verifies, for every product, alongside the standard one
/// (`sts.md` §1). A wrong one still fails, with the standard string to sign.
#[tokio::test]
async fn a_form_encoded_v2_signature_verifies_as_well() {
    let harness = strict();
    // A space: where the two encodings differ.
    let base = V2::new("DescribeRegions", DEFAULT_AK).set("ResourceType", "instance disk");
    let request = || {
        base.clone()
            .set("SignatureNonce", &uuid::Uuid::new_v4().to_string())
    };
    assert_eq!(v2::form_string_to_sign("GET&%2F&A%3Db"), None);
    for form_encoded in [false, true] {
        let request = request();
        let standard = request.string_to_sign();
        assert!(standard.contains("instance%2520disk"), "{standard}");
        let form = standard.replace("instance%2520disk", "instance%2Bdisk");
        assert_eq!(
            v2::form_string_to_sign(&standard).as_deref(),
            Some(form.as_str())
        );
        let signed_over = if form_encoded { &form } else { &standard };
        let signature = v2::sign(SECRET, signed_over);
        assert_ok(&harness.send(request.with_signature(&signature)).await);
    }
    let request = request();
    let standard = request.string_to_sign();
    let form = v2::form_string_to_sign(&standard).unwrap();
    let wrong = v2::sign("WrongSecret", &form);
    let answer = harness.send(request.with_signature(&wrong)).await;
    assert_error(
        &answer,
        400,
        "SignatureDoesNotMatch",
        &format!(
            "Specified signature is not matched with our calculation. server string to sign is:{standard}"
        ),
    );
}
