//! `--state-file`: the snapshot and its change log (`src/store/persist`) as the binary uses
//! them — `kill -9` in the middle of concurrent writes, a torn tail at every byte of the last
//! record, corruption refused and left alone, compaction while writes go on, a replace.

mod common;

use common::{Server, clean_command};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-emulator-sf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn with_state_file(path: &Path) -> Command {
    let mut command = clean_command();
    command
        .args(["--listen", "127.0.0.1:0", "--auth", "off", "--state-file"])
        .arg(path);
    command
}

/// A folder of its own, the state file's path in it, and a server started on it.
fn fresh(name: &str) -> (PathBuf, PathBuf, Server) {
    let dir = temp_dir(name);
    let file = dir.join("state.json");
    let server = Server::start(&mut with_state_file(&file));
    (dir, file, server)
}

/// One HTTP request on a fresh connection: the status and the JSON body, or `None` when the
/// server is gone.
fn request(address: &str, method: &str, target: &str, body: &str) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.get(9..12)?.parse().ok()?;
    let (_, body) = answer.split_once("\r\n\r\n")?;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// An RPC call that succeeded: its body.
fn rpc(address: &str, version: &str, params: &str) -> Option<Value> {
    let target = format!("/?Version={version}&Format=JSON&{params}");
    match request(address, "POST", &target, "")? {
        (200, body) => Some(body),
        (status, body) => panic!("{params}: {status} {body}"),
    }
}

const ECS: &str = "2014-05-26";
const KMS: &str = "2016-01-20";

fn create_disk(address: &str, name: &str, size: u32) -> Option<String> {
    let params = format!(
        "Action=CreateDisk&RegionId=cn-hangzhou&ZoneId=cn-hangzhou-h&DiskCategory=cloud_essd&Size={size}&DiskName={name}"
    );
    Some(rpc(address, ECS, &params)?["DiskId"].as_str()?.to_owned())
}

fn create_key(address: &str, description: &str) -> Option<String> {
    let params = format!("Action=CreateKey&Description={description}");
    let body = rpc(address, KMS, &params)?;
    Some(body["KeyMetadata"]["KeyId"].as_str()?.to_owned())
}

/// The state the files hold (snapshot and log), as the `state dump` subcommand reads it.
fn dump(file: &Path) -> Value {
    serde_json::to_value(ecs_emulator::store::dump_state_file(file).expect("the state file reads"))
        .unwrap()
}

fn first_account(document: &Value) -> &Value {
    &document["accounts"][0]
}

/// Where each record of a log starts (the framing: `src/store/persist/frame.rs`).
fn record_offsets(log: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at + 12 <= log.len() {
        offsets.push(at);
        let length = u32::from_le_bytes(log[at..at + 4].try_into().unwrap()) as usize;
        at += 12 + length;
    }
    offsets
}

/// SIGKILL, and the exit waited for.
fn kill_9(server: &mut Server) {
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

fn log_of(file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.log", file.display()))
}

/// One client's acknowledged disks, in order: name and size.
type Acknowledged = Vec<(String, u32)>;

/// What one encryption-family step leaves as the region's default encryption: enabled, key.
type Setting = (Option<bool>, Option<String>);

/// `kill -9` while 8 clients create up to 1,000 disks, one creates keys and one runs the
/// encryption family (CreateKey, ModifyDiskDefaultKMSKeyId, Enable/Disable): after it, every
/// acknowledged change is in the files, each client's in the order it was made, and of the
/// unacknowledged ones only the one each client had in flight may be there, whole.
#[test]
fn a_kill_9_amid_concurrent_writes_keeps_every_acknowledged_change_in_order() {
    let (dir, file, mut server) = fresh("kill9");
    let address = server.address.clone();
    let disks: Arc<Mutex<Vec<Acknowledged>>> = Arc::new(Mutex::new(vec![Vec::new(); 8]));
    let mut clients = Vec::new();
    for client in 0..8 {
        let (address, disks) = (address.clone(), disks.clone());
        clients.push(std::thread::spawn(move || {
            for i in 0..125u32 {
                let name = format!("t{client}-{i}");
                if create_disk(&address, &name, 40 + i).is_none() {
                    break;
                }
                disks.lock().unwrap()[client].push((name, 40 + i));
            }
        }));
    }
    let keys = Arc::new(Mutex::new(Vec::new()));
    let kms = {
        let (address, keys) = (address.clone(), keys.clone());
        std::thread::spawn(move || {
            for i in 0..1000 {
                let Some(key) = create_key(&address, &format!("k{i}")) else {
                    break;
                };
                keys.lock().unwrap().push(key);
            }
        })
    };
    // The settings after each step attempted, and how many steps were acknowledged.
    let steps: Arc<Mutex<(Vec<Setting>, usize)>> = Arc::default();
    let encryption = {
        let (address, steps) = (address.clone(), steps.clone());
        std::thread::spawn(move || {
            let mut setting: Setting = (None, None);
            for i in 0..1000 {
                let step = |setting: Setting, params: String| {
                    steps.lock().unwrap().0.push(setting);
                    let answer = rpc(&address, ECS, &format!("{params}&RegionId=cn-hangzhou"));
                    if answer.is_some() {
                        steps.lock().unwrap().1 += 1;
                    }
                    answer
                };
                // Modify needs encryption on: on, a new key chosen, then off.
                setting.0 = Some(true);
                let enable = "Action=EnableDiskEncryptionByDefault".to_owned();
                if step(setting.clone(), enable).is_none() {
                    break;
                }
                let Some(key) = create_key(&address, &format!("e{i}")) else {
                    break;
                };
                setting.1 = Some(key.clone());
                let modify = format!("Action=ModifyDiskDefaultKMSKeyId&KMSKeyId={key}");
                if step(setting.clone(), modify).is_none() {
                    break;
                }
                setting.0 = Some(false);
                let disable = "Action=DisableDiskEncryptionByDefault".to_owned();
                if step(setting.clone(), disable).is_none() {
                    break;
                }
            }
        })
    };
    // The middle of the 1,000 creates.
    while disks.lock().unwrap().iter().map(Vec::len).sum::<usize>() < 400 {
        std::thread::sleep(Duration::from_millis(2));
    }
    kill_9(&mut server);
    for client in clients {
        client.join().unwrap();
    }
    kms.join().unwrap();
    encryption.join().unwrap();

    let document = dump(&file);
    let account = first_account(&document);
    let stored: Vec<(&str, u64)> = account["disks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["diskName"].as_str().unwrap(), d["size"].as_u64().unwrap()))
        .collect();
    for (client, acknowledged) in disks.lock().unwrap().iter().enumerate() {
        let mut last = None;
        for (name, size) in acknowledged {
            let at = stored.iter().position(|(n, _)| n == name);
            let at = at.unwrap_or_else(|| panic!("acknowledged disk {name} was lost"));
            assert_eq!(stored[at].1, u64::from(*size), "{name}");
            assert!(last < Some(at), "{name} is out of order");
            last = Some(at);
        }
        // Unacknowledged: at most the one in flight, and whole.
        let prefix = format!("t{client}-");
        let extra: Vec<_> = stored
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .skip(acknowledged.len())
            .collect();
        assert!(extra.len() <= 1, "{extra:?}");
        if let Some((name, size)) = extra.first() {
            assert_eq!(*name, format!("t{client}-{}", acknowledged.len()));
            assert_eq!(*size, 40 + acknowledged.len() as u64);
        }
    }
    let stored_keys: Vec<&str> = account["kmsKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keyId"].as_str().unwrap())
        .collect();
    let mut last = None;
    for key in keys.lock().unwrap().iter() {
        let at = stored_keys.iter().position(|k| k == key);
        assert!(at.is_some(), "acknowledged key {key} was lost");
        assert!(last < at, "{key} is out of order");
        last = at;
    }
    let (attempted, acknowledged) = steps.lock().unwrap().clone();
    assert!(acknowledged > 0, "no encryption step was acknowledged");
    let setting = &account["regionSettings"]["cn-hangzhou"]["defaultEncryption"];
    let found: Setting = (
        setting["enabled"].as_bool(),
        setting["kmsKeyId"].as_str().map(str::to_owned),
    );
    let matches =
        |expected: &Setting| expected.0.is_none_or(|e| Some(e) == found.0) && expected.1 == found.1;
    let possible = &attempted[acknowledged - 1..attempted.len().min(acknowledged + 1)];
    assert!(
        possible.iter().any(matches),
        "{found:?} is none of {possible:?}"
    );

    // A restart from the files answers for them.
    let server = Server::start(&mut with_state_file(&file));
    let last_key = keys.lock().unwrap().last().cloned().unwrap();
    let described = rpc(
        &server.address,
        KMS,
        &format!("Action=DescribeKey&KeyId={last_key}"),
    )
    .unwrap();
    assert_eq!(described["KeyMetadata"]["KeyId"], last_key.as_str());
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small state file: the snapshot, and a log of three records (two disks, a key).
fn three_records(dir: &Path) -> PathBuf {
    let file = dir.join("state.json");
    let mut server = Server::start(&mut with_state_file(&file));
    create_disk(&server.address, "one", 40).unwrap();
    create_disk(&server.address, "two", 41).unwrap();
    create_key(&server.address, "three").unwrap();
    kill_9(&mut server);
    file
}

/// A log cut at every byte offset of its last record reads as the records before it; a server
/// started on such a log drops the tail, cuts the file there, and appends after it.
#[test]
fn a_log_cut_anywhere_in_its_last_record_restarts_with_the_records_before_it() {
    let dir = temp_dir("torn");
    let file = three_records(&dir);
    let log = std::fs::read(log_of(&file)).unwrap();
    let offsets = record_offsets(&log);
    assert_eq!(offsets.len(), 3, "three records");
    let last = offsets[2];
    let whole = dump(&file);
    std::fs::write(log_of(&file), &log[..last]).unwrap();
    let before = dump(&file);
    assert_ne!(before, whole);
    for cut in last..log.len() {
        std::fs::write(log_of(&file), &log[..cut]).unwrap();
        assert_eq!(dump(&file), before, "cut at byte {cut}");
    }
    // A server on a torn log: the tail goes, what comes after is kept.
    let cut = last + (log.len() - last) / 2;
    std::fs::write(log_of(&file), &log[..cut]).unwrap();
    let mut server = Server::start(&mut with_state_file(&file));
    assert_eq!(
        std::fs::metadata(log_of(&file)).unwrap().len(),
        last as u64,
        "the torn tail is cut"
    );
    let key = create_key(&server.address, "after").unwrap();
    kill_9(&mut server);
    let after = dump(&file);
    let keys = first_account(&after)["kmsKeys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["keyId"] == key.as_str()));
    assert!(!keys.iter().any(|k| k["description"] == "three"));
    assert_eq!(
        first_account(&after)["disks"],
        first_account(&before)["disks"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Starts a server on `file`, expecting a refusal that names `named`; the files stay
/// byte-for-byte as they were.
fn refused_and_untouched(file: &Path, named: &str, offset: Option<usize>) {
    let before = (
        std::fs::read(file).unwrap(),
        std::fs::read(log_of(file)).unwrap(),
    );
    let output = with_state_file(file).output().unwrap();
    assert!(!output.status.success(), "it started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to start"), "{stderr}");
    assert!(stderr.contains(named), "{stderr}");
    if let Some(offset) = offset {
        assert!(
            stderr.contains(&format!("byte offset {offset}")),
            "{stderr}"
        );
    }
    let compact = clean_command()
        .args(["state", "compact", "--state-file"])
        .arg(file)
        .output()
        .unwrap();
    assert!(!compact.status.success(), "compact went ahead");
    let after = (
        std::fs::read(file).unwrap(),
        std::fs::read(log_of(file)).unwrap(),
    );
    assert!(before == after, "the files were changed");
}

/// A corrupt snapshot, or a damaged record that more records follow, stops the start with the
/// file and the offset, and neither the server nor `state compact` touches the files.
#[test]
fn a_corrupt_snapshot_or_mid_log_record_refuses_to_start_and_is_left_alone() {
    let dir = temp_dir("corrupt");
    let file = three_records(&dir);
    let (snapshot, log) = (
        std::fs::read(&file).unwrap(),
        std::fs::read(log_of(&file)).unwrap(),
    );
    let offsets = record_offsets(&log);

    std::fs::write(&file, &snapshot[..snapshot.len() / 2]).unwrap();
    refused_and_untouched(&file, &file.display().to_string(), None);
    std::fs::write(&file, &snapshot).unwrap();

    let log_name = log_of(&file).display().to_string();
    let mut payload = log.clone();
    payload[offsets[0] + 12 + 5] ^= 0x01;
    std::fs::write(log_of(&file), &payload).unwrap();
    refused_and_untouched(&file, &log_name, Some(offsets[0]));

    let mut header = log.clone();
    header[offsets[1] + 1] ^= 0x10;
    std::fs::write(log_of(&file), &header).unwrap();
    refused_and_untouched(&file, &log_name, Some(offsets[1]));

    // Restored, it starts again.
    std::fs::write(log_of(&file), &log).unwrap();
    drop(Server::start(&mut with_state_file(&file)));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// 8 clients create 1,200 disks, enough log for several compactions (log over the snapshot
/// and 64 KiB): afterwards the snapshot alone holds disks (a compaction ran), and the files
/// hold every acknowledged disk; `state compact` then folds the log into the snapshot.
#[test]
fn compaction_under_concurrent_writes_loses_nothing() {
    let (dir, file, mut server) = fresh("compact");
    let address = server.address.clone();
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let address = address.clone();
            std::thread::spawn(move || {
                (0..150)
                    .map(|i| create_disk(&address, &format!("c{client}-{i}"), 40).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let acknowledged: Vec<String> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let live = request(&address, "GET", "/_emulator/state", "").unwrap().1;
    kill_9(&mut server);

    let snapshot = ecs_emulator::store::parse_document(&std::fs::read(&file).unwrap()).unwrap();
    assert!(
        !snapshot.accounts[0].disks.is_empty(),
        "no compaction wrote a snapshot"
    );
    let document = dump(&file);
    assert_eq!(document, live, "the files hold what the server held");
    let ids: std::collections::HashSet<&str> = first_account(&document)["disks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["diskId"].as_str().unwrap())
        .collect();
    for id in &acknowledged {
        assert!(ids.contains(id.as_str()), "acknowledged {id} was lost");
    }
    let compact = clean_command()
        .args(["state", "compact", "--state-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(compact.status.success(), "{compact:?}");
    assert_eq!(std::fs::metadata(log_of(&file)).unwrap().len(), 0);
    let snapshot = ecs_emulator::store::parse_document(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&snapshot).unwrap(), live);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `PUT /_emulator/state` replaces everything: after a `kill -9`, nothing logged before it
/// comes back, everything after it is there; reset too.
#[test]
fn a_replace_leaves_nothing_of_the_state_before_it() {
    let (dir, file, mut server) = fresh("replace");
    let address = server.address.clone();
    let (_, initial) = request(&address, "GET", "/_emulator/state", "").unwrap();
    let before = create_disk(&address, "before", 40).unwrap();
    let (status, _) = request(&address, "PUT", "/_emulator/state", &initial.to_string()).unwrap();
    assert_eq!(status, 200);
    let after = create_disk(&address, "after", 40).unwrap();
    kill_9(&mut server);
    let has = |document: &Value, id: &str| {
        first_account(document)["disks"]
            .as_array()
            .is_some_and(|disks| disks.iter().any(|d| d["diskId"] == id))
    };
    let document = dump(&file);
    assert!(!has(&document, &before) && has(&document, &after));

    // Reset goes back to the state the server started with: the one the files held.
    let mut server = Server::start(&mut with_state_file(&file));
    let address = server.address.clone();
    let third = create_disk(&address, "third", 40).unwrap();
    assert_eq!(
        request(&address, "POST", "/_emulator/reset", "").unwrap().0,
        200
    );
    kill_9(&mut server);
    let document = dump(&file);
    assert!(has(&document, &after) && !has(&document, &third));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Admin changes of one account, key or region are logged as records too: after a `kill -9`
/// the files hold exactly what the server held.
#[test]
fn admin_changes_are_logged_and_replayed_exactly() {
    let (dir, file, mut server) = fresh("admin");
    let address = server.address.clone();
    let key = create_key(&address, "patched").unwrap();
    create_disk(&address, "kept", 40).unwrap();
    let (_, live) = request(&address, "GET", "/_emulator/state", "").unwrap();
    let account = live["accounts"][0]["accountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let calls = [
        (
            "PATCH",
            format!("/_emulator/accounts/{account}"),
            r#"{"displayName":"renamed"}"#,
        ),
        (
            "PATCH",
            format!("/_emulator/accounts/{account}/kms-keys/{key}"),
            r#"{"description":"p"}"#,
        ),
        (
            "POST",
            "/_emulator/accounts".to_owned(),
            r#"{"accountId":"4242424242424242"}"#,
        ),
        (
            "DELETE",
            "/_emulator/accounts/4242424242424242".to_owned(),
            "",
        ),
        (
            "POST",
            "/_emulator/accounts".to_owned(),
            r#"{"accountId":"4343434343434343"}"#,
        ),
        // A RAM role and a user added: ids derived and written in, carried by the head.
        (
            "PATCH",
            "/_emulator/accounts/4343434343434343".to_owned(),
            r#"{"ramUsers":[{"userName":"u"}],"ramRoles":[{"roleName":"r","trustedPrincipals":["acs:ram::4343434343434343:root"]}]}"#,
        ),
        (
            "PATCH",
            "/_emulator/regions/cn-hangzhou".to_owned(),
            r#"{"status":"soldOut"}"#,
        ),
    ];
    for (method, path, body) in &calls {
        let (status, answer) = request(&address, method, path, body).unwrap();
        assert!(status < 300, "{method} {path}: {status} {answer}");
    }
    let (_, live) = request(&address, "GET", "/_emulator/state", "").unwrap();
    let accounts = live["accounts"].as_array().unwrap();
    let added = accounts
        .iter()
        .find(|a| a["accountId"] == "4343434343434343");
    let roles = &added.unwrap()["ramRoles"];
    assert!(roles[0]["roleId"].is_string(), "{roles}");
    kill_9(&mut server);
    assert_eq!(dump(&file), live);
    std::fs::remove_dir_all(&dir).unwrap();
}
