//! The binary itself: start-up validation, env twins, the per-request log line, SIGTERM.

mod common;

use common::{Server, clean_command, read_answer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// Runs the binary expecting it to refuse to start; returns its stderr.
fn refused(args: &[&str]) -> String {
    let output = clean_command()
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success(), "{args:?} started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_bad_fixture_stops_start_up_with_the_path_that_is_wrong() {
    let dir = std::env::temp_dir().join(format!("ecs-emulator-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"regions":[{"regionId":"cn-hangzhou"}],"accounts":[{"accountId":"1","kmsKeys":[{"keyId":"k","regionId":"mars-1"}]}]}"#,
    )
    .unwrap();
    let stderr = refused(&["--fixtures", bad.to_str().unwrap()]);
    assert!(
        stderr.contains("accounts[0].kmsKeys[0].regionId: unknown region \"mars-1\""),
        "{stderr}"
    );
    let stderr = refused(&["--fixtures", "/nonexistent/fixture.json"]);
    assert!(stderr.contains("/nonexistent/fixture.json"), "{stderr}");
    let stderr = refused(&["--default-region", "mars-1"]);
    assert!(stderr.contains("--default-region mars-1"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Plain HTTP to a running server.
impl Server {
    fn get(&self, path_and_query: &str) -> String {
        exchange(&self.address, "GET", path_and_query, "").unwrap()
    }

    /// The body of an answer to `method path` with `body`.
    fn call(&self, method: &str, path: &str, body: &str) -> String {
        let response = exchange(&self.address, method, path, body).unwrap();
        response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

/// One HTTP/1.1 request on a fresh connection; the whole response text.
fn exchange(address: &str, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

#[test]
fn env_twins_configure_it_and_every_request_logs_one_json_line() {
    let mut command = clean_command();
    command
        .env("ECS_EMULATOR_LISTEN", "127.0.0.1:0")
        .env("ECS_EMULATOR_LOG_FORMAT", "json")
        .env("ECS_EMULATOR_AUTH", "off")
        .env("ECS_EMULATOR_DEFAULT_REGION", "cn-shanghai");
    let mut server = Server::start(&mut command);
    let response = server.get("/?Action=Nope&Version=2016-01-20&Format=JSON");
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(
        response.contains("\"HostId\":\"kms.cn-shanghai.aliyuncs.com\""),
        "{response}"
    );
    let line = server.wait_for("\"rpc\"");
    let log: serde_json::Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(log["status"], 404);
    assert_eq!(log["code"], "InvalidAction.NotFound");
    assert!(log["request_id"].as_str().unwrap().len() == 36);
    assert!(log["latency_us"].is_u64());
}

#[test]
fn sigterm_stops_it_cleanly() {
    let mut command = clean_command();
    command.args(["--listen", "127.0.0.1:0"]);
    let mut server = Server::start(&mut command);
    let health = server.get("/_emulator/health");
    assert!(health.contains("\"status\":\"ready\""), "{health}");
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    server.wait_for("shutting down");
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-emulator-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn with_state_file(path: &std::path::Path) -> Command {
    let mut command = clean_command();
    command
        .args(["--listen", "127.0.0.1:0", "--auth", "off", "--state-file"])
        .arg(path);
    command
}

#[test]
fn a_kill_9_loses_no_acknowledged_change() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = temp_dir("kill9");
    let file = dir.join("state.json");
    let mut server = Server::start(&mut with_state_file(&file));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let client = {
        let (address, acknowledged, count) =
            (server.address.clone(), acknowledged.clone(), count.clone());
        std::thread::spawn(move || {
            for i in 0..100_000 {
                let path =
                    format!("/?Action=CreateKey&Version=2016-01-20&Format=JSON&Description=k{i}");
                let Ok(response) = exchange(&address, "POST", &path, "") else {
                    break;
                };
                if !response.starts_with("HTTP/1.1 200") {
                    break;
                }
                let body = response.split_once("\r\n\r\n").unwrap().1;
                let answer: serde_json::Value = serde_json::from_str(body).unwrap();
                acknowledged
                    .lock()
                    .unwrap()
                    .push(answer["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned());
                count.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while count.load(Ordering::SeqCst) < 40 {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.child.kill().unwrap(); // SIGKILL, mid-stream
    server.child.wait().unwrap();
    client.join().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 40);

    let document = ecs_emulator::store::dump_state_file(&file).expect("the files read");
    let kept: Vec<&str> = document.accounts[0]
        .kms_keys
        .iter()
        .map(|k| k.key_id.as_str())
        .collect();
    for key_id in &acknowledged {
        assert!(
            kept.contains(&key_id.as_str()),
            "acknowledged {key_id} was lost"
        );
    }
    // A restart from the same file answers for every acknowledged key.
    let server = Server::start(&mut with_state_file(&file));
    for key_id in acknowledged.iter().rev().take(5) {
        let body = server.call(
            "GET",
            &format!("/?Action=DescribeKey&Version=2016-01-20&Format=JSON&KeyId={key_id}"),
            "",
        );
        assert!(body.contains(&format!("\"KeyId\":\"{key_id}\"")), "{body}");
    }
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_state_file_stops_the_start_and_is_left_alone() {
    let dir = temp_dir("corrupt");
    let file = dir.join("state.json");
    std::fs::write(&file, "{\"accounts\": [").unwrap();
    let output = with_state_file(&file).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to start"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"accounts\": [");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_same_seed_and_requests_give_identical_bodies() {
    let run = || {
        let mut command = clean_command();
        command.args(["--listen", "127.0.0.1:0", "--auth", "off", "--seed", "42"]);
        let server = Server::start(&mut command);
        let account = server.call("POST", "/_emulator/accounts", "");
        let parsed: serde_json::Value = serde_json::from_str(&account).unwrap();
        let access_key_id = parsed["accessKeyId"].as_str().unwrap().to_owned();
        let mut bodies = vec![account];
        for action in [
            "DescribeDiskDefaultKMSKeyId",
            "EnableDiskEncryptionByDefault",
            "DescribeDiskEncryptionByDefaultStatus",
            "Nope",
        ] {
            let path = format!(
                "/?Action={action}&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou&AccessKeyId={access_key_id}"
            );
            bodies.push(server.call("GET", &path, ""));
        }
        bodies
    };
    let (first, second) = (run(), run());
    assert_eq!(first, second);
    assert!(first[1].contains("\"KMSKeyId\":\"key-hzz"), "{}", first[1]);
}

fn run(args: &[&str]) -> std::process::Output {
    clean_command().args(args).output().unwrap()
}

#[test]
fn healthcheck_answers_up_and_down() {
    let mut command = clean_command();
    command.args(["--listen", "127.0.0.1:0"]);
    let server = Server::start(&mut command);
    let up = run(&["healthcheck", "--listen", &server.address]);
    assert!(up.status.success(), "{up:?}");
    let address = server.address.clone();
    drop(server);
    let started = std::time::Instant::now();
    let down = run(&["healthcheck", "--listen", &address]);
    assert!(!down.status.success());
    assert!(started.elapsed() < Duration::from_secs(3), "within 2 s");
    // An address that accepts but never answers also fails within the bound.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_address = silent.local_addr().unwrap().to_string();
    let started = std::time::Instant::now();
    assert!(
        !run(&["healthcheck", "--listen", &silent_address])
            .status
            .success()
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn call_signs_sends_and_exits_by_the_answer() {
    let mut command = clean_command();
    command.args(["--listen", "127.0.0.1:0"]); // strict: the calls must be signed right
    let server = Server::start(&mut command);
    let call = |args: &[&str]| {
        let mut all = vec!["call", "--listen", &server.address];
        all.extend_from_slice(args);
        let output = run(&all);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (code, out) = call(&["EnableDiskEncryptionByDefault", "RegionId=cn-hangzhou"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("HTTP 200\n{\n"), "{out}");
    let (code, out) = call(&[
        "--v2",
        "ModifyDiskDefaultKMSKeyId",
        "RegionId=cn-hangzhou",
        "KMSKeyId=alias/demo",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = call(&["DescribeDiskDefaultKMSKeyId", "RegionId=cn-hangzhou"]);
    assert!(
        code == Some(0) && out.contains("\"KMSKeyId\": \"key-hzz65e1c1f1wh3ka4wq4e\""),
        "{out}"
    );
    let (code, out) = call(&[
        "ModifyDiskDefaultKMSKeyId",
        "RegionId=cn-hangzhou",
        "KMSKeyId=key-hzz0disabled0000000001",
    ]);
    assert_eq!(code, Some(1), "an API error: {out}");
    assert!(
        out.starts_with("HTTP 400") && out.contains("InvalidParameter.KMSKeyId.CMKNotEnabled"),
        "{out}"
    );
    let (code, out) = call(&[
        "--api-version",
        "2016-01-20",
        "DescribeKey",
        "KeyId=alias/demo",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let sts = [
        "--access-key-id",
        "STS.DemoDefaultRoot01",
        "--access-key-secret",
        "DemoSecretStsRoot01",
        "--security-token",
        "CAIDemoSecurityTokenRoot01",
    ];
    for v2 in [false, true] {
        let mut args: Vec<&str> = sts.to_vec();
        if v2 {
            args.push("--v2");
        }
        args.push("DescribeRegions");
        let (code, out) = call(&args);
        assert_eq!(code, Some(0), "STS, v2={v2}: {out}");
    }
    let (code, out) = call(&["--access-key-secret", "wrong", "DescribeRegions"]);
    assert!(
        code == Some(1) && out.contains("SignatureDoesNotMatch"),
        "{out}"
    );
    let (code, _) = call(&["DescribeRegions", "no-equals-sign"]);
    assert_eq!(code, Some(2));
    let down = run(&[
        "call",
        "--endpoint",
        "http://127.0.0.1:9",
        "DescribeRegions",
    ]);
    assert_eq!(down.status.code(), Some(2));
}

#[test]
fn env_prints_the_default_account_for_the_sdks() {
    let output = run(&["env", "--listen", "0.0.0.0:8081"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for line in [
        "export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tTestAccessKey01",
        "export ALIBABA_CLOUD_ACCESS_KEY_SECRET=TestSecret01",
        "export ECS_EMULATOR_ENDPOINT=127.0.0.1:8081",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    for language in ["# Python", "# Node", "# Go", "# Java", "# aliyun CLI"] {
        assert!(text.contains(language), "{language}");
    }
    // Every line is a shell export or a comment, so `eval "$(ecs-emulator env)"` works.
    assert!(
        text.lines()
            .all(|l| l.starts_with("export ") || l.starts_with('#'))
    );
}

#[test]
fn sigterm_during_a_burst_answers_every_started_request_and_exits_0() {
    let mut command = clean_command();
    command.args(["--listen", "127.0.0.1:0", "--auth", "off"]);
    let mut server = Server::start(&mut command);
    // A slow action (an injected latency) keeps requests in flight while the signal arrives.
    let rule = r#"{"action": "DescribeRegions", "latencyMs": 300}"#;
    assert!(
        server
            .call("POST", "/_emulator/faults", rule)
            .contains("faultId")
    );
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let address = server.address.clone();
            std::thread::spawn(move || {
                exchange(
                    &address,
                    "GET",
                    "/?Action=DescribeRegions&Version=2014-05-26&Format=JSON",
                    "",
                )
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for worker in workers {
        let response = worker
            .join()
            .unwrap()
            .expect("a started request gets its answer");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("\"Regions\""), "a full body");
    }
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    // And it no longer accepts.
    assert!(exchange(&server.address, "GET", "/_emulator/health", "").is_err());
}

#[test]
fn every_flag_has_its_env_twin() {
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("--") && !l.starts_with("--help") && !l.starts_with("--version"))
        .collect();
    assert_eq!(flags.len(), 13, "{help}");
    for flag in flags {
        let name = flag
            .split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches("--");
        let twin = format!(
            "[env: ECS_EMULATOR_{}=",
            name.to_uppercase().replace('-', "_")
        );
        assert!(help.contains(&twin), "{name} has no {twin}");
    }
}

#[test]
fn env_twins_set_fixtures_state_file_seed_token_and_journal() {
    let dir = temp_dir("twins");
    let fixture = dir.join("fixture.json");
    std::fs::write(
        &fixture,
        r#"{"regions":[{"regionId":"cn-hangzhou"}],"accounts":[{"accountId":"7","accessKeys":[{"accessKeyId":"AK7","accessKeySecret":"s"}]}]}"#,
    )
    .unwrap();
    let state_file = dir.join("state.json");
    let start = || {
        let mut command = clean_command();
        command
            .env("ECS_EMULATOR_LISTEN", "127.0.0.1:0")
            .env("ECS_EMULATOR_AUTH", "off")
            .env("ECS_EMULATOR_FIXTURES", &fixture)
            .env("ECS_EMULATOR_SEED", "5")
            .env("ECS_EMULATOR_ADMIN_TOKEN", "t0ken")
            .env("ECS_EMULATOR_JOURNAL_CAPACITY", "2");
        Server::start(&mut command)
    };
    let server = start();
    let regions = server.call(
        "GET",
        "/?Action=DescribeRegions&Version=2014-05-26&Format=JSON",
        "",
    );
    let answer: serde_json::Value = serde_json::from_str(&regions).unwrap();
    assert_eq!(
        answer["Regions"]["Region"].as_array().unwrap().len(),
        1,
        "the fixture"
    );
    assert!(
        exchange(&server.address, "GET", "/_emulator/state", "")
            .unwrap()
            .starts_with("HTTP/1.1 401"),
        "the token"
    );
    for _ in 0..3 {
        server.call(
            "GET",
            "/?Action=DescribeRegions&Version=2014-05-26&Format=JSON",
            "",
        );
    }
    let mut stream = TcpStream::connect(&server.address).unwrap();
    write!(stream, "GET /_emulator/requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\nConnection: close\r\n\r\n").unwrap();
    let mut journal = String::new();
    stream.read_to_string(&mut journal).unwrap();
    assert_eq!(
        journal.matches("\"requestId\"").count(),
        2,
        "the journal capacity: {journal}"
    );
    drop(server);
    // The same seed: the same first request id.
    let first = |server: &Server| {
        let body = server.call(
            "GET",
            "/?Action=DescribeRegions&Version=2014-05-26&Format=JSON",
            "",
        );
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["RequestId"].clone()
    };
    let (a, b) = (start(), start());
    assert_eq!(first(&a), first(&b));
    drop((a, b));
    // The state file twin.
    let mut command = clean_command();
    command
        .env("ECS_EMULATOR_LISTEN", "127.0.0.1:0")
        .env("ECS_EMULATOR_STATE_FILE", &state_file);
    drop(Server::start(&mut command));
    assert!(state_file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--request-timeout` bounds the wait for a request's head, on a new connection and between
/// requests of a kept-alive one, but never cuts a request being served, however slow.
#[test]
fn the_head_timeout_cuts_idle_connections_not_slow_answers() {
    let mut command = clean_command();
    command.args([
        "--listen",
        "127.0.0.1:0",
        "--auth",
        "off",
        "--request-timeout",
        "1",
    ]);
    let server = Server::start(&mut command);
    let fault = r#"{"action":"DescribeRegions","latencyMs":1600}"#;
    let added = exchange(&server.address, "POST", "/_emulator/faults", fault).unwrap();
    assert!(added.starts_with("HTTP/1.1 201"), "{added}");

    let mut stream = TcpStream::connect(&server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = std::time::Instant::now();
    write!(
        stream,
        "GET /?Action=DescribeRegions&Version=2014-05-26&Format=JSON HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    let answer = read_answer(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(1600));

    // Idle after the answer: closed about a second later (the watchdog looks every 125 ms).
    let idle = std::time::Instant::now();
    let mut byte = [0u8; 1];
    assert_eq!(
        stream.read(&mut byte).unwrap(),
        0,
        "closed without an answer"
    );
    let waited = idle.elapsed();
    assert!(
        (Duration::from_millis(800)..Duration::from_millis(2500)).contains(&waited),
        "{waited:?}"
    );
}
