//! The client side: one call signed the way the official SDKs sign it, for `ecs-emulator
//! call` and the control plane's `POST /_emulator/invoke`. V3 (the tea SDKs): parameters in
//! the query, `x-acs-*` headers and the `Authorization` header. V2 (the classic SDKs): every
//! parameter, the common ones and the `Signature` in the query.

use super::{percent_encode, v2, v3};
use axum::body::Bytes;
use axum::http::Request;
use http_body_util::Full;

/// Who signs: an AccessKey pair, with its token when it is an STS credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
}

/// What to call.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub action: &'a str,
    /// `2014-05-26` (ECS) or `2016-01-20` (KMS).
    pub version: &'a str,
    /// The action's own parameters, in the order given.
    pub params: &'a [(String, String)],
    /// V2 instead of V3.
    pub v2: bool,
}

/// `POST {endpoint}/?query`, signed, with an empty body. `endpoint` is `http://host:port`
/// (its host is signed as the `host` header) or a bare `host:port`.
pub fn signed_request(
    call: &Call<'_>,
    credentials: &Credentials,
    endpoint: &str,
) -> Result<Request<Full<Bytes>>, String> {
    let endpoint = endpoint.trim_end_matches('/');
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let base = if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("http://{endpoint}")
    };
    let Credentials {
        access_key_id,
        access_key_secret: secret,
        security_token,
    } = credentials;
    let builder = Request::post(format!(
        "{base}/?{}",
        if call.v2 {
            query_of(&v2_params(call, credentials))
        } else {
            query_of(call.params)
        }
    ))
    .header("host", host)
    .header("accept", "application/json");
    let builder = if call.v2 {
        builder
            .header("x-acs-action", call.action)
            .header("x-acs-version", call.version)
    } else {
        let mut headers: Vec<(&str, String)> = vec![
            ("host", host.to_owned()),
            ("x-acs-action", call.action.to_owned()),
            ("x-acs-content-sha256", v3::EMPTY_BODY_SHA256.to_owned()),
            ("x-acs-date", crate::ids::now_text()),
            ("x-acs-signature-nonce", nonce()),
            ("x-acs-version", call.version.to_owned()),
        ];
        if let Some(token) = security_token {
            headers.push(("x-acs-accesskey-id", access_key_id.clone()));
            headers.push(("x-acs-security-token", token.clone()));
            headers.sort();
        }
        let authorization = v3::authorization("POST", call.params, &headers, access_key_id, secret);
        let mut builder = builder.header("authorization", authorization);
        for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
            builder = builder.header(*name, value);
        }
        builder
    };
    builder
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())
}

/// V2's query: the action's parameters, the common ones, then the `Signature` over them.
fn v2_params(call: &Call<'_>, credentials: &Credentials) -> Vec<(String, String)> {
    let mut signed = call.params.to_vec();
    let mut common = vec![
        ("Action", call.action.to_owned()),
        ("Version", call.version.to_owned()),
        ("Format", "JSON".to_owned()),
        ("AccessKeyId", credentials.access_key_id.clone()),
        ("SignatureMethod", "HMAC-SHA1".to_owned()),
        ("SignatureVersion", "1.0".to_owned()),
        ("SignatureNonce", nonce()),
        ("Timestamp", crate::ids::now_text()),
    ];
    if let Some(token) = &credentials.security_token {
        common.push(("SecurityToken", token.clone()));
    }
    // A parameter given by the caller (`Format=XML`, say) wins over the common default.
    common.retain(|(name, _)| !signed.iter().any(|(given, _)| given == name));
    signed.extend(common.into_iter().map(|(n, v)| (n.to_owned(), v)));
    let string_to_sign =
        v2::string_to_sign("POST", signed.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let signature = v2::sign(&credentials.access_key_secret, &string_to_sign);
    signed.push(("Signature".to_owned(), signature));
    signed
}

fn query_of(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
