//! Micro-benchmarks of the request path's hot pieces (issue "Performance"): decoding and
//! canonicalizing, V2 and V3 verification, the whole service in-process (no socket), and the
//! JSON and XML encoders. `bench/run.sh` measures the server over loopback; these say where a
//! request's CPU goes.
//!
//!   cargo bench --bench hot

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request};
use criterion::{Criterion, criterion_group, criterion_main};
use ecs_emulator::actions::{Output, Product};
use ecs_emulator::app::{self, App, Settings};
use ecs_emulator::auth::{AuthMode, Credentials};
use ecs_emulator::error::{ApiError, ErrorCode};
use ecs_emulator::protocol::signature::{canonical_query, percent_encode, v2, v3};
use ecs_emulator::protocol::{Format, parse};
use ecs_emulator::store::parse_document;
use std::hint::black_box;
use tower::ServiceExt;

/// `demo-encryption-enabled` of the default fixture, as `bench/run.sh` uses it.
const ACCESS_KEY_ID: &str = "LTAI5tDemoEncryptionOn";
const SECRET: &str = "DemoSecretEncryptionOn";
const PARAMS: &[(&str, &str)] = &[
    ("RegionId", "cn-hangzhou"),
    ("KMSKeyId", "key-hzz1configured0000001"),
];

/// A V3-signed `ModifyDiskDefaultKMSKeyId`, as (query, headers).
fn signed_v3() -> (String, HeaderMap) {
    let pairs: Vec<(String, String)> = PARAMS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let headers: Vec<(&str, String)> = vec![
        ("host", "127.0.0.1:8080".to_owned()),
        ("x-acs-action", "ModifyDiskDefaultKMSKeyId".to_owned()),
        ("x-acs-content-sha256", v3::EMPTY_BODY_SHA256.to_owned()),
        ("x-acs-date", "2026-11-28T07:00:00Z".to_owned()),
        (
            "x-acs-signature-nonce",
            "6d7c0c21a938464b838a048d91742a7a".to_owned(),
        ),
        ("x-acs-version", "2014-05-26".to_owned()),
    ];
    let authorization = v3::authorization("POST", &pairs, &headers, ACCESS_KEY_ID, SECRET);
    let mut map = HeaderMap::new();
    for (name, value) in &headers {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map.insert(
        "authorization",
        HeaderValue::from_str(&authorization).unwrap(),
    );
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    (query.join("&"), map)
}

/// A V2-signed `ModifyDiskDefaultKMSKeyId` query string.
fn signed_v2() -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("AccessKeyId", ACCESS_KEY_ID),
        ("Action", "ModifyDiskDefaultKMSKeyId"),
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "6d7c0c21a938464b838a048d91742a7a"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2026-11-28T07:00:00Z"),
        ("Version", "2014-05-26"),
    ];
    pairs.extend_from_slice(PARAMS);
    let signature = v2::sign(SECRET, &v2::string_to_sign("GET", pairs.iter().copied()));
    format!(
        "{}&Signature={}",
        canonical_query(pairs.iter().copied()),
        percent_encode(&signature)
    )
}

fn decoding(c: &mut Criterion) {
    let (query, headers) = signed_v3();
    c.bench_function("decode: V3 query and headers", |b| {
        b.iter(|| {
            parse::decode(
                Method::POST,
                headers.clone(),
                Some(black_box(&query)),
                Bytes::new(),
            )
            .unwrap()
        })
    });
    let pairs = [
        ("Version", "2014-05-26"),
        ("Action", "ModifyDiskDefaultKMSKeyId"),
        ("KMSKeyId", "key-hzz1configured0000001"),
        ("RegionId", "cn-hangzhou"),
        ("Description", "a value with spaces & symbols: 中文"),
    ];
    c.bench_function("canonical query: 5 pairs", |b| {
        b.iter(|| canonical_query(black_box(pairs)))
    });
}

fn verification(c: &mut Criterion) {
    let (query, headers) = signed_v3();
    let v3 = parse::decode(Method::POST, headers, Some(&query), Bytes::new()).unwrap();
    c.bench_function(
        "verify: V3 (extract, canonical request, HMAC-SHA256)",
        |b| {
            b.iter(|| {
                let credentials = Credentials::extract(black_box(&v3)).unwrap();
                credentials.verify(&v3, SECRET).unwrap()
            })
        },
    );
    // The floor under any V3 verification: hashing a canonical request of this size.
    let canonical = vec![b'a'; 512];
    c.bench_function("hash: SHA-256 of 512 bytes and one HMAC-SHA256", |b| {
        b.iter(|| {
            let digest = v3::hex_sha256(black_box(&canonical));
            v3::sign(SECRET, &digest)
        })
    });
    let query = signed_v2();
    let v2 = parse::decode(Method::GET, HeaderMap::new(), Some(&query), Bytes::new()).unwrap();
    c.bench_function("verify: V2 (extract, canonical query, HMAC-SHA1)", |b| {
        b.iter(|| {
            let credentials = Credentials::extract(black_box(&v2)).unwrap();
            credentials.verify(&v2, SECRET).unwrap()
        })
    });
}

fn service(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let state = parse_document(ecs_emulator::DEFAULT_FIXTURE.as_bytes()).unwrap();
    let settings = Settings {
        auth: AuthMode::Verify,
        ..Settings::default()
    };
    let router = app::build(App::new(state, settings));
    let (query, headers) = signed_v3();
    let uri = format!("/?{query}");
    c.bench_function(
        "service: signed V3 Modify in-process (all steps, no socket)",
        |b| {
            b.iter(|| {
                let mut request = Request::post(&uri).body(Body::empty()).unwrap();
                *request.headers_mut() = headers.clone();
                let response = runtime.block_on(router.clone().oneshot(request)).unwrap();
                assert!(response.status().is_success());
                response
            })
        },
    );
}

fn encoding(c: &mut Criterion) {
    let output = Output::KmsKeyId {
        kms_key_id: ecs_emulator::store::model::KeyId("key-hzz1configured0000001".to_owned()),
    };
    let request_id = "4960D9DC-0E52-4CB1-B215-5572D5C33AE4";
    for (format, name) in [(Format::Json, "JSON"), (Format::Xml, "XML")] {
        c.bench_function(&format!("encode: success in {name}"), |b| {
            b.iter(|| {
                ecs_emulator::protocol::encode::success(
                    format,
                    "DescribeDiskDefaultKMSKeyId",
                    request_id,
                    black_box(&output),
                )
            })
        });
        let error = ApiError::new(ErrorCode::KmsServiceNotOpen);
        c.bench_function(&format!("encode: error in {name}"), |b| {
            b.iter(|| {
                ecs_emulator::protocol::encode::error(
                    format,
                    Product::Ecs,
                    "cn-hangzhou",
                    request_id,
                    black_box(&error),
                )
            })
        });
    }
}

criterion_group!(hot, decoding, verification, service, encoding);
criterion_main!(hot);
