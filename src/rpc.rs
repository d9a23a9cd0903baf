//! The RPC pipeline, in one place (`wire.md` §5). The order of the steps decides which error
//! wins when a request is wrong twice:
//!
//! 1. method and path
//! 2. size and encoding (body limit, form decoding, `Format`)
//! 3. route by (Version, Action), within the product the host names (`hosts`)
//! 4. authenticate
//! 5. authorize (RAM)
//! 6. injected faults
//! 7. the action's parameter checks, then 8. its state checks and write (then the state
//!    file, before the answer)
//! 9. encode, in the request's format, with a fresh `RequestId`; journal and log it

use crate::actions::{self, Action, Context, Output, Product};
use crate::app::App;
use crate::auth;
use crate::error::{ApiError, ErrorCode};
use crate::faults::Call;
use crate::hosts::{self, Destination};
use crate::journal::{self, Facts, Record, SignatureReport};
use crate::protocol::{Format, Params, RpcRequest, Scheme, encode, parse};
use crate::store::{Identity, Principal, World};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

/// What the pipeline learned about a request, for its answer, its log line and the journal.
struct Exchange {
    format: Format,
    product: Option<Product>,
    /// The region a KMS request addresses, and its error `HostId` names (`None`: the server's
    /// default region).
    kms_region: Option<String>,
    /// The region the request's host names (`kms.<region>.aliyuncs.com`), if it names one.
    host_region: Option<String>,
    version: Option<&'static str>,
    action: Option<Action>,
    access_key_id: Option<String>,
    /// Who called, once authenticated.
    caller: Option<Arc<Identity>>,
    /// The decoded parameters, with which ones were read.
    params: Option<Params>,
    signature: SignatureReport,
    fault_id: Option<String>,
    state_seq: Option<u64>,
    /// Answer with `connection: close` (a body over the limit, `protocol::body`).
    close: bool,
}

impl Exchange {
    /// What is known before the request is decoded: its scheme, and the format it hints at.
    fn new(headers: &axum::http::HeaderMap, query: Option<&str>) -> Self {
        let scheme = Scheme::of(headers);
        Self {
            format: Format::hint(query, scheme),
            product: None,
            kms_region: None,
            host_region: None,
            version: None,
            action: None,
            access_key_id: None,
            caller: None,
            params: None,
            signature: SignatureReport {
                scheme: scheme.name(),
                verdict: "skipped",
                string_to_sign: None,
            },
            fault_id: None,
            state_seq: None,
            close: false,
        }
    }

    fn account_id(&self) -> Option<&str> {
        self.caller
            .as_ref()
            .map(|caller| caller.account_id.as_str())
    }

    /// `root`, the RAM user's name, or `assumed-role/<roleName>/<sessionName>`.
    fn principal(&self) -> Option<&str> {
        self.caller.as_ref().map(|caller| match &caller.principal {
            Principal::Root => "root",
            Principal::RamUser { name, .. } => name,
            Principal::Role(session) => &session.principal_name,
        })
    }

    fn kms_region<'a>(&'a self, app: &'a App) -> &'a str {
        self.kms_region
            .as_deref()
            .unwrap_or(&app.settings.default_region)
    }
}

/// Answers one RPC request.
pub async fn handle(app: &App, request: Request) -> Response {
    let started = Instant::now();
    let received_at = std::time::SystemTime::now();
    let request_id = app.ids.request_id();
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let mut exchange = Exchange::new(&parts.headers, parts.uri.query());
    let result = pipeline(app, parts, body, &mut exchange).await;
    let arrived = Arrived {
        started,
        received_at,
        request_id: &request_id,
        method: method.as_str(),
    };
    finish(app, &arrived, &exchange, &result)
}

/// Answers a request refused before the pipeline could run (past the connection bound) with
/// `error`, in the format it asks for, and journals and logs it like every RPC request.
pub fn refuse(app: &App, head: &Parts, error: ApiError) -> Response {
    let request_id = app.ids.request_id();
    let arrived = Arrived {
        started: Instant::now(),
        received_at: std::time::SystemTime::now(),
        request_id: &request_id,
        method: head.method.as_str(),
    };
    let exchange = Exchange::new(&head.headers, head.uri.query());
    finish(app, &arrived, &exchange, &Err(error))
}

/// As `refuse`, without the log line and the journal.
pub fn refusal(app: &App, head: &Parts, error: &ApiError) -> Response {
    let format = Format::hint(head.uri.query(), Scheme::of(&head.headers));
    let request_id = app.ids.request_id();
    let region = &app.settings.default_region;
    encode::error(format, Product::Ecs, region, &request_id, error)
}

/// When and how a request arrived, and the id of its answer.
struct Arrived<'a> {
    started: Instant,
    received_at: std::time::SystemTime,
    request_id: &'a str,
    method: &'a str,
}

/// Step 9: encodes the answer, logs its line and journals it.
fn finish(
    app: &App,
    arrived: &Arrived<'_>,
    exchange: &Exchange,
    result: &Result<(Action, Output), ApiError>,
) -> Response {
    let request_id = arrived.request_id;
    let mut response = match result {
        Ok((action, output)) => {
            encode::success(exchange.format, action.wire_name(), request_id, output)
        }
        Err(error) => encode::error(
            exchange.format,
            exchange.product.unwrap_or(Product::Ecs),
            exchange.kms_region(app),
            request_id,
            error,
        ),
    };
    if exchange.close {
        let close = axum::http::HeaderValue::from_static("close");
        response.headers_mut().insert(header::CONNECTION, close);
    }
    let latency_micros = u64::try_from(arrived.started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let code = result.as_ref().err().map(ApiError::wire);
    let status = response.status().as_u16();
    // The per-request line (README, "Logs"); `%`: the names unquoted in the default format.
    tracing::info!(
        target: "ecs_emulator::rpc",
        request_id = %request_id,
        action = %exchange.action.map_or("-", Action::wire_name),
        account = %exchange.account_id().unwrap_or("-"),
        principal = %exchange.principal().unwrap_or("-"),
        status,
        code = %code.unwrap_or("-"),
        latency_us = latency_micros,
        "rpc"
    );
    app.journal.push(&Record {
        facts: Facts {
            received_at: arrived.received_at,
            product: exchange.product.map(Product::name),
            version: exchange.version,
            action: exchange.action,
            scheme: exchange.signature.scheme,
            verdict: exchange.signature.verdict,
            state_seq: exchange.state_seq,
            http_status: status,
            latency_micros,
        },
        request_id,
        method: arrived.method,
        access_key_id: exchange.access_key_id.as_deref(),
        account_id: exchange.account_id(),
        principal: exchange.principal(),
        params: exchange.params.as_ref(),
        string_to_sign: exchange.signature.string_to_sign.as_deref(),
        fault_id: exchange.fault_id.as_deref(),
        code,
    });
    response
}

/// Steps 1–2, then the rest on the decoded request.
async fn pipeline(
    app: &App,
    parts: Parts,
    body: axum::body::Body,
    exchange: &mut Exchange,
) -> Result<(Action, Output), ApiError> {
    // A product's host decides the product (and the envelope of every error) from here on.
    if let Some(host) = hosts::of_request(&parts)
        && let Destination::Product(product, region) = hosts::destination(&host)
    {
        exchange.product = Some(product);
        if product == Product::Kms {
            exchange.kms_region.clone_from(&region);
        }
        exchange.host_region = region;
    }

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
        .enter()
        .ok_or_else(|| ApiError::new(ErrorCode::ServiceUnavailable))?;

    // 2. Size and encoding.
    parse::check_headers(&parts.headers)?;
    // Most calls carry no body (V3 sends its parameters in the query): nothing to read, no
    // timer. The read of a body is boxed, so that its state is not part of every request's
    // (a request's whole state is moved to the heap when it starts).
    let body = if axum::body::HttpBody::is_end_stream(&body) {
        axum::body::Bytes::new()
    } else {
        let settings = &app.settings;
        let read = parse::read_body(
            &parts.headers,
            body,
            settings.body_limit,
            settings.request_timeout,
        );
        let read = Box::pin(read).await;
        // After a 413 the connection closes, whether or not the rest of the body was read.
        exchange.close = read
            .as_ref()
            .is_err_and(|error| error.code == ErrorCode::RequestEntityTooLarge);
        read?
    };
    let request = parse::decode(parts.method, parts.headers, parts.uri.query(), body)?;
    exchange.format = request.format;
    request.params.mark_read(auth::PROTOCOL_PARAMS);

    let result = decoded(app, &request, exchange).await;
    if let (Some(token), Some(string_to_sign)) = (
        request.params.peek("SecurityToken"),
        exchange.signature.string_to_sign.as_mut(),
    ) {
        *string_to_sign = journal::without_token(string_to_sign, token);
    }
    exchange.params = Some(request.params);
    result
}

/// Steps 3–4 on a decoded request, then the rest as the caller.
async fn decoded(
    app: &App,
    request: &RpcRequest,
    exchange: &mut Exchange,
) -> Result<(Action, Output), ApiError> {
    // 3. Route.
    exchange.access_key_id = auth::presented_access_key_id(request);
    let (product, name) = actions::requested(request, exchange.product)?;
    exchange.product = Some(product);
    if product == Product::Kms {
        exchange.kms_region = kms_region(request, exchange.host_region.as_deref());
    }
    let action = actions::route(product, name)?;
    exchange.action = Some(action);

    // 4. Authenticate.
    let world = app.store.world();
    let caller = auth::authenticate(
        app.settings.auth,
        &world,
        &app.nonces,
        request,
        &mut exchange.signature,
    )?;
    let result = as_caller(app, request, exchange, &world, &caller, action).await;
    // The caller's names go to the journal and the log line.
    exchange.caller = Some(caller);
    result
}

/// Steps 5–8, as the authenticated `caller`.
async fn as_caller(
    app: &App,
    request: &RpcRequest,
    exchange: &mut Exchange,
    world: &World,
    caller: &Identity,
    action: Action,
) -> Result<(Action, Output), ApiError> {
    let product = action.product();
    let version = product.version();

    // 5. Authorize.
    auth::authorize(caller, action)?;

    // 6. Injected faults.
    let region_id = match product {
        Product::Ecs | Product::Sts => request.params.peek("RegionId"),
        Product::Kms => Some(exchange.kms_region(app)),
    };
    let call = Call {
        action: action.wire_name(),
        version,
        region_id,
        access_key_id: exchange.access_key_id.as_deref(),
        account_id: caller.account_id.as_str(),
    };
    let firing = app.faults.check(&call);
    exchange.version = Some(version);
    if let Some(firing) = firing {
        exchange.fault_id = Some(firing.fault_id);
        if !firing.latency.is_zero() {
            Box::pin(tokio::time::sleep(firing.latency)).await;
        }
        if let Some(error) = firing.error {
            return Err(error);
        }
    }

    // 7–8. Parse and apply; a change reaches the state file before the answer.
    let context = Context {
        world,
        caller,
        kms_region: exchange.kms_region(app),
        seq: std::cell::Cell::new(None),
    };
    let output = actions::run(action, &context, &request.params);
    exchange.state_seq = context.seq.get();
    // Every change the action made or saw is durable before it is answered (group commit:
    // `store::persist`); without a state file, or once there, no wait and no allocation.
    if let Some(seq) = exchange.state_seq
        && app.store.must_wait(seq)
    {
        Box::pin(app.store.durable(seq)).await?;
    }
    Ok((action, output?))
}

/// KMS takes its region from the request's `RegionId`, else the host's
/// (`kms.<region>.aliyuncs.com`, as the real service does), else a V4 credential scope, else
/// the server's default (`wire.md` §1, `endpoints.md` §1).
fn kms_region(request: &RpcRequest, host_region: Option<&str>) -> Option<String> {
    request
        .params
        .optional("RegionId")
        .filter(|region| *region != "None")
        .or(host_region)
        .map(str::to_owned)
        .or_else(|| auth::scope_region(request))
}
