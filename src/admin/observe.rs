//! Faults to inject, and the journal of requests received.

use super::{Shared, failure, json_body};
use crate::faults::Rule;
use crate::journal::Query;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `POST /_emulator/faults`: 201 `{"faultId"}`.
pub async fn add_fault(State(app): Shared, request: Request) -> Response {
    let rule: Rule = match json_body(&app, request).await {
        Ok(rule) => rule,
        Err(answer) => return answer,
    };
    match app.faults.add(rule) {
        Ok(fault_id) => (
            StatusCode::CREATED,
            axum::Json(json!({ "faultId": fault_id })),
        )
            .into_response(),
        Err(error) => failure(StatusCode::BAD_REQUEST, error),
    }
}

pub async fn list_faults(State(app): Shared) -> Response {
    axum::Json(json!({ "faults": app.faults.list() })).into_response()
}

pub async fn delete_fault(State(app): Shared, Path(fault_id): Path<String>) -> Response {
    if app.faults.remove(&fault_id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        failure(StatusCode::NOT_FOUND, format!("no fault {fault_id}"))
    }
}

pub async fn clear_faults(State(app): Shared) -> Response {
    app.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /_emulator/sessions[?accountId=…]`: the role sessions AssumeRole issued that still
/// act as their role, oldest first, without their secrets (`sts.md` §4; memory of the running
/// server, not state).
pub async fn list_sessions(State(app): Shared, RawQuery(query): RawQuery) -> Response {
    let pairs =
        crate::protocol::params::decode_form(query.as_deref().unwrap_or_default().as_bytes())
            .unwrap_or_default();
    let mut account = None;
    for (name, value) in pairs {
        match name.as_str() {
            "accountId" => account = Some(value),
            _ => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    format!("query: unknown field `{name}`"),
                );
            }
        }
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sessions: Vec<serde_json::Value> = app
        .store
        .world()
        .sessions(account.as_deref())
        .into_iter()
        .map(|(id, session, role_name)| {
            json!({
                "accessKeyId": id,
                "accountId": session.account_id,
                "roleName": role_name,
                "roleId": session.role_id,
                "sessionName": session.session_name,
                "principal": format!("assumed-role/{role_name}/{}", session.session_name),
                "expiration": session.expiration(),
                "expired": session.expires_at <= now,
            })
        })
        .collect();
    axum::Json(json!({ "sessions": sessions })).into_response()
}

/// `GET /_emulator/requests?action=…&accessKeyId=…&code=…&limit=…`.
pub async fn list_requests(State(app): Shared, RawQuery(query): RawQuery) -> Response {
    let pairs = form_pairs(query.as_deref().unwrap_or_default());
    let query: Query = match serde_json::from_value(serde_json::Value::Object(pairs)) {
        Ok(query) => query,
        Err(error) => return failure(StatusCode::BAD_REQUEST, format!("query: {error}")),
    };
    axum::Json(json!({ "requests": app.journal.query(&query) })).into_response()
}

/// Query parameters as JSON values (`limit` as a number when it is one).
fn form_pairs(query: &str) -> serde_json::Map<String, serde_json::Value> {
    crate::protocol::params::decode_form(query.as_bytes())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            let value = match (name.as_str(), value.parse::<u64>()) {
                ("limit", Ok(n)) => json!(n),
                _ => json!(value),
            };
            (name, value)
        })
        .collect()
}

pub async fn clear_requests(State(app): Shared) -> Response {
    app.journal.clear();
    StatusCode::NO_CONTENT.into_response()
}
