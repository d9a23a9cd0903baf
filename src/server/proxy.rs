//! Proxy mode (`endpoints.md` §2): which requests the listener answers when a client uses it
//! as its HTTP(S) proxy. It never forwards anything and never opens a connection:
//!
//! | request | answer |
//! |---|---|
//! | origin-form (`GET /?…`) | served, as always |
//! | absolute-form for a `*.aliyuncs.com` host | served, as if sent to that host |
//! | absolute-form for the emulator itself (its port; its listen address, `localhost`, `127.0.0.1`, `[::1]`) | served |
//! | `CONNECT <*.aliyuncs.com>:443` | `200`, then TLS with the emulator's own certificate for that host (`tunnel`) |
//! | anything else: another host, another port, `CONNECT` inside a tunnel | `403`, plain text naming the host |

use crate::hosts;
use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// What the listener does with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Answer it through the pipeline.
    Serve,
    /// Answer `200` and terminate TLS for this host.
    Tunnel(String),
    /// Answer `403`, naming what was asked for.
    Refuse(String),
}

/// The decision table of the module's notes, for a request on a listener at `own` (inside a
/// tunnel when `tunnelled`).
pub fn admit(method: &Method, uri: &Uri, own: SocketAddr, tunnelled: bool) -> Admission {
    let Some(authority) = uri.authority() else {
        return Admission::Serve;
    };
    let host = hosts::host_of(authority.as_str());
    if method == Method::CONNECT {
        return match authority.port_u16() == Some(443) && hosts::is_aliyun(&host) && !tunnelled {
            true => Admission::Tunnel(host.into_owned()),
            false => Admission::Refuse(authority.as_str().to_owned()),
        };
    }
    let port = authority.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    if hosts::is_aliyun(&host) || is_own(&host, port, own) {
        Admission::Serve
    } else {
        Admission::Refuse(authority.as_str().to_owned())
    }
}

/// The emulator's own address, as an absolute-form request may name it.
fn is_own(host: &str, port: u16, own: SocketAddr) -> bool {
    if port != own.port() {
        return false;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => ip == own.ip() || ip.is_loopback(),
        Err(_) => host == "localhost",
    }
}

/// The `403` for `asked` (the host and port as the request named them): plain text, and the
/// connection closes.
pub fn refusal(asked: &str) -> Response {
    tracing::info!(target: "ecs_emulator::proxy", %asked, "refused: not an Alibaba Cloud API host on port 443");
    let text = format!(
        "ecs-emulator does not forward traffic: {asked} is not an Alibaba Cloud API host \
         (*.aliyuncs.com, port 443 for CONNECT); no connection was made to it\n"
    );
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::FORBIDDEN;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The `200` that opens a tunnel.
pub fn tunnel_opened() -> Response {
    Response::new(Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit_on(method: &str, target: &str, tunnelled: bool) -> Admission {
        let own: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        admit(&method, &target.parse().unwrap(), own, tunnelled)
    }

    #[test]
    fn the_table_row_by_row() {
        use Admission::{Refuse, Serve, Tunnel};
        let tunnel = |h: &str| Tunnel(h.to_owned());
        let refuse = |h: &str| Refuse(h.to_owned());
        for (method, target, tunnelled, expected) in [
            ("GET", "/?Action=DescribeRegions", false, Serve),
            (
                "GET",
                "http://ecs.cn-hangzhou.aliyuncs.com/?A=1",
                false,
                Serve,
            ),
            ("POST", "http://ram.aliyuncs.com/", false, Serve),
            (
                "GET",
                "http://127.0.0.1:8080/_emulator/health",
                false,
                Serve,
            ),
            ("GET", "http://localhost:8080/", false, Serve),
            ("GET", "http://[::1]:8080/", false, Serve),
            (
                "GET",
                "http://127.0.0.1:9090/",
                false,
                refuse("127.0.0.1:9090"),
            ),
            ("GET", "http://localhost/", false, refuse("localhost")),
            ("GET", "http://example.com/", false, refuse("example.com")),
            (
                "GET",
                "http://aliyuncs.com.example.com/",
                false,
                refuse("aliyuncs.com.example.com"),
            ),
            (
                "CONNECT",
                "ecs.cn-hangzhou.aliyuncs.com:443",
                false,
                tunnel("ecs.cn-hangzhou.aliyuncs.com"),
            ),
            (
                "CONNECT",
                "KMS.cn-hangzhou.aliyuncs.com:443",
                false,
                tunnel("kms.cn-hangzhou.aliyuncs.com"),
            ),
            (
                "CONNECT",
                "ecs.cn-hangzhou.aliyuncs.com:443",
                true,
                refuse("ecs.cn-hangzhou.aliyuncs.com:443"),
            ),
            (
                "CONNECT",
                "ecs.cn-hangzhou.aliyuncs.com:80",
                false,
                refuse("ecs.cn-hangzhou.aliyuncs.com:80"),
            ),
            (
                "CONNECT",
                "example.com:443",
                false,
                refuse("example.com:443"),
            ),
            ("CONNECT", "127.0.0.1:8080", false, refuse("127.0.0.1:8080")),
        ] {
            assert_eq!(
                admit_on(method, target, tunnelled),
                expected,
                "{method} {target}"
            );
        }
    }
}
