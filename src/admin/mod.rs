//! The control plane under `/_emulator/` (`control-plane.md` §2): health, the whole state,
//! reset. Bodies are JSON; every failure is `{"error": "…"}` with a 4xx status, never the
//! framework's plain-text rejection.

use crate::app::App;
use crate::store::parse_document;
use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::sync::Arc;

/// Largest admin request body: a state document with thousands of accounts fits.
pub const ADMIN_BODY_LIMIT: usize = 64 * 1024 * 1024;

type Shared = State<Arc<App>>;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/health", get(health).fallback(method_not_allowed))
        .route(
            "/state",
            get(get_state).put(put_state).fallback(method_not_allowed),
        )
        .route("/reset", post(reset).fallback(method_not_allowed))
        .fallback(not_found)
}

/// An admin failure: status and the `error` text.
fn failure(status: StatusCode, error: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": error.into() }))).into_response()
}

async fn not_found(OriginalUri(uri): OriginalUri) -> Response {
    failure(
        StatusCode::NOT_FOUND,
        format!("no admin endpoint at {}", uri.path()),
    )
}

async fn method_not_allowed(method: axum::http::Method, OriginalUri(uri): OriginalUri) -> Response {
    failure(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

async fn health() -> Response {
    axum::Json(json!({ "status": "ready", "version": env!("CARGO_PKG_VERSION") })).into_response()
}

async fn get_state(State(app): Shared) -> Response {
    axum::Json(app.store.dump()).into_response()
}

/// Replaces the whole state; on any error nothing changes.
async fn put_state(State(app): Shared, body: Body) -> Response {
    let bytes = match axum::body::to_bytes(body, ADMIN_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body exceeds the admin limit of {ADMIN_BODY_LIMIT} bytes"),
            );
        }
    };
    match parse_document(&bytes) {
        Ok(document) => {
            app.store.replace(document);
            axum::Json(app.store.dump()).into_response()
        }
        Err(error) => failure(StatusCode::BAD_REQUEST, error),
    }
}

/// Back to the state loaded at boot.
async fn reset(State(app): Shared) -> Response {
    app.store.reset();
    axum::Json(app.store.dump()).into_response()
}
