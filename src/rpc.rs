//! The RPC pipeline, in one place (`wire.md` §5). The order of the steps decides which error
//! wins when a request is wrong twice:
//!
//! 1. method and path
//! 2. size and encoding (body limit, form decoding, `Format`)
//! 3. route by (Version, Action)
//! 4. authenticate
//! 5. authorize (RAM)
//! 6. injected faults — arrive with the control plane
//! 7. the action's parameter checks, then 8. its state checks and write
//! 9. encode, in the request's format, with a fresh `RequestId`

use crate::actions::{self, Action, Context, Output, Product};
use crate::app::App;
use crate::auth;
use crate::error::{ApiError, ErrorCode};
use crate::protocol::{Format, Scheme, encode, parse};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

/// What the pipeline learned about a request, for its answer and its log line.
struct Exchange {
    format: Format,
    product: Product,
    /// The region a KMS error names in its `HostId`.
    kms_region: String,
    action: Option<Action>,
    caller: Option<String>,
}

/// Answers one RPC request.
pub async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = app.ids.request_id();
    let (parts, body) = request.into_parts();
    let scheme = Scheme::of(&parts.headers);
    let mut exchange = Exchange {
        format: Format::hint(parts.uri.query(), scheme),
        product: Product::Ecs,
        kms_region: app.settings.default_region.clone(),
        action: None,
        caller: None,
    };
    let result = pipeline(&app, parts, body, &mut exchange).await;
    let response = match &result {
        Ok((action, output)) => {
            encode::success(exchange.format, action.wire_name(), &request_id, output)
        }
        Err(error) => encode::error(
            exchange.format,
            exchange.product,
            &exchange.kms_region,
            &request_id,
            error,
        ),
    };
    tracing::info!(
        request_id,
        action = exchange.action.map_or("-", Action::wire_name),
        caller = exchange.caller.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        code = result.as_ref().err().map_or("-", |e| e.code.wire()),
        latency_us = started.elapsed().as_micros() as u64,
        "rpc"
    );
    response
}

async fn pipeline(
    app: &App,
    parts: axum::http::request::Parts,
    body: axum::body::Body,
    exchange: &mut Exchange,
) -> Result<(Action, Output), ApiError> {
    // 1. Method and path.
    if parts.method != Method::GET && parts.method != Method::POST {
        return Err(ApiError::new(ErrorCode::UnsupportedHttpMethod));
    }
    if parts.uri.path() != "/" {
        return Err(ApiError::new(ErrorCode::InvalidActionNotFound));
    }
    // Past the concurrency bound, answer at once rather than queue.
    let _permit = app
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::new(ErrorCode::ServiceUnavailable))?;

    // 2. Size and encoding.
    let body = parse::read_body(&parts.headers, body, app.settings.body_limit).await?;
    let request = parse::decode(parts.method, parts.headers, parts.uri.query(), body)?;
    exchange.format = request.format;
    request.params.mark_read(auth::PROTOCOL_PARAMS);

    // 3. Route.
    let (product, name) = actions::requested_product(&request)?;
    exchange.product = product;
    if product == Product::Kms {
        exchange.kms_region = kms_region(&request).unwrap_or_else(|| exchange.kms_region.clone());
    }
    let action = actions::route(product, &name)?;
    exchange.action = Some(action);

    // 4. Authenticate.
    let world = app.store.world();
    let caller = auth::authenticate(app.settings.auth, &world, &app.nonces, &request)?;
    exchange.caller = Some(match &caller.principal {
        crate::store::Principal::Root => caller.account_id.to_string(),
        crate::store::Principal::RamUser { name, .. } => format!("{}/{name}", caller.account_id),
    });

    // 5. Authorize.
    auth::authorize(&caller, action)?;

    // 6. Faults: none yet. 7–8. Parse and apply.
    let context = Context {
        world: &world,
        caller: &caller,
        kms_region: &exchange.kms_region,
    };
    let output = actions::run(action, &context, &request.params)?;
    Ok((action, output))
}

/// KMS takes its region from the request's `RegionId`, else a V4 credential scope (the real
/// service reads it from the host name), else the server's default (`wire.md` §1).
fn kms_region(request: &crate::protocol::RpcRequest) -> Option<String> {
    request
        .params
        .optional("RegionId")
        .filter(|region| *region != "None")
        .map(str::to_owned)
        .or_else(|| auth::scope_region(request))
}
