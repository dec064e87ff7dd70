//! Accounts and sessions against the real server (#12): guest, password
//! and the refusals of each; refresh rotation and reuse detection; logout;
//! tokens that are expired, forged, `alg: none`, from another issuer or
//! audience, or signed with a key that was rotated out; roles, bans and
//! the audit trail through the admin routes; account deletion. Each store:
//! the embedded SQLite (the default) and a real PostgreSQL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::support::*;

/// argon2id at its cheapest (debug builds are slow) and known token keys,
/// so the tests can forge tokens with them.
const FAST_PASSWORDS: [(&str, &str); 2] =
    [("ARCADE_AUTH__PASSWORD_MEMORY_KIB", "64"), ("ARCADE_AUTH__PASSWORD_ITERATIONS", "1")];
const KEY_1: &str = "test-key-one-0123456789abcdef0123456789";
const KEY_2: &str = "test-key-two-0123456789abcdef0123456789";

fn keys(keys: &[(&str, &str)]) -> String {
    let list: Vec<String> =
        keys.iter().map(|(kid, secret)| format!("{{kid=\"{kid}\", secret=\"{secret}\"}}")).collect();
    format!("[{}]", list.join(", "))
}

async fn start(extra: &[(&str, &str)]) -> Server {
    let signing = keys(&[("k1", KEY_1)]);
    let mut env: Vec<(&str, &str)> = FAST_PASSWORDS.to_vec();
    env.push(("ARCADE_AUTH__SIGNING_KEYS", &signing));
    env.extend_from_slice(extra);
    Server::start_with(&env).await
}

async fn post(server: &Server, path: &str, body: Value) -> (StatusCode, Value) {
    server.send(server.http.post(server.url(path)).json(&body)).await
}

/// `POST path` with `body` as the bearer of `token`.
async fn post_as(server: &Server, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    server.send(server.http.post(server.url(path)).bearer_auth(token).json(&body)).await
}

async fn get_as(server: &Server, path: &str, token: &str) -> (StatusCode, Value) {
    server.send(server.http.get(server.url(path)).bearer_auth(token)).await
}

async fn guest(server: &Server, device: &str) -> Value {
    let (status, body) = post(server, "/v1/auth/guest", json!({ "device_id": device })).await;
    assert!(status == 200 || status == 201, "guest sign-in: {status} {body}");
    body
}

fn device() -> String {
    unique("device-0123456789")
}

/// A compact HS256 JWT of `claims` with `kid`, signed with `secret`.
fn forge(kid: &str, secret: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "HS256", "typ": "JWT", "kid": kid }).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{header}.{payload}").as_bytes());
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// The claims a server with default `auth` settings writes, for `account`.
fn claims(account: &str, iat: u64, exp: u64) -> Value {
    json!({ "sub": account, "name": "forged", "roles": ["player"], "sid": "s", "iat": iat, "exp": exp,
            "iss": "arcade", "aud": "arcade" })
}

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

async fn sessions_round_trip(server: &Server) {
    // Guest: the same device is the same account.
    let device = device();
    let first = guest(server, &device).await;
    assert_eq!(first["created"], true, "{first}");
    assert_eq!(first["token_type"], "Bearer");
    let again = guest(server, &device).await;
    assert_eq!(again["created"], false);
    assert_eq!(again["account"]["id"], first["account"]["id"]);
    let account = str_at(&first["account"], "id");
    let (status, me) = get_as(server, "/v1/account", &str_at(&again, "access_token")).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], account.as_str());
    assert_eq!(me["roles"], json!(["player"]));

    // A new display name, the id unchanged.
    let renamed = server
        .send(
            server
                .http
                .patch(server.url("/v1/account"))
                .bearer_auth(str_at(&again, "access_token"))
                .json(&json!({ "display_name": "Ada" })),
        )
        .await;
    assert_eq!((renamed.0.as_u16(), renamed.1["display_name"].as_str()), (200, Some("Ada")), "{renamed:?}");
    assert_eq!(renamed.1["id"], account.as_str());

    // Refresh rotates; the used token sent again revokes the whole family.
    let old_refresh = str_at(&again, "refresh_token");
    let (status, rotated) = post(server, "/v1/auth/refresh", json!({ "refresh_token": old_refresh })).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["refresh_token"], again["refresh_token"]);
    assert_eq!(rotated["account"]["display_name"], "Ada", "the refreshed token carries the new name");
    let reused = post(server, "/v1/auth/refresh", json!({ "refresh_token": old_refresh })).await;
    assert_error(&reused, 401, "refresh_token_reused");
    let after_reuse = post(server, "/v1/auth/refresh", json!({ "refresh_token": rotated["refresh_token"] })).await;
    assert_error(&after_reuse, 401, "refresh_token_revoked");

    // Logout ends that session only.
    let session = guest(server, &device).await;
    let other = guest(server, &device).await;
    let (status, _) = server
        .send(server.http.post(server.url("/v1/auth/logout")).bearer_auth(str_at(&session, "access_token")))
        .await;
    assert_eq!(status, 204);
    let refused = post(server, "/v1/auth/refresh", json!({ "refresh_token": session["refresh_token"] })).await;
    assert_error(&refused, 401, "refresh_token_revoked");
    let (status, _) = post(server, "/v1/auth/refresh", json!({ "refresh_token": other["refresh_token"] })).await;
    assert_eq!(status, 200, "another session of the account is untouched");

    // Username + password: a wrong password and an unknown user look alike.
    let username = unique("user").replace('-', "_");
    let username = &username[..username.len().min(32)];
    let registered =
        post(server, "/v1/auth/register", json!({ "username": username, "password": "correct horse" })).await;
    assert_eq!(registered.0, 201, "{registered:?}");
    let taken = post(server, "/v1/auth/register", json!({ "username": username, "password": "another one" })).await;
    assert_error(&taken, 409, "username_taken");
    let login =
        post(server, "/v1/auth/login", json!({ "username": username.to_uppercase(), "password": "correct horse" }))
            .await;
    assert_eq!(login.0, 200, "usernames are case-insensitive: {login:?}");
    assert_eq!(login.1["account"]["id"], registered.1["account"]["id"]);
    let wrong = post(server, "/v1/auth/login", json!({ "username": username, "password": "wrong horse" })).await;
    let unknown = post(server, "/v1/auth/login", json!({ "username": "nobody_here", "password": "wrong horse" })).await;
    assert_error(&wrong, 401, "invalid_credentials");
    assert_error(&unknown, 401, "invalid_credentials");
    assert_eq!(wrong.1, unknown.1, "the answers must not tell a wrong password from an unknown user");

    // Link a password to the guest account, then sign in with it.
    let linked_name = format!("{}_g", &username[..username.len().min(30)]);
    let link = json!({ "username": linked_name, "password": "guest's password" });
    let (status, body) = post_as(server, "/v1/account/links", &str_at(&other, "access_token"), link).await;
    assert_eq!(status, 204, "{body}");
    let login =
        post(server, "/v1/auth/login", json!({ "username": linked_name, "password": "guest's password" })).await;
    assert_eq!(login.1["account"]["id"], account.as_str(), "{login:?}");

    // The account plays a game (X, and wins); it is archived.
    let token = str_at(&login.1, "access_token");
    let (status, created) = post_as(server, "/v1/rooms", &token, json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, 201, "{created}");
    let room = str_at(&created["room"], "id");
    let (x_seat, o_seat) = (str_at(&created["seats"][0], "token"), server.join(&room, "opponent").await);
    for (i, cell) in [0, 3, 1, 4, 2].into_iter().enumerate() {
        let seat = if i % 2 == 0 { &x_seat } else { &o_seat };
        assert_eq!(server.act(&room, seat, &json!({ "cell": cell })).await.0, StatusCode::OK);
    }
    server.flush_archive().await;
    let (_, listed) = server.get(&format!("/v1/games?player={account}")).await;
    let game = str_at(&listed["games"][0], "game_id");

    // Deletion: the account's sessions and credentials are gone, and its
    // archived game names a pseudonym instead, and still replays.
    let (status, _) = server.send(server.http.delete(server.url("/v1/account")).bearer_auth(&token)).await;
    assert_eq!(status, 204);
    // Its access token, still within its lifetime, plays nothing more under the id.
    let after = post_as(server, "/v1/rooms", &token, json!({ "game": "tic-tac-toe" })).await;
    assert_error(&after, 403, "account_banned");
    let (_, listed) = server.get(&format!("/v1/games?player={account}")).await;
    assert_eq!(listed["games"], json!([]), "nothing is found by the deleted id: {listed}");
    let (status, record) = server.get_as(ADMIN_TOKEN, &format!("/v1/games/{game}")).await;
    assert_eq!(status, 200, "{record}");
    assert!(!record.to_string().contains(account.as_str()), "the archived game still names the account: {record}");
    let pseudonym = record["players"][0].as_str().unwrap_or_default().to_string();
    assert!(pseudonym.starts_with("del_"), "{record}");
    assert_eq!(record["status"]["winners"], json!([pseudonym]), "{record}");
    let output = arcade_command()
        .args(["replay", &game, "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("running arcade replay");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("verified {game}")), "{stdout}");
    let gone = post(server, "/v1/auth/login", json!({ "username": linked_name, "password": "guest's password" })).await;
    assert_error(&gone, 401, "invalid_credentials");
    let refresh = post(server, "/v1/auth/refresh", json!({ "refresh_token": login.1["refresh_token"] })).await;
    assert_eq!(refresh.0, 401, "{refresh:?}");
    let fresh = guest(server, &device).await;
    assert_ne!(fresh["account"]["id"], account.as_str(), "a deleted account's device starts a new account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_with_the_embedded_store() {
    let server = start(&[]).await;
    sessions_round_trip(&server).await;
    assert!(server.data_dir().join("identity.sqlite").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_with_postgres() {
    let database = TestServices::get().fresh_database().await;
    let server = start(&[("ARCADE_AUTH__DATABASE_URL", &database)]).await;
    sessions_round_trip(&server).await;
    assert!(!server.data_dir().join("identity.sqlite").exists(), "PostgreSQL, not the embedded store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_has_its_own_code() {
    let server = start(&[]).await;
    let signed = guest(&server, &device()).await;
    let account = str_at(&signed["account"], "id");
    let token = str_at(&signed, "access_token");
    let now = now_s();
    assert_eq!(get_as(&server, "/v1/account", &token).await.0, 200);
    assert_eq!(get_as(&server, "/v1/account", &forge("k1", KEY_1, &claims(&account, now, now + 60))).await.0, 200);

    let missing = server.send(server.http.get(server.url("/v1/account"))).await;
    assert_error(&missing, 401, "missing_token");
    // Flip the signature's first character: its last one also carries padding bits, and a
    // non-canonical base64 ending is a malformed token rather than a bad signature.
    let signature_at = token.rfind('.').unwrap() + 1;
    let first = &token[signature_at..=signature_at];
    let tampered =
        format!("{}{}{}", &token[..signature_at], if first == "A" { "B" } else { "A" }, &token[signature_at + 1..]);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(&account, now, now + 60).to_string())
    );
    let mut wrong_issuer = claims(&account, now, now + 60);
    wrong_issuer["iss"] = json!("elsewhere");
    let cases = [
        ("garbage", "not.a.jwt".to_string(), "token_malformed"),
        ("alg none", none, "token_algorithm_refused"),
        ("tampered", tampered, "token_bad_signature"),
        ("another key", forge("k1", KEY_2, &claims(&account, now, now + 60)), "token_bad_signature"),
        ("unknown kid", forge("k9", KEY_1, &claims(&account, now, now + 60)), "token_unknown_key"),
        ("expired", forge("k1", KEY_1, &claims(&account, now - 120, now - 60)), "token_expired"),
        ("wrong issuer", forge("k1", KEY_1, &wrong_issuer), "token_wrong_issuer"),
    ];
    for (what, token, code) in cases {
        let answer = get_as(&server, "/v1/account", &token).await;
        assert_eq!(answer.1["error"]["code"], code, "{what}: {answer:?}");
        assert_eq!(answer.0, 401, "{what}");
    }
    let mut wrong_audience = claims(&account, now, now + 60);
    wrong_audience["aud"] = json!("another-game");
    assert_error(
        &get_as(&server, "/v1/account", &forge("k1", KEY_1, &wrong_audience)).await,
        401,
        "token_wrong_audience",
    );
    // No answer carries a token or a secret.
    assert!(!server.stderr_log().contains(&token), "the access token is in the server log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_survive_a_key_rotation_until_the_old_key_is_dropped() {
    let dir = fresh_dir("arcade-key-rotation");
    let only_old = keys(&[("k1", KEY_1)]);
    let both = keys(&[("k2", KEY_2), ("k1", KEY_1)]);
    let only_new = keys(&[("k2", KEY_2)]);
    let with_keys = |keys: &str| {
        let mut env = FAST_PASSWORDS.to_vec();
        env.push(("ARCADE_AUTH__SIGNING_KEYS", keys));
        env.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>()
    };
    let start = |env: Vec<(String, String)>| {
        let dir = dir.to_path_buf();
        async move {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            Server::start_in(&dir, &env).await
        }
    };
    let server = start(with_keys(&only_old)).await;
    let old = guest(&server, &device()).await;
    let old_token = str_at(&old, "access_token");
    drop(server);

    let server = start(with_keys(&both)).await;
    assert_eq!(get_as(&server, "/v1/account", &old_token).await.0, 200, "the old key still verifies");
    let new = post(&server, "/v1/auth/refresh", json!({ "refresh_token": old["refresh_token"] })).await;
    assert_eq!(new.0, 200, "{new:?}");
    let new_token = str_at(&new.1, "access_token");
    drop(server);

    let server = start(with_keys(&only_new)).await;
    assert_error(&get_as(&server, "/v1/account", &old_token).await, 401, "token_unknown_key");
    assert_eq!(get_as(&server, "/v1/account", &new_token).await.0, 200, "the new key signed the refreshed token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_grant_roles_ban_and_read_the_audit_trail() {
    let server = start(&[]).await;
    let admin_token = "arcade-dev-admin";
    let player = guest(&server, &device()).await;
    let player_id = str_at(&player["account"], "id");
    let player_token = str_at(&player, "access_token");
    let put =
        |path: String, token: &str, body: Value| server.http.put(server.url(&path)).bearer_auth(token).json(&body);

    // A player is no admin; the admin token bootstraps the first one.
    let moderator = guest(&server, &device()).await;
    let moderator_id = str_at(&moderator["account"], "id");
    assert_error(&get_as(&server, "/admin/bans", &player_token).await, 403, "forbidden");
    let (status, roles) =
        server.send(put(format!("/admin/accounts/{moderator_id}/roles/admin"), admin_token, json!(null))).await;
    assert_eq!(status, 200, "{roles}");
    assert_eq!(roles["roles"], json!(["player", "admin"]));
    let promoted = post(&server, "/v1/auth/refresh", json!({ "refresh_token": moderator["refresh_token"] })).await;
    let moderator_token = str_at(&promoted.1, "access_token");
    assert_eq!(get_as(&server, "/admin/bans", &moderator_token).await.0, 200, "roles arrive with the next refresh");

    // The player holds a seat (its token is room-scoped, derived from the session).
    let (status, room) = post_as(&server, "/v1/rooms", &player_token, json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, 201, "{room}");
    let seat_token = str_at(&room["seats"][0], "token");
    let actions = format!("/v1/rooms/{}/actions", str_at(&room["room"], "id"));
    let act = |token: String| {
        server.send(server.http.post(server.url(&actions)).bearer_auth(token).json(&json!({ "cell": 0 })))
    };
    assert_error(&act(seat_token.clone()).await, 409, "game_not_started");

    // A ban stops the player's sessions at once, and its seats; lifted, they work again.
    let (status, ban) = server
        .send(put(format!("/admin/accounts/{player_id}/ban"), &moderator_token, json!({ "reason": "cheating" })))
        .await;
    assert_eq!(status, 200, "{ban}");
    assert_eq!(ban["by"], moderator_id.as_str());
    assert_error(&get_as(&server, "/v1/account", &player_token).await, 403, "account_banned");
    assert_error(&act(seat_token.clone()).await, 403, "account_banned");
    assert_error(&act(player_token.clone()).await, 403, "account_banned");
    let refresh = post(&server, "/v1/auth/refresh", json!({ "refresh_token": player["refresh_token"] })).await;
    assert_error(&refresh, 403, "account_banned");
    let (_, bans) = get_as(&server, "/admin/bans", &moderator_token).await;
    assert!(bans["bans"].as_array().unwrap().iter().any(|b| b["account"] == player_id.as_str()), "{bans}");
    let (status, _) = server
        .send(server.http.delete(server.url(&format!("/admin/accounts/{player_id}/ban"))).bearer_auth(admin_token))
        .await;
    assert_eq!(status, 204);
    assert_eq!(get_as(&server, "/v1/account", &player_token).await.0, 200);
    assert_error(&act(seat_token.clone()).await, 409, "game_not_started");
    let again = server
        .send(server.http.delete(server.url(&format!("/admin/accounts/{player_id}/ban"))).bearer_auth(admin_token))
        .await;
    assert_error(&again, 404, "not_banned");

    // The trail: who did what to whom, filtered and paged.
    let (status, trail) = get_as(&server, &format!("/admin/audit?account={player_id}"), admin_token).await;
    assert_eq!(status, 200, "{trail}");
    let kinds: Vec<&str> = trail["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["sign_in", "ban", "unban"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let (_, bans_only) = get_as(&server, "/admin/audit?kind=ban", admin_token).await;
    let ban_event = &bans_only["events"][0];
    assert_eq!((ban_event["account"].as_str(), ban_event["actor"].as_str()), (Some(&*player_id), Some(&*moderator_id)));
    let (_, page) = get_as(&server, "/admin/audit?limit=1", admin_token).await;
    let next = page["next_after"].as_i64().expect("a cursor");
    let (_, second) = get_as(&server, &format!("/admin/audit?limit=1&after={next}"), admin_token).await;
    assert!(second["events"][0]["id"].as_i64().unwrap() > next, "{second}");
    assert!(!trail.to_string().contains(&player_token), "the audit trail holds no token");

    // Bad admin input has codes too.
    assert_error(&get_as(&server, "/admin/audit?kind=nonsense", admin_token).await, 400, "invalid_query");
    assert_error(&get_as(&server, "/admin/audit?limit=0", admin_token).await, 400, "invalid_query");
    let bad_role =
        server.send(put(format!("/admin/accounts/{player_id}/roles/emperor"), admin_token, json!(null))).await;
    assert_error(&bad_role, 422, "invalid_role");
    let nobody = server.send(put("/admin/accounts/acc_nobody/ban".into(), admin_token, json!({ "reason": "x" }))).await;
    assert_error(&nobody, 404, "account_not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sign_in_input_is_refused_with_codes_and_changes_nothing() {
    let server = start(&[]).await;
    let cases = [
        ("/v1/auth/guest", json!({ "device_id": "short" }), 422, "invalid_device_id"),
        ("/v1/auth/guest", json!({ "device_id": "x".repeat(129) }), 422, "invalid_device_id"),
        ("/v1/auth/guest", json!({ "device": "0123456789abcdef0" }), 422, "invalid_request"),
        ("/v1/auth/register", json!({ "username": "ab", "password": "long enough" }), 422, "invalid_username"),
        ("/v1/auth/register", json!({ "username": "bad name!", "password": "long enough" }), 422, "invalid_username"),
        (
            "/v1/auth/register",
            json!({ "username": "\u{202e}evil", "password": "long enough" }),
            422,
            "invalid_username",
        ),
        ("/v1/auth/register", json!({ "username": "fine_name", "password": "short" }), 422, "invalid_password"),
        ("/v1/auth/login", json!({ "username": "ab", "password": "whatever1" }), 401, "invalid_credentials"),
        ("/v1/auth/refresh", json!({ "refresh_token": "made-up" }), 401, "refresh_token_invalid"),
        ("/v1/auth/external", json!({ "id_token": "a.b.c" }), 404, "oidc_not_configured"),
    ];
    for (path, body, status, code) in cases {
        let answer = post(&server, path, body.clone()).await;
        assert_eq!(
            (answer.0.as_u16(), answer.1["error"]["code"].as_str()),
            (status, Some(code)),
            "{path} {body}: {answer:?}"
        );
    }
    let not_json = server
        .send(server.http.post(server.url("/v1/auth/guest")).header("content-type", "application/json").body("{"))
        .await;
    assert_error(&not_json, 400, "malformed_json");
    // Display names: too long, control characters, bidi overrides; a body
    // that is not UTF-8.
    let session = guest(&server, &device()).await;
    let token = str_at(&session, "access_token");
    for name in ["x".repeat(33), "tab\there".to_string(), "\u{202e}evil".to_string(), String::new()] {
        let answer = server
            .send(
                server.http.patch(server.url("/v1/account")).bearer_auth(&token).json(&json!({ "display_name": name })),
            )
            .await;
        assert_error(&answer, 422, "invalid_display_name");
    }
    let not_utf8 = server
        .send(
            server
                .http
                .patch(server.url("/v1/account"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(b"{\"display_name\": \"\xff\xfe\"}".to_vec()),
        )
        .await;
    assert_error(&not_utf8, 400, "malformed_json");
    let (_, me) = get_as(&server, "/v1/account", &token).await;
    assert_eq!(me["display_name"], session["account"]["display_name"], "a refused rename changes nothing");

    // A refused registration left no account behind: the name is still free.
    let ok = post(&server, "/v1/auth/register", json!({ "username": "fine_name", "password": "long enough" })).await;
    assert_eq!(ok.0, 201, "{ok:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishers_own_the_names_they_publish_first() {
    let server = start(&[]).await;
    let admin_token = "arcade-dev-admin";
    let publish = |token: String, wasm: Vec<u8>| {
        server
            .http
            .post(server.url("/v1/plugins"))
            .bearer_auth(token)
            .header("content-type", "application/wasm")
            .body(wasm)
    };
    // A session with the publisher role (granted by an admin, carried from the next refresh).
    let publisher = |device: String| {
        let server = &server;
        async move {
            let signed = guest(server, &device).await;
            let id = str_at(&signed["account"], "id");
            let granted = server
                .send(
                    server
                        .http
                        .put(server.url(&format!("/admin/accounts/{id}/roles/publisher")))
                        .bearer_auth(admin_token),
                )
                .await;
            assert_eq!(granted.0, 200, "{granted:?}");
            let refreshed = post(server, "/v1/auth/refresh", json!({ "refresh_token": signed["refresh_token"] })).await;
            (id, str_at(&refreshed.1, "access_token"))
        }
    };
    let player = guest(&server, &device()).await;
    let refused = server.send(publish(str_at(&player, "access_token"), plugin_bytes("spinner"))).await;
    assert_error(&refused, 403, "role_required");

    let (alice_id, alice) = publisher(device()).await;
    let (_, bob) = publisher(device()).await;
    let (status, published) = server.send(publish(alice.clone(), plugin_bytes("spinner"))).await;
    assert_eq!(status, 201, "the first publisher of a name: {published}");
    let name = str_at(&published, "name");
    let (status, _) = server.send(publish(alice.clone(), plugin_bytes("spinner"))).await;
    assert_eq!(status, 200, "the owner publishes the same bytes again");
    assert_error(&server.send(publish(bob.clone(), plugin_bytes("spinner"))).await, 403, "not_owner");
    // A preloaded game is the admins': no publisher may publish over it.
    let over = server.send(publish(alice.clone(), plugin_bytes("tic-tac-toe-v2"))).await;
    assert_error(&over, 403, "not_owner");
    let (status, _) = server.send(publish(admin_token.into(), plugin_bytes("tic-tac-toe-v2"))).await;
    assert_eq!(status, 201, "the admin token publishes anything");

    // Who published what is in the audit trail.
    let (_, trail) = get_as(&server, "/admin/audit?kind=publish", admin_token).await;
    let events = trail["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["account"] == alice_id.as_str() && e["detail"]["plugin"] == name.as_str()),
        "{trail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_sign_in_with_the_configured_provider() {
    use arcade_test_support::oidc::{FakeProvider, PROVIDER_AUDIENCE, PROVIDER_ISSUER, ProviderKey};
    let key = ProviderKey::generate("provider-1");
    let provider = FakeProvider::start(&[&key]).await;
    let server = start(&[
        ("ARCADE_AUTH__OIDC_ISSUER", PROVIDER_ISSUER),
        ("ARCADE_AUTH__OIDC_AUDIENCE", PROVIDER_AUDIENCE),
        ("ARCADE_AUTH__OIDC_JWKS_URL", &provider.url),
    ])
    .await;
    let subject = unique("studio-user");
    let first = post(&server, "/v1/auth/external", json!({ "id_token": key.id_token(&subject, json!({})) })).await;
    assert_eq!(first.0, 201, "a new account for the provider's user: {first:?}");
    let again = post(&server, "/v1/auth/external", json!({ "id_token": key.id_token(&subject, json!({})) })).await;
    assert_eq!((again.0.as_u16(), &again.1["account"]["id"]), (200, &first.1["account"]["id"]));
    assert_eq!(get_as(&server, "/v1/account", &str_at(&again.1, "access_token")).await.0, 200);

    // Tokens the provider did not issue for this game are refused.
    let refusals = [
        (key.id_token(&subject, json!({ "aud": "another-client" })), "token_wrong_audience"),
        (key.id_token(&subject, json!({ "iss": "https://elsewhere.test" })), "token_wrong_issuer"),
        (key.id_token(&subject, json!({ "exp": 1_000_000 })), "token_expired"),
        (ProviderKey::generate("provider-1").id_token(&subject, json!({})), "token_bad_signature"),
    ];
    for (token, code) in refusals {
        let answer = post(&server, "/v1/auth/external", json!({ "id_token": token })).await;
        assert_error(&answer, 401, code);
    }

    // A guest links the provider's identity, then signs in with it.
    let guest_session = guest(&server, &device()).await;
    let linked_subject = unique("linked-user");
    let link = json!({ "id_token": key.id_token(&linked_subject, json!({})) });
    let (status, body) = post_as(&server, "/v1/account/links", &str_at(&guest_session, "access_token"), link).await;
    assert_eq!(status, 204, "{body}");
    let signed =
        post(&server, "/v1/auth/external", json!({ "id_token": key.id_token(&linked_subject, json!({})) })).await;
    assert_eq!(signed.1["account"]["id"], guest_session["account"]["id"], "{signed:?}");
    assert!(provider.fetches() >= 1);
}

/// Sign-in floods are cut per address (guest, register, login, refresh all
/// count against it) and, for passwords, per username from any address;
/// a flood of bad access tokens spends the sender's address too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_floods_are_rate_limited() {
    let server = start(&[("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "20")]).await;
    let mut limited = None;
    for attempt in 0..40 {
        let answer = post(&server, "/v1/auth/guest", json!({ "device_id": device() })).await;
        if answer.0 == 429 {
            assert_error(&answer, 429, "rate_limited");
            limited = Some(attempt);
            break;
        }
        assert!(answer.0 == 201, "{answer:?}");
    }
    let limited = limited.expect("a flood of guest sign-ins from one address is never limited");
    assert!(limited >= 20, "limited after {limited} sign-ins, the limit is 20 a minute");
    // The other sign-in routes and bad tokens share the address's budget.
    let login = post(&server, "/v1/auth/login", json!({ "username": "someone", "password": "whatever1" })).await;
    assert_error(&login, 429, "rate_limited");
    let bad_token = get_as(&server, "/v1/account", "not.a.jwt").await;
    assert_error(&bad_token, 429, "rate_limited");

    // Per username: guesses at one account are cut even when each address is fresh.
    let server = start(&[("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "5")]).await;
    let registered =
        post(&server, "/v1/auth/register", json!({ "username": "target", "password": "the real one" })).await;
    assert_eq!(registered.0, 201, "{registered:?}");
    let mut codes = Vec::new();
    for _ in 0..8 {
        let answer = post(&server, "/v1/auth/login", json!({ "username": "TARGET", "password": "guess guess" })).await;
        codes.push(answer.1["error"]["code"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(codes.iter().filter(|c| *c == "invalid_credentials").count(), 5, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "rate_limited").count(), 3, "{codes:?}");
}
