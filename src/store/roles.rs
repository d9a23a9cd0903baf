//! RAM roles and the sessions AssumeRole issues for them (`sts.md` §2, §4).
//!
//! A role lives in its account's document. A session is memory of the running server: issued
//! credentials (an `STS.` AccessKeyId, a secret, a token and an expiration) that act as the
//! role until they expire. Sessions are bounded in number, survive neither a restart nor a
//! whole-state change (`PUT /_emulator/state`, reset, snapshot restore: a new world starts with
//! none), and end with their role or its account.

use super::model::{AccessKeyId, Account, AccountId, Policy};
use crate::ids::principal_id;
use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::sync::Mutex;

/// `maxSessionDuration`, and the range AssumeRole's `DurationSeconds` must be in first.
pub const SESSION_BOUNDS: RangeInclusive<u32> = 3600..=43200;

/// The most sessions kept at once; past it, the one that expires (or expired) first goes.
pub const MAX_SESSIONS: usize = 100_000;

/// 1–64 letters, digits, `.` and `-` (`sts.md` §2).
pub fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
}

/// An account id as an ARN may name one: what the state allows (letters, digits, `-`, `_`,
/// `.`; `validate::require_id`).
pub fn is_account_id(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// An entry of a role's `trustedPrincipals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trusted<'a> {
    /// `acs:ram::<account>:root`: the RAM identities of that account.
    Account(&'a str),
    /// `acs:ram::<account>:user/<name>`: that RAM user only.
    User(&'a str, &'a str),
}

impl<'a> Trusted<'a> {
    pub fn parse(text: &'a str) -> Option<Self> {
        let (account, principal) = text.strip_prefix("acs:ram::")?.split_once(':')?;
        if !is_account_id(account) {
            return None;
        }
        match principal {
            "root" => Some(Trusted::Account(account)),
            _ => {
                let name = principal.strip_prefix("user/")?;
                (!name.is_empty()).then_some(Trusted::User(account, name))
            }
        }
    }
}

/// Gives every RAM user and role of `account` its id, derived when the state gave none, so
/// that the ids are part of the state from then on (`GET /_emulator/state` shows them).
pub fn complete_ids(account: &mut Account) {
    for user in &mut account.ram_users {
        if user.user_id.is_none() {
            user.user_id = Some(principal_id('2', &account.account_id, &user.user_name));
        }
    }
    for role in &mut account.ram_roles {
        if role.role_id.is_none() {
            role.role_id = Some(principal_id('3', &account.account_id, &role.role_name));
        }
    }
}

/// Issued credentials of one role session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub account_id: AccountId,
    pub role_id: String,
    pub session_name: String,
    pub secret: String,
    pub token: String,
    /// When it expires, in Unix seconds.
    pub expires_at: i64,
}

impl Session {
    /// The expiration as AssumeRole answers it: `YYYY-MM-DDThh:mm:ssZ`.
    pub fn expiration(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.expires_at)
            .map(crate::ids::date_text)
            .unwrap_or_default()
    }
}

/// What AssumeRole answers: the new AccessKeyId and its session.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_key_id: AccessKeyId,
    pub session: Session,
}

/// What a session acts as when it calls: its role, as the state holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSession {
    /// The role's name as the state spells it.
    pub role_name: String,
    pub role_id: String,
    pub session_name: String,
    pub policies: Vec<Policy>,
    /// `assumed-role/<roleName>/<sessionName>`, as the journal and the log name the caller.
    pub principal_name: String,
}

impl RoleSession {
    pub fn new(role: &super::model::RamRole, session_name: &str) -> Self {
        Self {
            role_name: role.role_name.clone(),
            role_id: role.id().to_owned(),
            session_name: session_name.to_owned(),
            policies: role.policies.clone(),
            principal_name: format!("assumed-role/{}/{session_name}", role.role_name),
        }
    }
}

/// The issued sessions of one world, by AccessKeyId, bounded by `MAX_SESSIONS`.
#[derive(Debug, Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Each session with its issue number.
    by_id: HashMap<AccessKeyId, (u64, Session)>,
    /// (expires at, issue number, id): the next to go is the first.
    by_expiry: BTreeSet<(i64, u64, AccessKeyId)>,
    issued: u64,
}

impl Inner {
    fn remove(&mut self, id: &AccessKeyId) {
        if let Some((issued, session)) = self.by_id.remove(id) {
            self.by_expiry
                .remove(&(session.expires_at, issued, id.clone()));
        }
    }
}

impl Sessions {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `session` under `id`; when full, the session that expired (or expires) first
    /// makes room, so live ones go only when every kept one is live.
    pub fn insert(&self, id: AccessKeyId, session: Session) {
        let mut inner = self.inner();
        inner.remove(&id);
        while inner.by_id.len() >= MAX_SESSIONS {
            let Some((_, _, first)) = inner.by_expiry.first().cloned() else {
                break;
            };
            inner.remove(&first);
        }
        inner.issued += 1;
        let issued = inner.issued;
        inner
            .by_expiry
            .insert((session.expires_at, issued, id.clone()));
        inner.by_id.insert(id, (issued, session));
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        self.inner()
            .by_id
            .get(id)
            .map(|(_, session)| session.clone())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner().by_id.len()
    }

    /// The kept sessions of `account` (every account's when `None`), in issue order.
    pub fn of(&self, account: Option<&AccountId>) -> Vec<(AccessKeyId, Session)> {
        let inner = self.inner();
        let mut kept: Vec<(u64, AccessKeyId, Session)> = inner
            .by_id
            .iter()
            .filter(|(_, (_, s))| account.is_none_or(|a| &s.account_id == a))
            .map(|(id, (issued, s))| (*issued, id.clone(), s.clone()))
            .collect();
        kept.sort_by_key(|(issued, ..)| *issued);
        kept.into_iter().map(|(_, id, s)| (id, s)).collect()
    }

    /// Ends the sessions of `account` whose role `keep` does not name any more (all of them
    /// when the account is gone): a role added again later does not bring them back.
    pub fn end_unless(&self, account: &AccountId, keep: impl Fn(&str) -> bool) {
        let mut inner = self.inner();
        let ended: Vec<AccessKeyId> = inner
            .by_id
            .iter()
            .filter(|(_, (_, s))| &s.account_id == account && !keep(&s.role_id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ended {
            inner.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(account: &str, role: &str, expires_at: i64) -> Session {
        Session {
            account_id: AccountId(account.into()),
            role_id: role.into(),
            session_name: "s".into(),
            secret: "x".into(),
            token: "t".into(),
            expires_at,
        }
    }

    #[test]
    fn trusted_principals_have_two_forms() {
        assert_eq!(
            Trusted::parse("acs:ram::123:root"),
            Some(Trusted::Account("123"))
        );
        assert_eq!(
            Trusted::parse("acs:ram::123:user/deployer"),
            Some(Trusted::User("123", "deployer"))
        );
        for bad in [
            "acs:ram::123:role/x",
            "acs:ram::123:user/",
            "acs:ram:::root",
            "acs:ram::12 3:root",
            "acs:ecs::123:root",
            "root",
        ] {
            assert_eq!(Trusted::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn role_names_are_1_to_64_letters_digits_dots_and_dashes() {
        assert!(is_role_name("ecs-operator.v2"));
        assert!(is_role_name(&"a".repeat(64)));
        for bad in ["", "a_b", "a b", "é", &"a".repeat(65)] {
            assert!(!is_role_name(bad), "{bad}");
        }
    }

    #[test]
    fn when_full_the_first_to_expire_goes_first() {
        let sessions = Sessions::default();
        for n in 0..MAX_SESSIONS {
            // Expirations descending: the last inserted expires first.
            let at = (MAX_SESSIONS - n) as i64;
            sessions.insert(AccessKeyId(format!("STS.{n}")), session("1", "r", at));
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        sessions.insert(AccessKeyId("STS.new".into()), session("1", "r", 1_000_000));
        assert_eq!(sessions.len(), MAX_SESSIONS);
        let last = format!("STS.{}", MAX_SESSIONS - 1);
        assert!(sessions.get(&last).is_none(), "the first to expire went");
        assert!(sessions.get("STS.0").is_some() && sessions.get("STS.new").is_some());
    }

    #[test]
    fn sessions_end_with_their_role_or_account() {
        let sessions = Sessions::default();
        sessions.insert(AccessKeyId("STS.a".into()), session("1", "r1", 10));
        sessions.insert(AccessKeyId("STS.b".into()), session("1", "r2", 10));
        sessions.insert(AccessKeyId("STS.c".into()), session("2", "r1", 10));
        sessions.end_unless(&AccountId("1".into()), |role| role == "r2");
        assert!(sessions.get("STS.a").is_none());
        assert!(sessions.get("STS.b").is_some() && sessions.get("STS.c").is_some());
        sessions.end_unless(&AccountId("2".into()), |_| false);
        assert_eq!(sessions.len(), 1);
    }
}
