//! What the in-process examples share: the benchmark's service and its request.

use axum::http::HeaderMap;
use ecs_emulator::app::{self, App, Settings};
use ecs_emulator::auth::AuthMode;
use ecs_emulator::protocol::signature::client::{Call, Credentials, signed_request};

/// The service as `bench/run.sh` serves it (`--auth verify`, default fixture, journal as
/// served), and the benchmark's request to it: a V3-signed `ModifyDiskDefaultKMSKeyId` from
/// the demo account whose default encryption is on, as its path and query and its headers.
pub fn benchmark_service() -> (app::Http, String, HeaderMap) {
    let state = ecs_emulator::store::parse_document(ecs_emulator::DEFAULT_FIXTURE.as_bytes())
        .expect("the default fixture");
    let settings = Settings {
        auth: AuthMode::Verify,
        ..Settings::default()
    };
    let service = app::build(App::new(state, settings));
    let credentials = Credentials {
        access_key_id: "LTAI5tDemoEncryptionOn".to_owned(),
        access_key_secret: "DemoSecretEncryptionOn".to_owned(),
        security_token: None,
    };
    let params = [
        ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
        (
            "KMSKeyId".to_owned(),
            "key-hzz1configured0000001".to_owned(),
        ),
    ];
    let call = Call {
        action: "ModifyDiskDefaultKMSKeyId",
        version: "2014-05-26",
        params: &params,
        v2: false,
    };
    let signed = signed_request(&call, &credentials, "127.0.0.1:8080").expect("signed");
    let uri = signed
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    (service, uri, signed.headers().clone())
}
