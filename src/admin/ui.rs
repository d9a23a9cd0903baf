//! The dashboard at `/_emulator/ui`: one page, its script and its style sheet, compiled into
//! the binary (no network, no CDN, no build step). It talks to the rest of the control plane
//! with `fetch`, so it sees exactly what the admin API shows; with `--admin-token` it asks for
//! the token and sends it on every call (the files themselves hold no state and need none).

use super::failure;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/style.css");

/// Only the page's own files: no inline script or style, no other origin, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// `GET /_emulator/ui`.
pub async fn page() -> Response {
    file(INDEX, "text/html; charset=utf-8")
}

/// `GET /_emulator/ui/{asset}`: `app.js` and `style.css`.
pub async fn asset(Path(asset): Path<String>) -> Response {
    match asset.as_str() {
        "app.js" => file(SCRIPT, "text/javascript; charset=utf-8"),
        "style.css" => file(STYLE, "text/css; charset=utf-8"),
        _ => failure(
            StatusCode::NOT_FOUND,
            format!("no admin endpoint at /_emulator/ui/{asset}"),
        ),
    }
}

fn file(text: &'static str, content_type: &'static str) -> Response {
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
