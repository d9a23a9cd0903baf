//! Heap allocations per request on the benchmark's hot path: a pre-signed V3
//! `ModifyDiskDefaultKMSKeyId` (`--auth verify`, default fixture, journal and log as served)
//! through the whole service in-process — everything but the socket and hyper's own parsing.
//! Counted by `dhat`'s allocator over 10,000 requests after a warm-up (BENCHMARKS.md).
//!
//!   cargo run --release --example allocations

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

mod common;

const REQUESTS: u64 = 10_000;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (service, uri, headers) = common::benchmark_service();
    let request = || {
        let mut request = Request::post(uri.as_str())
            .body(Body::empty())
            .expect("a request");
        *request.headers_mut() = headers.clone();
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
