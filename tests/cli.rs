//! The binary itself: start-up validation, env twins, the per-request log line, SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ecs-emulator");

fn clean_command() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("ECS_EMULATOR_") {
            command.env_remove(name);
        }
    }
    command.env_remove("RUST_LOG");
    command
}

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

/// A running server whose stderr lines arrive on a channel.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    address: String,
}

impl Server {
    fn start(command: &mut Command) -> Self {
        let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                if sender.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        let mut server = Self {
            child,
            lines,
            address: String::new(),
        };
        let line = server.wait_for("listening on http://");
        let start = line.find("listening on http://").unwrap() + "listening on http://".len();
        server.address = line[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
            .collect();
        server
    }

    fn wait_for(&mut self, needle: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no line containing {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn get(&self, path_and_query: &str) -> String {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        write!(
            stream,
            "GET {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
