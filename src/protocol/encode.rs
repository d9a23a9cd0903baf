//! Responses on the wire (`wire.md` §4): one serde value per body, written as JSON or as XML
//! by a library, the exact content types the SDKs need, `x-acs-request-id` on every answer.

use super::parse::Format;
use crate::actions::Product;
use crate::error::{AccessDeniedDetail, ApiError};
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// The content type of JSON answers.
pub const JSON: &str = "application/json;charset=utf-8";
/// The content type of XML answers, exactly: the tea SDKs parse XML errors only with this
/// string (no space after the semicolon).
pub const XML: &str = "text/xml;charset=utf-8";

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    #[serde(rename = "RequestId")]
    request_id: &'a str,
    #[serde(flatten)]
    output: &'a T,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody<'a> {
    request_id: &'a str,
    host_id: &'a str,
    code: &'a str,
    message: &'a str,
    recommend: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_denied_detail: Option<&'a AccessDeniedDetail>,
}

/// A success answer: HTTP 200, `RequestId` then the action's fields, root
/// `<{Action}Response>` in XML.
pub fn success<T: Serialize>(
    format: Format,
    action: &str,
    request_id: &str,
    output: &T,
) -> Response {
    let body = Success { request_id, output };
    respond(
        StatusCode::OK,
        format,
        (action, "Response"),
        request_id,
        &body,
    )
}

/// An error answer in the product's envelope: ECS, or KMS with its regional host and
/// `HttpStatus`.
pub fn error(
    format: Format,
    product: Product,
    region: &str,
    request_id: &str,
    error: &ApiError,
) -> Response {
    let (content_type, text) = error_text(format, product, region, request_id, error);
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = with_headers(status, content_type, request_id, text);
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert("x-acs-retry-after", HeaderValue::from(seconds));
    }
    response
}

/// The content type and body of an error answer (`error`), for writers below the HTTP
/// library (`server::bare`).
pub fn error_text(
    format: Format,
    product: Product,
    region: &str,
    request_id: &str,
    error: &ApiError,
) -> (&'static str, String) {
    let code = error.wire();
    let (host_id, product_name, http_status) = match product {
        Product::Ecs => ("ecs.aliyuncs.com".to_owned(), "Ecs", None),
        Product::Kms => (
            format!("kms.{region}.aliyuncs.com"),
            "Kms",
            Some(error.status()),
        ),
        Product::Sts => ("sts.aliyuncs.com".to_owned(), "Sts", None),
    };
    let recommend = format!(
        "https://api.aliyun.com/troubleshoot?q={code}&product={product_name}&requestId={request_id}"
    );
    let body = ErrorBody {
        request_id,
        host_id: &host_id,
        code,
        message: &error.message,
        recommend: &recommend,
        http_status,
        access_denied_detail: error.access_denied.as_deref(),
    };
    render(format, ("Error", ""), &body)
}

/// The header carrying the request id on every RPC answer.
const X_ACS_REQUEST_ID: HeaderName = HeaderName::from_static("x-acs-request-id");

fn respond<T: Serialize>(
    status: StatusCode,
    format: Format,
    root: (&str, &str),
    request_id: &str,
    body: &T,
) -> Response {
    let (content_type, text) = render(format, root, body);
    with_headers(status, content_type, request_id, text)
}

/// The content type and text of `body`. `root` is the XML root element's name in two parts
/// (`ModifyDiskDefaultKMSKeyId` and `Response`), joined only for XML.
fn render<T: Serialize>(format: Format, root: (&str, &str), body: &T) -> (&'static str, String) {
    let (content_type, text) = match format {
        Format::Json => (JSON, serde_json::to_string(body).map_err(|e| e.to_string())),
        Format::Xml => (
            XML,
            quick_xml::se::to_string_with_root(&format!("{}{}", root.0, root.1), body)
                .map(|xml| format!("{XML_DECLARATION}{xml}"))
                .map_err(|e| e.to_string()),
        ),
    };
    // Our bodies are plain structs of strings, numbers and booleans; serialization cannot
    // fail, but if it ever did the client still gets a well-formed answer.
    let text = text.unwrap_or_else(|cause| {
        tracing::error!(%cause, "response serialization failed");
        String::new()
    });
    (content_type, text)
}

fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    request_id: &str,
    text: String,
) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(X_ACS_REQUEST_ID, value);
    }
    response
}
