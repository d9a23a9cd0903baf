//! CPU per request when one thread, then two, answer the benchmark's request in-process at
//! once: a pre-signed V3 `ModifyDiskDefaultKMSKeyId` (`--auth verify`, default fixture,
//! journal as served) through the whole service, no socket, each thread with a handle of its
//! own as the server's connections have. When the request path writes memory both threads
//! share, the two-thread figure per request rises above the one-thread figure (BENCHMARKS.md).
//! Bounded: three seconds per run, three runs of each.
//!
//!   cargo run --release --example scaling

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request};
use std::time::{Duration, Instant};

mod common;

const RUN: Duration = Duration::from_secs(3);

fn main() {
    let (service, uri, headers) = common::benchmark_service();

    // Threads answering at once for `RUN`: microseconds of wall time per request per thread
    // (each thread busy all along, so that is its CPU per request).
    let per_request = |threads: usize| -> f64 {
        let answered: Vec<(u64, Duration)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let service = service.for_connection();
                    // Headers of this thread's own: cloning a header value counts on its
                    // bytes, which must not be shared with the other thread either.
                    let headers: HeaderMap = headers
                        .iter()
                        .map(|(name, value)| {
                            let value = HeaderValue::from_bytes(value.as_bytes());
                            (name.clone(), value.expect("a header value"))
                        })
                        .collect();
                    let uri = uri.as_str();
                    scope.spawn(move || {
                        let runtime = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .expect("a runtime");
                        let started = Instant::now();
                        let mut answered = 0;
                        while started.elapsed() < RUN {
                            for _ in 0..100 {
                                let mut request =
                                    Request::post(uri).body(Body::empty()).expect("a request");
                                *request.headers_mut() = headers.clone();
                                let response = runtime.block_on(service.answer(request));
                                let status = response.expect("infallible").status();
                                assert!(status.is_success(), "{status}");
                                answered += 1;
                            }
                        }
                        (answered, started.elapsed())
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("a worker"))
                .collect()
        });
        let per_thread: Vec<f64> = answered
            .iter()
            .map(|(n, took)| took.as_secs_f64() * 1e6 / *n as f64)
            .collect();
        per_thread.iter().sum::<f64>() / per_thread.len() as f64
    };

    println!("µs per request per thread (in-process, {RUN:?} each):");
    for round in 1..=3 {
        let one = per_request(1);
        let two = per_request(2);
        println!(
            "  round {round}: one thread {one:.2}, two threads {two:.2} ({:+.0}%)",
            (two / one - 1.0) * 100.0
        );
    }
}
