//! The log of the built binary: lines in the order things happened, across the serving
//! threads; the default format's per-request line; the JSON format's objects; nothing lost at
//! a clean stop.

mod common;

use common::{Server, clean_command, header, read_answer};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

const DESCRIBE: &str = "/?Action=DescribeRegions&Version=2014-05-26&Format=JSON";
const NOT_AN_ACTION: &str = "/?Action=Nope&Version=2014-05-26&Format=JSON";

/// A server without signature checks, logging in `format`.
fn server(format: &str) -> Server {
    let mut command = clean_command();
    command.args([
        "--listen",
        "127.0.0.1:0",
        "--auth",
        "off",
        "--log-format",
        format,
    ]);
    Server::start(&mut command)
}

/// Sends `GET path` on a kept-alive connection, reads the whole answer; its
/// `x-acs-request-id`.
fn request_id_of(stream: &mut TcpStream, path: &str) -> String {
    // One write: a request in pieces would wait on Nagle's algorithm and delayed ACKs.
    let request = format!("GET {path} HTTP/1.1\r\nHost: emulator\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    header(&read_answer(stream), "x-acs-request-id").to_owned()
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(&server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// SIGTERM, then every line it logged once it has stopped.
fn stop(mut server: Server) -> Vec<String> {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    server.wait_for("stopped");
    assert!(server.child.wait().unwrap().success());
    server.log()
}

/// Requests one after another, dealt in turn over four kept-alive connections (so over every
/// serving thread: connections are dealt to them in turn too): their lines come in the order
/// of the answers, and all of them are written by the time the server has stopped.
#[test]
fn request_lines_come_in_the_order_the_answers_did() {
    let server = server("pretty");
    let mut connections: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    let answered: Vec<String> = (0..400)
        .map(|i| {
            let path = if i % 7 == 3 { NOT_AN_ACTION } else { DESCRIBE };
            request_id_of(&mut connections[i % 4], path)
        })
        .collect();
    drop(connections);
    let log = stop(server);
    let logged: Vec<&str> = log
        .iter()
        .filter(|line| line.contains(" ecs_emulator::rpc: "))
        .filter_map(|line| line.split(" request_id=").nth(1))
        .map(|rest| rest.split(' ').next().unwrap())
        .collect();
    assert_eq!(logged.len(), answered.len(), "one line per request");
    for (i, (logged, answered)) in logged.iter().zip(&answered).enumerate() {
        assert_eq!(logged, answered, "request {i}'s line is in its place");
    }
    assert!(
        log.last().unwrap().ends_with(" INFO ecs_emulator: stopped"),
        "{log:?}"
    );
}

/// The default format's per-request line: the timestamp, the level, the target, `rpc`, then
/// the fields in their order, unquoted.
#[test]
fn the_default_format_writes_the_request_line_as_key_value_pairs() {
    let mut server = server("pretty");
    let mut stream = connect(&server);
    let request_id = request_id_of(&mut stream, NOT_AN_ACTION);
    let line = server.wait_for(" ecs_emulator::rpc: ");
    let (timestamp, rest) = line.split_once(' ').unwrap();
    time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{timestamp}: {e}"));
    assert!(timestamp.ends_with('Z'), "UTC: {timestamp}");
    let (fields, latency) = rest.rsplit_once(" latency_us=").unwrap();
    assert_eq!(
        fields,
        format!(
            " INFO ecs_emulator::rpc: rpc request_id={request_id} action=- account=- \
             principal=- status=404 code=InvalidAction.NotFound"
        )
    );
    latency.parse::<u64>().unwrap();
}

/// `--log-format json`: every line is one JSON object with `timestamp`, `level`, `target` and
/// `message`; the per-request line's fields are at the top level, in their order, numbers as
/// numbers, and no span is reported.
#[test]
fn the_json_format_writes_one_object_per_line_with_the_fields_at_the_top() {
    let server = server("json");
    let mut stream = connect(&server);
    let answered = [
        request_id_of(&mut stream, DESCRIBE),
        request_id_of(&mut stream, NOT_AN_ACTION),
    ];
    drop(stream);
    let log = stop(server);
    let objects: Vec<serde_json::Value> = log
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    for object in &objects {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(object[key].is_string(), "{key} in {object}");
        }
        for key in ["fields", "span", "spans"] {
            assert!(object.get(key).is_none(), "{key} in {object}");
        }
    }
    let listening = objects
        .iter()
        .find(|object| object["message"].as_str().unwrap().contains("listening on"))
        .unwrap();
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["target"], "ecs_emulator");
    assert!(listening["accounts"].is_u64(), "{listening}");

    let lines: Vec<(&String, &serde_json::Value)> = log
        .iter()
        .zip(&objects)
        .filter(|(_, object)| object["target"] == "ecs_emulator::rpc")
        .collect();
    assert_eq!(lines.len(), 2);
    let (line, rpc) = lines[0];
    assert_eq!(rpc["message"], "rpc");
    assert_eq!(rpc["level"], "INFO");
    assert_eq!(rpc["request_id"], answered[0].as_str());
    assert_eq!(rpc["action"], "DescribeRegions");
    assert_eq!(rpc["account"], "1234567890123456");
    assert_eq!(rpc["principal"], "root");
    assert_eq!(rpc["status"], 200);
    assert_eq!(rpc["code"], "-");
    assert!(rpc["latency_us"].is_u64(), "{rpc}");
    let timestamp = rpc["timestamp"].as_str().unwrap();
    time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{timestamp}: {e}"));
    let at = |key: &str| {
        line.find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("{key} in {line}"))
    };
    let order = [
        "message",
        "request_id",
        "action",
        "account",
        "principal",
        "status",
        "code",
        "latency_us",
    ];
    assert!(
        order.windows(2).all(|pair| at(pair[0]) < at(pair[1])),
        "fields in order: {line}"
    );
    let (_, error) = lines[1];
    assert_eq!(error["request_id"], answered[1].as_str());
    assert_eq!(error["status"], 404);
    assert_eq!(error["code"], "InvalidAction.NotFound");
}
