//! Fault injection (`control-plane.md` §3): rules that make matching calls slow or fail, after
//! authentication and authorization and before the action, in the normal envelope. Firing is
//! deterministic: `skip` and `times` count calls; `probability` draws from a generator seeded
//! by the rule's `seed` (else `--seed`, else 0).

use crate::error::{ApiError, ErrorCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A rule as posted. Every matcher is optional; a rule needs a `code` or a `latencyMs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub skip: u64,
    /// How often it fires; `None` is forever.
    #[serde(default)]
    pub times: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Seconds for an `x-acs-retry-after` header on the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

/// A stored rule and how it has fared.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub fault_id: String,
    #[serde(flatten)]
    pub rule: Rule,
    /// Calls that matched (including skipped ones).
    pub matched: u64,
    pub fired: u64,
}

/// A rule with what it answers and its own generator.
struct Stored {
    fault: Fault,
    error: Option<ApiError>,
    rng: Option<StdRng>,
}

/// The facts of a call a rule can match.
pub struct Call<'a> {
    pub action: &'a str,
    pub version: &'a str,
    pub region_id: Option<&'a str>,
    pub access_key_id: Option<&'a str>,
    pub account_id: &'a str,
}

/// A fault firing on a call: its id, a delay, and the error to answer (if any).
pub struct Firing {
    pub fault_id: String,
    pub latency: Duration,
    pub error: Option<ApiError>,
}

pub struct Faults {
    seed: u64,
    state: Mutex<State>,
    /// Whether any rule is stored, written under `state`'s lock: a request checks it before
    /// taking the lock, so that with no faults (the usual case) the requests of different
    /// threads share no lock here.
    armed: AtomicBool,
}

#[derive(Default)]
struct State {
    next_id: u64,
    rules: Vec<Stored>,
}

/// The longest delay a fault may add: a test tool must not hang a client for ever.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// Checks a rule and builds the error it answers with.
fn error_of(rule: &Rule) -> Result<Option<ApiError>, String> {
    if rule.latency_ms > MAX_LATENCY_MS {
        return Err(format!("latencyMs: at most {MAX_LATENCY_MS}"));
    }
    if let Some(p) = rule.probability
        && !(p > 0.0 && p <= 1.0)
    {
        return Err("probability: must be in (0, 1]".into());
    }
    // The answer may be XML, which cannot carry these characters.
    for (field, text) in [("code", &rule.code), ("message", &rule.message)] {
        if text
            .as_deref()
            .is_some_and(crate::protocol::params::has_forbidden_control)
        {
            return Err(format!("{field}: holds a character XML cannot carry"));
        }
    }
    let Some(code) = &rule.code else {
        if rule.latency_ms == 0 {
            return Err("a fault needs a code, a latencyMs, or both".into());
        }
        return Ok(None);
    };
    if let Some(status) = rule.http_status
        && !(400..=599).contains(&status)
    {
        return Err("httpStatus: must be from 400 to 599".into());
    }
    let mut error = match ErrorCode::ALL.iter().find(|c| c.wire() == code) {
        Some(&catalogued) => match (&rule.message, catalogued.takes_argument()) {
            (Some(message), _) => ApiError {
                message: message.clone(),
                ..ApiError::with(catalogued, "")
            },
            (None, false) => ApiError::new(catalogued),
            (None, true) => {
                return Err(format!(
                    "message: {code}'s message has a placeholder; give the message"
                ));
            }
        },
        None => match (rule.http_status, &rule.message) {
            (Some(status), Some(message)) => ApiError::custom(code, status, message),
            _ => {
                return Err(format!(
                    "code: \"{code}\" is not in the catalogue; give httpStatus and message too"
                ));
            }
        },
    };
    if let (Some(status), None) = (rule.http_status, &error.custom) {
        error = ApiError::custom(code, status, &error.message.clone());
    }
    error.retry_after = rule.retry_after;
    Ok(Some(error))
}

impl Faults {
    pub fn new(seed: Option<u64>) -> Self {
        Self {
            seed: seed.unwrap_or(0),
            state: Mutex::new(State::default()),
            armed: AtomicBool::new(false),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a rule; its id, or why it is refused.
    pub fn add(&self, rule: Rule) -> Result<String, String> {
        let error = error_of(&rule)?;
        let rng = rule
            .probability
            .map(|_| StdRng::seed_from_u64(rule.seed.unwrap_or(self.seed)));
        let mut state = self.state();
        state.next_id += 1;
        let fault_id = format!("fault-{}", state.next_id);
        let fault = Fault {
            fault_id: fault_id.clone(),
            rule,
            matched: 0,
            fired: 0,
        };
        state.rules.push(Stored { fault, error, rng });
        self.armed.store(true, Ordering::Release);
        Ok(fault_id)
    }

    pub fn list(&self) -> Vec<Fault> {
        self.state().rules.iter().map(|s| s.fault.clone()).collect()
    }

    /// Removes one rule; `false` when there is none of that id.
    pub fn remove(&self, fault_id: &str) -> bool {
        let mut state = self.state();
        let before = state.rules.len();
        state.rules.retain(|s| s.fault.fault_id != fault_id);
        self.armed.store(!state.rules.is_empty(), Ordering::Release);
        state.rules.len() != before
    }

    pub fn clear(&self) {
        let mut state = self.state();
        state.rules.clear();
        self.armed.store(false, Ordering::Release);
    }

    /// The first rule that fires on `call`, counting the match on every rule it passes.
    pub fn check(&self, call: &Call<'_>) -> Option<Firing> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.state();
        for stored in state.rules.iter_mut() {
            let fault = &mut stored.fault;
            if !matches(&fault.rule, call) {
                continue;
            }
            fault.matched += 1;
            let exhausted = fault.rule.times.is_some_and(|t| fault.fired >= t);
            if fault.matched <= fault.rule.skip || exhausted {
                continue;
            }
            if let (Some(p), Some(rng)) = (fault.rule.probability, stored.rng.as_mut())
                && rng.next_u64() as f64 / u64::MAX as f64 >= p
            {
                continue;
            }
            fault.fired += 1;
            return Some(Firing {
                fault_id: fault.fault_id.clone(),
                latency: Duration::from_millis(fault.rule.latency_ms),
                error: stored.error.clone(),
            });
        }
        None
    }
}

fn matches(rule: &Rule, call: &Call<'_>) -> bool {
    let is = |wanted: &Option<String>, actual: Option<&str>| {
        wanted.as_deref().is_none_or(|w| Some(w) == actual)
    };
    is(&rule.action, Some(call.action))
        && is(&rule.version, Some(call.version))
        && is(&rule.region_id, call.region_id)
        && is(&rule.access_key_id, call.access_key_id)
        && is(&rule.account_id, Some(call.account_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call<'static> {
        Call {
            action: "ModifyDiskDefaultKMSKeyId",
            version: "2014-05-26",
            region_id: Some("cn-hangzhou"),
            access_key_id: Some("AK"),
            account_id: "1",
        }
    }

    #[test]
    fn skip_and_times_bound_the_firing() {
        let faults = Faults::new(None);
        let rule = Rule {
            code: Some("Throttling.User".into()),
            skip: 1,
            times: Some(2),
            ..Rule::default()
        };
        faults.add(rule).unwrap();
        let fired: Vec<bool> = (0..5).map(|_| faults.check(&call()).is_some()).collect();
        assert_eq!(fired, [false, true, true, false, false]);
        let listed = &faults.list()[0];
        assert_eq!((listed.matched, listed.fired), (5, 2));
    }

    #[test]
    fn matchers_must_all_hold() {
        let faults = Faults::new(None);
        let rule = Rule {
            latency_ms: 1,
            action: Some("Other".into()),
            ..Rule::default()
        };
        faults.add(rule).unwrap();
        assert!(faults.check(&call()).is_none());
    }

    #[test]
    fn a_seeded_probability_repeats() {
        let pattern = || {
            let faults = Faults::new(None);
            let rule = Rule {
                code: Some("Throttling".into()),
                probability: Some(0.5),
                seed: Some(3),
                ..Rule::default()
            };
            faults.add(rule).unwrap();
            (0..32)
                .map(|_| faults.check(&call()).is_some())
                .collect::<Vec<_>>()
        };
        let first = pattern();
        assert_eq!(first, pattern());
        assert!(first.contains(&true) && first.contains(&false));
    }

    #[test]
    fn rules_are_checked_before_they_are_stored() {
        let faults = Faults::new(None);
        let refuse = |rule: Rule| faults.add(rule).unwrap_err();
        assert!(refuse(Rule::default()).contains("needs a code"));
        assert!(
            refuse(Rule {
                code: Some("Made.Up".into()),
                ..Rule::default()
            })
            .contains("not in the catalogue")
        );
        assert!(
            refuse(Rule {
                code: Some("MissingParameter".into()),
                ..Rule::default()
            })
            .contains("placeholder")
        );
        assert!(
            refuse(Rule {
                code: Some("Throttling".into()),
                probability: Some(2.0),
                ..Rule::default()
            })
            .contains("probability")
        );
        let custom = Rule {
            code: Some("Made.Up".into()),
            http_status: Some(418),
            message: Some("teapot".into()),
            ..Rule::default()
        };
        faults.add(custom).unwrap();
        let error = faults.check(&call()).unwrap().error.unwrap();
        assert_eq!(
            (error.wire(), error.status(), error.message.as_str()),
            ("Made.Up", 418, "teapot")
        );
    }
}
