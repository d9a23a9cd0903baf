//! The request journal (`control-plane.md` §4): a bounded ring of the RPC requests received,
//! newest last, with what a test needs to assert on them — including the parameters the
//! action never read, and secrets redacted.

use crate::actions::Action;
use axum::http::Method;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::VecDeque;
use std::sync::Mutex;
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

/// The ring. One mutex: a push is a few pointer moves.
pub struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<Entry>>,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records an entry, forgetting the oldest past the capacity.
    pub fn push(&self, entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries();
        let forgotten = if entries.len() == self.capacity {
            entries.pop_front()
        } else {
            None
        };
        entries.push_back(entry);
        drop(entries);
        // Freed after the lock: other requests do not wait on the oldest entry's deallocation.
        drop(forgotten);
    }

    /// The matching entries, oldest first. `code` `ok` matches successes.
    pub fn query(&self, query: &Query) -> Vec<Entry> {
        let entries = self.entries();
        let matching: Vec<&Entry> = entries
            .iter()
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
        self.entries().clear();
    }
}
