//! Heap allocations per request on the benchmark's hot path: a pre-signed V3
//! `ModifyDiskDefaultKMSKeyId` (`--auth verify`, default fixture, journal and log as served)
//! through the whole service in-process — everything but the socket and hyper's own parsing.
//! Counted by `dhat`'s allocator over 10,000 requests after a warm-up (BENCHMARKS.md).
//!
//!   cargo run --release --example allocations

use axum::body::Body;
use axum::http::Request;
use ecs_emulator::app::{self, App, Settings};
use ecs_emulator::auth::AuthMode;
use ecs_emulator::protocol::signature::client::{Call, Credentials, signed_request};
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const REQUESTS: u64 = 10_000;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let state = ecs_emulator::store::parse_document(ecs_emulator::DEFAULT_FIXTURE.as_bytes())
        .expect("the default fixture");
    let settings = Settings {
        auth: AuthMode::Verify,
        ..Settings::default()
    };
    let service = app::build(App::new(state, settings));
    // The benchmark's request: the demo account whose default encryption is on.
    let credentials = Credentials {
        access_key_id: "LTAI5tDemoEncryptionOn".to_owned(),
        access_key_secret: "DemoSecretEncryptionOn".to_owned(),
        security_token: None,
    };
    let params = [
        ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
        (
            "KMSKeyId".to_owned(),
            "key-hzz1configured0000001".to_owned(),
        ),
    ];
    let call = Call {
        action: "ModifyDiskDefaultKMSKeyId",
        version: "2014-05-26",
        params: &params,
        v2: false,
    };
    let signed = signed_request(&call, &credentials, "127.0.0.1:8080").expect("signed");
    let uri = signed
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let request = || {
        let mut request = Request::post(uri.as_str())
            .body(Body::empty())
            .expect("a request");
        *request.headers_mut() = signed.headers().clone();
        request
    };
    let serve = |requests: Vec<Request<Body>>| {
        runtime.block_on(async {
            for request in requests {
                let response = service.clone().oneshot(request).await.expect("infallible");
                assert!(response.status().is_success(), "{}", response.status());
            }
        })
    };
    // Warm-up: the journal fills to its capacity, so every request below also evicts one.
    serve((0..2_000).map(|_| request()).collect());
    let requests: Vec<Request<Body>> = (0..REQUESTS).map(|_| request()).collect();
    let before = dhat::HeapStats::get();
    serve(requests);
    let after = dhat::HeapStats::get();
    let blocks = after.total_blocks - before.total_blocks;
    let bytes = after.total_bytes - before.total_bytes;
    println!(
        "per request: {} allocations, {} bytes allocated",
        blocks / REQUESTS,
        bytes / REQUESTS
    );
}
