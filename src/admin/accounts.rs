//! Accounts, one at a time (one per test lets tests run in parallel), their keys, regions.

use super::{Shared, json_body, persisted, refused};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// `POST /_emulator/accounts`: a fresh account from an optional partial one; 201 with its
/// generated AccessKey pair.
pub async fn create(State(app): Shared, request: Request) -> Response {
    let partial: Value = match json_body(&app, request).await {
        Ok(value) => value,
        Err(answer) => return answer,
    };
    match app.store.create_account(partial) {
        Ok(created) => {
            let body = json!({
                "accountId": created.account.account_id,
                "accessKeyId": created.access_key_id,
                "accessKeySecret": created.access_key_secret,
                "account": created.account,
            });
            persisted(
                &app,
                (StatusCode::CREATED, axum::Json(body)).into_response(),
            )
            .await
        }
        Err(error) => refused(error),
    }
}

/// `GET /_emulator/accounts`: `{"accounts": [{"accountId", "displayName"}]}`, in document
/// order.
pub async fn list(State(app): Shared) -> Response {
    let accounts: Vec<Value> = app
        .store
        .account_summaries()
        .into_iter()
        .map(|(account_id, display_name)| {
            json!({ "accountId": account_id, "displayName": display_name })
        })
        .collect();
    axum::Json(json!({ "accounts": accounts })).into_response()
}

/// `GET /_emulator/regions`: `{"regions": [...]}`, the catalogue as in the state document.
pub async fn regions(State(app): Shared) -> Response {
    axum::Json(json!({ "regions": app.store.world().regions() })).into_response()
}

pub async fn read(State(app): Shared, Path(account_id): Path<String>) -> Response {
    match app.store.account(&account_id) {
        Some(account) => axum::Json(account).into_response(),
        None => super::failure(StatusCode::NOT_FOUND, format!("no account {account_id}")),
    }
}

/// `PUT`: replaces the account (201 when it did not exist).
pub async fn replace(
    State(app): Shared,
    Path(account_id): Path<String>,
    request: Request,
) -> Response {
    let body: Value = match json_body(&app, request).await {
        Ok(value) => value,
        Err(answer) => return answer,
    };
    match app.store.put_account(&account_id, body) {
        Ok((account, created)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            persisted(&app, (status, axum::Json(account)).into_response()).await
        }
        Err(error) => refused(error),
    }
}

/// `PATCH`: JSON merge patch (RFC 7386) onto the account.
pub async fn merge(
    State(app): Shared,
    Path(account_id): Path<String>,
    request: Request,
) -> Response {
    let patch: Value = match json_body(&app, request).await {
        Ok(value) => value,
        Err(answer) => return answer,
    };
    match app.store.patch_account(&account_id, &patch) {
        Ok(account) => persisted(&app, axum::Json(account).into_response()).await,
        Err(error) => refused(error),
    }
}

pub async fn delete(State(app): Shared, Path(account_id): Path<String>) -> Response {
    match app.store.delete_account(&account_id) {
        Ok(_) => persisted(&app, StatusCode::NO_CONTENT.into_response()).await,
        Err(error) => refused(error),
    }
}

/// `PATCH /accounts/{id}/kms-keys/{keyId}`: merge patch onto one key (`keyState`,
/// `ecsAuthorized`, …).
pub async fn patch_key(
    State(app): Shared,
    Path((account_id, key_id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let patch: Value = match json_body(&app, request).await {
        Ok(value) => value,
        Err(answer) => return answer,
    };
    match app.store.patch_key(&account_id, &key_id, &patch) {
        Ok(key) => persisted(&app, axum::Json(key).into_response()).await,
        Err(error) => refused(error),
    }
}

/// `PATCH /regions/{id}`: merge patch onto a region (`defaultEncryptionSupported`, …).
pub async fn patch_region(
    State(app): Shared,
    Path(region_id): Path<String>,
    request: Request,
) -> Response {
    let patch: Value = match json_body(&app, request).await {
        Ok(value) => value,
        Err(answer) => return answer,
    };
    match app.store.patch_region(&region_id, &patch) {
        Ok(region) => persisted(&app, axum::Json(region).into_response()).await,
        Err(error) => refused(error),
    }
}
