//! `POST /_emulator/invoke`: one RPC call made on a caller's behalf, signed server-side with
//! an AccessKey from the state, sent through the whole RPC pipeline in-process (so it is
//! authenticated, authorized, fault-checked and journaled like any SDK call), and answered
//! with what an SDK would have received. The dashboard's "try it" panel uses it; so can a
//! demo with nothing but curl. `GET /_emulator/invoke` lists the actions it can call.

use super::{Shared, failure, json_body};
use crate::actions::Action;
use crate::protocol::signature::client::{self, Credentials};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The body of `POST /_emulator/invoke`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Invocation {
    /// The `Action`, e.g. `ModifyDiskDefaultKMSKeyId`. Any name: an unknown one gets the
    /// API's own `InvalidAction.NotFound`.
    action: String,
    /// `2014-05-26` (ECS, the default) or `2016-01-20` (KMS).
    #[serde(default)]
    version: Option<String>,
    /// Sign as this account's first root AccessKey (the default: the first account's).
    #[serde(default)]
    account_id: Option<String>,
    /// Or as this AccessKey (root, RAM user or STS) of the state.
    #[serde(default)]
    access_key_id: Option<String>,
    /// Sign with this secret instead of the stored one; required for an AccessKeyId the
    /// state does not hold (to show `InvalidAccessKeyId.NotFound` or
    /// `SignatureDoesNotMatch`).
    #[serde(default)]
    access_key_secret: Option<String>,
    /// The action's parameters: strings, numbers or booleans.
    #[serde(default)]
    params: Map<String, Value>,
    /// `v3` (the tea SDKs, the default) or `v2` (the classic SDKs).
    #[serde(default)]
    signature: Signature,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Signature {
    #[default]
    V3,
    V2,
}

/// `GET /_emulator/invoke`: `{"actions": [{"product", "version", "action", "readOnly"}]}`.
pub async fn actions() -> Response {
    let actions: Vec<Value> = Action::ALL
        .iter()
        .map(|action| {
            let product = action.product();
            json!({
                "product": product.name(),
                "version": product.version(),
                "action": action.wire_name(),
                "readOnly": action.is_read_only(),
            })
        })
        .collect();
    axum::Json(json!({ "actions": actions })).into_response()
}

/// `POST /_emulator/invoke`: 200 with `{"httpStatus", "code", "message", "requestId",
/// "contentType", "body", "request": {"method", "url", "headers"}}` whatever the call
/// answered; 4xx only when the invocation itself is wrong.
pub async fn invoke(State(app): Shared, headers: HeaderMap, request: Request) -> Response {
    let invocation: Invocation = match json_body(&app, request).await {
        Ok(value) => value,
        Err(answer) => return answer,
    };
    let params = match parameters(&invocation.params) {
        Ok(params) => params,
        Err(error) => return failure(StatusCode::BAD_REQUEST, error),
    };
    let credentials = match credentials(&app, &invocation) {
        Ok(credentials) => credentials,
        Err((status, error)) => return failure(status, error),
    };
    let version = invocation
        .version
        .as_deref()
        .unwrap_or(crate::actions::Product::Ecs.version());
    let call = client::Call {
        action: &invocation.action,
        version,
        params: &params,
        v2: invocation.signature == Signature::V2,
    };
    // Signed for the host the caller reached us at, as an SDK pointed there would sign it.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("127.0.0.1");
    let request = match client::signed_request(&call, &credentials, host) {
        Ok(request) => request,
        Err(error) => return failure(StatusCode::BAD_REQUEST, format!("cannot sign: {error}")),
    };
    let sent = json!({
        "method": request.method().as_str(),
        "url": request.uri().path_and_query().map_or("/", |p| p.as_str()),
        "headers": request
            .headers()
            .iter()
            .map(|(name, value)| {
                (name.as_str().to_owned(), Value::from(value.to_str().unwrap_or_default()))
            })
            .collect::<Map<_, _>>(),
    });
    let response = crate::rpc::handle(&app, request.map(Body::new)).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = match axum::body::to_bytes(response.into_body(), usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            return failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the answer could not be read: {error}"),
            );
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let fields = answer_fields(&content_type, &text);
    axum::Json(json!({
        "httpStatus": status,
        "code": fields.code,
        "message": fields.message,
        "requestId": fields.request_id,
        "contentType": content_type,
        "body": text,
        "request": sent,
    }))
    .into_response()
}

/// The parameters as text, by name; arrays and objects are refused (the RPC
/// actions here take flat parameters).
fn parameters(params: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    params
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                Value::Null | Value::Array(_) | Value::Object(_) => {
                    return Err(format!(
                        ".params.{name}: a parameter is a string, number or boolean"
                    ));
                }
            };
            Ok((name.clone(), text))
        })
        .collect()
}

/// Whose AccessKey signs: the one named, else the account's first root key, else the first
/// account's; with the stored secret (and STS token) unless a secret is given.
fn credentials(
    app: &crate::app::App,
    invocation: &Invocation,
) -> Result<Credentials, (StatusCode, String)> {
    let world = app.store.world();
    let access_key_id = match (&invocation.account_id, &invocation.access_key_id) {
        (Some(_), Some(_)) => {
            return Err((
                StatusCode::BAD_REQUEST,
                "give accountId or accessKeyId, not both".to_owned(),
            ));
        }
        (None, Some(access_key_id)) => access_key_id.clone(),
        (account_id, None) => {
            let account = match account_id {
                Some(id) => app
                    .store
                    .account(id)
                    .ok_or_else(|| (StatusCode::NOT_FOUND, format!("no account {id}")))?,
                None => world
                    .default_identity()
                    .and_then(|root| app.store.account(root.account_id.as_str()))
                    .ok_or_else(|| (StatusCode::CONFLICT, "the state has no account".to_owned()))?,
            };
            let key = account.access_keys.first().ok_or_else(|| {
                let id = &account.account_id;
                let error = format!("account {id} has no root AccessKey to sign with");
                (StatusCode::CONFLICT, error)
            })?;
            key.access_key_id.to_string()
        }
    };
    let stored = world.identity(&access_key_id);
    let access_key_secret = match (&invocation.access_key_secret, &stored) {
        (Some(secret), _) => secret.clone(),
        (None, Some(identity)) => identity.secret.clone(),
        (None, None) => {
            return Err((
                StatusCode::NOT_FOUND,
                format!(
                    "no AccessKey {access_key_id} in the state (give accessKeySecret to sign \
                     with it anyway)"
                ),
            ));
        }
    };
    Ok(Credentials {
        security_token: stored.and_then(|i| i.sts.clone()).map(|(token, _)| token),
        access_key_id,
        access_key_secret,
    })
}

/// `Code`, `Message` and `RequestId` of an answer, JSON or XML.
#[derive(Debug, Default, PartialEq, Eq)]
struct AnswerFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

fn answer_fields(content_type: &str, body: &str) -> AnswerFields {
    if content_type.contains("xml") {
        return xml_fields(body);
    }
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(body) else {
        return AnswerFields::default();
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
    AnswerFields {
        code: text("Code"),
        message: text("Message"),
        request_id: text("RequestId"),
    }
}

/// The same three fields as children of the XML document's root element.
fn xml_fields(body: &str) -> AnswerFields {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let mut fields = AnswerFields::default();
    let mut depth = 0usize;
    // The child of the root being read, and its escaped text so far (entity references
    // arrive as events of their own).
    let mut current: Option<(String, String)> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                depth += 1;
                current = (depth == 2).then(|| (start.name().as_ref().to_owned(), String::new()));
            }
            Ok(Event::Text(text)) => {
                if let Some((_, raw)) = &mut current {
                    raw.push_str(text.as_ref());
                }
            }
            Ok(Event::GeneralRef(reference)) => {
                if let Some((_, raw)) = &mut current {
                    raw.push('&');
                    raw.push_str(reference.as_ref());
                    raw.push(';');
                }
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if let Some((name, raw)) = current.take() {
                    let value =
                        quick_xml::escape::unescape(&raw).map_or(raw.clone(), |v| v.into_owned());
                    match name.as_str() {
                        "Code" => fields.code = Some(value),
                        "Message" => fields.message = Some(value),
                        "RequestId" => fields.request_id = Some(value),
                        _ => {}
                    }
                }
            }
            Ok(Event::Eof) | Err(_) => return fields,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_json_and_xml_answers() {
        let json_answer = r#"{"RequestId":"R1","HostId":"ecs.aliyuncs.com","Code":"Forbidden.RAM","Message":"a &amp; b"}"#;
        assert_eq!(
            answer_fields("application/json;charset=utf-8", json_answer),
            AnswerFields {
                code: Some("Forbidden.RAM".into()),
                message: Some("a &amp; b".into()),
                request_id: Some("R1".into()),
            }
        );
        let xml_answer = "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>R2</RequestId>\
            <HostId>ecs.aliyuncs.com</HostId><Code>InvalidParameter</Code>\
            <Message>a &amp; b &lt;c&gt;</Message><Recommend><Code>x</Code></Recommend></Error>";
        assert_eq!(
            answer_fields("text/xml;charset=utf-8", xml_answer),
            AnswerFields {
                code: Some("InvalidParameter".into()),
                message: Some("a & b <c>".into()),
                request_id: Some("R2".into()),
            }
        );
        let success = "<ModifyDiskDefaultKMSKeyIdResponse><RequestId>R3</RequestId>\
            <KMSKeyId>key-1</KMSKeyId></ModifyDiskDefaultKMSKeyIdResponse>";
        assert_eq!(
            answer_fields("text/xml", success),
            AnswerFields {
                request_id: Some("R3".into()),
                ..AnswerFields::default()
            }
        );
        assert_eq!(
            answer_fields("application/json", "not json"),
            AnswerFields::default()
        );
    }

    #[test]
    fn parameters_are_flat_scalars() {
        let params: Map<String, Value> =
            serde_json::from_str(r#"{"RegionId":"cn-hangzhou","PageSize":10,"DryRun":false}"#)
                .unwrap();
        assert_eq!(
            parameters(&params).unwrap(),
            vec![
                ("DryRun".to_owned(), "false".to_owned()),
                ("PageSize".to_owned(), "10".to_owned()),
                ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
            ]
        );
        let nested: Map<String, Value> = serde_json::from_str(r#"{"Tag":[1]}"#).unwrap();
        assert_eq!(
            parameters(&nested).unwrap_err(),
            ".params.Tag: a parameter is a string, number or boolean"
        );
    }
}
