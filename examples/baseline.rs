//! The benchmark's baseline (`bench/run.sh`): the least a correct emulator of
//! `ModifyDiskDefaultKMSKeyId` must do — parse the RPC parameters into a struct, look the key
//! up in a map, answer the success JSON with a fresh uppercase request id. No signature, no
//! journal, no logging: the best any emulator can do on this machine.
//!
//!   cargo run --release --example baseline -- 127.0.0.1:8090

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Params {
    region_id: String,
    #[serde(rename = "KMSKeyId")]
    kms_key_id: String,
}

async fn modify(
    State(keys): State<Arc<HashMap<String, String>>>,
    params: Query<Params>,
) -> impl IntoResponse {
    let mut buffer = uuid::Uuid::encode_buffer();
    let request_id = uuid::Uuid::new_v4()
        .hyphenated()
        .encode_upper(&mut buffer)
        .to_owned();
    let known = keys
        .get(&params.kms_key_id)
        .is_some_and(|region| *region == params.region_id);
    let (status, body) = if known {
        (StatusCode::OK, format!(r#"{{"RequestId":"{request_id}"}}"#))
    } else {
        (
            StatusCode::FORBIDDEN,
            format!(r#"{{"RequestId":"{request_id}","Code":"InvalidOperation.KMSKeyIdNotFound"}}"#),
        )
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        body,
    )
}

#[tokio::main]
async fn main() {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let keys = HashMap::from([(
        "key-hzz1configured0000001".to_owned(),
        "cn-hangzhou".to_owned(),
    )]);
    let app = Router::new().fallback(modify).with_state(Arc::new(keys));
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
