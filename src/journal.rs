//! The request journal (`control-plane.md` §4): a bounded ring of the RPC requests received,
//! newest last, with what a test needs to assert on them — including the parameters the
//! action never read, and secrets redacted.

use crate::actions::Action;
use crate::striped::{Padded, Striped, lock};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Parameters whose values never appear in the journal.
const REDACTED: &[&str] = &["Signature", "SecurityToken"];

/// A request as the pipeline hands it to the journal: borrowed, and packed on push.
#[derive(Debug)]
pub struct Record<'a> {
    pub facts: Facts,
    pub request_id: &'a str,
    pub method: &'a str,
    pub access_key_id: Option<&'a str>,
    pub account_id: Option<&'a str>,
    /// `root`, or the RAM user's name.
    pub principal: Option<&'a str>,
    /// The decoded parameters, and which ones the action read; `None`: not decoded.
    pub params: Option<&'a crate::protocol::Params>,
    /// The server's string to sign, when one was computed.
    pub string_to_sign: Option<&'a str>,
    pub fault_id: Option<&'a str>,
    pub code: Option<&'a str>,
}

/// What an entry holds besides its strings; the ring keeps these as they are.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub received_at: SystemTime,
    pub product: Option<&'static str>,
    pub version: Option<&'static str>,
    pub action: Option<Action>,
    /// `V2`, `V3` or `V4`.
    pub scheme: &'static str,
    /// `ok`, `mismatch` or `skipped` (not checked: `--auth off`, or refused before).
    pub verdict: &'static str,
    /// The store's change count the action's transaction saw, under the account's lock: a
    /// request that changed state has its own, in the order changes were applied; one that
    /// did not saw exactly the account's changes up to its count. `None`: no transaction ran.
    pub state_seq: Option<u64>,
    pub http_status: u16,
    pub latency_micros: u64,
}

/// One journaled request, as a query answers it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub request_id: String,
    /// Formatted only when the journal is read.
    #[serde(serialize_with = "rfc3339")]
    pub received_at: SystemTime,
    pub method: String,
    pub product: Option<&'static str>,
    pub version: Option<&'static str>,
    #[serde(serialize_with = "action_name")]
    pub action: Option<Action>,
    pub access_key_id: Option<String>,
    pub account_id: Option<String>,
    /// `root`, or the RAM user's name.
    pub principal: Option<String>,
    pub params: Params,
    pub unread_params: Vec<String>,
    pub signature: SignatureReport,
    pub fault_id: Option<String>,
    /// As `Facts::state_seq`.
    pub state_seq: Option<u64>,
    pub http_status: u16,
    pub code: Option<String>,
    pub latency_micros: u64,
}

/// How the request's signature was judged.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    /// `V2`, `V3` or `V4`.
    pub scheme: &'static str,
    /// `ok`, `mismatch` or `skipped` (not checked: `--auth off`, or refused before).
    pub verdict: &'static str,
    /// The server's string to sign, when one was computed.
    pub string_to_sign: Option<String>,
}

/// The decoded parameters, sorted by name, secret values replaced by `***`; a JSON object.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// An entry as the ring holds it: its facts inline, all its strings in one block — a dozen
/// heap blocks per entry before, a thousand entries held, and a dozen cold blocks freed at
/// every eviction. Measured (BENCHMARKS.md): the full journal costs ~2% of the signed call's
/// throughput, and the soak's memory is flat and lower than with the dozen blocks.
struct Packed {
    number: u64,
    facts: Facts,
    /// The strings of `Record`, in its order, then the parameters (`Text`).
    text: Box<[u8]>,
}

/// Where `Record`'s strings go: a count of their bytes, or the block itself.
///
/// Each string is a LEB128 length, plus one (`0`: absent), then its bytes; the parameters
/// are their count, then for each a read flag, the name and the value, redacted.
trait Text {
    fn byte(&mut self, byte: u8);
    fn bytes(&mut self, bytes: &[u8]);

    fn number(&mut self, mut n: usize) {
        while n >= 0x80 {
            self.byte((n as u8) | 0x80);
            n >>= 7;
        }
        self.byte(n as u8);
    }

    fn text(&mut self, text: Option<&str>) {
        match text {
            None => self.number(0),
            Some(text) => {
                self.number(text.len() + 1);
                self.bytes(text.as_bytes());
            }
        }
    }

    fn record(&mut self, record: &Record<'_>) {
        for text in [
            Some(record.request_id),
            Some(record.method),
            record.access_key_id,
            record.account_id,
            record.principal,
            record.string_to_sign,
            record.fault_id,
            record.code,
        ] {
            self.text(text);
        }
        let Some(params) = record.params else {
            return self.number(0);
        };
        self.number(params.each().count());
        for (name, value, read) in params.each() {
            self.byte(u8::from(read));
            self.text(Some(name));
            self.text(Some(if REDACTED.contains(&name) {
                "***"
            } else {
                value
            }));
        }
    }
}

/// Counts the bytes a record packs to.
struct Length(usize);

impl Text for Length {
    fn byte(&mut self, _: u8) {
        self.0 += 1;
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

impl Text for Vec<u8> {
    fn byte(&mut self, byte: u8) {
        self.push(byte);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Reads a packed block back, in the order `Text::record` wrote it.
struct Unpack<'a>(&'a [u8]);

impl<'a> Unpack<'a> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    fn number(&mut self) -> usize {
        let mut n = 0;
        for shift in (0..usize::BITS).step_by(7) {
            let byte = self.byte();
            n |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                break;
            }
        }
        n
    }

    /// The next string's bytes, in place.
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let length = self.number().checked_sub(1)?;
        let (text, rest) = self.0.split_at(length.min(self.0.len()));
        self.0 = rest;
        Some(text)
    }

    /// The next string, in place (it was written from a `&str`, so it is UTF-8).
    fn str(&mut self) -> Option<&'a str> {
        self.bytes()
            .map(|text| std::str::from_utf8(text).unwrap_or_default())
    }

    fn text(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }
}

impl Packed {
    fn new(number: u64, record: &Record<'_>) -> Self {
        let mut length = Length(0);
        length.record(record);
        // Exactly the length: the boxed slice keeps the one allocation.
        let mut text = Vec::with_capacity(length.0);
        text.record(record);
        Self {
            number,
            facts: record.facts,
            text: text.into_boxed_slice(),
        }
    }

    /// The AccessKeyId and error code (the 3rd and 8th strings), read in place: a query
    /// filters on them before it unpacks what it answers.
    fn key_and_code(&self) -> (Option<&[u8]>, Option<&[u8]>) {
        let mut text = Unpack(&self.text);
        let mut strings = [None; 8];
        for string in &mut strings {
            *string = text.bytes();
        }
        (strings[2], strings[7])
    }

    fn unpack(&self) -> Entry {
        let mut text = Unpack(&self.text);
        let request_id = text.text().unwrap_or_default();
        let method = text.text().unwrap_or_default();
        let access_key_id = text.text();
        let account_id = text.text();
        let principal = text.text();
        let string_to_sign = text.text();
        let fault_id = text.text();
        let code = text.text();
        let count = text.number();
        let mut params = Vec::with_capacity(count.min(text.0.len()));
        let mut unread_params = Vec::new();
        for _ in 0..count {
            let read = text.byte() != 0;
            let name = text.text().unwrap_or_default();
            let value = text.text().unwrap_or_default();
            if !read {
                unread_params.push(name.clone());
            }
            params.push((name, value));
        }
        let facts = self.facts;
        Entry {
            request_id,
            received_at: facts.received_at,
            method,
            product: facts.product,
            version: facts.version,
            action: facts.action,
            access_key_id,
            account_id,
            principal,
            params: Params(params),
            unread_params,
            signature: SignatureReport {
                scheme: facts.scheme,
                verdict: facts.verdict,
                string_to_sign,
            },
            fault_id,
            state_seq: facts.state_seq,
            http_status: facts.http_status,
            code,
            latency_micros: facts.latency_micros,
        }
    }
}

fn action_name<S: Serializer>(action: &Option<Action>, serializer: S) -> Result<S::Ok, S::Error> {
    action.map(Action::wire_name).serialize(serializer)
}

fn rfc3339<S: Serializer>(at: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::ids::date_text((*at).into()))
}

/// `string_to_sign` with a security token's value hidden: V2 signs every parameter, so the
/// token is there, percent-encoded twice.
pub fn without_token(string_to_sign: &str, token: &str) -> String {
    use crate::protocol::signature::percent_encode;
    if token.is_empty() {
        return string_to_sign.to_owned();
    }
    let once = percent_encode(token);
    let twice = percent_encode(&once);
    string_to_sign
        .replace(&twice, "***")
        .replace(&once, "***")
        .replace(token, "***")
}

/// What `GET /_emulator/requests` may filter on.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Query {
    pub action: Option<String>,
    pub access_key_id: Option<String>,
    pub code: Option<String>,
    /// The newest `limit` matching entries.
    pub limit: Option<usize>,
}

/// The ring, striped (`striped`): each serving thread pushes to a ring of its own, so a push
/// touches no memory another core wrote last, and the entries a thread forgets are freed by
/// the thread that allocated them. A push takes the next number of one shared count; a ring
/// forgets its entries once `capacity` newer ones were pushed anywhere, and a query merges
/// the rings by number: the last `capacity` requests, in the order their pushes were counted.
pub struct Journal {
    capacity: usize,
    /// Entries pushed so far: the next entry's number.
    pushed: Padded<AtomicU64>,
    rings: Striped<Mutex<VecDeque<Packed>>>,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            pushed: Padded(AtomicU64::new(0)),
            rings: Striped::new(|| Mutex::new(VecDeque::new())),
        }
    }

    /// Records a request, forgetting what is past the capacity.
    pub fn push(&self, record: &Record<'_>) {
        if self.capacity == 0 {
            return;
        }
        let number = self.pushed.fetch_add(1, Ordering::Relaxed);
        let packed = Packed::new(number, record);
        // Only this thread and queries take this lock: forgotten entries are freed under it.
        let mut ring = lock(self.rings.local());
        ring.push_back(packed);
        while ring
            .front()
            .is_some_and(|oldest| oldest.number + (self.capacity as u64) <= number)
        {
            ring.pop_front();
        }
    }

    /// The matching entries, oldest first. `code` `ok` matches successes.
    pub fn query(&self, query: &Query) -> Vec<Entry> {
        let rings: Vec<_> = self.rings.iter().map(lock).collect();
        // Entries a ring has not forgotten yet because it was not pushed to since.
        let first = self
            .pushed
            .load(Ordering::Relaxed)
            .saturating_sub(self.capacity as u64);
        let mut packed: Vec<&Packed> = rings
            .iter()
            .flat_map(|ring| ring.iter())
            .filter(|entry| entry.number >= first)
            .filter(|entry| {
                query
                    .action
                    .as_ref()
                    .is_none_or(|a| entry.facts.action.map(Action::wire_name) == Some(a.as_str()))
            })
            .collect();
        packed.sort_unstable_by_key(|entry| entry.number);
        if query.access_key_id.is_some() || query.code.is_some() {
            packed.retain(|entry| {
                let (access_key_id, code) = entry.key_and_code();
                let key_matches = query
                    .access_key_id
                    .as_deref()
                    .is_none_or(|k| access_key_id == Some(k.as_bytes()));
                let code_matches = match query.code.as_deref() {
                    None => true,
                    Some("ok") => code.is_none(),
                    Some(wanted) => code == Some(wanted.as_bytes()),
                };
                key_matches && code_matches
            });
        }
        // Only what is answered is unpacked.
        let skip = query
            .limit
            .map_or(0, |limit| packed.len().saturating_sub(limit));
        packed.into_iter().skip(skip).map(Packed::unpack).collect()
    }

    pub fn clear(&self) {
        for ring in self.rings.iter() {
            lock(ring).clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FACTS: Facts = Facts {
        received_at: SystemTime::UNIX_EPOCH,
        product: None,
        version: None,
        action: None,
        scheme: "V3",
        verdict: "skipped",
        state_seq: None,
        http_status: 200,
        latency_micros: 0,
    };

    fn record(request_id: &str) -> Record<'_> {
        Record {
            facts: FACTS,
            request_id,
            method: "GET",
            access_key_id: None,
            account_id: None,
            principal: None,
            params: None,
            string_to_sign: None,
            fault_id: None,
            code: None,
        }
    }

    /// The request ids a query answers.
    fn ids(journal: &Journal, query: Query) -> Vec<String> {
        journal
            .query(&query)
            .into_iter()
            .map(|e| e.request_id)
            .collect()
    }

    fn newest(limit: usize) -> Query {
        Query {
            limit: Some(limit),
            ..Query::default()
        }
    }

    /// Pushes from several threads (several rings) come back as one journal: the last
    /// `capacity`, in push order, whichever ring holds them.
    #[test]
    fn rings_of_several_threads_read_as_one_journal() {
        let journal = Journal::new(5);
        for round in 0..4 {
            std::thread::scope(|scope| {
                scope.spawn(|| journal.push(&record(&format!("{round}-a"))));
            });
            std::thread::scope(|scope| {
                scope.spawn(|| journal.push(&record(&format!("{round}-b"))));
            });
        }
        assert_eq!(
            ids(&journal, Query::default()),
            ["1-b", "2-a", "2-b", "3-a", "3-b"]
        );
        assert_eq!(ids(&journal, newest(2)), ["3-a", "3-b"]);
        // One thread's ring alone holds no more than the capacity either.
        for i in 0..7 {
            journal.push(&record(&format!("main-{i}")));
        }
        assert_eq!(
            ids(&journal, Query::default()),
            ["main-2", "main-3", "main-4", "main-5", "main-6"]
        );
        let held: usize = journal.rings.iter().map(|ring| lock(ring).len()).sum();
        assert!(held <= 5 + 4 * 2, "{held}");
        journal.clear();
        assert!(ids(&journal, Query::default()).is_empty());
        assert!(ids(&Journal::new(0), Query::default()).is_empty());
    }

    /// What goes into the one block comes out whole: absent and empty strings apart, lengths
    /// of one, two and three LEB128 bytes, any text, read flags, secrets hidden.
    #[test]
    fn an_entry_unpacks_to_what_was_pushed() {
        let long = "x".repeat(200);
        let longer = "数".repeat(7000);
        let params = crate::protocol::Params::merge(
            [
                ("Signature", "c2VjcmV0"),
                ("Long", long.as_str()),
                ("SecurityToken", "token"),
                ("Empty", ""),
                ("Zh", longer.as_str()),
            ]
            .map(|(name, value)| (name.to_owned(), value.to_owned())),
        )
        .expect("valid parameters");
        params.mark_read(&["Long", "Signature"]);
        let facts = Facts {
            received_at: SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_234_567),
            product: Some("Ecs"),
            version: Some("2014-05-26"),
            action: Some(Action::ModifyDiskDefaultKmsKeyId),
            scheme: "V2",
            verdict: "mismatch",
            state_seq: Some(u64::MAX),
            http_status: 400,
            latency_micros: 77,
        };
        let pushed = Record {
            facts,
            request_id: "0F1E2D3C-ABCD",
            method: "POST",
            access_key_id: Some(""),
            account_id: Some("1234567890"),
            principal: Some("alice"),
            params: Some(&params),
            string_to_sign: Some(&long),
            fault_id: None,
            code: Some("SignatureDoesNotMatch"),
        };
        let journal = Journal::new(3);
        journal.push(&pushed);
        journal.push(&record("next"));
        let entries = journal.query(&Query::default());
        let json = serde_json::to_value(&entries).expect("serializable");
        let expected = serde_json::json!([
            {
                "requestId": "0F1E2D3C-ABCD",
                "receivedAt": crate::ids::date_text(facts.received_at.into()),
                "method": "POST",
                "product": "Ecs",
                "version": "2014-05-26",
                "action": "ModifyDiskDefaultKMSKeyId",
                "accessKeyId": "",
                "accountId": "1234567890",
                "principal": "alice",
                "params": {
                    "Empty": "",
                    "Long": long,
                    "SecurityToken": "***",
                    "Signature": "***",
                    "Zh": longer,
                },
                "unreadParams": ["Empty", "SecurityToken", "Zh"],
                "signature": { "scheme": "V2", "verdict": "mismatch", "stringToSign": long },
                "faultId": null,
                "stateSeq": u64::MAX,
                "httpStatus": 400,
                "code": "SignatureDoesNotMatch",
                "latencyMicros": 77,
            },
            {
                "requestId": "next",
                "receivedAt": crate::ids::date_text(SystemTime::UNIX_EPOCH.into()),
                "method": "GET",
                "product": null,
                "version": null,
                "action": null,
                "accessKeyId": null,
                "accountId": null,
                "principal": null,
                "params": {},
                "unreadParams": [],
                "signature": { "scheme": "V3", "verdict": "skipped", "stringToSign": null },
                "faultId": null,
                "stateSeq": null,
                "httpStatus": 200,
                "code": null,
                "latencyMicros": 0,
            },
        ]);
        assert_eq!(json, expected);
        // Filters: by action (on the facts), by key and code (in place), then the newest.
        let filter = |action: &str, access_key_id: Option<&str>, code: &str| Query {
            action: Some(action.to_owned()).filter(|a| !a.is_empty()),
            access_key_id: access_key_id.map(str::to_owned),
            code: Some(code.to_owned()).filter(|c| !c.is_empty()),
            limit: None,
        };
        let first = "0F1E2D3C-ABCD";
        for (query, expected) in [
            (filter("ModifyDiskDefaultKMSKeyId", None, ""), first),
            (filter("", Some(""), ""), first),
            (filter("", None, "ok"), "next"),
            (filter("", None, "SignatureDoesNotMatch"), first),
            (newest(1), "next"),
        ] {
            assert_eq!(ids(&journal, query), [expected]);
        }
    }
}
