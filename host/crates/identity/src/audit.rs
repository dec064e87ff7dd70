//! The audit trail: what happened to whom, by whom, from where. Every
//! sign-in (success or failure, with its method; never a password or a
//! token), registration, link, rename, role change, ban, unban, logout,
//! refresh-token reuse and deletion becomes an [`AuditRecord`], written to
//! the store's `audit_events` table and emitted as a `tracing` event with
//! target `audit`. Admins page through it with an [`AuditQuery`].

use std::fmt;
use std::net::IpAddr;

use arcade_protocol::clock::UnixMillis;

use crate::account::AccountId;

/// What kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    SignIn,
    SignInFailed,
    Register,
    Link,
    DisplayName,
    RoleGranted,
    RoleRevoked,
    Ban,
    Unban,
    Logout,
    RefreshReused,
    AccountDeleted,
    Publish,
    BoardReset,
}

impl AuditKind {
    pub const ALL: [AuditKind; 14] = [
        AuditKind::SignIn,
        AuditKind::SignInFailed,
        AuditKind::Register,
        AuditKind::Link,
        AuditKind::DisplayName,
        AuditKind::RoleGranted,
        AuditKind::RoleRevoked,
        AuditKind::Ban,
        AuditKind::Unban,
        AuditKind::Logout,
        AuditKind::RefreshReused,
        AuditKind::AccountDeleted,
        AuditKind::Publish,
        AuditKind::BoardReset,
    ];

    /// The stored and queried name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignIn => "sign_in",
            AuditKind::SignInFailed => "sign_in_failed",
            AuditKind::Register => "register",
            AuditKind::Link => "link",
            AuditKind::DisplayName => "display_name",
            AuditKind::RoleGranted => "role_granted",
            AuditKind::RoleRevoked => "role_revoked",
            AuditKind::Ban => "ban",
            AuditKind::Unban => "unban",
            AuditKind::Logout => "logout",
            AuditKind::RefreshReused => "refresh_reused",
            AuditKind::AccountDeleted => "account_deleted",
            AuditKind::Publish => "publish",
            AuditKind::BoardReset => "board_reset",
        }
    }

    pub fn parse(text: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is acting and from where, as the host knows it for a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The signed-in account doing this (an admin banning someone); `None`
    /// for sign-ins and anonymous calls.
    pub actor: Option<AccountId>,
    pub ip: Option<IpAddr>,
}

impl Context {
    pub fn anonymous(ip: Option<IpAddr>) -> Context {
        Context { actor: None, ip }
    }

    pub fn by(actor: &AccountId, ip: Option<IpAddr>) -> Context {
        Context { actor: Some(actor.clone()), ip }
    }
}

/// An event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub at_ms: UnixMillis,
    pub kind: AuditKind,
    /// The account the event is about.
    pub account: Option<AccountId>,
    pub actor: Option<AccountId>,
    pub ip: Option<String>,
    /// Event-specific facts (`method`, `code`, `role`, `reason`, …).
    pub detail: serde_json::Value,
}

impl AuditRecord {
    pub fn new(
        kind: AuditKind,
        account: Option<&AccountId>,
        context: &Context,
        detail: serde_json::Value,
    ) -> AuditRecord {
        AuditRecord {
            at_ms: arcade_protocol::clock::now_ms(),
            kind,
            account: account.cloned(),
            actor: context.actor.clone(),
            ip: context.ip.map(|ip| ip.to_string()),
            detail,
        }
    }

    /// The `tracing` event (target `audit`) for this record.
    pub fn emit(&self) {
        tracing::info!(
            target: "audit",
            kind = self.kind.as_str(),
            account = self.account.as_ref().map(AccountId::as_str),
            actor = self.actor.as_ref().map(AccountId::as_str),
            ip = self.ip.as_deref(),
            detail = %self.detail,
            "audit"
        );
    }
}

/// A recorded event, with its id (increasing; the paging cursor).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    pub at_ms: UnixMillis,
    /// The stored kind name (see [`AuditKind::as_str`]).
    pub kind: String,
    pub account: Option<AccountId>,
    pub actor: Option<AccountId>,
    pub ip: Option<String>,
    pub detail: serde_json::Value,
}

/// A page of the trail: events after id `after`, oldest first, at most
/// `limit` (clamped to 1..=[`AuditQuery::MAX_LIMIT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub account: Option<AccountId>,
    pub kind: Option<AuditKind>,
    pub after: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    pub const MAX_LIMIT: u32 = 1000;

    pub fn first(limit: u32) -> AuditQuery {
        AuditQuery { account: None, kind: None, after: None, limit }
    }

    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuditKind::parse("nope"), None);
        assert_eq!(AuditQuery::first(0).clamped_limit(), 1);
        assert_eq!(AuditQuery::first(5000).clamped_limit(), 1000);
    }

    /// An event's target and its fields (name, value).
    type Captured = (String, Vec<(String, String)>);

    /// Collects every event.
    #[derive(Default)]
    struct Capture(std::sync::Mutex<Vec<Captured>>);

    struct Fields(Vec<(String, String)>);

    impl tracing::field::Visit for Fields {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.push((field.name().to_string(), format!("{value:?}")));
        }
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            self.0.push((field.name().to_string(), value.to_string()));
        }
    }

    impl tracing::Subscriber for &'static Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push((event.metadata().target().to_string(), fields.0));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn records_are_emitted_with_target_audit() {
        let capture: &'static Capture = Box::leak(Box::default());
        let account = AccountId::generate();
        let context = Context::anonymous(Some("198.51.100.4".parse().unwrap()));
        let record =
            AuditRecord::new(AuditKind::SignIn, Some(&account), &context, serde_json::json!({"method": "device"}));
        tracing::subscriber::with_default(capture, || record.emit());
        let events = capture.0.lock().unwrap();
        assert_eq!(events.len(), 1);
        let (target, fields) = &events[0];
        assert_eq!(target, "audit");
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(field("kind"), Some("sign_in"));
        assert_eq!(field("account"), Some(account.as_str()));
        assert_eq!(field("ip"), Some("198.51.100.4"));
        assert_eq!(field("detail"), Some(r#"{"method":"device"}"#));
    }
}
