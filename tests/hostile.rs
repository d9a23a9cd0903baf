//! Hostile input against the built binary, over raw TCP: malformed requests, the server's
//! limits, bodies over them written whole before the answer is read, the memory a huge
//! refused document leaves, slow clients, too many connections, bad admin bodies and path
//! tricks.
//!
//! Every RPC error is checked against the envelope (`shared/spec/wire.md` §4, `errors.md`):
//! a 4xx, the exact JSON or XML content type, `Code`, a 36-character `RequestId` equal to
//! `x-acs-request-id`, never HTML. Admin errors are checked against `{"error": "…"}`
//! (`control-plane.md` §2). After every request the server must still answer
//! `GET /_emulator/health`; at the end of each group it must still be running and must not
//! have logged a panic. Every read is bounded (5 s), so nothing here can hang.
//!
//! Each group starts its own server with `--request-timeout 2 --max-connections 8`. Run with
//! `--nocapture` to see what the server answered to each request.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The default account of `fixtures/default.json`.
const AK: &str = "LTAI5tTestAccessKey01";
const SECRET: &str = "TestSecret01";
const ACCOUNT: &str = "1234567890123456";
const KEY: &str = "key-hzz65e1c1f1wh3ka4wq4e";
const JSON_CT: &str = "application/json;charset=utf-8";
const XML_CT: &str = "text/xml;charset=utf-8";
const MIB: usize = 1024 * 1024;
/// The bound on every read and write of these tests.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The server's limits in these tests.
const LIMIT_FLAGS: [&str; 4] = ["--request-timeout", "2", "--max-connections", "8"];
const MAX_CONNECTIONS: usize = 8;
/// A routable ECS request; most requests below add to it.
const Q: &str = "Action=DescribeRegions&Version=2014-05-26";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Raw requests sent (health checks aside), over all groups.
static SENT: AtomicUsize = AtomicUsize::new(0);
static NONCE: AtomicUsize = AtomicUsize::new(0);

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

/// A running server; its stderr is drained into `log` for as long as it runs.
/// A server for one group of cases, with the limits above.
struct Server(common::Server);

impl std::ops::Deref for Server {
    type Target = common::Server;

    fn deref(&self) -> &common::Server {
        &self.0
    }
}

impl Server {
    fn start(auth: &str) -> Self {
        let spawn = |extra: &[&str]| {
            common::Server::spawn(
                common::clean_command()
                    .args(["--listen", "127.0.0.1:0", "--auth", auth])
                    .args(extra)
                    .stdout(Stdio::null()),
            )
        };
        match spawn(&LIMIT_FLAGS) {
            Ok(server) => Self(server),
            // A binary from before the limits landed: run the rest of the suite against it
            // anyway; the tests of those limits then fail on their own assertions.
            Err(stderr) if stderr.contains("unexpected argument") => {
                eprintln!(
                    "WARNING: the binary refuses {LIMIT_FLAGS:?}; started without them, the limit tests will fail"
                );
                Self(spawn(&[]).unwrap_or_else(|e| panic!("the server did not start: {e}")))
            }
            Err(stderr) => panic!("the server did not start: {stderr}"),
        }
    }

    fn healthy(&self) -> bool {
        let (outcome, _) = exchange(&self.address, &get("/_emulator/health"), false, false);
        matches!(outcome, Outcome::Reply(reply) if reply.status == 200)
    }

    /// The end of a group: the server answers, runs, and never panicked.
    fn finish(mut self, group: &str, mut failures: Vec<String>, sent_before: usize) {
        if !self.healthy() {
            failures.push("at the end: /_emulator/health does not answer 200".into());
        }
        match self.0.child.try_wait() {
            Ok(None) => {}
            other => failures.push(format!("at the end: the server is gone: {other:?}")),
        }
        for line in self.log() {
            if line.contains("panicked") {
                failures.push(format!("the server logged a panic: {line}"));
            }
        }
        let sent = SENT.load(Ordering::SeqCst) - sent_before;
        eprintln!("== {group}: done; {sent} raw requests sent meanwhile (by all groups running)");
        assert!(
            failures.is_empty(),
            "{group}: {} failure(s):\n  - {}",
            failures.len(),
            failures.join("\n  - ")
        );
    }
}

// ---------------------------------------------------------------------------------------
// Raw HTTP
// ---------------------------------------------------------------------------------------

/// One answer as read off the wire.
struct Reply {
    status: u16,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// 1xx answers read before this one.
    interim: Vec<u16>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

enum Outcome {
    Reply(Reply),
    /// The connection ended (EOF or reset) before a status line.
    Closed,
    /// Nothing within the read timeout.
    Hung,
    /// Bytes that are not an HTTP/1 answer.
    Garbage(String),
}

impl Outcome {
    /// What was answered, briefly, for the log and the failure messages.
    fn summary(&self) -> String {
        match self {
            Outcome::Reply(reply) => {
                let mut body = reply.text();
                if body.len() > 240 {
                    let mut end = 240;
                    while !body.is_char_boundary(end) {
                        end -= 1;
                    }
                    body.truncate(end);
                    body.push('…');
                }
                let interim = if reply.interim.is_empty() {
                    String::new()
                } else {
                    format!("(after {:?}) ", reply.interim)
                };
                format!(
                    "{interim}{} content-type={:?} connection={:?} body={body:?}",
                    reply.status,
                    reply.header("content-type").unwrap_or("-"),
                    reply.header("connection").unwrap_or("-"),
                )
            }
            Outcome::Closed => "connection closed without an answer".into(),
            Outcome::Hung => format!("no answer within {IO_TIMEOUT:?}"),
            Outcome::Garbage(text) => format!("not an HTTP answer: {text}"),
        }
    }

    /// The status and code (or `closed`), to compare two outcomes.
    fn kind(&self) -> String {
        match self {
            Outcome::Reply(reply) => {
                let code = envelope(reply, false).map(|e| e.code).unwrap_or_default();
                format!("{} {code}", reply.status)
            }
            Outcome::Closed => "closed".into(),
            Outcome::Hung => "hung".into(),
            Outcome::Garbage(_) => "garbage".into(),
        }
    }
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

fn read_line(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    Ok(line)
}

fn io_outcome(error: &std::io::Error) -> Outcome {
    match error.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => Outcome::Hung,
        _ => Outcome::Closed,
    }
}

type Head = (u16, Vec<(String, String)>);

/// A status line and headers.
fn read_head(reader: &mut impl BufRead) -> Result<Head, Outcome> {
    let line = read_line(reader).map_err(|e| io_outcome(&e))?;
    if line.is_empty() {
        return Err(Outcome::Closed);
    }
    let text = String::from_utf8_lossy(&line).into_owned();
    let mut parts = text.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let Some(status) = status.filter(|_| version.starts_with("HTTP/1.")) else {
        return Err(Outcome::Garbage(format!("{text:?}")));
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader).map_err(|e| io_outcome(&e))?;
        if line.is_empty() {
            return Err(Outcome::Garbage(format!("EOF in the head after {text:?}")));
        }
        if line == b"\r\n" || line == b"\n" {
            return Ok((status, headers));
        }
        let line = String::from_utf8_lossy(&line);
        let Some((name, value)) = line.split_once(':') else {
            return Err(Outcome::Garbage(format!("header line {line:?}")));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn read_body(
    reader: &mut impl BufRead,
    status: u16,
    headers: &[(String, String)],
    head_request: bool,
) -> std::io::Result<Vec<u8>> {
    if head_request || status == 204 || status == 304 {
        return Ok(Vec::new());
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let invalid = |what: String| std::io::Error::new(ErrorKind::InvalidData, what);
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line = read_line(reader)?;
            let text = String::from_utf8_lossy(&line);
            let size = text.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| invalid(format!("chunk size {text:?}")))?;
            if size == 0 {
                loop {
                    let line = read_line(reader)?;
                    if line.is_empty() || line == b"\r\n" || line == b"\n" {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader)?;
        }
    }
    if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| invalid(format!("content-length {length:?}")))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        return Ok(body);
    }
    let mut body = Vec::new();
    reader.read_to_end(&mut body)?;
    Ok(body)
}

/// The next final answer on a connection (1xx answers are noted and skipped).
fn read_reply(reader: &mut impl BufRead, head_request: bool) -> Outcome {
    let mut interim = Vec::new();
    loop {
        let (status, headers) = match read_head(reader) {
            Ok(head) => head,
            Err(outcome) => return outcome,
        };
        if (100..200).contains(&status) {
            interim.push(status);
            continue;
        }
        return match read_body(reader, status, &headers, head_request) {
            Ok(body) => Outcome::Reply(Reply {
                status,
                headers,
                body,
                interim,
            }),
            Err(e) => Outcome::Garbage(format!("status {status}, unreadable body: {e}")),
        };
    }
}

/// Sends `raw` on a fresh connection and reads one answer. A thread writes (the server may
/// answer before it has read everything); `half_close` shuts the write side after the bytes.
fn exchange(address: &str, raw: &[u8], head: bool, half_close: bool) -> (Outcome, Duration) {
    let stream = connect(address);
    let mut writer = stream.try_clone().unwrap();
    let raw = raw.to_vec();
    let started = Instant::now();
    thread::spawn(move || {
        if writer.write_all(&raw).is_ok() && half_close {
            let _ = writer.shutdown(Shutdown::Write);
        }
    });
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let outcome = read_reply(&mut reader, head);
    let elapsed = started.elapsed();
    let _ = stream.shutdown(Shutdown::Both);
    (outcome, elapsed)
}

/// As `exchange`, counted as one of the suite's requests.
fn send(address: &str, raw: &[u8], head: bool, half_close: bool) -> (Outcome, Duration) {
    SENT.fetch_add(1, Ordering::SeqCst);
    exchange(address, raw, head, half_close)
}

// ---------------------------------------------------------------------------------------
// Building requests
// ---------------------------------------------------------------------------------------

/// `method target HTTP/1.1` with `Host`, `Connection: close`, the extra header lines and a
/// `Content-Length` (unless the headers give one or a transfer encoding).
fn request(method: &str, target: &str, headers: &[&[u8]], body: &[u8]) -> Vec<u8> {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n")
        .into_bytes();
    let mut framed = false;
    for header in headers {
        let lower = header.to_ascii_lowercase();
        framed |= lower.starts_with(b"content-length:") || lower.starts_with(b"transfer-encoding:");
        raw.extend_from_slice(header);
        raw.extend_from_slice(b"\r\n");
    }
    if !framed && (!body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH")) {
        raw.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    raw
}

fn get(target: &str) -> Vec<u8> {
    request("GET", target, &[], b"")
}

const FORM: &[u8] = b"Content-Type: application/x-www-form-urlencoded";

fn form(target: &str, body: &[u8]) -> Vec<u8> {
    request("POST", target, &[FORM], body)
}

/// `/?Action=DescribeRegions&Version=2014-05-26&Format=JSON&<extra>`.
fn j(extra: &str) -> String {
    format!("/?{Q}&Format=JSON&{extra}")
}

/// `body` in chunks of `size`, with the last chunk.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut raw = Vec::new();
    for chunk in body.chunks(size) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    raw
}

/// `count` parameters `P0=1&P1=1…`.
fn params(count: usize) -> String {
    (0..count)
        .map(|i| format!("P{i}=1"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Extra header lines `X-H<i>: v`.
fn header_lines(count: usize, value_len: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("X-H{i}: {}", "v".repeat(value_len)).into_bytes())
        .collect()
}

fn refs(lines: &[Vec<u8>]) -> Vec<&[u8]> {
    lines.iter().map(Vec::as_slice).collect()
}

fn now() -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

fn nonce() -> String {
    let n = NONCE.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("hostile-{}-{nanos}-{n}", std::process::id())
}

/// The V2 protocol parameters of the default account, unsigned, for DescribeRegions.
fn v2_params() -> Vec<(String, String)> {
    [
        ("Action", "DescribeRegions".to_owned()),
        ("Version", "2014-05-26".to_owned()),
        ("AccessKeyId", AK.to_owned()),
        ("SignatureMethod", "HMAC-SHA1".to_owned()),
        ("SignatureVersion", "1.0".to_owned()),
        ("SignatureNonce", nonce()),
        ("Timestamp", now()),
        ("Format", "JSON".to_owned()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v))
    .collect()
}

/// `params` with `name` set to `value` (`None`: removed).
fn with(
    mut params: Vec<(String, String)>,
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    params.retain(|(n, _)| n != name);
    if let Some(value) = value {
        params.push((name.to_owned(), value.to_owned()));
    }
    params
}

/// The target of a V2 request: `signature` as given, or the correct one.
fn v2_target(params: &[(String, String)], signature: Option<&str>) -> String {
    use ecs_emulator::protocol::signature::{percent_encode, v2};
    let signature = signature.map_or_else(
        || {
            let pairs = params.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            v2::sign(SECRET, &v2::string_to_sign("GET", pairs))
        },
        str::to_owned,
    );
    let query: Vec<String> = params
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .chain([("Signature", signature.as_str())])
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect();
    format!("/?{}", query.join("&"))
}

/// A V3 GET of DescribeRegions signed by the default account with every `x-acs-*` header it
/// sends; `signature` replaces the correct signature when given.
fn v3_signed(signature: Option<&str>) -> Vec<u8> {
    use ecs_emulator::protocol::signature::v3;
    let signed = [
        ("host", "localhost".to_owned()),
        ("x-acs-action", "DescribeRegions".to_owned()),
        ("x-acs-date", now()),
        ("x-acs-signature-nonce", nonce()),
        ("x-acs-version", "2014-05-26".to_owned()),
    ];
    let mut authorization = v3::authorization("GET", &[], &signed, AK, SECRET);
    if let Some(signature) = signature {
        let at = authorization.find("Signature=").unwrap() + "Signature=".len();
        authorization.replace_range(at.., signature);
    }
    let mut lines = vec![format!("Authorization: {authorization}").into_bytes()];
    for (name, value) in &signed[1..] {
        lines.push(format!("{name}: {value}").into_bytes());
    }
    lines.push(format!("x-acs-content-sha256: {EMPTY_SHA256}").into_bytes());
    request("GET", "/", &refs(&lines), b"")
}

/// A V3-shaped request (Action and Version in the query, no `Format`) with this
/// `Authorization` value and `x-acs-date` value.
fn v3_shaped(authorization: &[u8], date: &[u8]) -> Vec<u8> {
    let mut auth = b"Authorization: ".to_vec();
    auth.extend_from_slice(authorization);
    let mut date_line = b"x-acs-date: ".to_vec();
    date_line.extend_from_slice(date);
    let nonce_line = format!("x-acs-signature-nonce: {}", nonce()).into_bytes();
    request(
        "GET",
        &format!("/?{Q}"),
        &[&auth, &date_line, &nonce_line],
        b"",
    )
}

fn good_credential() -> String {
    format!(
        "ACS3-HMAC-SHA256 Credential={AK},SignedHeaders=host;x-acs-date,Signature={}",
        "0".repeat(64)
    )
}

// ---------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fmt {
    Json,
    Xml,
    Any,
}
use Fmt::{Any as A, Json as J, Xml as X};

enum Want {
    /// An RPC error in the envelope: this status (`None`: any 4xx), one of these codes (empty:
    /// any), in this format.
    Error {
        status: Option<u16>,
        codes: Vec<&'static str>,
        format: Fmt,
    },
    /// HTTP 200 in the envelope, in this format.
    Success(Fmt),
    /// Refused below the API (not parseable as HTTP): a 4xx in the envelope (hyper's own bare
    /// answers are rewritten into it, `server::bare`), or the connection closed where HTTP
    /// allows no answer. Never a bare status, a 5xx, HTML or a hang.
    Refused,
    /// An admin answer `{"error": …}` with one of these statuses.
    AdminError(Vec<u16>),
    /// An admin success with this status and a JSON body.
    AdminOk(u16),
    /// A 4xx, either as an admin error or in the API envelope (recorded which).
    Admin4xxAnyShape,
    /// Anything but a 5xx, HTML, a hang or a closed connection.
    NoServerError,
    /// The proxy's refusal of another host (`endpoints.md` §2): 403, plain text naming it.
    NotForwarded,
}

fn e(status: u16, code: &'static str, format: Fmt) -> Want {
    Want::Error {
        status: Some(status),
        codes: vec![code],
        format,
    }
}

fn one_of(codes: &[&'static str], format: Fmt) -> Want {
    Want::Error {
        status: None,
        codes: codes.to_vec(),
        format,
    }
}

struct Envelope {
    code: String,
    format: Fmt,
}

fn no_html(reply: &Reply) -> Result<(), String> {
    let body = reply.text().to_ascii_lowercase();
    let content_type = reply.header("content-type").unwrap_or_default();
    if body.contains("<html") || body.contains("<!doctype") || content_type.contains("html") {
        return Err("an HTML page".into());
    }
    Ok(())
}

fn request_id_ok(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    id.len() == 36
        && groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && id
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('A'..='F').contains(&c))
}

fn xml_field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&close)?;
    Some(&body[start..end])
}

/// The envelope of an RPC error (`wire.md` §4), or what is wrong with it.
fn envelope(reply: &Reply, head: bool) -> Result<Envelope, String> {
    no_html(reply)?;
    let format = match reply.header("content-type") {
        Some(JSON_CT) => J,
        Some(XML_CT) => X,
        other => return Err(format!("content-type {other:?}")),
    };
    let header_id = reply.header("x-acs-request-id").unwrap_or_default();
    if !request_id_ok(header_id) {
        return Err(format!("x-acs-request-id {header_id:?}"));
    }
    if head {
        return Ok(Envelope {
            code: String::new(),
            format,
        });
    }
    let text = reply.text();
    let field = |name: &str| -> Option<String> {
        match format {
            J => serde_json::from_str::<serde_json::Value>(&text)
                .ok()?
                .get(name)?
                .as_str()
                .map(str::to_owned),
            _ => {
                let error = xml_field(&text, "Error")?;
                xml_field(error, name).map(str::to_owned)
            }
        }
    };
    if format == X && !text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>") {
        return Err("XML without its declaration".into());
    }
    let request_id = field("RequestId").unwrap_or_default();
    if !request_id_ok(&request_id) || request_id != header_id {
        return Err(format!("RequestId {request_id:?} (header {header_id:?})"));
    }
    let code = field("Code").filter(|c| !c.is_empty()).ok_or("no Code")?;
    let host_id = field("HostId").unwrap_or_default();
    if !host_id.ends_with(".aliyuncs.com") {
        return Err(format!("HostId {host_id:?}"));
    }
    let message = field("Message").unwrap_or_default();
    if message.is_empty() {
        return Err("no Message".into());
    }
    let recommend = field("Recommend").unwrap_or_default();
    if !recommend.contains(&format!("q={code}&")) || !recommend.contains(&request_id) {
        return Err(format!("Recommend {recommend:?}"));
    }
    const PREFIX: &str =
        "Specified signature is not matched with our calculation. server string to sign is:";
    if code == "SignatureDoesNotMatch" && !message.starts_with(PREFIX) {
        return Err(format!("SignatureDoesNotMatch message {message:?}"));
    }
    Ok(Envelope { code, format })
}

/// A success envelope: 200, the exact content type, a `RequestId`, no `Code`.
fn success(reply: &Reply, want: Fmt) -> Result<(), String> {
    no_html(reply)?;
    if reply.status != 200 {
        return Err(format!("status {}", reply.status));
    }
    let format = match reply.header("content-type") {
        Some(JSON_CT) => J,
        Some(XML_CT) => X,
        other => return Err(format!("content-type {other:?}")),
    };
    if want != A && format != want {
        return Err(format!("format {format:?}, wanted {want:?}"));
    }
    let text = reply.text();
    let request_id = match format {
        J => {
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("JSON: {e}"))?;
            if value.get("Code").is_some() {
                return Err("a success with a Code".into());
            }
            value["RequestId"].as_str().unwrap_or_default().to_owned()
        }
        _ => {
            if text.contains("<Code>") {
                return Err("a success with a Code".into());
            }
            xml_field(&text, "RequestId").unwrap_or_default().to_owned()
        }
    };
    if !request_id_ok(&request_id) || Some(request_id.as_str()) != reply.header("x-acs-request-id")
    {
        return Err(format!("RequestId {request_id:?}"));
    }
    Ok(())
}

/// The admin error shape: JSON `{"error": "<text>"}`.
fn admin_error(reply: &Reply) -> Result<String, String> {
    no_html(reply)?;
    let content_type = reply.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(format!("content-type {content_type:?}"));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&reply.body).map_err(|e| format!("body is not JSON: {e}"))?;
    match value.get("error").and_then(|e| e.as_str()) {
        Some(text) if !text.is_empty() => Ok(text.to_owned()),
        _ => Err("no \"error\" text".into()),
    }
}

impl Want {
    /// `Ok(note)` when `outcome` is what is wanted.
    fn check(&self, outcome: &Outcome, head: bool) -> Result<String, String> {
        let reply = match (self, outcome) {
            (_, Outcome::Reply(reply)) => reply,
            (Want::Refused, Outcome::Closed) => return Ok("closed".into()),
            _ => return Err(outcome.summary()),
        };
        if reply.status >= 500 {
            return Err(format!("a 5xx: {}", outcome.summary()));
        }
        let wrong = |why: String| format!("{why}; got {}", outcome.summary());
        match self {
            Want::Error {
                status,
                codes,
                format,
            } => {
                let status_ok = match status {
                    Some(s) => reply.status == *s,
                    None => (400..500).contains(&reply.status),
                };
                let envelope = envelope(reply, head).map_err(wrong)?;
                if !status_ok {
                    return Err(wrong(format!("wanted status {status:?}")));
                }
                if !head && !codes.is_empty() && !codes.contains(&envelope.code.as_str()) {
                    return Err(wrong(format!("wanted code {codes:?}")));
                }
                if *format != A && envelope.format != *format {
                    return Err(wrong(format!("wanted format {format:?}")));
                }
                Ok(format!(
                    "{} {} ({:?})",
                    reply.status, envelope.code, envelope.format
                ))
            }
            Want::Success(format) => success(reply, *format)
                .map(|()| "200".into())
                .map_err(wrong),
            Want::Refused => {
                if !(400..500).contains(&reply.status) {
                    return Err(wrong("wanted a 4xx".into()));
                }
                no_html(reply).map_err(wrong)?;
                let envelope = envelope(reply, head).map_err(wrong)?;
                Ok(format!(
                    "{} {} in the envelope",
                    reply.status, envelope.code
                ))
            }
            Want::AdminError(statuses) => {
                let text = admin_error(reply).map_err(wrong)?;
                if !statuses.contains(&reply.status) {
                    return Err(wrong(format!("wanted one of {statuses:?}")));
                }
                Ok(format!("{} admin {text:?}", reply.status))
            }
            Want::AdminOk(status) => {
                no_html(reply).map_err(wrong)?;
                serde_json::from_slice::<serde_json::Value>(&reply.body)
                    .map_err(|e| wrong(format!("not JSON: {e}")))?;
                if reply.status != *status {
                    return Err(wrong(format!("wanted {status}")));
                }
                Ok(format!("{}", reply.status))
            }
            Want::Admin4xxAnyShape => {
                if !(400..500).contains(&reply.status) {
                    return Err(wrong("wanted a 4xx".into()));
                }
                match (admin_error(reply), envelope(reply, head)) {
                    (Ok(text), _) => Ok(format!("{} admin shape {text:?}", reply.status)),
                    (_, Ok(envelope)) => {
                        Ok(format!("{} API envelope {}", reply.status, envelope.code))
                    }
                    (Err(why), Err(_)) => Err(wrong(why)),
                }
            }
            Want::NotForwarded => {
                let text = String::from_utf8_lossy(&reply.body);
                let plain = reply.header("content-type") == Some("text/plain; charset=utf-8");
                if reply.status != 403 || !plain || !text.contains("does not forward traffic") {
                    return Err(wrong("wanted the proxy's 403".into()));
                }
                Ok("403 not forwarded".into())
            }
            Want::NoServerError => {
                no_html(reply).map_err(wrong)?;
                if (400..500).contains(&reply.status)
                    && admin_error(reply).is_err()
                    && envelope(reply, head).is_err()
                {
                    return Err(wrong("a 4xx in neither shape".into()));
                }
                Ok(outcome.summary())
            }
        }
    }
}

struct Case {
    name: String,
    raw: Vec<u8>,
    want: Want,
    /// A HEAD request: the answer has no body.
    head: bool,
}

fn case(name: impl Into<String>, raw: Vec<u8>, want: Want) -> Case {
    Case {
        name: name.into(),
        raw,
        want,
        head: false,
    }
}

/// Sends each case on its own connection, checks the answer, then the server's health.
/// With `reset`, the state goes back to the boot state before each case (a body wrongly
/// accepted must not change what the next case finds).
fn run(server: &Server, cases: Vec<Case>, reset: bool) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        if reset {
            let (outcome, _) = exchange(
                &server.address,
                &request("POST", "/_emulator/reset", &[], b""),
                false,
                false,
            );
            if !matches!(&outcome, Outcome::Reply(reply) if reply.status == 200) {
                failures.push(format!(
                    "{}: the reset before it failed: {}",
                    case.name,
                    outcome.summary()
                ));
            }
        }
        let (outcome, elapsed) = send(&server.address, &case.raw, case.head, false);
        match case.want.check(&outcome, case.head) {
            Ok(note) => eprintln!("ok   {:<58} {note} ({elapsed:.1?})", case.name),
            Err(why) => {
                eprintln!("FAIL {:<58} {why}", case.name);
                failures.push(format!("{}: {why}", case.name));
            }
        }
        if elapsed > Duration::from_secs(3) {
            failures.push(format!("{}: took {elapsed:.1?}", case.name));
        }
        if !server.healthy() {
            failures.push(format!(
                "{}: afterwards /_emulator/health does not answer 200",
                case.name
            ));
        }
    }
    failures
}

// ---------------------------------------------------------------------------------------
// Malformed RPC requests
// ---------------------------------------------------------------------------------------

fn malformed_cases() -> Vec<Case> {
    const IP: &str = "InvalidParameter";
    const MP: &str = "MissingParameter";
    const NF: &str = "InvalidAction.NotFound";
    const IS: &str = "IncompleteSignature";
    const TF: &str = "InvalidTimeStamp.Format";
    const UM: &str = "UnsupportedHTTPMethod";
    let nope = "/?Action=Nope&Version=2014-05-26&Format=JSON";
    let auth_line = format!("Authorization: {}", good_credential()).into_bytes();
    vec![
        // Percent-encoding.
        case("percent: %G1 in a value", get(&j("RegionId=%G1")), e(400, IP, J)),
        case("percent: a lone % in a value", get(&j("RegionId=%")), e(400, IP, J)),
        case("percent: %4 at the end", get(&j("RegionId=%4")), e(400, IP, J)),
        case("percent: %G1 in a name", get(&j("Reg%G1ion=x")), e(400, IP, J)),
        case("percent: a lone % as a name", get(&j("%=x")), e(400, IP, J)),
        case("utf-8: %FF%FE in a value", get(&j("RegionId=%FF%FE")), e(400, IP, J)),
        case("utf-8: %C3%28 as a name", get(&j("%C3%28=x")), e(400, IP, J)),
        case("utf-8: overlong %C0%AF", get(&j("RegionId=%C0%AF")), e(400, IP, J)),
        case("utf-8: surrogate %ED%A0%80", get(&j("RegionId=%ED%A0%80")), e(400, IP, J)),
        case("control: %00 in a value", get(&j("RegionId=a%00b")), e(400, IP, J)),
        case("control: %01 in a value", get(&j("RegionId=%01")), e(400, IP, J)),
        case("control: %7F in a value", get(&j("RegionId=%7F")), e(400, IP, J)),
        case("control: U+0085 in a value", get(&j("RegionId=%C2%85")), e(400, IP, J)),
        case("control: %00 in a name", get(&j("Region%00Id=x")), e(400, IP, J)),
        case("control: %01 as a name", get(&j("%01=x")), e(400, IP, J)),
        case(
            "control: tab, CR, LF are accepted",
            get(&j("X=a%09b%0Dc%0Ad")),
            e(400, MP, J),
        ),
        // Duplicates, empty names and values.
        case(
            "duplicate with different values",
            get(&j("RegionId=a&RegionId=b")),
            e(400, IP, J),
        ),
        case(
            "duplicate with the same value is accepted",
            get(&j("RegionId=a&RegionId=a")),
            e(400, MP, J),
        ),
        case(
            "duplicate across query and form body",
            form(&j("RegionId=a"), b"RegionId=b"),
            e(400, IP, J),
        ),
        case(
            "duplicate Action",
            get("/?Action=DescribeRegions&Action=Nope&Version=2014-05-26&Format=JSON"),
            e(400, IP, J),
        ),
        case("empty name (=x)", get(&j("=x")), one_of(&[], J)),
        case("empty name and value (=)", get(&j("=")), one_of(&[], J)),
        case("empty segments (&&)", get(&format!("/?&&{Q}&&Format=JSON&&")), e(400, MP, J)),
        case("Action=", get("/?Action=&Version=2014-05-26&Format=JSON"), e(400, MP, J)),
        case("Version=", get("/?Action=DescribeRegions&Version=&Format=JSON"), e(400, MP, J)),
        case("no Action", get("/?Version=2014-05-26&Format=JSON"), e(400, MP, J)),
        case("no Version", get("/?Action=DescribeRegions&Format=JSON"), e(400, MP, J)),
        case("no parameters at all (XML)", get("/"), e(400, MP, X)),
        case("a query of only ?", get("/?"), e(400, MP, X)),
        // Routing.
        case(
            "unknown Version",
            get("/?Action=DescribeRegions&Version=2099-01-01&Format=JSON"),
            e(400, "InvalidVersion", J),
        ),
        case("unknown Action", get(nope), e(404, NF, J)),
        case("unknown Action (XML)", get("/?Action=Nope&Version=2014-05-26"), e(404, NF, X)),
        case(
            "a KMS action under the ECS version",
            get("/?Action=CreateKey&Version=2014-05-26&Format=JSON"),
            e(404, NF, J),
        ),
        case(
            "Action in lower case",
            get("/?Action=describeregions&Version=2014-05-26&Format=JSON"),
            e(404, NF, J),
        ),
        // Format.
        case("Format=YAML", get(&format!("/?{Q}&Format=YAML")), e(400, IP, X)),
        case("Format= (empty)", get(&format!("/?{Q}&Format=")), e(400, IP, X)),
        case(
            "Format=json (any case) is honoured",
            get("/?Action=Nope&Version=2014-05-26&Format=json"),
            e(404, NF, J),
        ),
        case(
            "Format twice with different values",
            get(&format!("/?{Q}&Format=JSON&Format=XML")),
            e(400, IP, A),
        ),
        // Methods.
        case("method PUT", request("PUT", nope, &[], b"x"), e(403, UM, J)),
        case("method DELETE", request("DELETE", nope, &[], b""), e(403, UM, J)),
        case("method PATCH", request("PATCH", nope, &[], b"x"), e(403, UM, J)),
        case("method OPTIONS", request("OPTIONS", nope, &[], b""), e(403, UM, J)),
        case("method TRACE", request("TRACE", nope, &[], b""), e(403, UM, J)),
        case("method FOO (an extension)", request("FOO", nope, &[], b""), e(403, UM, J)),
        Case {
            head: true,
            ..case("method HEAD", request("HEAD", nope, &[], b""), e(403, UM, J))
        },
        // Paths.
        case("path /foo", get(&format!("/foo?{Q}&Format=JSON")), e(404, NF, J)),
        case("path /./", get(&format!("/./?{Q}&Format=JSON")), e(404, NF, J)),
        case("path //", get(&format!("//?{Q}&Format=JSON")), e(404, NF, J)),
        case("path /%2F", get(&format!("/%2F?{Q}&Format=JSON")), e(404, NF, J)),
        case("path /%ZZ", get(&format!("/%ZZ?{Q}&Format=JSON")), e(404, NF, J)),
        case("path /%FF", get(&format!("/%FF?{Q}&Format=JSON")), e(404, NF, J)),
        case("path /index.html", get("/index.html"), e(404, NF, X)),
        case("path /_EMULATOR/state", get("/_EMULATOR/state"), e(404, NF, X)),
        case("path /_emulatorx/state", get("/_emulatorx/state"), e(404, NF, X)),
        case(
            "absolute-form target",
            get("http://ecs.aliyuncs.com/?Action=Nope&Version=2014-05-26&Format=JSON"),
            e(404, NF, J),
        ),
        // Not the emulator's port: refused, never forwarded (`endpoints.md` §2).
        case(
            "absolute-form target, another host",
            get("http://localhost/?Action=Nope&Version=2014-05-26&Format=JSON"),
            Want::NotForwarded,
        ),
        case(
            "no Host header",
            format!("GET {nope} HTTP/1.1\r\nConnection: close\r\n\r\n").into_bytes(),
            e(404, NF, J),
        ),
        // Bodies and their content types.
        case(
            "JSON body (application/json) is not read",
            request(
                "POST",
                "/?Format=JSON",
                &[b"Content-Type: application/json"],
                br#"{"Action":"Nope","Version":"2014-05-26"}"#,
            ),
            e(400, MP, J),
        ),
        case(
            "form body as text/plain is not read",
            request(
                "POST",
                "/?Format=JSON",
                &[b"Content-Type: text/plain"],
                b"Action=Nope&Version=2014-05-26",
            ),
            e(400, MP, J),
        ),
        case(
            "form body without a content type is not read",
            request("POST", "/?Format=JSON", &[], b"Action=Nope&Version=2014-05-26"),
            e(400, MP, J),
        ),
        case(
            "form body as multipart is not read",
            request(
                "POST",
                "/?Format=JSON",
                &[b"Content-Type: multipart/form-data; boundary=x"],
                b"Action=Nope&Version=2014-05-26",
            ),
            e(400, MP, J),
        ),
        case(
            "form body on a GET is not read",
            request("GET", "/?Format=JSON", &[FORM], b"Action=Nope&Version=2014-05-26"),
            e(400, MP, J),
        ),
        case(
            "form body is read (control)",
            form("/?Format=JSON", b"Action=Nope&Version=2014-05-26"),
            e(404, NF, J),
        ),
        case(
            "form body with a charset is read",
            request(
                "POST",
                "/?Format=JSON",
                &[b"Content-Type: Application/X-WWW-Form-Urlencoded ; charset=UTF-8"],
                b"Action=Nope&Version=2014-05-26",
            ),
            e(404, NF, J),
        ),
        case(
            "form body: %ZZ",
            form("/?Format=JSON", b"Action=Nope&Version=2014-05-26&X=%ZZ"),
            e(400, IP, J),
        ),
        case(
            "form body: raw invalid UTF-8",
            form("/?Format=JSON", b"Action=Nope&Version=2014-05-26&X=\xff\xfe"),
            e(400, IP, J),
        ),
        case(
            "form body: a raw NUL byte",
            form("/?Format=JSON", b"Action=Nope&Version=2014-05-26&X=a\x00b"),
            e(400, IP, J),
        ),
        // Headers that are not text.
        case(
            "authorization: bytes >= 0x80 in the credential",
            request(
                "GET",
                &j(""),
                &[b"Authorization: ACS3-HMAC-SHA256 Credential=\xff\xfe,SignedHeaders=host,Signature=ab"],
                b"",
            ),
            one_of(&[IP, IS], J),
        ),
        case(
            "authorization: nothing but bytes >= 0x80",
            request("GET", &j(""), &[b"Authorization: \xff\xfe\xfd\x80"], b""),
            one_of(&[IP, IS, MP], J),
        ),
        case(
            "x-acs-date: bytes >= 0x80",
            v3_shaped(good_credential().as_bytes(), b"2024-01-01T00:00:00Z\xff"),
            one_of(&[IP, TF], J),
        ),
        case(
            "x-acs-action: bytes >= 0x80",
            request(
                "GET",
                "/?Version=2014-05-26",
                &[&auth_line, b"x-acs-action: Describe\xc3Regions"],
                b"",
            ),
            one_of(&[IP, NF], J),
        ),
        // Malformed Authorization headers (V3 answers in JSON by default).
        case("authorization: ACS3-HMAC-SHA256 alone", v3_shaped(b"ACS3-HMAC-SHA256", b"x"), e(400, IS, J)),
        case(
            "authorization: Credential= empty",
            v3_shaped(b"ACS3-HMAC-SHA256 Credential=", b"x"),
            e(400, IS, J),
        ),
        case(
            "authorization: no Signature",
            v3_shaped(b"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host", b"x"),
            e(400, IS, J),
        ),
        case(
            "authorization: Signature= empty",
            v3_shaped(b"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=", b"x"),
            e(400, IS, J),
        ),
        case(
            "authorization: SignedHeaders= empty",
            v3_shaped(b"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=,Signature=ab", b"x"),
            e(400, IS, J),
        ),
        case(
            "authorization: an unknown part",
            v3_shaped(
                b"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=ab,Extra=1",
                b"x",
            ),
            e(400, IS, J),
        ),
        case(
            "authorization: parts without =",
            v3_shaped(b"ACS3-HMAC-SHA256 Credential AK SignedHeaders host", b"x"),
            e(400, IS, J),
        ),
        case(
            "authorization: ACS3-HMAC-SHA256X",
            v3_shaped(b"ACS3-HMAC-SHA256X Credential=AK,SignedHeaders=host,Signature=ab", b"x"),
            e(400, IS, J),
        ),
        case(
            "authorization: ACS4 without a scope",
            v3_shaped(b"ACS4-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=ab", b"x"),
            e(400, IS, J),
        ),
        case(
            "authorization: ACS4 with a short scope",
            v3_shaped(
                b"ACS4-HMAC-SHA256 Credential=AK/2024/cn-hangzhou,SignedHeaders=host,Signature=ab",
                b"x",
            ),
            e(400, IS, J),
        ),
        case(
            "authorization: an unknown algorithm",
            v3_shaped(b"ACS9-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=ab", b"x"),
            one_of(&[MP, IS], A),
        ),
        case(
            "authorization: Bearer",
            v3_shaped(b"Bearer abc", b"x"),
            one_of(&[MP, IS], A),
        ),
        case(
            "authorization: ACS3 and 10 KB of garbage",
            v3_shaped(
                format!("ACS3-HMAC-SHA256 {}", "=,;/ x".repeat(1700)).as_bytes(),
                b"x",
            ),
            e(400, IS, J),
        ),
        case(
            "authorization: 10 KB of garbage",
            v3_shaped("Zq9~!,=;/ ".repeat(1000).as_bytes(), b"x"),
            one_of(&[MP, IS], A),
        ),
        // Timestamps.
        case(
            "x-acs-date: yesterday",
            v3_shaped(good_credential().as_bytes(), b"yesterday"),
            e(400, TF, J),
        ),
        case(
            "x-acs-date: 2024-02-30T00:00:00Z",
            v3_shaped(good_credential().as_bytes(), b"2024-02-30T00:00:00Z"),
            e(400, TF, J),
        ),
        case(
            "Timestamp=not-a-date (V2)",
            get(&v2_target(&with(v2_params(), "Timestamp", Some("not-a-date")), Some("x"))),
            e(400, TF, J),
        ),
        case(
            "Timestamp with a space (V2)",
            get(&v2_target(
                &with(v2_params(), "Timestamp", Some("2024-01-01 00:00:00")),
                Some("x"),
            )),
            e(400, TF, J),
        ),
        case(
            "Timestamp in 2000 (V2)",
            get(&v2_target(
                &with(v2_params(), "Timestamp", Some("2000-01-01T00:00:00Z")),
                None,
            )),
            e(400, "InvalidTimeStamp.Expired", J),
        ),
        // V2 protocol parameters.
        case(
            "SignatureMethod=HMAC-SHA256 (V2)",
            get(&v2_target(&with(v2_params(), "SignatureMethod", Some("HMAC-SHA256")), None)),
            e(400, IP, J),
        ),
        case(
            "SignatureVersion=2.0 (V2)",
            get(&v2_target(&with(v2_params(), "SignatureVersion", Some("2.0")), None)),
            e(400, IP, J),
        ),
        case(
            "SignatureMethod= empty (V2)",
            get(&v2_target(&with(v2_params(), "SignatureMethod", Some("")), None)),
            one_of(&[MP, IP], J),
        ),
        // Signatures.
        case(
            "a wrong V2 signature",
            get(&v2_target(&v2_params(), Some("AAAAAAAAAAAAAAAAAAAAAAAAAAA="))),
            e(400, "SignatureDoesNotMatch", J),
        ),
        case(
            "a wrong V3 signature",
            v3_signed(Some(&"0".repeat(64))),
            e(400, "SignatureDoesNotMatch", J),
        ),
        case(
            "an unknown AccessKeyId (V2)",
            get(&v2_target(&with(v2_params(), "AccessKeyId", Some("LTAI5tNoSuchKey")), None)),
            e(404, "InvalidAccessKeyId.NotFound", J),
        ),
        // Controls: correct signatures get through.
        case("a correct V3 signature", v3_signed(None), Want::Success(J)),
        case(
            "a correct V2 signature (XML)",
            get(&v2_target(&with(v2_params(), "Format", None), None)),
            Want::Success(X),
        ),
    ]
}

/// Requests that are not parseable HTTP: refused (a 4xx or a closed connection), never a
/// 5xx, HTML or a hang.
fn garbage_cases() -> Vec<Case> {
    let r = |name: &str, raw: &[u8]| case(name, raw.to_vec(), Want::Refused);
    let nope = b"/?Action=Nope&Version=2014-05-26&Format=JSON";
    let line = |method: &[u8], rest: &[u8]| [method, b" ", nope, rest].concat();
    vec![
        r("not HTTP at all", b"GARBAGE\r\n\r\n"),
        r("HTTP/9.9", &line(b"GET", b" HTTP/9.9\r\nHost: x\r\n\r\n")),
        r(
            "a raw 0xFF byte in the target",
            b"GET /?Action=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        r(
            "a space in the target",
            b"GET /a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        r(
            "a header line without a colon",
            &line(b"GET", b" HTTP/1.1\r\nHost: x\r\nNoColon\r\nConnection: close\r\n\r\n"),
        ),
        r(
            "a NUL in a header value",
            &line(b"GET", b" HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n"),
        ),
        r(
            "a header name with ( )",
            &line(b"GET", b" HTTP/1.1\r\nHost: x\r\nX(y): 1\r\nConnection: close\r\n\r\n"),
        ),
        r(
            "an obs-fold header",
            &line(b"GET", b" HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n"),
        ),
        r(
            "Content-Length: abc",
            &line(b"POST", b" HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n"),
        ),
        r(
            "Content-Length: -1",
            &line(b"POST", b" HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n"),
        ),
        r(
            "Content-Length past u64",
            &line(
                b"POST",
                b" HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n",
            ),
        ),
        r(
            "two different Content-Lengths",
            &line(
                b"POST",
                b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
            ),
        ),
        r(
            "Content-Length and Transfer-Encoding together",
            &line(
                b"POST",
                b" HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
            ),
        ),
        r(
            "Transfer-Encoding: gzip",
            &line(
                b"POST",
                b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nabc",
            ),
        ),
        r(
            "chunked: an invalid chunk size",
            &line(
                b"POST",
                b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            ),
        ),
        r(
            "chunked: a chunk size past u64",
            &line(
                b"POST",
                b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n",
            ),
        ),
        r("the asterisk form", b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        case(
            "CONNECT",
            b"CONNECT localhost:80 HTTP/1.1\r\nHost: localhost:80\r\nConnection: close\r\n\r\n"
                .to_vec(),
            Want::NotForwarded,
        ),
        r(
            "a 10 KB method",
            &[
                "X".repeat(10_000).as_bytes(),
                b" / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ]
            .concat(),
        ),
        r(
            "a URI of 70 KB",
            &get(&j(&format!("X={}", "a".repeat(70_000)))),
        ),
    ]
}

#[test]
fn malformed_rpc_requests_are_answered_in_the_envelope() {
    let before = SENT.load(Ordering::SeqCst);
    let server = Server::start("strict");
    let mut failures = run(&server, malformed_cases(), false);
    failures.extend(run(&server, garbage_cases(), false));
    server.finish("malformed", failures, before);
}

// ---------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------

fn limit_cases() -> Vec<Case> {
    const TL: &str = "RequestEntityTooLarge";
    const HL: &str = "RequestHeaderFieldsTooLarge";
    const TM: &str = "TooManyParameters";
    const IP: &str = "InvalidParameter";
    const MP: &str = "MissingParameter";
    let target = j("");
    let text_plain: &[u8] = b"Content-Type: text/plain";
    let declared = |length: &str| {
        format!(
            "POST {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
        )
        .into_bytes()
    };
    let mut one_chunk = format!(
        "POST {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        2 * MIB
    )
    .into_bytes();
    one_chunk.extend(vec![b'a'; MIB + 16]);
    let mut form_too_large = b"A=".to_vec();
    form_too_large.extend(vec![b'a'; MIB]);
    let lines = |count: usize, len: usize| header_lines(count, len);
    let with_headers = |extra: &[Vec<u8>]| request("GET", &target, &refs(extra), b"");
    let long_name = format!("{}: 1", "X".repeat(20_000)).into_bytes();
    vec![
        // Bodies.
        case(
            "body: Content-Length 1 MiB + 1 declared, nothing sent",
            declared(&(MIB + 1).to_string()),
            e(413, TL, J),
        ),
        case(
            "body: Content-Length 10 GiB declared",
            declared("10737418240"),
            e(413, TL, J),
        ),
        case(
            "body: Expect 100-continue with 2 MiB declared",
            request(
                "POST",
                &target,
                &[
                    text_plain,
                    b"Expect: 100-continue",
                    format!("Content-Length: {}", 2 * MIB).as_bytes(),
                ],
                b"",
            ),
            e(413, TL, J),
        ),
        case(
            "body: 1 MiB + 1 sent",
            request("POST", &target, &[text_plain], &vec![b'a'; MIB + 1]),
            e(413, TL, J),
        ),
        case(
            "body: a form body over 1 MiB",
            form(&target, &form_too_large),
            e(413, TL, J),
        ),
        case(
            "body: chunked, 1 MiB + 1 in 64 KiB chunks",
            request(
                "POST",
                &target,
                &[text_plain, b"Transfer-Encoding: chunked"],
                &chunked(&vec![b'a'; MIB + 1], 64 * 1024),
            ),
            e(413, TL, J),
        ),
        case(
            "body: chunked, one 2 MiB chunk, 1 MiB + 16 sent",
            one_chunk,
            e(413, TL, J),
        ),
        case(
            "body: exactly 1 MiB is accepted",
            request("POST", &target, &[text_plain], &vec![b'a'; MIB]),
            e(400, MP, J),
        ),
        // Headers (Host and Connection count).
        case(
            "headers: 64 fields are accepted",
            with_headers(&lines(62, 8)),
            e(400, MP, J),
        ),
        case(
            "headers: 65 fields",
            with_headers(&lines(63, 8)),
            e(431, HL, A),
        ),
        case(
            "headers: 150 fields",
            with_headers(&lines(148, 8)),
            e(431, HL, A),
        ),
        case(
            "headers: 15 000 bytes are accepted",
            with_headers(&lines(1, 15_000)),
            e(400, MP, J),
        ),
        case(
            "headers: one value of 16 385 bytes",
            with_headers(&lines(1, 16_385)),
            e(431, HL, A),
        ),
        case(
            "headers: 20 values of 900 bytes",
            with_headers(&lines(20, 900)),
            e(431, HL, A),
        ),
        case(
            "headers: a name of 20 000 bytes",
            with_headers(&[long_name]),
            e(431, HL, A),
        ),
        // Past hyper's 64 KiB head buffer (`server::MAX_HEAD_BYTES`) hyper answers before the
        // gateway sees a request; its bare 431 is rewritten into the envelope.
        case(
            "headers: one value of 600 KB (past the head buffer)",
            with_headers(&lines(1, 600_000)),
            e(431, HL, J),
        ),
        case(
            "headers: 1100 fields (past hyper's field limit)",
            with_headers(&lines(1100, 4)),
            e(431, HL, J),
        ),
        // Parameters (Action, Version and Format count).
        case(
            "params: 256 are accepted",
            get(&j(&params(253))),
            e(400, MP, J),
        ),
        case(
            "params: 257 in the query",
            get(&j(&params(254))),
            e(400, TM, J),
        ),
        case(
            "params: 200 in the query + 57 in a form body",
            form(&j(&params(197)), params(57).replace('P', "F").as_bytes()),
            e(400, TM, J),
        ),
        case(
            "params: 10 000 in a form body",
            form(&j(""), params(10_000).as_bytes()),
            e(400, TM, J),
        ),
        case(
            "params: a name of 128 bytes is accepted",
            get(&j(&format!("{}=1", "N".repeat(128)))),
            e(400, MP, J),
        ),
        case(
            "params: a name of 129 bytes",
            get(&j(&format!("{}=1", "N".repeat(129)))),
            e(400, IP, J),
        ),
        case(
            "params: a name of 130 bytes (65 x é)",
            get(&j(&format!("{}=1", "%C3%A9".repeat(65)))),
            e(400, IP, J),
        ),
        case(
            "params: a value of 32 768 bytes is accepted",
            form(&j(""), format!("V={}", "v".repeat(32_768)).as_bytes()),
            e(400, MP, J),
        ),
        case(
            "params: a value of 32 769 bytes (form body)",
            form(&j(""), format!("V={}", "v".repeat(32_769)).as_bytes()),
            e(400, IP, J),
        ),
        case(
            "params: a value of 32 769 bytes (query)",
            get(&j(&format!("V={}", "v".repeat(32_769)))),
            e(400, IP, J),
        ),
    ]
}

#[test]
fn limits_are_answered_in_the_envelope() {
    let before = SENT.load(Ordering::SeqCst);
    let server = Server::start("strict");
    let failures = run(&server, limit_cases(), false);
    server.finish("limits", failures, before);
}

// ---------------------------------------------------------------------------------------
// Bodies over the limit, written whole before the answer is read
// ---------------------------------------------------------------------------------------

/// What happened after an answer: the server closed the connection (`Ok`), or not.
fn closed_after(reader: &mut impl BufRead, reset_is_closed: bool) -> Result<(), String> {
    let mut rest = Vec::new();
    match reader.read_to_end(&mut rest) {
        Ok(_) if rest.is_empty() => Ok(()),
        Ok(_) => Err(format!("{} bytes after the answer", rest.len())),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Err(format!(
            "the connection was still open {IO_TIMEOUT:?} after the answer"
        )),
        Err(_) if reset_is_closed => Ok(()),
        Err(e) => Err(format!("after the answer, not a clean close: {e}")),
    }
}

/// Sends `raw` as an SDK does — all of it, in pieces of `piece` bytes 2 ms apart (as a file
/// is streamed), and only then reads — and checks the answer, its `connection: close`, and
/// that the server then closes the connection cleanly.
fn written_then_read(
    address: &str,
    raw: &[u8],
    piece: usize,
    want: &Want,
) -> Result<String, String> {
    SENT.fetch_add(1, Ordering::SeqCst);
    let mut stream = connect(address);
    let started = Instant::now();
    for (i, bytes) in raw.chunks(piece).enumerate() {
        if i > 0 {
            thread::sleep(Duration::from_millis(2));
        }
        stream
            .write_all(bytes)
            .map_err(|e| format!("writing the request failed: {e}"))?;
    }
    let mut reader = BufReader::new(stream);
    let outcome = read_reply(&mut reader, false);
    let elapsed = started.elapsed();
    let note = want.check(&outcome, false)?;
    if let Outcome::Reply(reply) = &outcome
        && reply.header("connection") != Some("close")
    {
        return Err(format!("no connection: close: {}", outcome.summary()));
    }
    closed_after(&mut reader, false)?;
    Ok(format!("{note}, then closed ({elapsed:.1?})"))
}

/// The head of a request announcing `length` bytes of body.
fn announcing(method: &str, target: &str, length: usize) -> Vec<u8> {
    format!(
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .into_bytes()
}

/// 1 MiB + 1 of a body announced as 10 MiB, then a byte every 100 ms: the request timeout
/// (2 s) bounds the drain, then 413 and the connection closes.
fn dribbled(address: &str) -> Result<String, String> {
    SENT.fetch_add(1, Ordering::SeqCst);
    let stream = connect(address);
    let mut writer = stream.try_clone().unwrap();
    let mut raw = announcing("POST", &j(""), 10 * MIB);
    raw.extend(vec![b'a'; MIB + 1]);
    let started = Instant::now();
    thread::spawn(move || {
        if writer.write_all(&raw).is_err() {
            return;
        }
        while started.elapsed() < Duration::from_secs(8) && writer.write_all(b"a").is_ok() {
            thread::sleep(Duration::from_millis(100));
        }
    });
    let mut reader = BufReader::new(stream);
    let outcome = read_reply(&mut reader, false);
    let elapsed = started.elapsed();
    let note = e(413, "RequestEntityTooLarge", J).check(&outcome, false)?;
    // The client is still writing: the close may reach it as a reset.
    closed_after(&mut reader, true)?;
    if !(Duration::from_millis(1500)..=Duration::from_millis(3500)).contains(&elapsed) {
        return Err(format!("answered after {elapsed:.1?}, wanted about 2 s"));
    }
    Ok(format!("{note}, then closed ({elapsed:.1?})"))
}

fn state_text(server: &Server) -> Vec<u8> {
    match exchange(&server.address, &get("/_emulator/state"), false, false).0 {
        Outcome::Reply(reply) if reply.status == 200 => reply.body,
        other => panic!("GET /_emulator/state: {}", other.summary()),
    }
}

#[test]
fn a_body_over_the_limit_written_whole_then_read_gets_the_413() {
    const TL: &str = "RequestEntityTooLarge";
    let before = SENT.load(Ordering::SeqCst);
    let server = Server::start("strict");
    let text_plain: &[u8] = b"Content-Type: text/plain";
    let over = vec![b'a'; MIB + 16];
    // Past the limit, more keeps coming: a server that answers when it reaches the limit and
    // closes makes these writes fail.
    let two_mib = vec![b'a'; 2 * MIB];
    let admin_over = vec![b'a'; 65 * MIB];
    let json: &[u8] = b"Content-Type: application/json";
    let kib_64 = 64 * 1024;
    let at_once = usize::MAX;
    let chunked_over = request(
        "POST",
        &j(""),
        &[text_plain, b"Transfer-Encoding: chunked"],
        &chunked(&two_mib, kib_64),
    );
    let cases: Vec<(&str, Vec<u8>, usize, Want)> = vec![
        (
            "RPC: Content-Length 1 MiB + 16, written at once",
            request("POST", &j(""), &[text_plain], &over),
            at_once,
            e(413, TL, J),
        ),
        (
            "RPC: Content-Length 1 MiB + 16, in 64 KiB pieces",
            request("POST", &j(""), &[text_plain], &over),
            kib_64,
            e(413, TL, J),
        ),
        (
            "RPC: chunked 2 MiB in 64 KiB chunks, in 64 KiB pieces",
            chunked_over,
            kib_64,
            e(413, TL, J),
        ),
        (
            "RPC: a form body of 1 MiB + 16, V2 (XML), in 64 KiB pieces",
            form(&format!("/?{Q}"), &over),
            kib_64,
            e(413, TL, X),
        ),
        (
            "RPC: 64 MiB announced (past the drain bound), nothing sent",
            announcing("POST", &j(""), 64 * MIB),
            at_once,
            e(413, TL, J),
        ),
        (
            "admin: PUT state of 65 MiB, in 1 MiB pieces",
            request("PUT", "/_emulator/state", &[json], &admin_over),
            MIB,
            Want::AdminError(vec![413]),
        ),
        (
            "admin: PUT state, 1 GiB announced, nothing sent",
            announcing("PUT", "/_emulator/state", 1024 * MIB),
            at_once,
            Want::AdminError(vec![413]),
        ),
    ];
    let state = state_text(&server);
    let mut failures = Vec::new();
    for (name, raw, piece, want) in cases {
        let started = Instant::now();
        let result = written_then_read(&server.address, &raw, piece, &want);
        // All of it is sent, or nothing is to come: never the timeout's 2 s.
        if started.elapsed() > Duration::from_millis(1500) {
            failures.push(format!("{name}: took {:.1?}", started.elapsed()));
        }
        match result {
            Ok(note) => eprintln!("ok   {name:<58} {note}"),
            Err(why) => {
                eprintln!("FAIL {name:<58} {why}");
                failures.push(format!("{name}: {why}"));
            }
        }
    }
    const DRIBBLED: &str = "RPC: 10 MiB announced, the rest dribbled";
    match dribbled(&server.address) {
        Ok(note) => eprintln!("ok   {DRIBBLED:<58} {note}"),
        Err(why) => failures.push(format!("{DRIBBLED}: {why}")),
    }
    if state_text(&server) != state {
        failures.push("the state changed".into());
    }
    server.finish("bodies over the limit", failures, before);
}

// ---------------------------------------------------------------------------------------
// Memory after a huge refused document
// ---------------------------------------------------------------------------------------

/// How far above its resident memory before a request the server may stay after it.
const RESIDENT_BOUND_MIB: u64 = 64;

/// The resident memory (VmRSS) of process `pid`, in MiB.
#[cfg(target_os = "linux")]
fn resident_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its status");
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmRSS");
    kib / 1024
}

/// 50 MiB state documents, each refused in its own way: 50 MiB of accounts then the end
/// missing (invalid JSON), the same then an unknown field (valid JSON, a schema error at the
/// very end), and one string of 50 MiB.
fn huge_refused_documents() -> Vec<(&'static str, Vec<u8>)> {
    let size = 50 * MIB;
    let mut accounts = b"{\"accounts\":[".to_vec();
    for i in 0u64.. {
        if accounts.len() >= size {
            break;
        }
        let account = format!(
            "{{\"accountId\":\"{}\",\"displayName\":\"account {i}\",\"accessKeys\":[{{\"accessKeyId\":\"LTAI{i:016}\",\"accessKeySecret\":\"secret-{i}\"}}]}},",
            1_000_000_000_000_000 + i
        );
        accounts.extend_from_slice(account.as_bytes());
    }
    *accounts.last_mut().unwrap() = b']';
    let truncated = accounts.clone();
    accounts.extend_from_slice(b",\"unknown\":1}");
    let mut string = b"{\"x\":\"".to_vec();
    string.resize(size, b'a');
    string.extend_from_slice(b"\"}");
    vec![
        ("50 MiB of accounts, then the end missing", truncated),
        ("50 MiB of accounts, then an unknown field", accounts),
        ("a string of 50 MiB", string),
    ]
}

/// As `exchange`, waiting up to a minute for the answer (a debug build parses 50 MiB slowly).
fn exchange_patiently(address: &str, raw: Vec<u8>) -> (Outcome, Duration) {
    SENT.fetch_add(1, Ordering::SeqCst);
    let stream = connect(address);
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    thread::spawn(move || writer.write_all(&raw));
    let outcome = read_reply(&mut BufReader::new(stream), false);
    (outcome, started.elapsed())
}

/// Each huge document is refused with 400, nothing changes, and within a few seconds the
/// server's resident memory is back within `RESIDENT_BOUND_MIB` of what it was before the
/// first. The
/// allocator gives freed memory back to the system a second after it was freed, at its next
/// call: the wait makes a health call between two looks, as any client's next request would.
#[cfg(target_os = "linux")]
#[test]
fn a_huge_refused_document_leaves_resident_memory_as_it_was() {
    let before_sent = SENT.load(Ordering::SeqCst);
    let server = Server::start("strict");
    let pid = server.child.id();
    let state = state_text(&server);
    let before = resident_mib(pid);
    let mut failures = Vec::new();
    for (name, document) in huge_refused_documents() {
        let raw = request(
            "PUT",
            "/_emulator/state",
            &[b"Content-Type: application/json"],
            &document,
        );
        drop(document);
        let (outcome, elapsed) = exchange_patiently(&server.address, raw);
        if let Err(why) = Want::AdminError(vec![400]).check(&outcome, false) {
            failures.push(format!("{name}: {why}"));
        }
        let peak = resident_mib(pid);
        let settled = Instant::now() + Duration::from_secs(5);
        let mut after = peak;
        while after > before + RESIDENT_BOUND_MIB && Instant::now() < settled {
            thread::sleep(Duration::from_millis(250));
            server.healthy();
            after = resident_mib(pid);
        }
        eprintln!(
            "     {name:<58} VmRSS {before} MiB before, {peak} MiB at the answer ({elapsed:.1?}), {after} MiB after"
        );
        if after > before + RESIDENT_BOUND_MIB {
            failures.push(format!(
                "{name}: VmRSS {before} MiB before, still {after} MiB 5 s after the answer"
            ));
        }
    }
    if state_text(&server) != state {
        failures.push("the state changed".into());
    }
    server.finish("memory", failures, before_sent);
}

// ---------------------------------------------------------------------------------------
// Slow and truncated requests
// ---------------------------------------------------------------------------------------

/// What a thread of the timeout test found wrong.
type Findings = Vec<String>;

/// The body is not all there: `want` (a 408) between 1.5 and 3.5 s.
fn body_times_out(address: String, name: &'static str, raw: Vec<u8>, want: Want) -> Findings {
    let (outcome, elapsed) = send(&address, &raw, false, false);
    let mut found = Vec::new();
    match want.check(&outcome, false) {
        Ok(note) => eprintln!("ok   {name:<58} {note} ({elapsed:.1?})"),
        Err(why) => found.push(format!("{name}: {why} after {elapsed:.1?}")),
    }
    if !(Duration::from_millis(1500)..=Duration::from_millis(3500)).contains(&elapsed) {
        found.push(format!(
            "{name}: answered after {elapsed:.1?}, wanted about 2 s"
        ));
    }
    found
}

/// The head never completes: the server closes the connection within ~3 s.
fn head_times_out(address: String, name: &'static str, raw: Vec<u8>) -> Findings {
    let (outcome, elapsed) = send(&address, &raw, false, false);
    let mut found = Vec::new();
    match &outcome {
        Outcome::Closed => eprintln!("ok   {name:<58} closed ({elapsed:.1?})"),
        Outcome::Reply(reply) if (400..500).contains(&reply.status) => {
            eprintln!(
                "ok   {name:<58} {} then closed ({elapsed:.1?})",
                outcome.summary()
            )
        }
        _ => found.push(format!("{name}: {}", outcome.summary())),
    }
    if elapsed > Duration::from_millis(3500) {
        found.push(format!(
            "{name}: the connection was still open after {elapsed:.1?}"
        ));
    }
    found
}

/// A head sent one byte every 250 ms, never finished: closed within ~3 s.
fn slowloris(address: String) -> Findings {
    const NAME: &str = "slowloris: one head byte every 250 ms";
    SENT.fetch_add(1, Ordering::SeqCst);
    let stream = connect(&address);
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    thread::spawn(move || {
        let head = format!("GET /?{Q} HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
        let bytes = head.bytes().chain(std::iter::repeat(b'a'));
        for byte in bytes {
            if writer.write_all(&[byte]).is_err() || started.elapsed() > Duration::from_secs(8) {
                break;
            }
            thread::sleep(Duration::from_millis(250));
        }
    });
    let outcome = read_reply(&mut BufReader::new(stream.try_clone().unwrap()), false);
    let elapsed = started.elapsed();
    let _ = stream.shutdown(Shutdown::Both);
    let mut found = Vec::new();
    match &outcome {
        Outcome::Closed => eprintln!("ok   {NAME:<58} closed ({elapsed:.1?})"),
        Outcome::Reply(reply) if (400..500).contains(&reply.status) => {
            eprintln!("ok   {NAME:<58} {} ({elapsed:.1?})", outcome.summary())
        }
        _ => found.push(format!("{NAME}: {}", outcome.summary())),
    }
    if elapsed > Duration::from_millis(3500) {
        found.push(format!("{NAME}: still open after {elapsed:.1?}"));
    }
    found
}

/// A truncated body, then the client shuts its write side: a 4xx envelope or a closed
/// connection, the same way twice, within 3 s.
fn truncated_then_half_closed(address: String, name: &'static str, raw: Vec<u8>) -> Findings {
    let mut found = Vec::new();
    let mut kinds = Vec::new();
    for attempt in 1..=2 {
        let (outcome, elapsed) = send(&address, &raw, false, true);
        match &outcome {
            Outcome::Closed => {}
            Outcome::Reply(_) => {
                if let Err(why) = one_of(&[], A).check(&outcome, false) {
                    found.push(format!("{name} (#{attempt}): {why}"));
                }
            }
            _ => found.push(format!("{name} (#{attempt}): {}", outcome.summary())),
        }
        if elapsed > Duration::from_secs(3) {
            found.push(format!("{name} (#{attempt}): took {elapsed:.1?}"));
        }
        eprintln!(
            "     {name:<58} #{attempt}: {} ({elapsed:.1?})",
            outcome.summary()
        );
        kinds.push(outcome.kind());
    }
    if kinds[0] != kinds[1] {
        found.push(format!("{name}: not consistent: {kinds:?}"));
    }
    found
}

#[test]
fn slow_and_truncated_requests_end_within_the_timeout() {
    let before = SENT.load(Ordering::SeqCst);
    let server = Server::start("strict");
    let address = server.address.clone();
    let form_head = |framing: &str| {
        format!(
            "POST /?Format=JSON HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
        )
    };
    let cl_partial = format!("{}Action=Des", form_head("Content-Length: 100")).into_bytes();
    let chunked_partial = format!(
        "{}40\r\nAction=Desc",
        form_head("Transfer-Encoding: chunked")
    )
    .into_bytes();
    let admin_partial =
        b"PUT /_emulator/state HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            .to_vec();
    let head_partial = format!("GET /?{Q} HTTP/1.1\r\nHost: localhost\r\n").into_bytes();
    let mut jobs: Vec<thread::JoinHandle<Findings>> = Vec::new();
    let a = || address.clone();
    let raw = cl_partial.clone();
    let at = a();
    jobs.push(thread::spawn(move || {
        body_times_out(
            at,
            "408: Content-Length body incomplete",
            raw,
            e(408, "RequestTimeout", J),
        )
    }));
    let raw = chunked_partial.clone();
    let at = a();
    jobs.push(thread::spawn(move || {
        body_times_out(
            at,
            "408: chunked body incomplete",
            raw,
            e(408, "RequestTimeout", J),
        )
    }));
    let at = a();
    jobs.push(thread::spawn(move || {
        body_times_out(
            at,
            "408: admin body incomplete",
            admin_partial,
            Want::AdminError(vec![408]),
        )
    }));
    let at = a();
    jobs.push(thread::spawn(move || {
        head_times_out(at, "head incomplete: closed", head_partial)
    }));
    let at = a();
    jobs.push(thread::spawn(move || slowloris(at)));
    let at = a();
    jobs.push(thread::spawn(move || {
        truncated_then_half_closed(
            at,
            "chunked body truncated, then half-closed",
            chunked_partial,
        )
    }));
    let at = a();
    jobs.push(thread::spawn(move || {
        truncated_then_half_closed(
            at,
            "Content-Length body truncated, then half-closed",
            cl_partial,
        )
    }));
    let mut failures: Vec<String> = jobs
        .into_iter()
        .flat_map(|job| job.join().unwrap_or_else(|_| vec!["a job panicked".into()]))
        .collect();
    if !server.healthy() {
        failures.push("after the slow requests: /_emulator/health does not answer 200".into());
    }
    server.finish("timeouts", failures, before);
}

// ---------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------

#[test]
fn connections_past_the_bound_get_503_then_recover() {
    let before = SENT.load(Ordering::SeqCst);
    let server = Server::start("strict");
    let mut failures = Vec::new();
    let keep_alive = b"GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut held = Vec::new();
    for i in 0..MAX_CONNECTIONS {
        SENT.fetch_add(1, Ordering::SeqCst);
        let mut stream = connect(&server.address);
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        stream.write_all(keep_alive).unwrap();
        match read_reply(&mut reader, false) {
            Outcome::Reply(reply) if reply.status == 200 => {}
            other => failures.push(format!("held connection {i}: {}", other.summary())),
        }
        held.push(stream);
    }
    // The ninth, while eight are open and idle.
    let ninth = request("GET", &j(""), &[], b"");
    let ninth = String::from_utf8(ninth)
        .unwrap()
        .replace("Connection: close\r\n", "");
    let (outcome, elapsed) = send(&server.address, ninth.as_bytes(), false, false);
    let want = Want::Error {
        status: Some(503),
        codes: vec!["ServiceUnavailable"],
        format: A,
    };
    let unavailable = match &outcome {
        Outcome::Reply(reply) if reply.status == 503 => envelope(reply, false)
            .map(|env| env.code == "ServiceUnavailable")
            .unwrap_or(false),
        _ => false,
    };
    if unavailable {
        eprintln!("ok   9th connection: {} ({elapsed:.1?})", outcome.summary());
        let Outcome::Reply(reply) = &outcome else {
            unreachable!()
        };
        if !reply
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            failures.push(format!(
                "9th connection: 503 without connection: close: {}",
                outcome.summary()
            ));
        }
    } else {
        let why = match want.check(&outcome, false) {
            Err(why) => why,
            Ok(_) => outcome.summary(),
        };
        failures.push(format!(
            "9th connection: wanted 503 ServiceUnavailable: {why}"
        ));
    }
    for stream in &held {
        let _ = stream.shutdown(Shutdown::Both);
    }
    drop(held);
    // Recovers once they are closed.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (outcome, _) = send(&server.address, &get(&j("")), false, false);
        match e(400, "MissingParameter", J).check(&outcome, false) {
            Ok(note) => {
                eprintln!("ok   after closing the eight: {note}");
                break;
            }
            Err(why) if Instant::now() > deadline => {
                failures.push(format!("after closing the eight: {why}"));
                break;
            }
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
    // The 503 is in the journal, with the request id it was answered with.
    if let Outcome::Reply(reply) = &outcome {
        let id = reply.header("x-acs-request-id").unwrap_or_default();
        let target = "/_emulator/requests?code=ServiceUnavailable";
        match send(&server.address, &get(target), false, false).0 {
            Outcome::Reply(journal) if journal.status == 200 => {
                let entries: serde_json::Value =
                    serde_json::from_str(&journal.text()).unwrap_or_default();
                let entries = entries["requests"].as_array().cloned().unwrap_or_default();
                let found = entries.iter().any(|entry| {
                    entry["requestId"] == id
                        && entry["httpStatus"] == 503
                        && entry["method"] == "GET"
                });
                if !found {
                    failures.push(format!("the 503 {id} is not journaled: {entries:?}"));
                }
            }
            other => failures.push(format!("the journal: {}", other.summary())),
        }
    }
    server.finish("connections", failures, before);
}

// ---------------------------------------------------------------------------------------
// Wire features that must work (auth off)
// ---------------------------------------------------------------------------------------

const OK_FORM: &[u8] = b"Action=DescribeRegions&Version=2014-05-26&Format=JSON";

fn wire_cases() -> Vec<Case> {
    let te: &[u8] = b"Transfer-Encoding: chunked";
    let mut extensions = b"POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    extensions.extend_from_slice(b"1B;name=value\r\nAction=DescribeRegions&Vers\r\n");
    extensions.extend_from_slice(b"1a\r\nion=2014-05-26&Format=JSON\r\n");
    extensions.extend_from_slice(b"0\r\nX-Trailer: 1\r\n\r\n");
    vec![
        case(
            "chunked form body",
            request("POST", "/", &[FORM, te], &chunked(OK_FORM, 7)),
            Want::Success(J),
        ),
        case(
            "chunked form body, one byte per chunk",
            request("POST", "/", &[FORM, te], &chunked(OK_FORM, 1)),
            Want::Success(J),
        ),
        case(
            "chunked with extensions, upper-case sizes and a trailer",
            extensions,
            Want::Success(J),
        ),
        case(
            "Expect: 100-continue, body sent at once",
            request("POST", "/", &[FORM, b"Expect: 100-continue"], OK_FORM),
            Want::Success(J),
        ),
        case(
            "Expect: 100-continue on a GET",
            request("GET", &j(""), &[b"Expect: 100-continue"], b""),
            Want::Success(J),
        ),
        case(
            "HTTP/1.0 GET",
            format!("GET /?{Q}&Format=JSON HTTP/1.0\r\n\r\n").into_bytes(),
            Want::Success(J),
        ),
        case(
            "HTTP/1.0 POST form",
            [
                format!(
                    "POST / HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                    OK_FORM.len()
                )
                .as_bytes(),
                OK_FORM,
            ]
            .concat(),
            Want::Success(J),
        ),
        case(
            "absolute-form target",
            get(&format!("http://ecs.cn-hangzhou.aliyuncs.com/?{Q}&Format=JSON")),
            Want::Success(J),
        ),
        case(
            "exactly 1 MiB of text/plain body",
            request("POST", &j(""), &[b"Content-Type: text/plain"], &vec![b'a'; MIB]),
            Want::Success(J),
        ),
        case("Format=xml", get(&format!("/?{Q}&Format=xml")), Want::Success(X)),
        case(
            "a NUL AccessKeyId is refused",
            get(&j("AccessKeyId=%00%00")),
            e(400, "InvalidParameter", J),
        ),
    ]
}

/// `Expect: 100-continue`: the head alone gets `100 Continue`, then the body its answer.
fn expect_continue(address: &str) -> Findings {
    SENT.fetch_add(1, Ordering::SeqCst);
    let mut found = Vec::new();
    let mut stream = connect(address);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        OK_FORM.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    match read_head(&mut reader) {
        Ok((100, _)) => {}
        Ok((status, _)) => found.push(format!("Expect: 100-continue: {status} before the body")),
        Err(outcome) => found.push(format!("Expect: 100-continue: {}", outcome.summary())),
    }
    let _ = stream.write_all(OK_FORM);
    let outcome = read_reply(&mut reader, false);
    match Want::Success(J).check(&outcome, false) {
        Ok(_) => eprintln!("ok   Expect: 100-continue, body after the 100"),
        Err(why) => found.push(format!("Expect: 100-continue, body after the 100: {why}")),
    }
    found
}

/// Three requests written at once on one connection: three answers, in order.
fn pipelined(address: &str) -> Findings {
    SENT.fetch_add(3, Ordering::SeqCst);
    let mut found = Vec::new();
    let mut stream = connect(address);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let keep = |raw: Vec<u8>| {
        String::from_utf8(raw)
            .unwrap()
            .replace("Connection: close\r\n", "")
            .into_bytes()
    };
    let mut raw = keep(get(&j("")));
    raw.extend(keep(form(
        "/",
        b"Action=Nope&Version=2014-05-26&Format=JSON",
    )));
    raw.extend(get("/_emulator/health"));
    stream.write_all(&raw).unwrap();
    let wants = [
        Want::Success(J),
        e(404, "InvalidAction.NotFound", J),
        Want::AdminOk(200),
    ];
    let mut ids = Vec::new();
    for (i, want) in wants.iter().enumerate() {
        let outcome = read_reply(&mut reader, false);
        if let Outcome::Reply(reply) = &outcome {
            ids.push(
                reply
                    .header("x-acs-request-id")
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        match want.check(&outcome, false) {
            Ok(note) => eprintln!("ok   pipelined #{}: {note}", i + 1),
            Err(why) => found.push(format!("pipelined #{}: {why}", i + 1)),
        }
    }
    if ids.len() >= 2 && ids[0] == ids[1] {
        found.push(format!("pipelined: the same request id twice: {ids:?}"));
    }
    found
}

#[test]
fn wire_features_work_with_auth_off() {
    let before = SENT.load(Ordering::SeqCst);
    let server = Server::start("off");
    let mut failures = run(&server, wire_cases(), false);
    failures.extend(expect_continue(&server.address));
    failures.extend(pipelined(&server.address));
    server.finish("wire", failures, before);
}

// ---------------------------------------------------------------------------------------
// Admin API
// ---------------------------------------------------------------------------------------

fn admin_body_cases() -> Vec<Case> {
    let endpoints: Vec<(&str, String)> = vec![
        ("PUT", "/_emulator/state".into()),
        ("POST", "/_emulator/accounts".into()),
        ("PUT", format!("/_emulator/accounts/{ACCOUNT}")),
        ("PATCH", format!("/_emulator/accounts/{ACCOUNT}")),
        (
            "PATCH",
            format!("/_emulator/accounts/{ACCOUNT}/kms-keys/{KEY}"),
        ),
        ("PATCH", "/_emulator/regions/cn-hangzhou".into()),
        ("POST", "/_emulator/faults".into()),
        ("POST", "/_emulator/invoke".into()),
    ];
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("{", b"{".to_vec()),
        ("[]", b"[]".to_vec()),
        ("\"x\"", b"\"x\"".to_vec()),
        ("null", b"null".to_vec()),
        ("1 MB of [", vec![b'['; 1_000_000]),
        ("invalid UTF-8", b"{\"a\":\"\xff\xfe\"}".to_vec()),
        ("trailing garbage", b"{} x".to_vec()),
    ];
    let json: &[u8] = b"Content-Type: application/json";
    let mut cases = Vec::new();
    for (method, path) in &endpoints {
        for (label, body) in &bodies {
            let want = match (*label, *method, path.as_str()) {
                // An empty or null body is the optional partial account (control-plane §2).
                ("null", "POST", "/_emulator/accounts") => Want::AdminOk(201),
                ("1 MB of [", _, _) => Want::AdminError(vec![400, 413]),
                _ => Want::AdminError(vec![400]),
            };
            cases.push(case(
                format!("admin {method} {path} with {label}"),
                request(method, path, &[json], body),
                want,
            ));
        }
    }
    // Snapshots take no body: whatever is sent, never a server error.
    cases.push(case(
        "admin POST /_emulator/snapshots/hostile with 1 MB of [",
        request(
            "POST",
            "/_emulator/snapshots/hostile",
            &[json],
            &vec![b'['; 1_000_000],
        ),
        Want::NoServerError,
    ));
    cases.push(case(
        "admin POST /_emulator/snapshots/hostile/restore with {",
        request(
            "POST",
            "/_emulator/snapshots/hostile/restore",
            &[json],
            b"{",
        ),
        Want::NoServerError,
    ));
    cases
}

fn admin_path_cases() -> Vec<Case> {
    let any = || Want::Admin4xxAnyShape;
    let long_id = "1".repeat(4096);
    let json: &[u8] = b"Content-Type: application/json";
    vec![
        case("admin GET /_emulator/../", get("/_emulator/../"), any()),
        case(
            "admin GET /_emulator/..%2Fstate",
            get("/_emulator/..%2Fstate"),
            any(),
        ),
        case(
            "admin GET /_emulator//state",
            get("/_emulator//state"),
            any(),
        ),
        case(
            "admin GET /_emulator/%2e%2e/state",
            get("/_emulator/%2e%2e/state"),
            any(),
        ),
        case(
            "admin GET /_emulator/./state",
            get("/_emulator/./state"),
            any(),
        ),
        case(
            "admin GET /_emulator/state/",
            get("/_emulator/state/"),
            any(),
        ),
        case("admin GET /_emulator/STATE", get("/_emulator/STATE"), any()),
        case(
            "admin GET /_emulator/%73tate",
            get("/_emulator/%73tate"),
            any(),
        ),
        case(
            "admin GET /_emulator/accounts/%00",
            get("/_emulator/accounts/%00"),
            any(),
        ),
        case(
            "admin GET /_emulator/accounts/../../etc/passwd",
            get("/_emulator/accounts/../../etc/passwd"),
            any(),
        ),
        case(
            "admin GET /_emulator/accounts/..%2F..%2Fetc%2Fpasswd",
            get("/_emulator/accounts/..%2F..%2Fetc%2Fpasswd"),
            any(),
        ),
        case(
            "admin GET /_emulator/accounts/<4 KB id>",
            get(&format!("/_emulator/accounts/{long_id}")),
            any(),
        ),
        case(
            "admin PATCH /_emulator/accounts/<4 KB id>",
            request(
                "PATCH",
                &format!("/_emulator/accounts/{long_id}"),
                &[json],
                b"{}",
            ),
            any(),
        ),
        case(
            "admin GET /_emulator/ui/../state",
            get("/_emulator/ui/../state"),
            any(),
        ),
        case(
            "admin GET /_emulator/ui/..%2Fapp.js",
            get("/_emulator/ui/..%2Fapp.js"),
            any(),
        ),
        case(
            "admin GET /_emulator/ui/app.js%00",
            get("/_emulator/ui/app.js%00"),
            any(),
        ),
        case(
            "admin GET /_emulator/accounts/%FF",
            get("/_emulator/accounts/%FF"),
            any(),
        ),
        case(
            "admin GET /_emulator/accounts/%ZZ",
            get("/_emulator/accounts/%ZZ"),
            any(),
        ),
        case(
            "admin DELETE /_emulator/accounts/%FF%FE",
            request("DELETE", "/_emulator/accounts/%FF%FE", &[], b""),
            any(),
        ),
        case(
            "admin PATCH /_emulator/accounts/%FF/kms-keys/%FE",
            request(
                "PATCH",
                "/_emulator/accounts/%FF/kms-keys/%FE",
                &[json],
                b"{}",
            ),
            any(),
        ),
        case(
            "admin PATCH /_emulator/regions/%FF",
            request("PATCH", "/_emulator/regions/%FF", &[json], b"{}"),
            any(),
        ),
        case(
            "admin DELETE /_emulator/snapshots/%FF",
            request("DELETE", "/_emulator/snapshots/%FF", &[], b""),
            any(),
        ),
        case(
            "admin DELETE /_emulator/faults/%00",
            request("DELETE", "/_emulator/faults/%00", &[], b""),
            any(),
        ),
        case(
            "admin POST /_emulator/snapshots/<65 chars>",
            request(
                "POST",
                &format!("/_emulator/snapshots/{}", "a".repeat(65)),
                &[],
                b"",
            ),
            Want::AdminError(vec![400]),
        ),
        case(
            "admin POST /_emulator/snapshots/a%2Fb",
            request("POST", "/_emulator/snapshots/a%2Fb", &[], b""),
            Want::AdminError(vec![400]),
        ),
        case("admin GET /_emulator/", get("/_emulator/"), any()),
        case("admin GET /_emulator", get("/_emulator"), any()),
        case(
            "admin GET /_emulator/nope",
            get("/_emulator/nope"),
            Want::AdminError(vec![404]),
        ),
        case(
            "admin DELETE /_emulator/state",
            request("DELETE", "/_emulator/state", &[], b""),
            Want::AdminError(vec![405]),
        ),
        case(
            "admin POST /_emulator/health",
            request("POST", "/_emulator/health", &[], b""),
            Want::AdminError(vec![405]),
        ),
        case(
            "admin FOO /_emulator/state",
            request("FOO", "/_emulator/state", &[], b""),
            Want::AdminError(vec![405]),
        ),
        case(
            "admin GET /_emulator/requests?limit=abc",
            get("/_emulator/requests?limit=abc"),
            Want::AdminError(vec![400]),
        ),
        case(
            "admin GET /_emulator/requests?limit=-1",
            get("/_emulator/requests?limit=-1"),
            Want::AdminError(vec![400]),
        ),
        case(
            "admin GET /_emulator/requests?action=%ZZ&limit=%FF",
            get("/_emulator/requests?action=%ZZ&limit=%FF"),
            Want::NoServerError,
        ),
        case(
            "admin GET /_emulator/health?%00=%ZZ",
            get("/_emulator/health?%00=%ZZ"),
            Want::AdminOk(200),
        ),
        case(
            "admin PUT /_emulator/accounts/%00 with {}",
            request("PUT", "/_emulator/accounts/%00", &[json], b"{}"),
            Want::NoServerError,
        ),
    ]
}

#[test]
fn admin_refuses_bad_bodies_and_path_tricks_in_its_own_shape() {
    let before = SENT.load(Ordering::SeqCst);
    let server = Server::start("strict");
    let mut failures = run(&server, admin_path_cases(), false);
    failures.extend(run(&server, admin_body_cases(), true));
    server.finish("admin", failures, before);
}
