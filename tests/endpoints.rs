//! The real hostnames against the built binary (`endpoints.md` §2–§3, §5): the proxy on the
//! listener (absolute-form requests, `CONNECT` tunnels with the emulator's TLS, refusals that
//! open no connection), `--tls-listen`, the CA on disk, and the bounds a tunnel stays within.

mod common;

use common::{Server, clean_command, header, read_answer};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const AK: &str = "LTAI5tTestAccessKey01";

/// A CA folder of this test's own.
fn ca_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-emulator-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A server with `--auth off` (the requests here are unsigned) and its CA in `dir`.
fn start(dir: &Path, extra: &[&str]) -> Server {
    let mut command = clean_command();
    command
        .args(["--listen", "127.0.0.1:0", "--auth", "off", "--ca-dir"])
        .arg(dir)
        .args(extra);
    Server::start(&mut command)
}

fn connect(server: &Server) -> TcpStream {
    connect_to(&server.address)
}

/// A connection to `address`, its reads bounded.
fn connect_to(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Sends `head` (CRLF line ends added) and reads the answer.
fn exchange(stream: &mut impl ReadWrite, lines: &[&str]) -> String {
    let mut text = lines.join("\r\n");
    text.push_str("\r\n\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    read_answer(stream)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn status(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or_default()
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

fn json(answer: &str) -> serde_json::Value {
    serde_json::from_str(body(answer)).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

/// A client that trusts only the emulator's CA (`ca.pem` of `dir`), offering h2 first.
fn client_config(dir: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A TLS session over `stream` to `name`, handshake done (the certificate verified).
fn tls(
    config: &Arc<ClientConfig>,
    name: &str,
    stream: TcpStream,
) -> Result<StreamOwned<ClientConnection, TcpStream>, String> {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let connection = ClientConnection::new(Arc::clone(config), name).unwrap();
    let mut stream = StreamOwned::new(connection, stream);
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|e| e.to_string())?;
    }
    Ok(stream)
}

/// Opens a tunnel to `host:443` through the server: the `200`, then TLS.
fn tunnel(
    server: &Server,
    config: &Arc<ClientConfig>,
    host: &str,
) -> StreamOwned<ClientConnection, TcpStream> {
    let mut stream = connect(server);
    let answer = open(&mut stream, host);
    assert_eq!(status(&answer), "200", "{answer}");
    tls(config, host, stream).unwrap()
}

/// Sends `CONNECT host:443` and reads the head of the answer.
fn open(stream: &mut TcpStream, host: &str) -> String {
    let request = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

fn describe_regions(host: &str) -> Vec<String> {
    vec![
        format!(
            "GET /?Version=2014-05-26&Action=DescribeRegions&Format=JSON&AccessKeyId={AK} HTTP/1.1"
        ),
        format!("Host: {host}"),
    ]
}

fn lines(lines: &[String]) -> Vec<&str> {
    lines.iter().map(String::as_str).collect()
}

#[test]
fn absolute_form_requests_are_answered_as_the_host_they_name() {
    let dir = ca_dir("absolute");
    let server = start(&dir, &[]);
    let mut stream = connect(&server);
    // ECS DescribeRegions, absolute-form, to `host`.
    let mut regions_at = |host: &str| {
        let query =
            format!("Version=2014-05-26&Action=DescribeRegions&Format=JSON&AccessKeyId={AK}");
        let line = format!("GET http://{host}/?{query} HTTP/1.1");
        exchange(&mut stream, &[&line, &format!("Host: {host}")])
    };
    // A KMS host: its region, its envelope.
    let answer = regions_at("kms.cn-shanghai.aliyuncs.com");
    assert_eq!(status(&answer), "400", "{answer}");
    assert_eq!(json(&answer)["Code"], "InvalidVersion");
    assert_eq!(json(&answer)["HostId"], "kms.cn-shanghai.aliyuncs.com");
    // Keep-alive: the same connection, an ECS host.
    let answer = regions_at("ecs-cn-hangzhou.aliyuncs.com");
    assert_eq!(status(&answer), "200", "{answer}");
    // The emulator itself, by each of its names.
    let port = server.address.rsplit_once(':').unwrap().1;
    for host in ["127.0.0.1", "localhost", "[::1]"] {
        let answer = exchange(
            &mut stream,
            &[
                &format!("GET http://{host}:{port}/_emulator/health HTTP/1.1"),
                &format!("Host: {host}:{port}"),
            ],
        );
        assert_eq!(status(&answer), "200", "{host}: {answer}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every request for another host or port is refused with a plain `403` naming it, and a
/// listener of the test's own proves that nothing connected to it.
#[test]
fn requests_for_other_hosts_are_refused_and_no_connection_is_opened() {
    let dir = ca_dir("refused");
    let server = start(&dir, &[]);
    let bait = TcpListener::bind("127.0.0.1:0").unwrap();
    bait.set_nonblocking(true).unwrap();
    let bait_address = bait.local_addr().unwrap().to_string();
    let bait_port = bait_address.rsplit_once(':').unwrap().1.to_owned();
    let requests = [
        (
            format!("CONNECT {bait_address} HTTP/1.1"),
            bait_address.clone(),
        ),
        (
            format!("CONNECT localhost:{bait_port} HTTP/1.1"),
            format!("localhost:{bait_port}"),
        ),
        (
            format!("GET http://{bait_address}/ HTTP/1.1"),
            bait_address.clone(),
        ),
        (
            format!("POST http://localhost:{bait_port}/x HTTP/1.1"),
            format!("localhost:{bait_port}"),
        ),
        (
            "CONNECT example.com:443 HTTP/1.1".to_owned(),
            "example.com:443".to_owned(),
        ),
        (
            "GET http://example.com/ HTTP/1.1".to_owned(),
            "example.com".to_owned(),
        ),
        (
            "CONNECT ecs.aliyuncs.com:80 HTTP/1.1".to_owned(),
            "ecs.aliyuncs.com:80".to_owned(),
        ),
        (
            "CONNECT ecs.aliyuncs.com.example.com:443 HTTP/1.1".to_owned(),
            "ecs.aliyuncs.com.example.com:443".to_owned(),
        ),
    ];
    for (line, named) in &requests {
        let mut stream = connect(&server);
        let answer = exchange(&mut stream, &[line, "Host: x", "Content-Length: 0"]);
        assert_eq!(status(&answer), "403", "{line}: {answer}");
        assert_eq!(header(&answer, "content-type"), "text/plain; charset=utf-8");
        assert!(
            body(&answer).contains(&format!("{named} is not an Alibaba Cloud API host")),
            "{answer}"
        );
        assert!(body(&answer).contains("does not forward"), "{answer}");
    }
    std::thread::sleep(Duration::from_millis(200));
    match bait.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        other => panic!("something connected to the test's own listener: {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tunnel_serves_http_1_1_with_a_leaf_of_the_ca_and_keeps_the_connection() {
    let dir = ca_dir("tunnel");
    let server = start(&dir, &[]);
    let config = client_config(&dir);
    let host = "ecs.cn-hangzhou.aliyuncs.com";
    let mut stream = tunnel(&server, &config, host);
    // h2 offered first: only HTTP/1.1 is chosen.
    assert_eq!(stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    let leaf = stream.conn.peer_certificates().unwrap()[0].clone();
    for _ in 0..3 {
        let answer = exchange(&mut stream, &lines(&describe_regions(host)));
        assert_eq!(status(&answer), "200", "{answer}");
        assert!(json(&answer)["Regions"]["Region"].is_array(), "{answer}");
    }
    // A request without its host, inside a KMS tunnel: the tunnel's host and region.
    let kms = "kms.cn-shanghai.aliyuncs.com";
    let mut stream = tunnel(&server, &config, kms);
    stream
        .write_all(
            format!("GET /?Version=2016-01-20&Action=CreateKey&Format=JSON&AccessKeyId={AK} HTTP/1.0\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let arn = json(&answer)["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(arn.starts_with("acs:kms:cn-shanghai:"), "{answer}");
    // No tunnel inside a tunnel.
    let mut stream = tunnel(&server, &config, host);
    let answer = exchange(
        &mut stream,
        &[&format!("CONNECT {host}:443 HTTP/1.1"), "Host: x"],
    );
    assert_eq!(status(&answer), "403", "{answer}");
    strictly_verified(&dir, &leaf, host);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `openssl verify -x509_strict` (the checks Python 3.13 makes by default) accepts the leaf
/// and the CA, and the extensions of `endpoints.md` §3 are there. Skipped without openssl.
fn strictly_verified(dir: &Path, leaf: &CertificateDer<'_>, host: &str) {
    let Ok(version) = Command::new("openssl").arg("version").output() else {
        eprintln!("SKIPPED: no openssl to check the certificates strictly");
        return;
    };
    assert!(version.status.success());
    let leaf_path = dir.join("leaf.der");
    std::fs::write(&leaf_path, leaf.as_ref()).unwrap();
    let pem = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(&leaf_path)
        .arg("-out")
        .arg(dir.join("leaf.pem"))
        .status()
        .unwrap();
    assert!(pem.success());
    let verify = Command::new("openssl")
        .args(["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile"])
        .arg(dir.join("ca.pem"))
        .arg(dir.join("leaf.pem"))
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
    let text = |file: &str| {
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(dir.join(file))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let ca = text("ca.pem");
    for needle in [
        "X509v3 Basic Constraints: critical",
        "CA:TRUE",
        "Certificate Sign, CRL Sign",
        "X509v3 Subject Key Identifier",
        "ecs-emulator local CA",
    ] {
        assert!(ca.contains(needle), "CA lacks {needle}: {ca}");
    }
    let leaf = text("leaf.pem");
    for needle in [
        format!("DNS:{host}"),
        "TLS Web Server Authentication".to_owned(),
        "X509v3 Authority Key Identifier".to_owned(),
    ] {
        assert!(leaf.contains(&needle), "leaf lacks {needle}: {leaf}");
    }
}

/// The `--tls-listen` address, from the log.
fn tls_address(server: &Server) -> String {
    const SERVING: &str = "serving HTTPS on https://";
    let log = server.log().join("\n");
    let at = log.find(SERVING).expect("the TLS line") + SERVING.len();
    log[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect()
}

#[test]
fn the_tls_listener_names_localhost_and_every_regions_hosts() {
    let dir = ca_dir("listener");
    let server = start(&dir, &["--tls-listen", "127.0.0.1:0"]);
    let address = tls_address(&server);
    let config = client_config(&dir);
    for name in [
        "localhost",
        "127.0.0.1",
        "ecs.aliyuncs.com",
        "ram.aliyuncs.com",
        "ecs-cn-hangzhou.aliyuncs.com",
        "ecs.cn-hangzhou.aliyuncs.com",
        "ecs-vpc.eu-central-1.aliyuncs.com",
    ] {
        let stream = tls(&config, name, connect_to(&address));
        let mut stream = stream.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
        for _ in 0..2 {
            let answer = exchange(&mut stream, &lines(&describe_regions(name)));
            assert_eq!(status(&answer), "200", "{name}: {answer}");
        }
    }
    // A wildcard covers one label only, and no region is named `nowhere`.
    for name in [
        "ecs.a.b.aliyuncs.com",
        "ecs.nowhere.aliyuncs.com",
        "example.com",
    ] {
        let error = tls(&config, name, connect_to(&address)).expect_err("not verified");
        assert!(
            error.contains("certificate") || error.contains("Certificate"),
            "{name}: {error}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_ca_is_reused_across_restarts_and_printed_by_ca_and_its_endpoint() {
    let dir = ca_dir("reuse");
    let first = {
        let server = start(&dir, &["--admin-token", "t0ken"]);
        let mut stream = connect(&server);
        let answer = exchange(&mut stream, &["GET /_emulator/ca.pem HTTP/1.1", "Host: x"]);
        assert_eq!(status(&answer), "401", "the admin token applies: {answer}");
        let answer = exchange(
            &mut stream,
            &[
                "GET /_emulator/ca.pem HTTP/1.1",
                "Host: x",
                "Authorization: Bearer t0ken",
            ],
        );
        assert_eq!(status(&answer), "200", "{answer}");
        body(&answer).to_owned()
    };
    assert!(first.starts_with("-----BEGIN CERTIFICATE-----"), "{first}");
    assert_eq!(std::fs::read_to_string(dir.join("ca.pem")).unwrap(), first);
    let key = std::fs::read(dir.join("ca-key.pem")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("ca-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is its owner's alone");
    }
    let server = start(&dir, &[]);
    let mut stream = connect(&server);
    let answer = exchange(&mut stream, &["GET /_emulator/ca.pem HTTP/1.1", "Host: x"]);
    assert_eq!(body(&answer), first, "the same CA after a restart");
    drop(server);
    let printed = ca_command(&dir);
    assert!(printed.status.success());
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), first);
    let path = clean_command()
        .args(["ca", "--path"])
        .env("ECS_EMULATOR_CA_DIR", &dir)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(path.stdout).unwrap().trim_end(),
        dir.join("ca.pem").display().to_string()
    );
    assert_eq!(
        std::fs::read(dir.join("ca-key.pem")).unwrap(),
        key,
        "never rewritten"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `ecs-emulator ca --ca-dir DIR`, run to its end.
fn ca_command(dir: &std::path::Path) -> std::process::Output {
    clean_command()
        .arg("ca")
        .arg("--ca-dir")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn a_corrupt_ca_stops_the_start_and_is_left_as_it_is() {
    let dir = ca_dir("corrupt");
    drop(start(&dir, &[]));
    let cert = dir.join("ca.pem");
    let garbage =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    std::fs::write(&cert, garbage).unwrap();
    let mut command = clean_command();
    command
        .args(["--listen", "127.0.0.1:0", "--ca-dir"])
        .arg(&dir);
    let log = Server::spawn(&mut command)
        .err()
        .expect("the server refuses to start");
    assert!(
        log.contains("ca.pem") && log.contains("refusing to start"),
        "{log}"
    );
    assert_eq!(
        std::fs::read_to_string(&cert).unwrap(),
        garbage,
        "untouched"
    );
    let printed = ca_command(&dir);
    assert!(!printed.status.success());
    assert!(String::from_utf8_lossy(&printed.stderr).contains("refusing to start"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A client that stops in the middle of a TLS handshake (in a tunnel, or on the TLS
/// listener) is cut by the head timeout, and nobody waits for it meanwhile.
#[test]
fn a_client_stalled_in_a_handshake_holds_nothing_up() {
    let dir = ca_dir("stalled");
    let server = start(
        &dir,
        &["--request-timeout", "1", "--tls-listen", "127.0.0.1:0"],
    );
    let tls_address = tls_address(&server);
    let mut stalled = connect(&server);
    assert_eq!(status(&open(&mut stalled, "ecs.aliyuncs.com")), "200");
    // Half a ClientHello, then nothing.
    stalled
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    let mut stalled_tls = TcpStream::connect(&tls_address).unwrap();
    stalled_tls.write_all(&[0x16, 0x03, 0x01]).unwrap();
    let started = Instant::now();
    // Meanwhile, others are served: a tunnel, and a plain request.
    let config = client_config(&dir);
    let mut other = tunnel(&server, &config, "ecs.aliyuncs.com");
    let answer = exchange(&mut other, &lines(&describe_regions("ecs.aliyuncs.com")));
    assert_eq!(status(&answer), "200");
    let answer = exchange(
        &mut connect(&server),
        &lines(&describe_regions("127.0.0.1")),
    );
    assert_eq!(status(&answer), "200");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // Both stalled connections are closed within the timeout and a sweep (≤ 250 ms).
    for stream in [&mut stalled, &mut stalled_tls] {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(read.is_ok(), "not closed by the server: {read:?}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An open tunnel holds its connection's place: past `--max-connections`, a new connection's
/// request is answered `ServiceUnavailable`; once the tunnel closes, the place is free again.
#[test]
fn tunnels_count_toward_the_connection_bound() {
    let dir = ca_dir("bound");
    let server = start(&dir, &["--max-connections", "1"]);
    let config = client_config(&dir);
    let mut open_tunnel = tunnel(&server, &config, "ecs.cn-hangzhou.aliyuncs.com");
    let answer = exchange(
        &mut open_tunnel,
        &lines(&describe_regions("ecs.cn-hangzhou.aliyuncs.com")),
    );
    assert_eq!(status(&answer), "200");
    let answer = exchange(
        &mut connect(&server),
        &lines(&describe_regions("127.0.0.1")),
    );
    assert_eq!(status(&answer), "503", "{answer}");
    assert_eq!(json(&answer)["Code"], "ServiceUnavailable");
    // A CONNECT past the bound gets the same answer.
    let mut past = connect(&server);
    assert!(open(&mut past, "ecs.aliyuncs.com").starts_with("HTTP/1.1 503"));
    drop(open_tunnel);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = exchange(
            &mut connect(&server),
            &lines(&describe_regions("127.0.0.1")),
        );
        if status(&answer) == "200" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the place was not given back: {answer}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hosts_and_env_proxy_print_what_a_shell_needs() {
    let dir = ca_dir("commands");
    let hosts = clean_command().arg("hosts").output().unwrap();
    assert!(hosts.status.success());
    let text = String::from_utf8(hosts.stdout).unwrap();
    for line in [
        "127.0.0.1 ecs.aliyuncs.com",
        "127.0.0.1 sts.aliyuncs.com",
        "127.0.0.1 ecs.cn-hangzhou.aliyuncs.com",
        "127.0.0.1 ecs-cn-hangzhou.aliyuncs.com",
        "127.0.0.1 ecs-vpc.cn-hangzhou.aliyuncs.com",
        "127.0.0.1 kms.eu-central-1.aliyuncs.com",
        "127.0.0.1 kms-vpc.cn-shanghai.aliyuncs.com",
        "127.0.0.1 sts.cn-shanghai.aliyuncs.com",
        "127.0.0.1 sts-vpc.cn-shanghai.aliyuncs.com",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    let other = clean_command()
        .args(["hosts", "--address", "::1"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(other.stdout)
            .unwrap()
            .contains("\n::1 kms.cn-hangzhou.aliyuncs.com\n")
    );
    let env = clean_command()
        .args(["env", "--proxy", "--listen", "127.0.0.1:9999", "--ca-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8(env.stdout).unwrap();
    let ca = dir.join("ca.pem").display().to_string();
    for needle in [
        "export HTTPS_PROXY=http://127.0.0.1:9999 HTTP_PROXY=http://127.0.0.1:9999".to_owned(),
        format!("export SSL_CERT_FILE={ca}"),
        format!("export REQUESTS_CA_BUNDLE={ca}"),
        format!("export ALIBABA_CLOUD_CA_BUNDLE={ca}"),
        format!("export NODE_EXTRA_CA_CERTS={ca}"),
    ] {
        assert!(text.contains(&needle), "{needle} missing:\n{text}");
    }
    assert!(dir.join("ca.pem").exists(), "the CA the lines name exists");
    std::fs::remove_dir_all(&dir).unwrap();
}
