//! The fuzz targets' logic, written once. Each `pub fn <target>(data: &[u8])` takes one input
//! and panics when an invariant breaks. The cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`)
//! include this file with `#[path]` and hand it libFuzzer's inputs; `tests/fuzz_corpus.rs`
//! includes it too and replays `fuzz/corpus/` and `fuzz/regressions/` on stable Rust, so this
//! file needs nothing from libFuzzer.
//!
//! `verify` and `rpc_service` read an input as a small text request, the format of their seeds:
//!
//! ```text
//! METHOD /path?query          (a method that is not a valid token: GET)
//! name: value                 (one header a line; names or values `http` refuses are skipped)
//!                             (an empty line, then the body: the rest of the input)
//! body
//! ```
//!
//! Lines end in `\n` (a `\r` before it is dropped). `rpc_service` takes up to
//! `MAX_REQUESTS` such requests, separated by NUL bytes, sent in turn to one fresh app.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use ecs_emulator::app::{self, App, Settings};
use ecs_emulator::auth::{AuthMode, Credentials};
use ecs_emulator::protocol::params::{Pair, decode_form};
use ecs_emulator::protocol::signature::{canonical_query, percent_encode, v2, v3, v4};
use ecs_emulator::protocol::{Params, parse};
use ecs_emulator::store::model::StateDocument;
use ecs_emulator::store::parse_document;
use std::sync::OnceLock;
use tower::ServiceExt;

/// The secret the recorded SDK requests among the `verify` seeds were signed with (so the
/// seeds reach the success path of `verify`).
pub const SECRET: &str = "TestSecret01";

/// Requests one `rpc_service` input may send (enough for a change and then a read of it).
pub const MAX_REQUESTS: usize = 4;

/// `(&str, &str)` views of owned pairs, as the signature functions take them.
fn borrowed(pairs: &[Pair]) -> impl Iterator<Item = (&str, &str)> + Clone {
    pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
}

/// A canonical query holds only RFC 3986 unreserved characters, upper-case `%XX`, `=` and `&`.
fn assert_canonical(text: &str) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3);
                assert!(
                    hex.is_some_and(|h| h.iter().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'))),
                    "a % not followed by two upper-case hex digits at {i} in {text:?}"
                );
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b"-_.~=&".contains(&b) => i += 1,
            b => panic!("byte {b:#04x} at {i} in the canonical query {text:?}"),
        }
    }
}

/// What `Params::merge` refuses in a name or a value (its documented rule).
/// What XML 1.0 cannot carry, as `wire.md` §1 and `Params::merge` refuse it: a control
/// character other than tab, CR and LF, or one of the non-characters U+FFFE and U+FFFF.
fn forbidden_control(text: &str) -> bool {
    text.chars().any(|c| {
        (c.is_control() && !matches!(c, '\t' | '\r' | '\n')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    })
}

/// Target `params_decode`: the form decoder, the merge and the canonical query of V2.
pub fn params_decode(data: &[u8]) {
    let Ok(pairs) = decode_form(data) else {
        return;
    };
    let mut sorted = pairs.clone();
    sorted.sort();

    // The canonical form is ASCII and decodes back to exactly the pairs it was made of.
    let canonical = canonical_query(borrowed(&pairs));
    assert_canonical(&canonical);
    let again = decode_form(canonical.as_bytes())
        .unwrap_or_else(|e| panic!("the canonical query {canonical:?} does not decode: {e:?}"));
    assert_eq!(again, sorted, "decode(canonical) differs from the pairs");

    let conflicting = sorted
        .windows(2)
        .any(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1);
    let forbidden = pairs
        .iter()
        .any(|(n, v)| forbidden_control(n) || forbidden_control(v));
    let params = match Params::merge(pairs) {
        Ok(params) => params,
        Err(error) => {
            assert!(
                conflicting || forbidden,
                "merge refused pairs with neither a conflict nor a control character: {error:?}"
            );
            return;
        }
    };
    assert!(
        !conflicting && !forbidden,
        "merge accepted a conflict ({conflicting}) or a control character ({forbidden})"
    );
    let mut deduplicated = sorted;
    deduplicated.dedup();
    assert_eq!(params.pairs(), &deduplicated[..], "merged pairs");
    for (name, value) in &deduplicated {
        assert_eq!(params.peek(name), Some(value.as_str()), "peek({name:?})");
    }
    assert!(
        params.each().all(|(_, _, read)| !read),
        "peek marks nothing read"
    );

    let merged = canonical_query(borrowed(params.pairs()));
    assert_canonical(&merged);
    assert_eq!(
        merged,
        canonical_query(borrowed(&deduplicated)),
        "merging changed the canonical query"
    );

    for method in ["GET", "POST"] {
        let string_to_sign = v2::string_to_sign(method, borrowed(params.pairs()));
        assert!(string_to_sign.is_ascii(), "{string_to_sign:?}");
        let unsigned = canonical_query(borrowed(params.pairs()).filter(|(n, _)| *n != "Signature"));
        assert_eq!(
            string_to_sign,
            format!("{method}&%2F&{}", percent_encode(&unsigned)),
            "V2 string to sign"
        );
        let signature = v2::sign("secret", &string_to_sign);
        assert_eq!(signature.len(), 28, "base64 of a SHA-1: {signature:?}");
    }
}

/// Target `authorization`: the V3/V4 `Authorization` header and the V4 credential scope.
pub fn authorization(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(parsed) = v3::Authorization::parse(text) {
        assert!(
            !parsed.algorithm.is_empty() && !parsed.algorithm.contains(' '),
            "algorithm {:?}",
            parsed.algorithm
        );
        for part in [parsed.credential, parsed.signed_headers, parsed.signature] {
            assert!(!part.is_empty(), "an empty part in {parsed:?}");
            assert_eq!(part, part.trim_ascii(), "an untrimmed part in {parsed:?}");
            assert!(!part.contains(','), "a part holding ',' in {parsed:?}");
        }
        assert!(parsed.credential.starts_with(parsed.access_key_id()));
        assert!(!parsed.access_key_id().contains('/'));
        let names: Vec<&str> = parsed.signed_headers().collect();
        assert_eq!(names.join(";"), parsed.signed_headers);
        // Written out again in the canonical shape, it parses to the same thing.
        let rebuilt = format!(
            "{} Credential={},SignedHeaders={},Signature={}",
            parsed.algorithm, parsed.credential, parsed.signed_headers, parsed.signature
        );
        assert_eq!(
            v3::Authorization::parse(&rebuilt).as_ref(),
            Some(&parsed),
            "{rebuilt:?}"
        );
        scope(parsed.credential);
    }
    scope(text);
}

fn scope(credential: &str) {
    let Some(scope) = v4::Scope::parse(credential) else {
        return;
    };
    for part in [scope.access_key_id, scope.date, scope.region, scope.product] {
        assert!(!part.is_empty() && !part.contains('/'), "{scope:?}");
    }
    assert_eq!(
        format!(
            "{}/{}/{}/{}/aliyun_v4_request",
            scope.access_key_id, scope.date, scope.region, scope.product
        ),
        credential
    );
    let signature = v4::sign("secret", &scope, "ACS4-HMAC-SHA256\n");
    assert_eq!(signature.len(), 64, "{signature:?}");
}

/// One request of the text format in the module's documentation.
struct RawRequest<'a> {
    method: Method,
    /// `/path?query` as written.
    target: &'a [u8],
    headers: HeaderMap,
    body: &'a [u8],
}

impl<'a> RawRequest<'a> {
    fn parse(data: &'a [u8]) -> Self {
        let mut rest = data;
        let mut next_line = || -> Option<&'a [u8]> {
            if rest.is_empty() {
                return None;
            }
            let (line, tail) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &b""[..]),
            };
            rest = tail;
            Some(line.strip_suffix(b"\r").unwrap_or(line))
        };
        let first = next_line().unwrap_or_default();
        let (method, target) = match first.iter().position(|&b| b == b' ') {
            Some(i) => (&first[..i], &first[i + 1..]),
            None => (first, &b""[..]),
        };
        let method = Method::from_bytes(method).unwrap_or(Method::GET);
        let mut headers = HeaderMap::new();
        while let Some(line) = next_line() {
            if line.is_empty() {
                break;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            {
                headers.append(name, value);
            }
        }
        Self {
            method,
            target,
            headers,
            body: rest,
        }
    }

    /// As an HTTP request for the router; `None` when the target is no valid URI.
    fn into_http(self) -> Option<Request<Body>> {
        let mut target = self.target.to_vec();
        if !target.starts_with(b"/") {
            target.insert(0, b'/');
        }
        let uri = Uri::try_from(target).ok()?;
        let body = if self.method == Method::POST && uri.path().ends_with("/faults") {
            without_latency(self.body)
        } else {
            self.body.to_vec()
        };
        let mut request = Request::new(Body::from(body));
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = self.headers;
        Some(request)
    }
}

/// Target `verify`: decode a request, extract its credentials, check its signature.
pub fn verify(data: &[u8]) {
    let raw = RawRequest::parse(data);
    let Ok(target) = std::str::from_utf8(raw.target) else {
        return;
    };
    let query = target.split_once('?').map(|(_, query)| query);
    let body = Bytes::copy_from_slice(raw.body);
    let Ok(request) = parse::decode(raw.method, raw.headers, query, body) else {
        return;
    };
    let Ok(credentials) = Credentials::extract(&request) else {
        return;
    };
    let expected = credentials.expected(&request, SECRET);
    assert_eq!(
        credentials.expected(&request, SECRET),
        expected,
        "not deterministic"
    );
    let (string_to_sign, outcome) = credentials.check(&request, SECRET);
    assert_eq!(string_to_sign, expected.0);
    match outcome {
        Ok(()) => {
            assert_eq!(credentials.signature.as_bytes(), expected.1.as_bytes());
            for wrong in ["secret", ""] {
                assert!(
                    credentials.verify(&request, wrong).is_err(),
                    "verified with the wrong secret {wrong:?} too"
                );
            }
        }
        Err(error) => {
            assert_eq!(error.wire(), "SignatureDoesNotMatch", "{error:?}");
            let _ = credentials.verify(&request, "secret");
        }
    }
}

/// Target `state_document`: validation, and the round trip through serde and the store.
pub fn state_document(data: &[u8]) {
    let Ok(document) = parse_document(data) else {
        return;
    };
    let text = serde_json::to_vec(&document).expect("a state document serializes");
    let again = parse_document(&text).unwrap_or_else(|e| {
        panic!(
            "the serialized document is refused: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    assert_eq!(again, document, "serialize then parse changed the document");
    // The store holds it as given: what `GET /_emulator/state` answers after a `PUT`.
    let app = App::new(document.clone(), Settings::default());
    assert_eq!(app.store.dump(), document, "the store's dump differs");
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
}

fn default_fixture() -> &'static StateDocument {
    static FIXTURE: OnceLock<StateDocument> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        parse_document(ecs_emulator::DEFAULT_FIXTURE.as_bytes()).expect("the default fixture")
    })
}

/// Target `rpc_service`: up to `MAX_REQUESTS` requests through the whole router (RPC pipeline
/// and control plane), in process, on a fresh app over the default fixture with `--auth off`
/// and a fixed seed, so an input always replays the same way.
pub fn rpc_service(data: &[u8]) {
    let settings = Settings {
        auth: AuthMode::Off,
        seed: Some(1),
        ..Settings::default()
    };
    let app = App::with_text(
        default_fixture().clone(),
        ecs_emulator::DEFAULT_FIXTURE.as_bytes().into(),
        settings,
    );
    let router = app::build(app.clone());
    RUNTIME.with(|runtime| {
        runtime.block_on(async {
            for record in data.split(|&b| b == 0).take(MAX_REQUESTS) {
                let Some(request) = RawRequest::parse(record).into_http() else {
                    continue;
                };
                let faults_armed = !app.faults.list().is_empty();
                let (method, path) = (request.method().clone(), request.uri().path().to_owned());
                let response = router.clone().oneshot(request).await.expect("infallible");
                disarm_slow_faults(&app);
                check_answer(&method, &path, response, faults_armed).await;
            }
        })
    });
}

/// A fault rule may delay calls by up to a minute: a posted `latencyMs` becomes 0, so inputs
/// stay fast.
fn without_latency(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut rule)) if rule.contains_key("latencyMs") => {
            rule.insert("latencyMs".into(), 0.into());
            serde_json::to_vec(&rule).unwrap_or_default()
        }
        _ => body.to_vec(),
    }
}

/// And any rule with a latency that got in anyway is removed before it can fire.
fn disarm_slow_faults(app: &App) {
    for fault in app.faults.list() {
        if fault.rule.latency_ms > 0 {
            app.faults.remove(&fault.fault_id);
        }
    }
}

fn is_admin(path: &str) -> bool {
    path.strip_prefix("/_emulator")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// What every answer must be: no server error but `ServiceUnavailable` (any, once a fault
/// rule is armed), a body; an RPC answer in the API's envelope with its `RequestId`, a control
/// plane answer in JSON (`{"error": …}` for a 4xx). (An answer to `HEAD` has no body.)
async fn check_answer(
    method: &Method,
    path: &str,
    response: axum::response::Response,
    faults_armed: bool,
) {
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let request_id = header("x-acs-request-id");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body reads");
    let shown = String::from_utf8_lossy(&body);
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE || faults_armed,
        "{status} on {path}: {shown}"
    );
    if method == Method::HEAD {
        return;
    }
    // The control plane's answers are plain JSON; the RPC envelope carries its request id in
    // a header. (Everything under `/_emulator` is the control plane's, `/_emulator/` itself
    // included; an answer with a request id there would be the RPC pipeline's, also fine.)
    if is_admin(path) && request_id.is_none() {
        if status == StatusCode::NO_CONTENT {
            return;
        }
        assert!(!body.is_empty(), "{status} with no body on {path}");
        let value: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{status} on {path} is not JSON ({e}): {shown}"));
        if status.is_client_error() {
            assert!(
                value["error"].is_string(),
                "{status} on {path} without an error: {shown}"
            );
        }
        return;
    }
    assert!(!body.is_empty(), "{status} with no body on {path}");
    let request_id =
        request_id.unwrap_or_else(|| panic!("{status} on {path} without x-acs-request-id"));
    let text = std::str::from_utf8(&body)
        .unwrap_or_else(|e| panic!("{status} on {path}: the body is not UTF-8 ({e})"));
    match content_type.as_str() {
        ecs_emulator::protocol::encode::JSON => {
            let value: serde_json::Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{status} on {path}: not JSON ({e}): {text}"));
            assert_eq!(
                value["RequestId"].as_str(),
                Some(request_id.as_str()),
                "{status} on {path}: {text}"
            );
        }
        ecs_emulator::protocol::encode::XML => check_xml(text, &request_id),
        other => panic!("{status} on {path}: content type {other:?}: {text}"),
    }
}

/// Well-formed XML 1.0 (only characters XML can carry, one root, tags closed in order) with a
/// `RequestId` element holding `request_id`.
fn check_xml(text: &str, request_id: &str) {
    use quick_xml::events::Event;
    if let Some(c) = text.chars().find(|&c| {
        !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }) {
        panic!("{c:?} cannot be carried by XML 1.0: {text}");
    }
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "no XML declaration: {text}"
    );
    let mut reader = quick_xml::Reader::from_str(text);
    let (mut depth, mut roots) = (0usize, 0usize);
    let mut in_request_id = false;
    let mut found = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
                in_request_id = start.name().0 == "RequestId";
            }
            Ok(Event::Empty(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                in_request_id = false;
            }
            Ok(Event::End(_)) => {
                depth -= 1;
                in_request_id = false;
            }
            Ok(Event::Text(content)) => {
                assert!(
                    depth > 0 || content.trim_ascii().is_empty(),
                    "text outside the root: {text}"
                );
                if in_request_id && found.is_none() {
                    found = Some(String::from(&*content));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML ({e}): {text}"),
        }
    }
    assert_eq!(depth, 0, "unclosed elements: {text}");
    assert_eq!(roots, 1, "{roots} root elements: {text}");
    assert_eq!(found.as_deref(), Some(request_id), "RequestId: {text}");
}
