//! The control plane under `/_emulator/` (`control-plane.md` §2). Bodies are JSON; every
//! failure is `{"error": "…"}` with a 4xx status — an unknown path, a wrong method, a body
//! that is not JSON or too large — never the framework's plain-text rejection. With
//! `--admin-token`, every call but `health` needs `Authorization: Bearer <token>`.

mod accounts;
mod coverage;
mod invoke;
mod observe;
mod state;
mod ui;

use crate::app::App;
use crate::protocol::body::{self, BodyError};
use crate::store::ControlError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;

/// Largest admin request body: a state document with thousands of accounts fits. A larger
/// body is answered 413 after up to `protocol::body::DRAINED_PAST_LIMIT` (16 MiB) more of it
/// is read and thrown away, so a client that writes its whole body first reads the answer:
/// bodies up to 80 MiB are read to their end, larger ones are answered at once.
pub const ADMIN_BODY_LIMIT: usize = 64 * 1024 * 1024;

type Shared = State<Arc<App>>;

pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    let not_allowed = || method_not_allowed;
    Router::new()
        .route("/health", get(state::health).fallback(not_allowed()))
        .route(
            "/state",
            get(state::get_state)
                .put(state::put_state)
                .fallback(not_allowed()),
        )
        .route("/reset", post(state::reset).fallback(not_allowed()))
        .route(
            "/accounts",
            get(accounts::list)
                .post(accounts::create)
                .fallback(not_allowed()),
        )
        .route(
            "/accounts/{account_id}",
            get(accounts::read)
                .put(accounts::replace)
                .patch(accounts::merge)
                .delete(accounts::delete)
                .fallback(not_allowed()),
        )
        .route(
            "/accounts/{account_id}/kms-keys/{key_id}",
            patch(accounts::patch_key).fallback(not_allowed()),
        )
        .route("/regions", get(accounts::regions).fallback(not_allowed()))
        .route(
            "/regions/{region_id}",
            patch(accounts::patch_region).fallback(not_allowed()),
        )
        .route(
            "/snapshots",
            get(state::list_snapshots).fallback(not_allowed()),
        )
        .route(
            "/snapshots/{name}",
            post(state::save_snapshot)
                .delete(state::delete_snapshot)
                .fallback(not_allowed()),
        )
        .route(
            "/snapshots/{name}/restore",
            post(state::restore_snapshot).fallback(not_allowed()),
        )
        .route(
            "/faults",
            post(observe::add_fault)
                .get(observe::list_faults)
                .delete(observe::clear_faults)
                .fallback(not_allowed()),
        )
        .route(
            "/faults/{fault_id}",
            axum::routing::delete(observe::delete_fault).fallback(not_allowed()),
        )
        .route(
            "/requests",
            get(observe::list_requests)
                .delete(observe::clear_requests)
                .fallback(not_allowed()),
        )
        .route(
            "/sessions",
            get(observe::list_sessions).fallback(not_allowed()),
        )
        .route("/coverage", get(coverage::coverage).fallback(not_allowed()))
        .route(
            "/invoke",
            get(invoke::actions)
                .post(invoke::invoke)
                .fallback(not_allowed()),
        )
        .route("/ui", get(ui::page).fallback(not_allowed()))
        .route("/ui/{asset}", get(ui::asset).fallback(not_allowed()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app, require_token))
        .layer(middleware::from_fn(plain_rejections_as_json))
}

/// axum's own rejections (a path segment that is not UTF-8, say) are plain text: answer them
/// in the admin error shape like every other admin failure.
async fn plain_rejections_as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let status = response.status();
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    failure(status, text)
}

/// `--admin-token`: every call but `health` and the dashboard's own files (which hold no
/// state: the page asks for the token and sends it on its calls) carries
/// `Authorization: Bearer <token>`.
async fn require_token(State(app): Shared, request: Request, next: Next) -> Response {
    let open = matches!(
        request.uri().path(),
        "/health" | "/ui" | "/ui/app.js" | "/ui/style.css"
    );
    if open || token_presented(&app, &request) {
        next.run(request).await
    } else {
        token_needed()
    }
}

/// No token is set, or the request carries it.
fn token_presented(app: &App, request: &Request) -> bool {
    let Some(token) = &app.settings.admin_token else {
        return true;
    };
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|p| {
            crate::protocol::signature::signatures_equal(p.as_bytes(), token.as_bytes())
        })
}

fn token_needed() -> Response {
    failure(
        StatusCode::UNAUTHORIZED,
        "this call needs the admin token: Authorization: Bearer <token>",
    )
}

/// Under `/_emulator` but not below any endpoint (`/_emulator/` itself): 404, after the
/// token like every other admin path.
pub(crate) async fn unknown(State(app): Shared, request: Request) -> Response {
    if !token_presented(&app, &request) {
        return token_needed();
    }
    failure(
        StatusCode::NOT_FOUND,
        format!("no admin endpoint at {}", request.uri().path()),
    )
}

/// An admin failure: status and the `error` text.
fn failure(status: StatusCode, error: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": error.into() }))).into_response()
}

fn refused(error: ControlError) -> Response {
    match error {
        ControlError::NotFound(e) => failure(StatusCode::NOT_FOUND, e),
        ControlError::Invalid(e) => failure(StatusCode::BAD_REQUEST, e),
        ControlError::Conflict(e) => failure(StatusCode::CONFLICT, e),
    }
}

/// Reads a request's body (`protocol::body`), or the admin answer to its failure: 413 (then
/// the connection closes), 408, or 400.
async fn read_body(app: &App, request: Request) -> Result<Bytes, Response> {
    let timeout = app.settings.request_timeout;
    let (parts, body) = request.into_parts();
    body::read(&parts.headers, body, ADMIN_BODY_LIMIT, timeout)
        .await
        .map_err(|error| match error {
            BodyError::TooLarge => {
                let mut answer = failure(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body exceeds the admin limit of {ADMIN_BODY_LIMIT} bytes"),
                );
                let close = HeaderValue::from_static("close");
                answer.headers_mut().insert(header::CONNECTION, close);
                answer
            }
            BodyError::TimedOut => failure(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body was not received within {} seconds",
                    timeout.as_secs()
                ),
            ),
            BodyError::Broken => failure(StatusCode::BAD_REQUEST, "body: could not be read"),
        })
}

/// Reads a JSON body as `T` (an empty body is JSON `null`), naming the path that is wrong.
async fn json_body<T>(app: &App, request: Request) -> Result<T, Response>
where
    T: DeserializeOwned + Send,
{
    let bytes = read_body(app, request).await?;
    parse_json(&bytes).map_err(|message| failure(StatusCode::BAD_REQUEST, message))
}

/// JSON text as `T` (blank text is `null`), or what is wrong with it, with its path.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    crate::store::refuse_xml_unsafe(text).map_err(|e| format!("body: {e}"))?;
    // Syntax first, keeping nothing: text that is not JSON is refused before any of it is
    // built (a `Value` takes several times the text's size, which the allocator then kept).
    serde_json::from_slice::<serde::de::IgnoredAny>(text).map_err(|e| format!("body: {e}"))?;
    crate::store::from_json(text, "body")
}

/// After a change: the state file, then `answer`.
async fn persisted(app: &App, answer: Response) -> Response {
    match app.store.persist().await {
        Ok(()) => answer,
        Err(_) => failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the change was made but the state file could not be written (see the log)",
        ),
    }
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
