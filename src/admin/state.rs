//! Health, the whole state, reset and snapshots.

use super::{Shared, failure, persisted, read_body, refused};
use crate::store::parse_document;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub async fn health() -> Response {
    axum::Json(json!({ "status": "ready", "version": env!("CARGO_PKG_VERSION") })).into_response()
}

pub async fn get_state(State(app): Shared) -> Response {
    axum::Json(app.store.dump()).into_response()
}

/// Replaces the whole state; on any error nothing changes. The body is parsed straight into
/// the typed document: never into a `serde_json::Value` (several times the text's size), nor
/// into a second copy of the text.
pub async fn put_state(State(app): Shared, request: Request) -> Response {
    let bytes = match read_body(&app, request).await {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
    };
    let parsed = parse_document(&bytes);
    drop(bytes);
    match parsed {
        Ok(document) => {
            // The answer is the document as it now stands, written before the store takes it:
            // a dump would copy the whole new state first (100,000 disks: BENCHMARKS.md).
            let answer = axum::Json(&document).into_response();
            app.store.replace(document);
            persisted(&app, answer).await
        }
        Err(error) => failure(StatusCode::BAD_REQUEST, error),
    }
}

/// Back to the state loaded at boot.
pub async fn reset(State(app): Shared) -> Response {
    app.store.reset();
    persisted(&app, axum::Json(app.store.dump()).into_response()).await
}

fn snapshot_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

pub async fn save_snapshot(State(app): Shared, Path(name): Path<String>) -> Response {
    if !snapshot_name_ok(&name) {
        return failure(
            StatusCode::BAD_REQUEST,
            "name: 1 to 64 letters, digits, '-', '_' or '.'",
        );
    }
    let snapshot = app.store.save_snapshot(&name);
    let body = json!({ "name": snapshot.name, "createdAt": snapshot.created_at });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

pub async fn restore_snapshot(State(app): Shared, Path(name): Path<String>) -> Response {
    match app.store.restore_snapshot(&name) {
        Ok(()) => {
            persisted(
                &app,
                axum::Json(json!({ "restored": name })).into_response(),
            )
            .await
        }
        Err(error) => refused(error),
    }
}

pub async fn list_snapshots(State(app): Shared) -> Response {
    let snapshots: Vec<Value> = app
        .store
        .snapshots()
        .into_iter()
        .map(|s| json!({ "name": s.name, "createdAt": s.created_at }))
        .collect();
    axum::Json(json!({ "snapshots": snapshots })).into_response()
}

pub async fn delete_snapshot(State(app): Shared, Path(name): Path<String>) -> Response {
    match app.store.delete_snapshot(&name) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => refused(error),
    }
}
