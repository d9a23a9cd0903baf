//! Prints a wrk Lua script that replays one pre-signed request (`bench/run.sh`), signed with
//! the same pure functions the server verifies with (themselves proven on the SDK vectors).
//!
//!   cargo run --release --example presign -- V3 ModifyDiskDefaultKMSKeyId \
//!       LTAI5tDemoEncryptionOn DemoSecretEncryptionOn RegionId=cn-hangzhou KMSKeyId=…

use ecs_emulator::protocol::signature::{percent_encode, v3};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scheme, action, access_key_id, secret, params @ ..] = args.as_slice() else {
        eprintln!("usage: presign V3 ACTION ACCESS_KEY_ID SECRET Key=Value…");
        std::process::exit(2);
    };
    assert_eq!(scheme, "V3", "only V3 is needed by the benchmark");
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|p| {
            let (k, v) = p.split_once('=').expect("Key=Value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let headers: Vec<(&str, String)> = vec![
        ("host", "bench".to_owned()),
        ("x-acs-action", action.clone()),
        ("x-acs-content-sha256", v3::EMPTY_BODY_SHA256.to_owned()),
        ("x-acs-date", ecs_emulator::ids::now_text()),
        (
            "x-acs-signature-nonce",
            uuid::Uuid::new_v4().simple().to_string(),
        ),
        ("x-acs-version", "2014-05-26".to_owned()),
    ];
    let authorization = v3::authorization("POST", &pairs, &headers, access_key_id, secret);
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    println!("wrk.method = \"POST\"");
    // wrk sends its own `Host` unless this table names it so.
    println!("wrk.path = \"/?{}\"", query.join("&"));
    for (name, value) in &headers {
        let name = if *name == "host" { "Host" } else { name };
        println!("wrk.headers[\"{name}\"] = \"{value}\"");
    }
    println!("wrk.headers[\"authorization\"] = \"{authorization}\"");
}
