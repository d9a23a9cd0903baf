//! hyper's own answers, in the API's envelope.
//!
//! When a request head cannot be parsed — input that is not HTTP/1.1, a request target past
//! hyper's limit, a head past [`super::MAX_HEAD_BYTES`] or [`super::MAX_HEAD_FIELDS`] —
//! hyper answers by itself, before any request exists for the emulator to see: a bare
//! `400`/`414`/`431` with an empty body (`HTTP/1.1 400 Bad Request`, `connection: close`,
//! `content-length: 0`, `date`), then closes. hyper has no hook for that answer, so the
//! connection's stream is wrapped in [`Enveloping`], which recognises those bytes when hyper
//! writes them and writes the same status in the envelope instead, with a fresh request id:
//!
//! | hyper's answer | the envelope's `Code` |
//! |---|---|
//! | 400 (not HTTP/1.1, a malformed request line or header) | `MalformedRequest` |
//! | 414 (request target too long) | `RequestURITooLong` |
//! | 431 (head too large, too many fields) | `RequestHeaderFieldsTooLarge` |
//!
//! The body is JSON (**choice**: the request's `Format` cannot be read from a head that did
//! not parse). Every answer of the emulator's own carries a `content-type`, so a head without
//! one and with an empty body can only be hyper's; telling them apart costs one comparison of
//! the first bytes per write.

use crate::actions::Product;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::protocol::{Format, encode};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The request target hyper accepts at most (its `MAX_URI_LEN`); past it, its 414.
const MAX_TARGET_BYTES: usize = u16::MAX as usize - 1;

/// A connection's stream whose bare hyper answers are replaced by the envelope.
pub struct Enveloping<S> {
    inner: S,
    app: Arc<App>,
    /// The envelope being written in place of hyper's answer, and how much of it is written.
    replacing: Option<(Vec<u8>, usize)>,
}

impl<S> Enveloping<S> {
    pub fn new(inner: S, app: Arc<App>) -> Self {
        Self {
            inner,
            app,
            replacing: None,
        }
    }
}

/// The status of a bare answer hyper writes for a head it could not parse.
fn bare_status(bytes: &[u8]) -> Option<u16> {
    let rest = bytes.strip_prefix(b"HTTP/1.1 4")?;
    if !bytes.ends_with(b"\r\n\r\n") {
        return None;
    }
    let status = match rest.get(..2)? {
        b"00" => 400,
        b"14" => 414,
        b"31" => 431,
        _ => return None,
    };
    // hyper writes header names in lower case.
    let empty = memchr::memmem::find(bytes, b"\r\ncontent-length: 0\r\n").is_some();
    let typed = memchr::memmem::find(bytes, b"\r\ncontent-type:").is_some();
    (empty && !typed).then_some(status)
}

/// The envelope for a bare answer of `status`: the whole HTTP response.
fn envelope(app: &App, status: u16) -> Vec<u8> {
    let error = match status {
        414 => ApiError::with(ErrorCode::RequestUriTooLong, &MAX_TARGET_BYTES.to_string()),
        431 => ApiError::with(
            ErrorCode::RequestHeaderFieldsTooLarge,
            &format!(
                "{} fields and {} bytes",
                super::MAX_HEAD_FIELDS,
                super::MAX_HEAD_BYTES
            ),
        ),
        _ => ApiError::new(ErrorCode::MalformedRequest),
    };
    let request_id = app.ids.request_id();
    let region = &app.settings.default_region;
    let (content_type, body) =
        encode::error_text(Format::Json, Product::Ecs, region, &request_id, &error);
    let reason = match status {
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    // The per-request line, as `rpc` logs it, for a request that never became one.
    tracing::info!(
        target: "ecs_emulator::rpc",
        request_id = %request_id,
        action = "-",
        account = "-",
        principal = "-",
        status,
        code = error.wire(),
        latency_us = 0,
        "rpc"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\nx-acs-request-id: {request_id}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl<S: AsyncWrite + Unpin> Enveloping<S> {
    /// Writes `bytes` as hyper asked, or the envelope in their place: hyper is told that its
    /// bytes were written once the whole envelope is (it retries with the same bytes until
    /// then).
    fn write(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() {
            match bare_status(bytes) {
                None => return Pin::new(&mut self.inner).poll_write(cx, bytes),
                Some(status) => self.replacing = Some((envelope(&self.app, status), 0)),
            }
        }
        while let Some((envelope, written)) = &mut self.replacing {
            if *written == envelope.len() {
                self.replacing = None;
                break;
            }
            match ready!(Pin::new(&mut self.inner).poll_write(cx, &envelope[*written..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => *written += n,
                Err(cause) => return Poll::Ready(Err(cause)),
            }
        }
        Poll::Ready(Ok(bytes.len()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Enveloping<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write(cx, bytes)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // hyper's bare answer is a head alone, so one slice; an answer with a body is two.
        let mut filled = slices.iter().filter(|slice| !slice.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next())
            && (this.replacing.is_some() || bare_status(only).is_some())
        {
            return this.write(cx, only);
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, slices)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Enveloping<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::bare_status;

    #[test]
    fn only_hypers_bare_answers_are_recognised() {
        let date = "date: Tue, 01 Dec 2026 23:47:36 GMT\r\n\r\n";
        for (status, reason) in [
            (400, "Bad Request"),
            (414, "URI Too Long"),
            (431, "Request Header Fields Too Large"),
        ] {
            let head = format!(
                "HTTP/1.1 {status} {reason}\r\nconnection: close\r\ncontent-length: 0\r\n{date}"
            );
            assert_eq!(bare_status(head.as_bytes()), Some(status), "{head}");
            // Cut short (a partial write), it is passed through.
            assert_eq!(bare_status(&head.as_bytes()[..head.len() - 1]), None);
        }
        for head in [
            // The emulator's own answers carry a content type and a body.
            format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json;charset=utf-8\r\nx-acs-request-id: X\r\ncontent-length: 0\r\n{date}"
            ),
            format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/xml;charset=utf-8\r\ncontent-length: 437\r\n{date}"
            ),
            format!("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n{date}"),
            format!("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n{date}"),
            format!("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n{date}"),
            format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n{date}"),
        ] {
            assert_eq!(bare_status(head.as_bytes()), None, "{head}");
        }
    }
}
