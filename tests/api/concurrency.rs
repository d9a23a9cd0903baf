//! Many clients at once on one account and region: ECS default-encryption writes (Enable,
//! Disable, Modify, Reset), KMS key state flips (EnableKey, DisableKey) on the keys involved,
//! and readers in between, on a multi-thread runtime.
//!
//! Every answer must be well-formed (no 5xx, JSON, a 36-character `RequestId`, an error only
//! from the set the action can give here). Then the journal's `stateSeq` must give a serial
//! order of all the requests that (a) respects real time: a request that finished before
//! another started comes first, and (b) explains every answer: replaying a small model of
//! the state in that order predicts each read's value and each write's success or error.
//!
//! The op script is seeded (`CONCURRENCY_SEED=<n>` replays one); the interleaving is not.

use crate::support::{Answer, Harness, encode, request};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use ecs_emulator::app::Settings;
use ecs_emulator::auth::AuthMode;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

const TASKS: usize = 16;
const OPS_PER_TASK: usize = 150;

const ACCOUNT: &str = "1000000000000001";
const AK: &str = "LTAIConcurrency00001";
const REGION: &str = "cn-hangzhou";
const KEYS: [&str; 4] = [
    "key-hzzconcurrency0000000001",
    "key-hzzconcurrency0000000002",
    "key-hzzconcurrency0000000003",
    "key-hzzconcurrency0000000004",
];
const SERVICE_KEY_ALIAS: &str = "alias/acs/ecs";

/// (code, HTTP status, message) of the errors these actions can give on this account, whose
/// gates (region, whitelist, KMS open and enabled, role, key authorization) all pass.
type Refusal = (&'static str, u16, &'static str);
const ALREADY_ENABLED: Refusal = (
    "InvalidOperation.DefaultEncryptionAlreadyEnabled",
    403,
    "The specified region is already default encryption settings.",
);
const NOT_CONFIGURED: Refusal = (
    "InvalidDefaultEncryption.NotFound",
    403,
    "You have not configured default encryption setting in this region.",
);
const CMK_NOT_ENABLED: Refusal = (
    "InvalidParameter.KMSKeyId.CMKNotEnabled",
    400,
    "The CMK needs to be enabled.",
);

/// One request a client makes; `usize` is an index into `KEYS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Enable,
    Disable,
    Modify(usize),
    /// `ModifyDiskDefaultKMSKeyId` naming the service key by its alias.
    ModifyToServiceKey,
    Reset,
    EnableKey(usize),
    DisableKey(usize),
    DescribeStatus,
    DescribeKmsKeyId,
    DescribeKey(usize),
}

impl Op {
    fn random(rng: &mut StdRng) -> Op {
        let key = rng.random_range(0..KEYS.len());
        match rng.random_range(0..100) {
            0..12 => Op::Enable,
            12..19 => Op::Disable,
            19..33 => Op::Modify(key),
            33..36 => Op::ModifyToServiceKey,
            36..41 => Op::Reset,
            41..51 => Op::EnableKey(key),
            51..58 => Op::DisableKey(key),
            58..72 => Op::DescribeStatus,
            72..90 => Op::DescribeKmsKeyId,
            _ => Op::DescribeKey(key),
        }
    }

    fn action(self) -> &'static str {
        match self {
            Op::Enable => "EnableDiskEncryptionByDefault",
            Op::Disable => "DisableDiskEncryptionByDefault",
            Op::Modify(_) | Op::ModifyToServiceKey => "ModifyDiskDefaultKMSKeyId",
            Op::Reset => "ResetDiskDefaultKMSKeyId",
            Op::EnableKey(_) => "EnableKey",
            Op::DisableKey(_) => "DisableKey",
            Op::DescribeStatus => "DescribeDiskEncryptionByDefaultStatus",
            Op::DescribeKmsKeyId => "DescribeDiskDefaultKMSKeyId",
            Op::DescribeKey(_) => "DescribeKey",
        }
    }

    fn is_kms(self) -> bool {
        matches!(
            self,
            Op::EnableKey(_) | Op::DisableKey(_) | Op::DescribeKey(_)
        )
    }

    /// The parameter naming a key, if any.
    fn key_param(self) -> Option<(&'static str, &'static str)> {
        match self {
            Op::Modify(i) => Some(("KMSKeyId", KEYS[i])),
            Op::ModifyToServiceKey => Some(("KMSKeyId", SERVICE_KEY_ALIAS)),
            Op::EnableKey(i) | Op::DisableKey(i) | Op::DescribeKey(i) => Some(("KeyId", KEYS[i])),
            _ => None,
        }
    }

    /// The errors the action can give here (`disk_encryption.rs`: F1/F2, then K3).
    fn allowed_refusals(self) -> &'static [Refusal] {
        match self {
            Op::Enable => &[ALREADY_ENABLED, CMK_NOT_ENABLED],
            Op::Modify(_) => &[NOT_CONFIGURED, CMK_NOT_ENABLED],
            Op::Disable | Op::ModifyToServiceKey | Op::Reset => &[NOT_CONFIGURED],
            _ => &[],
        }
    }

    /// Whether a request with this answer may have changed the state: a write that was
    /// done, or the read that creates the service key on first need.
    fn may_write(self, outcome: &Outcome) -> bool {
        match self {
            Op::DescribeStatus | Op::DescribeKey(_) => false,
            Op::DescribeKmsKeyId => true,
            _ => *outcome == Outcome::Done,
        }
    }

    /// Sends the request through `router` (`Harness::send` holds a non-`Send` value across
    /// an await, so it cannot run in a spawned task).
    async fn send(self, router: ecs_emulator::app::Http) -> Answer {
        let version = if self.is_kms() {
            "2016-01-20"
        } else {
            "2014-05-26"
        };
        let mut uri = format!(
            "/?Version={version}&Action={}&Format=JSON&AccessKeyId={AK}&RegionId={REGION}",
            self.action()
        );
        if let Some((name, value)) = self.key_param() {
            uri.push_str(&format!("&{name}={}", encode(value)));
        }
        let response = router
            .oneshot(request(Method::GET, &uri, Body::empty()))
            .await
            .expect("infallible");
        let (parts, body) = response.into_parts();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|v| v.to_str().expect("ASCII").to_owned())
                .unwrap_or_default()
        };
        let (content_type, request_id_header) =
            (header("content-type"), header("x-acs-request-id"));
        let status = parts.status;
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("a body");
        Answer {
            status,
            content_type,
            request_id_header,
            text: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        }
    }
}

/// What an answer said.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done,
    Encrypted(bool),
    KmsKeyId(String),
    KeyState(String),
    Refused(&'static str),
}

/// Checks that `answer` is well-formed and in the documented set for `op`; what it said.
#[track_caller]
fn read_answer(op: Op, answer: &Answer) -> Outcome {
    let context = || format!("{op:?} answered {} {}", answer.status, answer.text);
    assert!(!answer.status.is_server_error(), "5xx: {}", context());
    assert!(
        answer.content_type.starts_with("application/json"),
        "content type {:?}: {}",
        answer.content_type,
        context()
    );
    let body: Value = serde_json::from_str(&answer.text)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", context()));
    let request_id = body["RequestId"].as_str().unwrap_or_default();
    assert_eq!(request_id.len(), 36, "RequestId: {}", context());
    assert_eq!(
        request_id,
        answer.request_id_header,
        "RequestId and x-acs-request-id differ: {}",
        context()
    );
    if answer.status != StatusCode::OK {
        let code = body["Code"].as_str().unwrap_or_default();
        let refusal = op
            .allowed_refusals()
            .iter()
            .find(|(c, _, _)| *c == code)
            .unwrap_or_else(|| panic!("an error outside the documented set: {}", context()));
        assert_eq!(
            (answer.status.as_u16(), body["Message"].as_str()),
            (refusal.1, Some(refusal.2)),
            "status or message: {}",
            context()
        );
        return Outcome::Refused(refusal.0);
    }
    assert!(
        body.get("Code").is_none(),
        "a success with Code: {}",
        context()
    );
    let fields = body.as_object().expect("an object").len();
    let (outcome, expected_fields) = match op {
        Op::DescribeStatus => (body["Encrypted"].as_bool().map(Outcome::Encrypted), 2),
        Op::DescribeKmsKeyId => (
            body["KMSKeyId"]
                .as_str()
                .map(|id| Outcome::KmsKeyId(id.to_owned())),
            2,
        ),
        Op::DescribeKey(i) => {
            let metadata = &body["KeyMetadata"];
            assert_eq!(metadata["KeyId"], KEYS[i], "{}", context());
            let state = metadata["KeyState"].as_str();
            (state.map(|s| Outcome::KeyState(s.to_owned())), 2)
        }
        _ => (Some(Outcome::Done), 1),
    };
    assert_eq!(fields, expected_fields, "unexpected fields: {}", context());
    outcome.unwrap_or_else(|| panic!("missing or mistyped field: {}", context()))
}

/// One request as a client saw it; `start`/`end` are ticks of one clock shared by all
/// clients, taken before sending and after the answer.
#[derive(Debug)]
struct Record {
    client: usize,
    op: Op,
    request_id: String,
    outcome: Outcome,
    start: u64,
    end: u64,
}

async fn call(
    router: &ecs_emulator::app::Http,
    clock: &AtomicU64,
    client: usize,
    op: Op,
) -> Record {
    let start = clock.fetch_add(1, Ordering::SeqCst);
    let answer = op.send(router.clone()).await;
    let end = clock.fetch_add(1, Ordering::SeqCst);
    Record {
        client,
        op,
        outcome: read_answer(op, &answer),
        request_id: answer.request_id_header,
        start,
        end,
    }
}

/// The key the feature uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRef {
    Mine(usize),
    Service,
}

/// The state these actions read and write (`ecs-default-encryption.md`, `kms.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Model {
    encryption_enabled: bool,
    /// `defaultEncryption.kmsKeyId`; `None`: the service key.
    configured: Option<KeyRef>,
    key_enabled: [bool; KEYS.len()],
    /// The service key is created on first need (by Enable, Reset, Modify to its alias, or
    /// Describe…KMSKeyId with no key configured).
    service_key_exists: bool,
}

/// The answer the model predicts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Done,
    Encrypted(bool),
    KeyId(KeyRef),
    KeyState(&'static str),
    Refused(&'static str),
}

impl Model {
    fn initial() -> Self {
        Self {
            encryption_enabled: false,
            configured: None,
            key_enabled: [true; KEYS.len()],
            service_key_exists: false,
        }
    }

    fn service_key(&mut self) -> KeyRef {
        self.service_key_exists = true;
        KeyRef::Service
    }

    /// The configured key, else the service key.
    fn effective_key(&mut self) -> KeyRef {
        match self.configured {
            Some(key) => key,
            None => self.service_key(),
        }
    }

    /// K3 (the service key is always Enabled).
    fn usable(&self, key: KeyRef) -> bool {
        match key {
            KeyRef::Mine(i) => self.key_enabled[i],
            KeyRef::Service => true,
        }
    }

    /// The answer to `op` in this state, which becomes the state after it.
    fn apply(&mut self, op: Op) -> Expect {
        let refused = |(code, _, _): Refusal| Expect::Refused(code);
        match op {
            Op::DescribeStatus => Expect::Encrypted(self.encryption_enabled),
            // Also while the feature is off; creates the service key if need be.
            Op::DescribeKmsKeyId => Expect::KeyId(self.effective_key()),
            Op::DescribeKey(i) => Expect::KeyState(match self.key_enabled[i] {
                true => "Enabled",
                false => "Disabled",
            }),
            // F1, then K3 on the configured key, else the service key (created if need be).
            Op::Enable if self.encryption_enabled => refused(ALREADY_ENABLED),
            Op::Enable => {
                let key = self.effective_key();
                if !self.usable(key) {
                    return refused(CMK_NOT_ENABLED);
                }
                self.encryption_enabled = true;
                Expect::Done
            }
            // F2: the feature must be on.
            Op::Disable | Op::Modify(_) | Op::ModifyToServiceKey | Op::Reset
                if !self.encryption_enabled =>
            {
                refused(NOT_CONFIGURED)
            }
            Op::Disable => {
                self.encryption_enabled = false;
                Expect::Done
            }
            // K3 (K1 and K2 hold for every key here).
            Op::Modify(i) if !self.key_enabled[i] => refused(CMK_NOT_ENABLED),
            Op::Modify(i) => {
                self.configured = Some(KeyRef::Mine(i));
                Expect::Done
            }
            Op::ModifyToServiceKey => {
                self.configured = Some(self.service_key());
                Expect::Done
            }
            // Back to the service key, which it creates if need be.
            Op::Reset => {
                self.service_key();
                self.configured = None;
                Expect::Done
            }
            // Both are allowed from Enabled and Disabled, the only states here.
            Op::EnableKey(i) | Op::DisableKey(i) => {
                self.key_enabled[i] = op == Op::EnableKey(i);
                Expect::Done
            }
        }
    }
}

/// The model and the service key's id, learned from the first read that shows it.
#[derive(Debug, Clone)]
struct Replay {
    model: Model,
    service_key_id: Option<String>,
}

impl Replay {
    /// Applies `record`'s op; an error when its answer is not the model's.
    fn explain(&mut self, record: &Record) -> Result<(), String> {
        let expect = self.model.apply(record.op);
        let matches = match (&expect, &record.outcome) {
            (Expect::Done, Outcome::Done) => true,
            (Expect::Encrypted(a), Outcome::Encrypted(b)) => a == b,
            (Expect::KeyState(a), Outcome::KeyState(b)) => a == b,
            (Expect::Refused(a), Outcome::Refused(b)) => a == b,
            (Expect::KeyId(KeyRef::Mine(i)), Outcome::KmsKeyId(id)) => KEYS[*i] == id,
            (Expect::KeyId(KeyRef::Service), Outcome::KmsKeyId(id)) => match &self.service_key_id {
                Some(known) => known == id,
                None if KEYS.contains(&id.as_str()) => false,
                None => {
                    self.service_key_id = Some(id.clone());
                    true
                }
            },
            _ => false,
        };
        match matches {
            true => Ok(()),
            false => Err(format!(
                "{:?} (client {}, {}) answered {:?}, the model expected {expect:?}",
                record.op, record.client, record.request_id, record.outcome
            )),
        }
    }

    /// Applies `record`, which must leave the state as it was.
    fn explain_unchanged(&mut self, record: &Record) -> Result<(), String> {
        let before = self.model.clone();
        self.explain(record)?;
        match self.model == before {
            true => Ok(()),
            false => Err(format!(
                "{:?} (client {}, {}) changed the state without a stateSeq of its own",
                record.op, record.client, record.request_id
            )),
        }
    }
}

/// Orders the records as the journal's `stateSeq` says and checks every answer against the
/// model along that order. `seqs[i]` is record i's `stateSeq`. Answers the order (indices
/// into `records`), the final replay, and how many requests changed the modelled state.
///
/// The counts of the requests that changed state are 1, 2, … in the order they were
/// applied; a request that changed nothing has the count of the last change it saw. So each
/// count but 0 is one group: exactly one request that made the count (it may have changed
/// the modelled state or, by the store's own accounting, not), then requests that saw its
/// result and changed nothing. Which one of a group made the count is found by trying.
fn replay(records: &[Record], seqs: &[u64]) -> Result<(Vec<usize>, Replay, usize), String> {
    let mut groups: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, &seq) in seqs.iter().enumerate() {
        groups.entry(seq).or_default().push(i);
    }
    let counts: Vec<u64> = groups.keys().copied().collect();
    let first = counts[0];
    if first > 1
        || counts
            .iter()
            .zip(first..)
            .any(|(&c, expected)| c != expected)
    {
        return Err(format!(
            "the stateSeq values are not 0 or 1, 2, … without gaps: {counts:?}"
        ));
    }
    let mut state = Replay {
        model: Model::initial(),
        service_key_id: None,
    };
    let mut order = Vec::with_capacity(records.len());
    let mut changes = 0;
    for (seq, mut group) in groups {
        group.sort_by_key(|&i| records[i].start);
        if seq == 0 {
            for &i in &group {
                state.explain_unchanged(&records[i])?;
            }
            order.extend(group);
            continue;
        }
        let candidates = group
            .iter()
            .filter(|&&i| records[i].op.may_write(&records[i].outcome));
        let mut failures = Vec::new();
        let mut found = None;
        for &maker in candidates {
            let mut trial = state.clone();
            let result = trial.explain(&records[maker]).and_then(|()| {
                let changed = trial.model != state.model;
                for &i in group.iter().filter(|&&i| i != maker) {
                    trial.explain_unchanged(&records[i])?;
                }
                Ok(changed)
            });
            match result {
                Ok(changed) => {
                    found = Some((maker, trial, changed));
                    break;
                }
                Err(why) if !failures.contains(&why) => failures.push(why),
                Err(_) => {}
            }
        }
        let Some((maker, trial, changed)) = found else {
            let group: Vec<_> = group
                .iter()
                .map(|&i| (records[i].op, &records[i].outcome))
                .collect();
            return Err(format!(
                "no serial order explains stateSeq {seq} from {:?}; the group: {group:?}; \
                 tried: {failures:?}",
                state.model
            ));
        };
        state = trial;
        changes += usize::from(changed);
        order.push(maker);
        order.extend(group.into_iter().filter(|&i| i != maker));
    }
    Ok((order, state, changes))
}

/// Checks that the serial order respects real time: when `a` finished before `b` started,
/// `a` comes first.
fn check_real_time(records: &[Record], order: &[usize]) {
    let mut position = vec![0; records.len()];
    for (p, &i) in order.iter().enumerate() {
        position[i] = p;
    }
    let mut by_end: Vec<usize> = (0..records.len()).collect();
    by_end.sort_by_key(|&i| records[i].end);
    // For each prefix of `by_end`, the record placed latest in the order.
    let mut latest = Vec::with_capacity(by_end.len());
    for &i in &by_end {
        let previous = latest.last().copied();
        latest.push(match previous {
            Some(p) if position[p] > position[i] => p,
            _ => i,
        });
    }
    for (b, record) in records.iter().enumerate() {
        let finished_before = by_end.partition_point(|&i| records[i].end < record.start);
        if finished_before > 0 {
            let a = latest[finished_before - 1];
            assert!(
                position[a] < position[b],
                "{:?} (client {}) finished before {:?} (client {}) started, yet the journal \
                 orders it after",
                records[a].op,
                records[a].client,
                record.op,
                record.client
            );
        }
    }
}

/// How concurrent the run was: how many requests overlapped another in time, and the most
/// in flight at once.
fn overlap(records: &[Record]) -> (usize, usize) {
    let mut starts: Vec<u64> = records.iter().map(|r| r.start).collect();
    let mut ends: Vec<u64> = records.iter().map(|r| r.end).collect();
    starts.sort_unstable();
    ends.sort_unstable();
    let overlapping = records
        .iter()
        .filter(|r| {
            let started_before_end = starts.partition_point(|&t| t < r.end);
            let ended_before_start = ends.partition_point(|&t| t < r.start);
            started_before_end - ended_before_start > 1
        })
        .count();
    let most_in_flight = starts
        .iter()
        .map(|&t| starts.partition_point(|&s| s <= t) - ends.partition_point(|&e| e < t))
        .max()
        .unwrap_or(0);
    (overlapping, most_in_flight)
}

fn document() -> String {
    let keys: Vec<Value> = KEYS
        .iter()
        .map(|id| json!({"keyId": id, "regionId": REGION, "keyState": "Enabled", "ecsAuthorized": true}))
        .collect();
    json!({
        "regions": [{"regionId": REGION, "defaultEncryptionSupported": true}],
        "accounts": [{
            "accountId": ACCOUNT,
            "accessKeys": [{"accessKeyId": AK, "accessKeySecret": "secret"}],
            "kmsKeys": keys,
        }],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_readers_are_explained_by_a_serial_order() {
    let seed = std::env::var("CONCURRENCY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("CONCURRENCY_SEED={seed}");
    let settings = Settings {
        auth: AuthMode::Off,
        journal_capacity: 100_000,
        ..Settings::default()
    };
    let harness = Harness::with_settings(&document(), settings);
    let clock = Arc::new(AtomicU64::new(0));

    let clients: Vec<_> = (0..TASKS)
        .map(|client| {
            let (router, clock) = (harness.router(), clock.clone());
            let mut rng = StdRng::seed_from_u64(seed ^ (client as u64).wrapping_mul(0x9E37_79B9));
            tokio::spawn(async move {
                let mut records = Vec::with_capacity(OPS_PER_TASK);
                for _ in 0..OPS_PER_TASK {
                    let op = Op::random(&mut rng);
                    records.push(call(&router, &clock, client, op).await);
                    if rng.random_bool(0.3) {
                        tokio::task::yield_now().await;
                    }
                }
                records
            })
        })
        .collect();
    let mut records = Vec::new();
    for client in clients {
        records.extend(client.await.expect("a client panicked (see above)"));
    }
    // The final state, read once everyone is done.
    let mut finals = vec![Op::DescribeStatus, Op::DescribeKmsKeyId];
    finals.extend((0..KEYS.len()).map(Op::DescribeKey));
    for op in finals {
        records.push(call(&harness.router(), &clock, TASKS, op).await);
    }

    // Match the journal to the answers.
    let (status, journal) = harness
        .admin(Method::GET, "/_emulator/requests", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let entries: HashMap<&str, &Value> = journal["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|e| (e["requestId"].as_str().expect("requestId"), e))
        .collect();
    assert_eq!(
        entries.len(),
        records.len(),
        "one journal entry per request"
    );
    let seqs: Vec<u64> = records
        .iter()
        .map(|record| {
            let entry = entries
                .get(record.request_id.as_str())
                .unwrap_or_else(|| panic!("{} is not in the journal", record.request_id));
            let code = match record.outcome {
                Outcome::Refused(code) => Value::from(code),
                _ => Value::Null,
            };
            let named_key = record
                .op
                .key_param()
                .map(|(name, _)| &entry["params"][name]);
            assert_eq!(
                (
                    &entry["action"],
                    &entry["accessKeyId"],
                    &entry["code"],
                    named_key
                ),
                (
                    &json!(record.op.action()),
                    &json!(AK),
                    &code,
                    record
                        .op
                        .key_param()
                        .map(|(_, value)| json!(value))
                        .as_ref()
                ),
                "journal entry of {record:?}: {entry}"
            );
            entry["stateSeq"]
                .as_u64()
                .unwrap_or_else(|| panic!("no stateSeq for {record:?}: {entry}"))
        })
        .collect();

    let (order, state, changes) = replay(&records, &seqs).unwrap_or_else(|why| panic!("{why}"));
    check_real_time(&records, &order);

    // The final reads are last in the order, so they saw the model's final state; the
    // state document agrees.
    let model = &state.model;
    let (status, dump) = harness.admin(Method::GET, "/_emulator/state", None).await;
    assert_eq!(status, StatusCode::OK);
    let account = &dump["accounts"][0];
    let setting = &account["regionSettings"][REGION]["defaultEncryption"];
    let configured = match model.configured {
        None => Value::Null,
        Some(KeyRef::Mine(i)) => json!(KEYS[i]),
        Some(KeyRef::Service) => json!(state.service_key_id.as_deref().expect("seen")),
    };
    assert_eq!(
        (&setting["enabled"], &setting["kmsKeyId"]),
        (&json!(model.encryption_enabled), &configured),
        "final setting: {setting}, model: {model:?}"
    );
    let keys = account["kmsKeys"].as_array().expect("kmsKeys");
    for (i, id) in KEYS.iter().enumerate() {
        let key = keys.iter().find(|k| k["keyId"] == *id).expect("key kept");
        let expected = if model.key_enabled[i] {
            "Enabled"
        } else {
            "Disabled"
        };
        assert_eq!(key["keyState"], expected, "final state of {id}");
    }
    let service_keys: Vec<&Value> = keys.iter().filter(|k| k["creator"] == "Ecs").collect();
    assert_eq!(
        service_keys.len(),
        usize::from(model.service_key_exists),
        "service keys: {service_keys:?}"
    );
    if let (Some(key), Some(id)) = (service_keys.first(), &state.service_key_id) {
        assert_eq!(key["keyId"], json!(id));
        assert_eq!(key["aliases"], json!([SERVICE_KEY_ALIAS]));
    }
    assert_eq!(keys.len(), KEYS.len() + service_keys.len(), "no other key");

    // The run exercised the interesting outcomes.
    let mut seen: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for record in &records {
        let outcome = match &record.outcome {
            Outcome::Refused(code) => code.to_string(),
            Outcome::Done => "ok".to_owned(),
            _ => "read".to_owned(),
        };
        *seen.entry((record.op.action(), outcome)).or_default() += 1;
    }
    let max_seq = seqs.iter().max().copied().unwrap_or(0);
    let (overlapping, most_in_flight) = overlap(&records);
    println!(
        "{} requests from {TASKS} clients, {overlapping} overlapping another, at most \
         {most_in_flight} in flight; {max_seq} counted as changes by the store, {changes} \
         changed the modelled state; outcomes: {seen:?}",
        records.len()
    );
    for expected in [
        ("EnableDiskEncryptionByDefault", "ok"),
        ("EnableDiskEncryptionByDefault", ALREADY_ENABLED.0),
        ("EnableDiskEncryptionByDefault", CMK_NOT_ENABLED.0),
        ("DisableDiskEncryptionByDefault", "ok"),
        ("DisableDiskEncryptionByDefault", NOT_CONFIGURED.0),
        ("ModifyDiskDefaultKMSKeyId", "ok"),
        ("ModifyDiskDefaultKMSKeyId", NOT_CONFIGURED.0),
        ("ModifyDiskDefaultKMSKeyId", CMK_NOT_ENABLED.0),
        ("ResetDiskDefaultKMSKeyId", "ok"),
    ] {
        assert!(
            seen.contains_key(&(expected.0, expected.1.to_owned())),
            "the run never saw {expected:?}: {seen:?}"
        );
    }
}
