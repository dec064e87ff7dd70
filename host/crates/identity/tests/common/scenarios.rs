//! The store scenarios, each given a fresh store (SQLite or PostgreSQL).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arcade_identity::{
    AccountId, AuditKind, AuditQuery, AuthError, Context, Identity, IdentityConfig, IdentityStore, MAX_PARTY_MEMBERS,
    PartyTicket, PasswordParams, RefreshToken, Role,
};
use arcade_protocol::clock::now_ms;

use super::{FakeProvider, ProviderKey, identity};

const DEVICE_A: &str = "device-aaaaaaaaaaaaaaaa";
const DEVICE_B: &str = "device-bbbbbbbbbbbbbbbb";
const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

fn anon() -> Context {
    Context::anonymous(Some(IP))
}

fn err<T: std::fmt::Debug>(result: Result<T, AuthError>) -> AuthError {
    result.expect_err("expected a refusal")
}

pub async fn guest_sign_in_is_idempotent_per_device(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let first = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    assert!(first.created);
    assert!(first.session.name.starts_with("player-"), "{}", first.session.name);
    let again = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.session.account, first.session.account);
    assert_ne!(again.session.sid, first.session.sid, "each sign-in is its own session");
    let other = id.sign_in_device(DEVICE_B, &anon()).await.unwrap();
    assert_ne!(other.session.account, first.session.account);

    let session = id.verify(&first.access_token).unwrap();
    assert_eq!(session, first.session);
    let shown = format!("{first:?}");
    assert!(!shown.contains(&first.access_token) && !shown.contains(first.refresh_token.expose()), "{shown}");
    assert!(session.roles.contains(Role::Player) && !session.roles.contains(Role::Admin));
    let account = id.account(&session.account).await.unwrap().unwrap();
    assert_eq!(account.display_name, session.name);

    assert_eq!(err(id.sign_in_device("short", &anon()).await), AuthError::InvalidDeviceId);
    assert_eq!(err(id.sign_in_device(&"x".repeat(129), &anon()).await), AuthError::InvalidDeviceId);
}

pub async fn concurrent_guest_sign_ins_make_one_account(store: Arc<dyn IdentityStore>) {
    let id = Arc::new(identity(&store, None));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let id = id.clone();
            tokio::spawn(async move { id.sign_in_device(DEVICE_A, &anon()).await.unwrap() })
        })
        .collect();
    let mut accounts = Vec::new();
    let mut created = 0;
    for task in tasks {
        let signed_in = task.await.unwrap();
        created += usize::from(signed_in.created);
        accounts.push(signed_in.session.account);
    }
    accounts.dedup();
    assert_eq!(accounts.len(), 1, "one device, one account: {accounts:?}");
    assert_eq!(created, 1);
}

pub async fn register_and_login(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let registered = id.register("Alice", "correct horse battery", &anon()).await.unwrap();
    assert!(registered.created);
    assert_eq!(registered.session.name, "Alice");
    let login = id.sign_in_password("alice", "correct horse battery", &anon()).await.unwrap();
    assert_eq!(login.session.account, registered.session.account, "usernames are case-insensitive");
    assert!(!login.created);
    assert_eq!(err(id.register("ALICE", "another password", &anon()).await), AuthError::UsernameTaken);
    assert_eq!(err(id.register("al", "another password", &anon()).await), AuthError::InvalidUsername);
    assert_eq!(err(id.register("bob", "short", &anon()).await), AuthError::InvalidPassword);
    // Composed and decomposed forms are one username.
    id.register("jos\u{e9}", "correct horse battery", &anon()).await.unwrap();
    assert_eq!(err(id.register("Jose\u{301}", "correct horse battery", &anon()).await), AuthError::UsernameTaken);
    assert!(id.sign_in_password("JOSE\u{301}", "correct horse battery", &anon()).await.is_ok());
}

pub async fn wrong_password_and_unknown_user_look_the_same(store: Arc<dyn IdentityStore>) {
    // Parameters costly enough for the hash to dominate the timing.
    let mut config: IdentityConfig = super::config(None);
    config.passwords = PasswordParams { memory_kib: 16 * 1024, iterations: 2, parallelism: 1 };
    let id = Identity::new(store.clone(), config).unwrap();
    let alice = id.register("alice", "correct horse battery", &anon()).await.unwrap();
    let before = id.account(&alice.session.account).await.unwrap();

    let wrong = err(id.sign_in_password("alice", "wrong password!", &anon()).await);
    let unknown = err(id.sign_in_password("nobody", "wrong password!", &anon()).await);
    let ill_formed = err(id.sign_in_password("x", "wrong password!", &anon()).await);
    assert_eq!(wrong, AuthError::InvalidCredentials);
    assert_eq!(unknown, AuthError::InvalidCredentials);
    assert_eq!(ill_formed, AuthError::InvalidCredentials);
    assert_eq!((wrong.code(), wrong.http_status()), (unknown.code(), unknown.http_status()));
    assert_eq!(wrong.to_string(), unknown.to_string());

    // Similar time: both verify one argon2id hash (medians of 7).
    fn median(mut samples: Vec<Duration>) -> Duration {
        samples.sort();
        samples[samples.len() / 2]
    }
    let (mut wrong_t, mut unknown_t) = (Vec::new(), Vec::new());
    const SAMPLES: usize = 7;
    for _ in 0..SAMPLES {
        let start = Instant::now();
        let _ = id.sign_in_password("alice", "wrong password!", &anon()).await;
        wrong_t.push(start.elapsed());
        let start = Instant::now();
        let _ = id.sign_in_password("nobody", "wrong password!", &anon()).await;
        unknown_t.push(start.elapsed());
    }
    let (wrong_t, unknown_t) = (median(wrong_t), median(unknown_t));
    let ratio = wrong_t.as_secs_f64() / unknown_t.as_secs_f64();
    assert!((0.33..3.0).contains(&ratio), "wrong password {wrong_t:?} vs unknown user {unknown_t:?}");

    // Nothing changed on the account; the failures are audited without the password.
    assert_eq!(id.account(&alice.session.account).await.unwrap(), before);
    assert!(id.sign_in_password("alice", "correct horse battery", &anon()).await.is_ok());
    let failures =
        id.audit(&AuditQuery { kind: Some(AuditKind::SignInFailed), ..AuditQuery::first(100) }).await.unwrap();
    assert_eq!(failures.len(), 3 + 2 * SAMPLES, "the three refusals above and each timed one");
    assert!(failures.iter().all(|e| e.detail["code"] == "invalid_credentials" && e.detail["method"] == "password"));
    assert!(failures.iter().all(|e| !e.detail.to_string().contains("wrong password")));
    assert_eq!(failures[0].account.as_ref(), Some(&alice.session.account), "a failure on a known user names it");
    assert_eq!(failures[1].account, None);
}

pub async fn refresh_rotates_and_reuse_revokes_the_family(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let first = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    let other_session = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();

    let second = id.refresh(&first.refresh_token, &anon()).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.session.sid, first.session.sid, "same family");
    assert_eq!(second.session.account, first.session.account);
    assert!(id.verify(&second.access_token).is_ok());
    let third = id.refresh(&second.refresh_token, &anon()).await.unwrap();

    // The first token again: reuse, and the whole family is revoked.
    assert_eq!(err(id.refresh(&first.refresh_token, &anon()).await), AuthError::RefreshTokenReused);
    assert_eq!(err(id.refresh(&third.refresh_token, &anon()).await), AuthError::RefreshTokenRevoked);
    // Another session of the same account is untouched.
    assert!(id.refresh(&other_session.refresh_token, &anon()).await.is_ok());

    let made_up = RefreshToken::generate();
    assert_eq!(err(id.refresh(&made_up, &anon()).await), AuthError::RefreshTokenInvalid);
    assert_eq!(err(id.refresh(&RefreshToken::from_client(""), &anon()).await), AuthError::RefreshTokenInvalid);

    let reused = id.audit(&AuditQuery { kind: Some(AuditKind::RefreshReused), ..AuditQuery::first(10) }).await.unwrap();
    assert_eq!(reused.len(), 1);
    assert_eq!(reused[0].account.as_ref(), Some(&first.session.account));

    // An expired token (ttl 0) is refused as expired.
    let mut config = super::config(None);
    config.refresh_ttl = Duration::ZERO;
    let short = Identity::new(store.clone(), config).unwrap();
    let signed_in = short.sign_in_device(DEVICE_B, &anon()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(err(short.refresh(&signed_in.refresh_token, &anon()).await), AuthError::RefreshTokenExpired);
}

pub async fn concurrent_refreshes_of_one_token_let_one_through(store: Arc<dyn IdentityStore>) {
    let id = Arc::new(identity(&store, None));
    let signed_in = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (id, token) = (id.clone(), signed_in.refresh_token.clone());
            tokio::spawn(async move { id.refresh(&token, &anon()).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results.iter().any(|r| r.as_ref().err() == Some(&AuthError::RefreshTokenReused)), "{results:?}");
}

pub async fn logout_revokes_the_family(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let phone = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    let laptop = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    id.logout(&phone.session, &Context::by(&phone.session.account, Some(IP))).await.unwrap();
    assert_eq!(err(id.refresh(&phone.refresh_token, &anon()).await), AuthError::RefreshTokenRevoked);
    assert!(id.refresh(&laptop.refresh_token, &anon()).await.is_ok(), "only that session ends");
    let logouts = id.audit(&AuditQuery { kind: Some(AuditKind::Logout), ..AuditQuery::first(10) }).await.unwrap();
    assert_eq!(logouts.len(), 1);
    assert_eq!(logouts[0].actor.as_ref(), Some(&phone.session.account));
}

pub async fn bans_block_verify_after_refresh_and_block_refresh(store: Arc<dyn IdentityStore>) {
    // Two nodes over one store.
    let node_a = identity(&store, None);
    let node_b = identity(&store, None);
    let admin = node_a.sign_in_device(DEVICE_B, &anon()).await.unwrap().session.account;
    let player = node_a.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    let target = player.session.account.clone();
    assert!(node_b.verify(&player.access_token).is_ok());

    let by_admin = Context::by(&admin, Some(IP));
    let ban = node_a.ban(&target, "cheating", None, &by_admin).await.unwrap();
    assert_eq!(ban.by.as_ref(), Some(&admin));
    // The banning node refuses at once; the other after its next refresh.
    let refused = err(node_a.verify(&player.access_token));
    assert_eq!(refused, AuthError::AccountBanned { until_ms: None });
    assert_eq!((refused.code(), refused.http_status()), ("account_banned", 403));
    assert!(node_b.verify(&player.access_token).is_ok(), "node B has not refreshed yet");
    assert_eq!(node_b.refresh_bans().await.unwrap(), 1);
    assert_eq!(err(node_b.verify(&player.access_token)), AuthError::AccountBanned { until_ms: None });

    // No refresh, no new sign-in.
    assert_eq!(err(node_b.refresh(&player.refresh_token, &anon()).await), AuthError::AccountBanned { until_ms: None });
    assert_eq!(err(node_b.sign_in_device(DEVICE_A, &anon()).await), AuthError::AccountBanned { until_ms: None });
    assert_eq!(node_a.list_bans().await.unwrap().len(), 1);

    // Lifted: verify passes again everywhere after refresh; sign-in works.
    assert!(node_a.unban(&target, &by_admin).await.unwrap());
    assert!(!node_a.unban(&target, &by_admin).await.unwrap());
    assert!(node_a.verify(&player.access_token).is_ok());
    node_b.refresh_bans().await.unwrap();
    assert!(node_b.verify(&player.access_token).is_ok());
    let again = node_b.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    assert!(node_b.refresh(&again.refresh_token, &anon()).await.is_ok());
    // The old refresh token stays revoked.
    assert_eq!(err(node_b.refresh(&player.refresh_token, &anon()).await), AuthError::RefreshTokenRevoked);

    // A ban with an end: in force until then, not after.
    let soon = now_ms() + 60_000;
    node_a.ban(&target, "spam", Some(soon), &by_admin).await.unwrap();
    node_b.refresh_bans().await.unwrap();
    assert_eq!(err(node_b.verify(&again.access_token)), AuthError::AccountBanned { until_ms: Some(soon) });
    assert!(node_b.verify_at(&again.access_token, soon + 1).is_ok(), "over after until_ms");
    node_a.ban(&target, "spam", Some(now_ms() - 1), &by_admin).await.unwrap();
    assert_eq!(node_b.refresh_bans().await.unwrap(), 0, "an expired ban is not in force");

    let unknown = AccountId::generate();
    assert_eq!(err(node_a.ban(&unknown, "x", None, &by_admin).await), AuthError::AccountNotFound);
    let audit = node_a.audit(&AuditQuery { account: Some(target.clone()), ..AuditQuery::first(100) }).await.unwrap();
    let kinds: Vec<&str> = audit.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"ban") && kinds.contains(&"unban"), "{kinds:?}");
    let ban_event = audit.iter().find(|e| e.kind == "ban").unwrap();
    assert_eq!(ban_event.detail["reason"], "cheating");
    assert_eq!(ban_event.actor.as_ref(), Some(&admin));
}

pub async fn roles_are_granted_and_revoked(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let admin = id.sign_in_device(DEVICE_B, &anon()).await.unwrap().session.account;
    let player = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    let target = &player.session.account;
    let by_admin = Context::by(&admin, None);

    let roles = id.grant_role(target, Role::Publisher, &by_admin).await.unwrap();
    assert!(roles.contains(Role::Publisher) && roles.contains(Role::Player));
    assert_eq!(id.account(target).await.unwrap().unwrap().roles, roles);
    // Tokens carry roles from the next refresh.
    assert!(!id.verify(&player.access_token).unwrap().roles.contains(Role::Publisher));
    let refreshed = id.refresh(&player.refresh_token, &anon()).await.unwrap();
    assert!(id.verify(&refreshed.access_token).unwrap().roles.contains(Role::Publisher));

    let roles = id.revoke_role(target, Role::Publisher, &by_admin).await.unwrap();
    assert!(!roles.contains(Role::Publisher));
    let refreshed = id.refresh(&refreshed.refresh_token, &anon()).await.unwrap();
    assert!(!refreshed.session.roles.contains(Role::Publisher));

    assert_eq!(Role::parse("root"), Err(AuthError::InvalidRole("root".into())));
    assert_eq!(err(id.grant_role(&AccountId::generate(), Role::Admin, &by_admin).await), AuthError::AccountNotFound);
    let changes = id.audit(&AuditQuery { account: Some(target.clone()), ..AuditQuery::first(100) }).await.unwrap();
    let role_events: Vec<_> = changes.iter().filter(|e| e.kind.starts_with("role_")).collect();
    assert_eq!(role_events.len(), 2);
    assert_eq!(
        (role_events[0].kind.as_str(), &role_events[0].detail["role"]),
        ("role_granted", &serde_json::json!("publisher"))
    );
    assert_eq!(role_events[1].kind, "role_revoked");
    assert!(role_events.iter().all(|e| e.actor.as_ref() == Some(&admin)));
}

pub async fn audit_query_filters_and_pages(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let a = id.sign_in_device(DEVICE_A, &anon()).await.unwrap().session.account;
    let b = id.register("bob", "bobs password", &anon()).await.unwrap().session.account;
    let _ = id.sign_in_password("bob", "not bobs password", &anon()).await;
    id.sign_in_password("bob", "bobs password", &anon()).await.unwrap();
    id.set_display_name(&a, "Ann", &Context::by(&a, None)).await.unwrap();

    let all = id.audit(&AuditQuery::first(100)).await.unwrap();
    let kinds: Vec<&str> = all.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["sign_in", "register", "sign_in", "sign_in_failed", "sign_in", "display_name"]);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    assert!(all.iter().all(|e| e.at_ms > 0));
    assert_eq!(all[0].ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(all[0].detail["method"], "device");
    assert_eq!(all[2].detail["method"], "password");
    assert!(
        !serde_json::to_string(&all.iter().map(|e| &e.detail).collect::<Vec<_>>()).unwrap().contains("bobs password")
    );

    let bobs = id.audit(&AuditQuery { account: Some(b.clone()), ..AuditQuery::first(100) }).await.unwrap();
    assert_eq!(bobs.len(), 4);
    assert!(bobs.iter().all(|e| e.account.as_ref() == Some(&b)));
    let sign_ins = id.audit(&AuditQuery { kind: Some(AuditKind::SignIn), ..AuditQuery::first(100) }).await.unwrap();
    assert_eq!(sign_ins.len(), 3);
    let bobs_sign_ins = id
        .audit(&AuditQuery { account: Some(b.clone()), kind: Some(AuditKind::SignIn), after: None, limit: 100 })
        .await
        .unwrap();
    assert_eq!(bobs_sign_ins.len(), 2);

    // Pages of two, by id.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = id.audit(&AuditQuery { after, ..AuditQuery::first(2) }).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(|e| e.id);
        paged.extend(page);
    }
    assert_eq!(paged, all);
}

pub async fn link_a_password_to_a_guest_account(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let guest = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    let account = guest.session.account.clone();
    let me = Context::by(&account, None);
    id.link_password(&account, "Carol", "carols password", &me).await.unwrap();
    let login = id.sign_in_password("carol", "carols password", &anon()).await.unwrap();
    assert_eq!(login.session.account, account);
    assert_eq!(id.sign_in_device(DEVICE_A, &anon()).await.unwrap().session.account, account, "the device still works");

    assert_eq!(err(id.link_password(&account, "carol2", "carols password", &me).await), AuthError::MethodAlreadyLinked);
    let other = id.register("dave", "daves password", &anon()).await.unwrap().session.account;
    assert_eq!(err(id.link_password(&other, "CAROL", "x-password", &anon()).await), AuthError::MethodAlreadyLinked);
    let guest_b = id.sign_in_device(DEVICE_B, &anon()).await.unwrap().session.account;
    assert_eq!(err(id.link_password(&guest_b, "CAROL", "x-password", &anon()).await), AuthError::UsernameTaken);
    // A second device on the same account; a device of another account is refused.
    id.link_device(&other, "device-of-dave-000000", &anon()).await.unwrap();
    assert_eq!(id.sign_in_device("device-of-dave-000000", &anon()).await.unwrap().session.account, other);
    assert_eq!(err(id.link_device(&other, DEVICE_A, &anon()).await), AuthError::CredentialInUse);
    assert_eq!(
        err(id.link_device(&AccountId::generate(), "device-nobody-0000000", &anon()).await),
        AuthError::AccountNotFound
    );
    let links = id.audit(&AuditQuery { kind: Some(AuditKind::Link), ..AuditQuery::first(10) }).await.unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].detail["method"], "password");
    assert_eq!(links[0].detail["username"], "Carol");
}

pub async fn display_names_change_and_reach_tokens(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let guest = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    let account = &guest.session.account;
    assert_eq!(id.set_display_name(account, "Jose\u{301}", &anon()).await.unwrap(), "Jos\u{e9}");
    assert_eq!(id.account(account).await.unwrap().unwrap().display_name, "Jos\u{e9}");
    let refreshed = id.refresh(&guest.refresh_token, &anon()).await.unwrap();
    assert_eq!(id.verify(&refreshed.access_token).unwrap().name, "Jos\u{e9}");
    assert_eq!(err(id.set_display_name(account, "\u{202E}evil", &anon()).await), AuthError::InvalidDisplayName);
    assert_eq!(err(id.set_display_name(account, &"x".repeat(33), &anon()).await), AuthError::InvalidDisplayName);
    assert_eq!(err(id.set_display_name(&AccountId::generate(), "Ghost", &anon()).await), AuthError::AccountNotFound);
    // Display names are not unique; the id is what identifies.
    let other = id.sign_in_device(DEVICE_B, &anon()).await.unwrap().session.account;
    id.set_display_name(&other, "Jos\u{e9}", &anon()).await.unwrap();
    // Many read at once (a leaderboard page): live accounts only.
    let gone = id.register("gone", "gones password", &anon()).await.unwrap().session.account;
    id.delete_account(&gone, &anon()).await.unwrap();
    let mut names = id.display_names(&[other.clone(), gone, AccountId::generate(), account.clone()]).await.unwrap();
    names.sort();
    let mut want = vec![(account.clone(), "Jos\u{e9}".to_string()), (other, "Jos\u{e9}".to_string())];
    want.sort();
    assert_eq!(names, want, "the deleted and the unknown account are left out");
    assert!(id.display_names(&[]).await.unwrap().is_empty());
}

pub async fn account_deletion(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let signed_in = id.register("erin", "erins password", &anon()).await.unwrap();
    let account = signed_in.session.account.clone();
    id.link_device(&account, DEVICE_A, &anon()).await.unwrap();
    id.grant_role(&account, Role::Publisher, &anon()).await.unwrap();

    id.delete_account(&account, &Context::by(&account, None)).await.unwrap();
    // Its access tokens stop at once here (and on other nodes at their ban reload).
    assert_eq!(err(id.verify(&signed_in.access_token)), AuthError::AccountBanned { until_ms: None });
    // Other nodes learn of the deletion from their ban list (their ladders erase the id).
    let other_node = identity(&store, None);
    other_node.refresh_bans().await.unwrap();
    for node in [&id, &other_node] {
        assert_eq!(node.bans().deleted(), [account.as_str().to_string()].into(), "a deletion, not a mere ban");
    }
    let pseudonym = arcade_identity::new_pseudonym();
    assert!(pseudonym.starts_with("del_") && pseudonym.len() == account.as_str().len(), "{pseudonym}");
    assert_ne!(pseudonym, arcade_identity::new_pseudonym());

    let deleted = id.account(&account).await.unwrap().unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.display_name, "");
    assert_eq!(deleted.roles, arcade_identity::Roles::NONE);
    assert_eq!(err(id.sign_in_password("erin", "erins password", &anon()).await), AuthError::InvalidCredentials);
    assert_eq!(err(id.refresh(&signed_in.refresh_token, &anon()).await), AuthError::RefreshTokenInvalid);
    let by_device = id.sign_in_device(DEVICE_A, &anon()).await.unwrap();
    assert!(
        by_device.created && by_device.session.account != account,
        "the device no longer leads to the deleted account"
    );
    assert_eq!(err(id.set_display_name(&account, "Back", &anon()).await), AuthError::AccountNotFound);
    assert_eq!(err(id.delete_account(&account, &anon()).await), AuthError::AccountNotFound);
    // The username is free again, for a new account with a new id.
    let reborn = id.register("erin", "another password", &anon()).await.unwrap();
    assert_ne!(reborn.session.account, account);
    let events =
        id.audit(&AuditQuery { kind: Some(AuditKind::AccountDeleted), ..AuditQuery::first(10) }).await.unwrap();
    assert_eq!(events.len(), 1);
}

pub async fn oidc_sign_in_and_provider_key_rotation(store: Arc<dyn IdentityStore>) {
    let key1 = ProviderKey::generate("provider-key-1");
    let provider = FakeProvider::start(&[&key1]).await;
    let id = identity(&store, Some(&provider.url));

    let first = id.sign_in_external(&key1.id_token("user-123", serde_json::json!({})), &anon()).await.unwrap();
    assert!(first.created);
    assert_eq!(first.session.name, "Provider User");
    let again = id.sign_in_external(&key1.id_token("user-123", serde_json::json!({})), &anon()).await.unwrap();
    assert_eq!(again.session.account, first.session.account);
    assert!(!again.created);
    assert_eq!(provider.fetches(), 1, "keys are cached");

    let bad_name = key1.id_token("user-456", serde_json::json!({"preferred_username": "\u{202E}x"}));
    let other = id.sign_in_external(&bad_name, &anon()).await.unwrap();
    assert_ne!(other.session.account, first.session.account);
    assert!(other.session.name.starts_with("player-"), "an invalid suggested name is not used");

    // Refusals.
    let now = now_ms() / 1000;
    let cases = [
        (serde_json::json!({"aud": "someone-else"}), AuthError::TokenWrongAudience),
        (serde_json::json!({"iss": "https://evil.example"}), AuthError::TokenWrongIssuer),
        (serde_json::json!({"exp": now - 3600}), AuthError::TokenExpired),
    ];
    for (overrides, expected) in cases {
        let token = key1.id_token("user-123", overrides.clone());
        assert_eq!(err(id.sign_in_external(&token, &anon()).await), expected, "{overrides}");
    }
    let stranger = ProviderKey { kid: "provider-key-1".into(), ..ProviderKey::generate("x") };
    let forged = stranger.id_token("user-123", serde_json::json!({}));
    assert_eq!(err(id.sign_in_external(&forged, &anon()).await), AuthError::TokenBadSignature);
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some("provider-key-1".into());
    let hs = jsonwebtoken::encode(
        &hs_header,
        &serde_json::json!({"sub": "user-123", "iss": super::PROVIDER_ISSUER, "aud": super::PROVIDER_AUDIENCE, "exp": now + 60}),
        &jsonwebtoken::EncodingKey::from_secret(b"guessable").unwrap(),
    )
    .unwrap();
    assert_eq!(err(id.sign_in_external(&hs, &anon()).await), AuthError::TokenAlgorithmRefused);

    // Rotation at the provider: a token with a new kid makes the service
    // refetch the set and accept it; the retired key is gone after that.
    let key2 = ProviderKey::generate("provider-key-2");
    provider.publish(&[&key2]);
    let fetches = provider.fetches();
    let rotated = id.sign_in_external(&key2.id_token("user-123", serde_json::json!({})), &anon()).await.unwrap();
    assert_eq!(rotated.session.account, first.session.account);
    assert_eq!(provider.fetches(), fetches + 1);
    let unknown = ProviderKey::generate("provider-key-9").id_token("user-123", serde_json::json!({}));
    assert_eq!(err(id.sign_in_external(&unknown, &anon()).await), AuthError::TokenUnknownKey);
    assert_eq!(
        err(id.sign_in_external(&key1.id_token("user-123", serde_json::json!({})), &anon()).await),
        AuthError::TokenUnknownKey
    );

    // Linking the provider identity to a guest account.
    let guest = id.sign_in_device(DEVICE_A, &anon()).await.unwrap().session.account;
    id.link_external(&guest, &key2.id_token("user-789", serde_json::json!({})), &anon()).await.unwrap();
    let linked = id.sign_in_external(&key2.id_token("user-789", serde_json::json!({})), &anon()).await.unwrap();
    assert_eq!(linked.session.account, guest);
    assert_eq!(
        err(id.link_external(&guest, &key2.id_token("user-123", serde_json::json!({})), &anon()).await),
        AuthError::CredentialInUse
    );
    let failures =
        id.audit(&AuditQuery { kind: Some(AuditKind::SignInFailed), ..AuditQuery::first(100) }).await.unwrap();
    assert!(failures.iter().all(|e| e.detail["method"] == "oidc"));
    assert!(failures.iter().any(|e| e.detail["code"] == "token_wrong_audience"));

    // Not configured: a clear error.
    let without = identity(&store, None);
    assert_eq!(
        err(without.sign_in_external(&key2.id_token("u", serde_json::json!({})), &anon()).await),
        AuthError::OidcNotConfigured
    );
}

pub async fn the_first_publisher_owns_a_plugin_name(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let admin_context = Context::anonymous(Some(IP));
    let publisher = |device: &'static str| {
        let id = &id;
        let admin_context = admin_context.clone();
        async move {
            let signed = id.sign_in_device(device, &anon()).await.unwrap();
            id.grant_role(&signed.session.account, Role::Publisher, &admin_context).await.unwrap();
            id.refresh(&signed.refresh_token, &anon()).await.unwrap().session
        }
    };
    let alice = publisher(DEVICE_A).await;
    let bob = publisher(DEVICE_B).await;
    let player = id.sign_in_device("device-cccccccccccccccc", &anon()).await.unwrap().session;

    assert_eq!(err(id.authorize_publish(&player, "chess", false).await), AuthError::RoleRequired("publisher"));
    assert_eq!(id.plugin_owner("chess").await.unwrap(), None, "a refused publish claims nothing");
    id.authorize_publish(&alice, "chess", false).await.unwrap();
    assert_eq!(id.plugin_owner("chess").await.unwrap(), Some(alice.account.clone()));
    id.authorize_publish(&alice, "chess", true).await.expect("the owner publishes new versions");
    assert_eq!(err(id.authorize_publish(&bob, "chess", true).await), AuthError::NotOwner("chess".into()));
    assert_eq!(err(id.authorize_publish(&bob, "chess", false).await), AuthError::NotOwner("chess".into()));
    // A name the server loaded itself (no owner) is the admins'.
    assert_eq!(err(id.authorize_publish(&bob, "tic-tac-toe", true).await), AuthError::NotOwner("tic-tac-toe".into()));
    let admin = id.sign_in_device("device-dddddddddddddddd", &anon()).await.unwrap();
    id.grant_role(&admin.session.account, Role::Admin, &admin_context).await.unwrap();
    let admin = id.refresh(&admin.refresh_token, &anon()).await.unwrap().session;
    id.authorize_publish(&admin, "chess", true).await.expect("admins publish anything");
    id.authorize_publish(&admin, "tic-tac-toe", true).await.unwrap();
    assert_eq!(id.plugin_owner("tic-tac-toe").await.unwrap(), None, "an admin's publish claims nothing");

    // Of two racing first publishes of a new name, one wins.
    let (a, b) = tokio::join!(id.authorize_publish(&alice, "go", false), id.authorize_publish(&bob, "go", false));
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");

    id.record_publish(Some(&alice.account), "chess", "1.0.0", &anon()).await;
    let trail = id.audit(&AuditQuery { kind: Some(AuditKind::Publish), ..AuditQuery::first(10) }).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].detail["plugin"], "chess");
}

pub async fn parties_are_joined_by_invite_and_queued_by_their_leader(store: Arc<dyn IdentityStore>) {
    let id = identity(&store, None);
    let mut accounts = Vec::new();
    for n in 0..=MAX_PARTY_MEMBERS {
        let device = format!("party-device-{n:04}-aaaaaaaa");
        accounts.push(id.sign_in_device(&device, &anon()).await.unwrap().session.account);
    }
    let (leader, member, stranger) = (&accounts[0], &accounts[1], &accounts[MAX_PARTY_MEMBERS]);
    let (party, invite) = id.create_party(leader).await.unwrap();
    assert_eq!(party.members, std::slice::from_ref(leader));
    assert_eq!(err(id.create_party(leader).await), AuthError::AlreadyInParty, "one party at a time");

    // A wrong invite, an unknown party and a malformed id all look alike.
    let pid = party.id.as_str();
    assert_eq!(err(id.join_party(pid, "inv_wrong", member).await), AuthError::PartyNotFound);
    assert_eq!(err(id.join_party("pty_aaaaaaaaaaaaaaaaaaaaaaaaaa", &invite, member).await), AuthError::PartyNotFound);
    assert_eq!(err(id.join_party("not-a-party", &invite, member).await), AuthError::PartyNotFound);
    let joined = id.join_party(pid, &invite, member).await.unwrap();
    assert_eq!(joined.members, [leader.clone(), member.clone()], "the leader first, then in joining order");
    assert_eq!(id.join_party(pid, &invite, member).await.unwrap(), joined, "joining twice changes nothing");
    for account in &accounts[2..MAX_PARTY_MEMBERS] {
        id.join_party(pid, &invite, account).await.unwrap();
    }
    assert_eq!(err(id.join_party(pid, &invite, stranger).await), AuthError::PartyFull(MAX_PARTY_MEMBERS));

    // Members read it; strangers do not; only the leader queues it.
    assert_eq!(id.party_for(pid, member).await.unwrap().members.len(), MAX_PARTY_MEMBERS);
    assert_eq!(err(id.party_for(pid, stranger).await), AuthError::PartyNotFound);
    assert_eq!(err(id.party_to_queue(pid, member).await), AuthError::NotPartyLeader);
    let queued = id.party_to_queue(pid, leader).await.unwrap();
    let ticket = PartyTicket { id: "ticket-1".into(), secret: "secret-1".into() };
    id.set_party_ticket(&queued.id, &ticket).await.unwrap();
    assert_eq!(id.party_for(pid, member).await.unwrap().ticket, Some(ticket));

    // A member leaves (and may start its own party); the leader leaving disbands.
    id.leave_party(pid, member).await.unwrap();
    assert_eq!(err(id.party_for(pid, member).await), AuthError::PartyNotFound);
    assert_eq!(err(id.leave_party(pid, member).await), AuthError::PartyNotFound);
    let (own, _) = id.create_party(member).await.unwrap();
    id.leave_party(pid, leader).await.unwrap();
    assert_eq!(err(id.party_for(pid, &accounts[2]).await), AuthError::PartyNotFound);
    id.create_party(&accounts[2]).await.expect("the disbanded party's members are free");
    // Deleting an account takes it out of its party (and disbands the ones it leads).
    id.delete_account(member, &anon()).await.unwrap();
    assert_eq!(err(id.party_for(own.id.as_str(), member).await), AuthError::PartyNotFound);
}

pub async fn board_resets_are_kept_once_and_read_back_in_order(store: Arc<dyn IdentityStore>) {
    // Two nodes over one store: what one records, the other reads.
    let node_a = identity(&store, None);
    let node_b = identity(&store, None);
    let admin = node_a.sign_in_device(DEVICE_B, &anon()).await.unwrap().session.account;
    let by_admin = Context::by(&admin, Some(IP));
    let reset = |board: &str, period: &str, at_ms| arcade_identity::BoardReset {
        game: "high-card-duel".into(),
        mode: "standard".into(),
        board: board.into(),
        period: period.into(),
        at_ms,
        by: Some(admin.clone()),
    };
    assert!(node_b.board_resets().await.unwrap().is_empty());
    let later = reset("points", "weekly", 2_000);
    let earlier = reset("best", "monthly", 1_000);
    node_a.reset_board(&later, &by_admin).await.unwrap();
    node_a.reset_board(&earlier, &by_admin).await.unwrap();
    node_a.reset_board(&later, &by_admin).await.unwrap();
    assert_eq!(node_b.board_resets().await.unwrap(), [earlier, later], "oldest first, once each");
    let events =
        node_a.audit(&AuditQuery { kind: Some(AuditKind::BoardReset), ..AuditQuery::first(10) }).await.unwrap();
    assert_eq!(events.len(), 3, "every reset asked for is audited");
    assert_eq!(events[0].detail["board"], "points");
    assert_eq!(events[0].actor.as_ref(), Some(&admin));
}
