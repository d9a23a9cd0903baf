//! Reading a request body under a limit, for the RPC pipeline (`wire.md` §1) and the control
//! plane (`control-plane.md` §2).
//!
//! Every SDK writes its whole request before it reads the answer. A server that answers a body
//! over the limit and closes while the client is still writing makes the client see a broken
//! pipe or a reset instead of the 413, so past the limit the rest of the body is read and
//! thrown away — up to [`DRAINED_PAST_LIMIT`] more bytes, within the request timeout — and only
//! then is the 413 sent. A body announced larger than that, or one whose client waits for a
//! go-ahead (`Expect: 100-continue`, which then sends nothing), is answered at once. Either
//! way the caller closes the connection after the 413 (`connection: close`).
//!
//! Within the limit the body is gathered into one buffer of exactly the announced size (a
//! body of a single chunk is kept as it came): never the chunks and a copy of them at once.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;
use std::time::Duration;

/// Past a body's limit, how many more bytes are read and thrown away so that a client that
/// writes its whole request first can read the 413: more than any honest mistake (a file
/// sent where a parameter was meant), little enough that a hostile client gains nothing.
pub const DRAINED_PAST_LIMIT: usize = 16 * 1024 * 1024;

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the limit: answer 413 and close the connection.
    TooLarge,
    /// Not all there within the timeout (within the limit so far).
    TimedOut,
    /// The client went away, or broke the chunked framing.
    Broken,
}

/// Reads `body` (its request's `headers`), refusing one larger than `limit` bytes. The whole
/// read, draining included, takes at most `timeout`; one still under the limit by then is
/// [`BodyError::TimedOut`], one past it [`BodyError::TooLarge`].
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let over = declared.is_some_and(|length| length > limit as u64);
    if over {
        let waits = headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let bound = limit.saturating_add(DRAINED_PAST_LIMIT) as u64;
        if waits || declared.is_some_and(|length| length > bound) {
            return Err(BodyError::TooLarge);
        }
    }
    let mut reading = Reading {
        limit,
        capacity: declared.map_or(0, |length| usize::try_from(length).unwrap_or(limit)),
        received: 0,
        over,
    };
    let gathered = tokio::time::timeout(timeout, reading.gather(body)).await;
    match gathered {
        Ok(result) => result,
        Err(_) if reading.over => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::TimedOut),
    }
}

/// A body being read: how much came, and whether it has passed the limit.
struct Reading {
    limit: usize,
    /// The announced length (0 when unknown), within the limit when it is kept.
    capacity: usize,
    received: usize,
    /// Past the limit: what comes now is thrown away.
    over: bool,
}

impl Reading {
    async fn gather(&mut self, mut body: Body) -> Result<Bytes, BodyError> {
        let bound = self.limit.saturating_add(DRAINED_PAST_LIMIT);
        // The first chunk alone, then everything in one buffer once a second one comes.
        let mut first: Option<Bytes> = None;
        let mut buffer: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Err(if self.over {
                    BodyError::TooLarge
                } else {
                    BodyError::Broken
                });
            };
            // Trailers carry nothing the emulator reads.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            self.received = self.received.saturating_add(data.len());
            if self.received > self.limit {
                if !self.over {
                    self.over = true;
                    // Nothing read so far is needed any more.
                    (first, buffer) = (None, Vec::new());
                }
                if self.received > bound {
                    return Err(BodyError::TooLarge);
                }
                continue;
            }
            if self.over {
                continue;
            }
            match first.take() {
                None if buffer.is_empty() => first = Some(data),
                None => buffer.extend_from_slice(&data),
                Some(kept) => {
                    let capacity = self.capacity.max(kept.len() + data.len());
                    buffer.reserve_exact(capacity);
                    buffer.extend_from_slice(&kept);
                    buffer.extend_from_slice(&data);
                }
            }
        }
        if self.over {
            return Err(BodyError::TooLarge);
        }
        Ok(first.unwrap_or_else(|| buffer.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    const LIMIT: usize = 1024;
    const TIMEOUT: Duration = Duration::from_secs(5);

    /// Chunks, one frame each; then the end, or nothing ever again (a client that stalls).
    struct Chunks {
        chunks: VecDeque<Bytes>,
        stalls: bool,
    }

    impl futures_core::Stream for Chunks {
        type Item = Result<Bytes, std::io::Error>;

        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            match self.chunks.pop_front() {
                Some(chunk) => Poll::Ready(Some(Ok(chunk))),
                None if self.stalls => Poll::Pending,
                None => Poll::Ready(None),
            }
        }
    }

    fn body(chunks: &[usize], stalls: bool) -> Body {
        let chunks = chunks.iter().map(|&n| Bytes::from(vec![b'a'; n])).collect();
        Body::from_stream(Chunks { chunks, stalls })
    }

    fn announcing(length: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        headers
    }

    fn run(headers: &HeaderMap, body: Body, timeout: Duration) -> Result<Bytes, BodyError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(read(headers, body, LIMIT, timeout))
    }

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        for headers in [announcing(LIMIT), HeaderMap::new()] {
            let read = run(&headers, body(&[600, 400, 24], false), TIMEOUT).unwrap();
            assert_eq!(read.len(), LIMIT);
        }
        let one = run(&HeaderMap::new(), Body::from("x=1"), TIMEOUT);
        assert_eq!(one.unwrap(), "x=1");
        assert_eq!(
            run(&HeaderMap::new(), body(&[], false), TIMEOUT).unwrap(),
            ""
        );
    }

    #[test]
    fn a_body_past_the_limit_is_read_to_its_end_then_refused() {
        // Announced, or learnt while reading (chunked).
        for headers in [announcing(LIMIT + 16), HeaderMap::new()] {
            let read = run(&headers, body(&[LIMIT, 16], false), TIMEOUT);
            assert_eq!(read, Err(BodyError::TooLarge));
        }
        // Up to the bound, whatever the client still sends is read.
        let read = run(
            &announcing(LIMIT + DRAINED_PAST_LIMIT),
            body(&[LIMIT + DRAINED_PAST_LIMIT], false),
            TIMEOUT,
        );
        assert_eq!(read, Err(BodyError::TooLarge));
    }

    #[test]
    fn past_the_bound_or_waiting_for_a_go_ahead_the_answer_is_at_once() {
        // These bodies never end: only an answer that does not wait for them returns at once.
        let started = std::time::Instant::now();
        let huge = announcing(LIMIT + DRAINED_PAST_LIMIT + 1);
        assert_eq!(
            run(&huge, body(&[], true), TIMEOUT),
            Err(BodyError::TooLarge)
        );
        let mut expecting = announcing(LIMIT + 1);
        expecting.insert(header::EXPECT, HeaderValue::from_static("100-continue"));
        assert_eq!(
            run(&expecting, body(&[], true), TIMEOUT),
            Err(BodyError::TooLarge)
        );
        // Unannounced, the bound is found while reading.
        let chunked = body(&[LIMIT, DRAINED_PAST_LIMIT, 1], true);
        assert_eq!(
            run(&HeaderMap::new(), chunked, TIMEOUT),
            Err(BodyError::TooLarge)
        );
        assert!(started.elapsed() < TIMEOUT);
    }

    #[test]
    fn the_timeout_bounds_the_drain_too() {
        let short = Duration::from_millis(50);
        let under = run(&HeaderMap::new(), body(&[10], true), short);
        assert_eq!(under, Err(BodyError::TimedOut));
        let past = run(&HeaderMap::new(), body(&[LIMIT + 1], true), short);
        assert_eq!(past, Err(BodyError::TooLarge));
        let announced = run(&announcing(LIMIT + 1), body(&[], true), short);
        assert_eq!(announced, Err(BodyError::TooLarge));
    }
}
