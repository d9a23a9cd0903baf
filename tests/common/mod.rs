//! The built binary as the process-level tests (`cli.rs`, `hostile.rs`) run it: a command
//! that takes no `ECS_EMULATOR_*` or `RUST_LOG` from the environment, and a server found by
//! the address its "listening on" log line gives, its log kept, killed when dropped.

// Each test binary that includes this module uses its own part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_ecs-emulator");

const LISTENING: &str = "listening on http://";

/// The binary, configured by its arguments alone (and a CA folder of the test run's own, so
/// that no test writes to the user's data folder; `--ca-dir` overrides it).
pub fn clean_command() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("ECS_EMULATOR_") {
            command.env_remove(name);
        }
    }
    command.env_remove("RUST_LOG");
    let ca_dir = std::env::temp_dir().join(format!("ecs-emulator-test-ca-{}", std::process::id()));
    command.env("ECS_EMULATOR_CA_DIR", ca_dir);
    command
}

/// A running server.
pub struct Server {
    pub child: Child,
    /// `host:port`, from its log.
    pub address: String,
    /// Its log lines not yet read by `wait_for`.
    lines: mpsc::Receiver<String>,
    /// Every line it has logged.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `command` (its stderr piped here) and waits up to 10 s for it to listen.
    pub fn start(command: &mut Command) -> Self {
        Self::spawn(command).unwrap_or_else(|log| panic!("the server did not start:\n{log}"))
    }

    /// As `start`; a server that exits or does not listen in time is `Err(what it logged)`.
    pub fn spawn(command: &mut Command) -> Result<Self, String> {
        let mut child = command
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the server");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (sender, lines) = mpsc::channel();
        let sink = log.clone();
        // Drains stderr for the server's whole life, whether anyone reads the lines or not.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap_or_default();
                sink.lock().unwrap().push(line.clone());
                let _ = sender.send(line);
            }
        });
        let mut server = Self {
            child,
            address: String::new(),
            lines,
            log,
        };
        match server.next_containing(LISTENING, Instant::now() + Duration::from_secs(10)) {
            Some(line) => {
                let at = line.find(LISTENING).unwrap() + LISTENING.len();
                server.address = line[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect();
                Ok(server)
            }
            // Dropping it kills it.
            None => Err(server.log().join("\n")),
        }
    }

    /// The next log line containing `needle`, within 10 s.
    pub fn wait_for(&mut self, needle: &str) -> String {
        self.next_containing(needle, Instant::now() + Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no line containing {needle:?}"))
    }

    fn next_containing(&mut self, needle: &str, deadline: Instant) -> Option<String> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            if line.contains(needle) {
                return Some(line);
            }
        }
    }

    /// Every line logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one whole HTTP/1.1 answer with a `content-length` from a kept-alive connection: its
/// head and body as text.
pub fn read_answer(stream: &mut impl Read) -> String {
    let mut text = Vec::new();
    let mut byte = [0u8; 1];
    while !text.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed mid-answer");
        text.push(byte[0]);
    }
    let head = String::from_utf8(text).unwrap();
    let length: usize = header(&head, "content-length").parse().unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8(body).unwrap()
}

/// The value of header `name` (as the server writes it: lower case) in an answer's text.
pub fn header<'a>(answer: &'a str, name: &str) -> &'a str {
    answer
        .lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no {name:?} in {answer}"))
}
