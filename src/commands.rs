//! The subcommands besides `serve`: `healthcheck` (for Docker), `call` (sign and send one RPC
//! call — for demos and quick checks, no SDK needed), `env` (SDK settings to paste), `ca`
//! (the CA certificate), `hosts` (hosts-file lines for the real hostnames) and `state` (the
//! state file, offline).

use crate::config::{CaArgs, CallArgs, Config, EnvArgs, HostsArgs, StateAction, StateArgs};
use crate::protocol::signature::client::{self, Credentials};
use crate::tls::ca::Authority;
use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

/// The default account's key pair: the first AccessKey of the built-in fixture's first
/// account.
pub fn default_credentials() -> (String, String) {
    let fixture = crate::load_fixture(None).unwrap_or_default();
    fixture
        .accounts
        .first()
        .and_then(|account| account.access_keys.first())
        .map(|key| (key.access_key_id.to_string(), key.access_key_secret.clone()))
        .unwrap_or_default()
}

/// `http://host:port` of a `--listen` address; a wildcard address is reached on loopback.
pub fn endpoint_of(listen: &str) -> String {
    let address = listen
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]");
    format!("http://{address}")
}

/// One request and its answer: status and body.
async fn send(
    request: Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), String> {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok((status, body.to_bytes()))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

/// `healthcheck`: 0 when `/_emulator/health` answers ready within 2 s.
pub async fn healthcheck(listen: &str) -> ExitCode {
    let url = format!("{}/_emulator/health", endpoint_of(listen));
    let request = Request::get(&url).body(Full::new(Bytes::new()));
    let Ok(request) = request else {
        eprintln!("unhealthy: bad address {listen}");
        return ExitCode::FAILURE;
    };
    match send(request, Duration::from_secs(2)).await {
        Ok((StatusCode::OK, body))
            if serde_json::from_slice::<serde_json::Value>(&body)
                .is_ok_and(|v| v["status"] == "ready") =>
        {
            println!("ready");
            ExitCode::SUCCESS
        }
        Ok((status, _)) => {
            eprintln!("unhealthy: {url} answered {status}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("unhealthy: {url}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the signed request `call` sends: V3 (parameters in the query, the `Authorization`
/// header) by default, or V2 (every parameter and the `Signature` in the query).
pub fn signed_request(args: &CallArgs, endpoint: &str) -> Result<Request<Full<Bytes>>, String> {
    let (default_id, default_secret) = default_credentials();
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in &args.params {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair}: parameters are Key=Value"))?;
        params.push((name.to_owned(), value.to_owned()));
    }
    let credentials = Credentials {
        access_key_id: args.access_key_id.clone().unwrap_or(default_id),
        access_key_secret: args.access_key_secret.clone().unwrap_or(default_secret),
        security_token: args.security_token.clone(),
    };
    let call = client::Call {
        action: &args.action,
        version: &args.api_version,
        params: &params,
        v2: args.v2,
    };
    client::signed_request(&call, &credentials, endpoint)
}

/// `call`: prints the status and the body (pretty JSON); exit 1 on an API error, 2 when the
/// server cannot be reached.
pub async fn call(args: &CallArgs, listen: &str) -> ExitCode {
    let endpoint = args.endpoint.clone().unwrap_or_else(|| endpoint_of(listen));
    let request = match signed_request(args, &endpoint) {
        Ok(request) => request,
        Err(error) => {
            eprintln!("ecs-emulator call: {error}");
            return ExitCode::from(2);
        }
    };
    debug_assert_eq!(request.method(), Method::POST);
    match send(request, Duration::from_secs(30)).await {
        Ok((status, body)) => {
            let pretty = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            // A reader that stops early (`| head`) is no error of the call's.
            let _ = writeln!(std::io::stdout(), "HTTP {}\n{pretty}", status.as_u16());
            if status.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("ecs-emulator call: {endpoint}: {error}");
            ExitCode::from(2)
        }
    }
}

/// `env`: shell exports the SDKs read, and a snippet per language; with `--proxy`, the
/// proxy's ([`env_proxy`]).
pub fn env(args: &EnvArgs, config: &Config) -> String {
    if args.proxy {
        return env_proxy(args, config);
    }
    let listen = &config.listen;
    let endpoint = args.endpoint.clone().unwrap_or_else(|| endpoint_of(listen));
    let host = endpoint
        .split_once("://")
        .map_or(endpoint.as_str(), |(_, rest)| rest)
        .trim_end_matches('/');
    let (access_key_id, secret) = default_credentials();
    format!(
        r#"# ecs-emulator at {endpoint} — the default account (fake credentials, never real ones)
export ALIBABA_CLOUD_ACCESS_KEY_ID={access_key_id}
export ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}
export ALIBABA_CLOUD_REGION_ID=cn-hangzhou
export ECS_EMULATOR_ENDPOINT={host}
# Python (alibabacloud-ecs20140526; the credential chain reads the variables above):
#   Client(Config(credential=alibabacloud_credentials.client.Client(), region_id='cn-hangzhou', endpoint='{host}', protocol='http'))
# Node (@alicloud/ecs20140526):
#   new Ecs.default(new OpenApi.$OpenApiUtil.Config({{ accessKeyId: '{access_key_id}', accessKeySecret: '{secret}', regionId: 'cn-hangzhou', endpoint: '{host}', protocol: 'http' }}))
# Go (github.com/alibabacloud-go/ecs-20140526):
#   &openapi.Config{{AccessKeyId: tea.String("{access_key_id}"), AccessKeySecret: tea.String("{secret}"), RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String("{host}"), Protocol: tea.String("http")}}
# Java (com.aliyun:ecs20140526):
#   new Config().setAccessKeyId("{access_key_id}").setAccessKeySecret("{secret}").setRegionId("cn-hangzhou").setEndpoint("{host}").setProtocol("http")
# aliyun CLI:
#   aliyun configure set --profile emulator --mode AK --access-key-id {access_key_id} --access-key-secret {secret} --region cn-hangzhou
#   aliyun ecs DescribeRegions --profile emulator --endpoint {host} --insecure   (not verified: no aliyun CLI here)
"#
    )
}

/// `env --proxy`: the proxy variables, the CA variable of every client family
/// (`endpoints.md` §3; which one each honours is measured, README), and the credentials.
/// The CA is made when absent, so the file named exists.
fn env_proxy(args: &EnvArgs, config: &Config) -> String {
    let proxy = args
        .endpoint
        .clone()
        .unwrap_or_else(|| endpoint_of(&config.listen));
    let ca = match Authority::load_or_create(&config.ca_dir()) {
        Ok(authority) => shell_quote(&authority.cert_path().display().to_string()),
        Err(error) => return format!("# ecs-emulator env --proxy: {error}\n"),
    };
    let (access_key_id, secret) = default_credentials();
    format!(
        r#"# ecs-emulator as the proxy of every Alibaba Cloud API host (fake credentials, never real ones);
# nothing is forwarded: other hosts are refused
export HTTPS_PROXY={proxy} HTTP_PROXY={proxy} https_proxy={proxy} http_proxy={proxy}
# the emulator's CA, for each client family (README: which variable each honours)
export SSL_CERT_FILE={ca}            # Python ssl (tea SDKs), Go (aliyun CLI, Terraform), curl
export REQUESTS_CA_BUNDLE={ca}       # Python requests
export ALIBABA_CLOUD_CA_BUNDLE={ca}  # aliyun-python-sdk-core (bundles its own requests)
export NODE_EXTRA_CA_CERTS={ca}      # Node
export ALIBABA_CLOUD_ACCESS_KEY_ID={access_key_id}
export ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}
export ALIBABA_CLOUD_REGION_ID=cn-hangzhou
"#
    )
}

/// A word for a POSIX shell, quoted when it needs to be.
fn shell_quote(word: &str) -> String {
    let plain = word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%=,".contains(&b));
    if plain && !word.is_empty() {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `ca`: the CA certificate (PEM), or with `--path` the path of `ca.pem`; the CA is made in
/// `--ca-dir` when absent. Exit 1 when it cannot be (a corrupt CA is never replaced).
pub fn ca(args: &CaArgs, config: &Config) -> ExitCode {
    match Authority::load_or_create(&config.ca_dir()) {
        Ok(authority) => {
            let text = match args.path {
                true => format!("{}\n", authority.cert_path().display()),
                false => authority.cert_pem().to_owned(),
            };
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ecs-emulator ca: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `state compact` / `state dump` on the `--state-file`: exit 1 with the reason on failure.
pub fn state(args: &StateArgs, state_file: Option<&std::path::Path>) -> ExitCode {
    let Some(path) = state_file else {
        eprintln!("ecs-emulator state: give --state-file PATH");
        return ExitCode::from(2);
    };
    let done = match args.action {
        StateAction::Compact => crate::store::compact_state_file(path).map(|size| {
            println!("{}: compacted into a {size}-byte snapshot", path.display());
        }),
        StateAction::Dump => crate::store::dump_state_file(path).and_then(|document| {
            let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
            let _ = writeln!(std::io::stdout(), "{text}");
            Ok(())
        }),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ecs-emulator state: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `hosts`: one hosts-file line per Alibaba Cloud API host of the state's regions
/// (`hosts::names`), resolving to `--address`.
pub fn hosts(args: &HostsArgs, config: &Config) -> ExitCode {
    // Read only: the state file may be a running server's.
    let state = match config.state_file.as_deref() {
        Some(path) if path.exists() => crate::store::dump_state_file(path),
        _ => crate::load_fixture(config.fixtures.as_deref()),
    };
    let state = match state {
        Ok(state) => state,
        Err(error) => {
            eprintln!("ecs-emulator hosts: {error}");
            return ExitCode::FAILURE;
        }
    };
    let regions = state.regions.iter().map(|r| r.region_id.as_str());
    let mut text = format!(
        "# ecs-emulator: Alibaba Cloud API hosts -> {} (ecs-emulator hosts)\n",
        args.address
    );
    for name in crate::hosts::names(regions) {
        text.push_str(&format!("{} {name}\n", args.address));
    }
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::SUCCESS
}
