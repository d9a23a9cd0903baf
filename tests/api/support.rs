//! Building an app over a state, sending requests, reading answers.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use ecs_emulator::app::{self, App, Settings};
use ecs_emulator::auth::AuthMode;
use ecs_emulator::store::parse_document;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const DEFAULT_AK: &str = "LTAI5tTestAccessKey01";
pub const DEFAULT_ACCOUNT: &str = "1234567890123456";
pub const DEFAULT_KEY: &str = "key-hzz65e1c1f1wh3ka4wq4e";

/// An answer, decoded.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub request_id_header: String,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or("").to_owned()
    }

    /// The body with its RequestId (and the Recommend link that embeds it) redacted.
    pub fn redacted(&self) -> String {
        self.text.replace(&self.request_id_header, "<RequestId>")
    }
}

/// Drives one app; each `Harness` has its own state.
pub struct Harness {
    router: app::Http,
}

impl Harness {
    /// Over the built-in default fixture.
    pub fn default_fixture() -> Self {
        Self::with_document(ecs_emulator::DEFAULT_FIXTURE)
    }

    /// With `--auth off`: these tests are about what happens after authentication, so an
    /// unsigned request's `AccessKeyId` selects the caller. Signed requests: `signing.rs`.
    pub fn with_document(document: &str) -> Self {
        let settings = Settings {
            auth: AuthMode::Off,
            ..Settings::default()
        };
        Self::with_settings(document, settings)
    }

    pub fn with_settings(document: &str, settings: Settings) -> Self {
        let state = parse_document(document.as_bytes()).expect("valid test document");
        Self {
            router: app::build(App::new(state, settings)),
        }
    }

    /// Over one region (`cn-hangzhou`, plus `xx-unsupported` without the feature) and one
    /// account built from `account` (merged over an id and an AccessKey).
    pub fn with_account(account: Value) -> Self {
        let mut base = json!({
            "accountId": "1",
            "accessKeys": [{"accessKeyId": "AK1", "accessKeySecret": "s"}],
        });
        for (k, v) in account.as_object().expect("an object") {
            base[k] = v.clone();
        }
        let document = json!({
            "regions": [
                {"regionId": "cn-hangzhou"},
                {"regionId": "xx-unsupported", "defaultEncryptionSupported": false},
            ],
            "accounts": [base],
        });
        Self::with_document(&document.to_string())
    }

    /// The router, for tests that need the raw response.
    pub fn router(&self) -> app::Http {
        self.router.clone()
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (status, content_type, request_id_header) = (
            response.status(),
            header("content-type"),
            header("x-acs-request-id"),
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            content_type,
            request_id_header,
            text: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        }
    }

    /// A GET with `query` as is.
    pub async fn get(&self, query: &str) -> Answer {
        self.send(request(Method::GET, &format!("/?{query}"), Body::empty()))
            .await
    }

    /// An ECS call in JSON as the given AccessKeyId, parameters as `(name, value)`.
    pub async fn ecs(&self, access_key_id: &str, action: &str, params: &[(&str, &str)]) -> Answer {
        self.call("2014-05-26", access_key_id, action, params).await
    }

    /// A KMS call in JSON as the given AccessKeyId (no RegionId unless given: the server's
    /// default region, cn-hangzhou).
    pub async fn kms(&self, access_key_id: &str, action: &str, params: &[(&str, &str)]) -> Answer {
        self.call("2016-01-20", access_key_id, action, params).await
    }

    /// An STS call in JSON as the given AccessKeyId.
    pub async fn sts(&self, access_key_id: &str, action: &str, params: &[(&str, &str)]) -> Answer {
        self.call("2015-04-01", access_key_id, action, params).await
    }

    /// A call of the product `version` names, in JSON, as the given AccessKeyId.
    pub async fn call(
        &self,
        version: &str,
        access_key_id: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Answer {
        let mut query =
            format!("Version={version}&Action={action}&Format=JSON&AccessKeyId={access_key_id}");
        for (name, value) in params {
            query.push_str(&format!("&{name}={}", encode(value)));
        }
        self.get(&query).await
    }

    /// `GET /_emulator/accounts/{id}`: the account as the state holds it.
    pub async fn account(&self, id: &str) -> Value {
        let (status, account) = self
            .admin(Method::GET, &format!("/_emulator/accounts/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{account}");
        account
    }

    /// An admin call with an optional JSON body.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_owned()));
        let answer = self.send(request(method, path, body)).await;
        let json = if answer.text.is_empty() {
            Value::Null
        } else {
            answer.json()
        };
        (answer.status, json)
    }
}

pub fn request(method: Method, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .unwrap()
}

/// Percent-encodes a value for a query string.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Asserts an error answer: status, code and exact message.
#[track_caller]
pub fn assert_error(answer: &Answer, status: u16, code: &str, message: &str) {
    let body = answer.json();
    assert_eq!(
        (
            answer.status.as_u16(),
            body["Code"].as_str(),
            body["Message"].as_str()
        ),
        (status, Some(code), Some(message)),
        "body: {}",
        answer.text
    );
}

#[track_caller]
pub fn assert_ok(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::OK, "body: {}", answer.text);
    assert!(
        answer.json().get("Code").is_none(),
        "a success never has Code: {}",
        answer.text
    );
}

/// Every disk category, in the API's order (`disks.md` §3.1).
pub const ALL_CATEGORIES: [&str; 6] = [
    "cloud",
    "cloud_efficiency",
    "cloud_ssd",
    "cloud_essd",
    "cloud_auto",
    "cloud_essd_entry",
];

/// Merges `facts` over `account`: `enabled`, `configured` and `kmsEnabled` are shorthands for
/// its cn-hangzhou setting (the feature on, the configured key, KMS enabled there), anything
/// else an account field; the cn-hangzhou setting is written in any case.
pub fn with_facts(account: &mut Value, facts: &Value) {
    let mut setting = json!({"kmsEnabled": true, "defaultEncryption": {"enabled": false}});
    for (name, value) in facts.as_object().expect("an object") {
        match name.as_str() {
            "enabled" => setting["defaultEncryption"]["enabled"] = value.clone(),
            "configured" => setting["defaultEncryption"]["kmsKeyId"] = value.clone(),
            "kmsEnabled" => setting["kmsEnabled"] = value.clone(),
            _ => account[name] = value.clone(),
        }
    }
    account["regionSettings"] = json!({ "cn-hangzhou": setting });
}
