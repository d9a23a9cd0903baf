//! The request journal (`control-plane.md` §4): a bounded ring of the RPC requests received,
//! newest last, with what a test needs to assert on them — including the parameters the
//! action never read, and secrets redacted.

use crate::actions::Action;
use crate::striped::{Padded, Striped, lock};
use axum::http::Method;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Parameters whose values never appear in the journal.
const REDACTED: &[&str] = &["Signature", "SecurityToken"];

/// One journaled request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub request_id: String,
    /// Formatted only when the journal is read.
    #[serde(serialize_with = "rfc3339")]
    pub received_at: SystemTime,
    #[serde(serialize_with = "method_name")]
    pub method: Method,
    pub product: Option<&'static str>,
    pub version: Option<&'static str>,
    #[serde(serialize_with = "action_name")]
    pub action: Option<Action>,
    pub access_key_id: Option<String>,
    pub account_id: Option<String>,
    /// `root`, or the RAM user's name.
    pub principal: Option<std::borrow::Cow<'static, str>>,
    pub params: Params,
    pub unread_params: Vec<String>,
    pub signature: SignatureReport,
    pub fault_id: Option<String>,
    /// The store's change count the action's transaction saw, under the account's lock: a
    /// request that changed state has its own, in the order changes were applied; one that
    /// did not saw exactly the account's changes up to its count. `None`: no transaction ran.
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

impl Params {
    /// Takes the request's pairs (no copy) and hides the secrets.
    pub fn redacted(mut pairs: Vec<(String, String)>) -> Self {
        for (name, value) in &mut pairs {
            if REDACTED.contains(&name.as_str()) {
                *value = "***".to_owned();
            }
        }
        Self(pairs)
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

fn method_name<S: Serializer>(method: &Method, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.as_str())
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
    rings: Striped<Mutex<VecDeque<(u64, Entry)>>>,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            pushed: Padded(AtomicU64::new(0)),
            rings: Striped::new(|| Mutex::new(VecDeque::new())),
        }
    }

    /// Records an entry, forgetting what is past the capacity.
    pub fn push(&self, entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let number = self.pushed.fetch_add(1, Ordering::Relaxed);
        // Only this thread and queries take this lock: forgotten entries are freed under it.
        let mut ring = lock(self.rings.local());
        ring.push_back((number, entry));
        while ring
            .front()
            .is_some_and(|(oldest, _)| oldest + (self.capacity as u64) <= number)
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
        let mut entries: Vec<&(u64, Entry)> = rings
            .iter()
            .flat_map(|ring| ring.iter())
            .filter(|(number, _)| *number >= first)
            .collect();
        entries.sort_unstable_by_key(|(number, _)| *number);
        let matching: Vec<&Entry> = entries
            .into_iter()
            .map(|(_, entry)| entry)
            .filter(|e| {
                query
                    .action
                    .as_ref()
                    .is_none_or(|a| e.action.map(Action::wire_name) == Some(a.as_str()))
            })
            .filter(|e| {
                query
                    .access_key_id
                    .as_ref()
                    .is_none_or(|k| e.access_key_id.as_ref() == Some(k))
            })
            .filter(|e| match query.code.as_deref() {
                None => true,
                Some("ok") => e.code.is_none(),
                Some(code) => e.code.as_deref() == Some(code),
            })
            .collect();
        let skip = query
            .limit
            .map_or(0, |limit| matching.len().saturating_sub(limit));
        matching.into_iter().skip(skip).cloned().collect()
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

    fn entry(request_id: String) -> Entry {
        Entry {
            request_id,
            received_at: SystemTime::UNIX_EPOCH,
            method: Method::GET,
            product: None,
            version: None,
            action: None,
            access_key_id: None,
            account_id: None,
            principal: None,
            params: Params::default(),
            unread_params: Vec::new(),
            signature: SignatureReport::default(),
            fault_id: None,
            state_seq: None,
            http_status: 200,
            code: None,
            latency_micros: 0,
        }
    }

    fn ids(journal: &Journal, limit: Option<usize>) -> Vec<String> {
        let query = Query {
            limit,
            ..Query::default()
        };
        journal
            .query(&query)
            .into_iter()
            .map(|e| e.request_id)
            .collect()
    }

    /// Pushes from several threads (several rings) come back as one journal: the last
    /// `capacity`, in push order, whichever ring holds them.
    #[test]
    fn rings_of_several_threads_read_as_one_journal() {
        let journal = Journal::new(5);
        for round in 0..4 {
            std::thread::scope(|scope| {
                scope.spawn(|| journal.push(entry(format!("{round}-a"))));
            });
            std::thread::scope(|scope| {
                scope.spawn(|| journal.push(entry(format!("{round}-b"))));
            });
        }
        assert_eq!(ids(&journal, None), ["1-b", "2-a", "2-b", "3-a", "3-b"]);
        assert_eq!(ids(&journal, Some(2)), ["3-a", "3-b"]);
        // One thread's ring alone holds no more than the capacity either.
        for i in 0..7 {
            journal.push(entry(format!("main-{i}")));
        }
        assert_eq!(
            ids(&journal, None),
            ["main-2", "main-3", "main-4", "main-5", "main-6"]
        );
        let held: usize = journal.rings.iter().map(|ring| lock(ring).len()).sum();
        assert!(held <= 5 + 4 * 2, "{held}");
        journal.clear();
        assert!(ids(&journal, None).is_empty());
        assert!(ids(&Journal::new(0), None).is_empty());
    }
}
