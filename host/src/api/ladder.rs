//! Ratings and leaderboards (the `arcade-ladder` view of the archive):
//! a board's pages, a player's neighbourhood on it or a list of players
//! (friends), a player's ratings and rated-game history.
//!
//! Public reads, like the archive's listing: what they show (account ids,
//! display names, ratings, outcomes) every opponent saw already. Each call
//! is counted against the caller's address; a page is at most
//! [`MAX_LIMIT`] lines, so a call costs the server a bounded amount.
//!
//! One admin write: resetting a score board's period, kept in the identity
//! store (shared by the nodes, audited) and applied by every node's ladder
//! at its next ban reload (this node's at once).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::client_ip::ClientIp;
use super::{ApiError, App};
use arcade_cluster::ratelimit::Policy;
use arcade_ladder::{
    BoardEntry, BoardKey, HistoryEntry, Ladder, LinesError, Period, Query as LadderQuery, RankKey, ScoreEntry,
    ScoreKind, ScoreOrder, ScoreReset,
};
use arcade_protocol::clock::now_ms;

/// Most lines (or games) one call answers.
pub const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 20;
/// Most friends one call names.
const MAX_PLAYERS: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    limit: Option<i64>,
    /// `next` of the previous page.
    after: Option<String>,
    /// A player: its line and `limit` lines either side.
    around: Option<String>,
    /// Comma-separated players (friends): their lines, best first.
    players: Option<String>,
    /// `all_time` (default), `weekly` or `monthly` (score boards).
    period: Option<String>,
    /// A day in the period (`YYYY-MM-DD`), or a month (`YYYY-MM`);
    /// default: the current period.
    at: Option<String>,
}

/// A query checked: what it asks for, in which period.
struct Asked {
    limit: usize,
    after: Option<RankKey>,
    around: Option<String>,
    players: Option<Vec<String>>,
    period: Period,
    start_day: i64,
}

impl Asked {
    fn parse(query: BoardQuery) -> Result<Asked, ApiError> {
        let limit = limit(query.limit)?;
        let after = match &query.after {
            Some(cursor) => Some(RankKey::from_cursor(cursor).ok_or_else(|| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", "`after` is not a cursor this board gave")
            })?),
            None => None,
        };
        let players: Option<Vec<String>> = query
            .players
            .as_deref()
            .map(|list| list.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect());
        if players.as_ref().is_some_and(|p| p.len() > MAX_PLAYERS) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "too_many_players",
                format!("at most {MAX_PLAYERS} players per call"),
            ));
        }
        let invalid_period = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_period", message);
        let period = match query.period.as_deref() {
            None => Period::AllTime,
            Some(name) => Period::parse(name)
                .ok_or_else(|| invalid_period(format!("period {name:?} is not all_time, weekly or monthly")))?,
        };
        let start_day = match query.at.as_deref() {
            None => period.start_day(now_ms()),
            Some(at) => period.start_of_label(at).ok_or_else(|| {
                invalid_period(format!("at {at:?} is not a date (YYYY-MM-DD) or a month (YYYY-MM) from 1970"))
            })?,
        };
        Ok(Asked { limit, after, around: query.around, players, period, start_day })
    }

    /// What the lines query asks: `around` over `players` over a page.
    fn query(&self) -> LadderQuery<'_> {
        match (&self.around, &self.players) {
            (Some(player), _) => LadderQuery::Around { player, around: self.limit },
            (None, Some(players)) => LadderQuery::Players(players),
            (None, None) => LadderQuery::Page { after: self.after.as_ref(), limit: self.limit },
        }
    }
}

fn not_on_board(player: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_on_board", format!("{player} has no rated game on this board"))
}

/// A line with its player's display name.
#[derive(Serialize)]
pub struct Named<E> {
    /// The display name (the account id of an account that is gone).
    name: String,
    #[serde(flatten)]
    entry: E,
}

#[derive(Serialize)]
pub struct BoardAnswer {
    game: String,
    mode: String,
    entries: Vec<Named<BoardEntry>>,
    next: Option<String>,
}

/// `GET /v1/leaderboards/{game}/{mode}`: the rating board (all time), a
/// player's neighbourhood (`around`), else some players' lines
/// (`players`), else a page (`limit`, `after`).
pub async fn board(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path((game, mode)): Path<(String, String)>,
    query: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Json<BoardAnswer>, ApiError> {
    let Query(query) = query?;
    let asked = Asked::parse(query)?;
    if asked.period != Period::AllTime {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_period",
            "a rating board is all time (weekly and monthly periods are for score boards)",
        ));
    }
    let key = BoardKey::new(&game, &mode);
    app.limit(Policy::Ip, &ip.0).await?;
    let (entries, next) = {
        let ladder = app.ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !ladder.has_board(&key) {
            drop(ladder);
            return if board_exists(&app, &key) {
                Ok(Json(BoardAnswer { game, mode, entries: Vec::new(), next: None }))
            } else {
                Err(board_not_found(&key))
            };
        }
        match asked.query() {
            LadderQuery::Around { player, around } => {
                (ladder.around(&key, player, around).ok_or_else(|| not_on_board(player))?, None)
            }
            LadderQuery::Players(players) => (ladder.of_players(&key, players).unwrap_or_default(), None),
            LadderQuery::Page { after, limit } => {
                let page = ladder.page(&key, after, limit).unwrap_or_else(|| unreachable!("the board exists"));
                (page.entries, page.next)
            }
        }
    };
    let entries = named(&app, entries, |e| &e.player).await;
    Ok(Json(BoardAnswer { game, mode, entries, next }))
}

#[derive(Serialize)]
pub struct ScoreAnswer {
    game: String,
    mode: String,
    board: String,
    kind: ScoreKind,
    order: ScoreOrder,
    /// `all_time`, the week's Monday (`2026-11-30`) or the month (`2026-12`).
    period: String,
    /// When an admin last reset this period: its games before then do not count.
    reset_at_ms: Option<u64>,
    entries: Vec<Named<ScoreEntry>>,
    next: Option<String>,
}

/// `GET /v1/leaderboards/{game}/{mode}/{board}`: a score board the config
/// declares, in a period (`period`, `at`), asked as the rating board is.
pub async fn score_board(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path((game, mode, name)): Path<(String, String, String)>,
    query: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Json<ScoreAnswer>, ApiError> {
    let Query(query) = query?;
    let asked = Asked::parse(query)?;
    let key = BoardKey::new(&game, &mode);
    app.limit(Policy::Ip, &ip.0).await?;
    let (spec, page) = {
        let ladder = app.ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let page =
            ladder.score_lines(&key, &name, asked.period, asked.start_day, &asked.query()).map_err(|e| match e {
                LinesError::UnknownBoard => score_board_not_found(&key, &name),
                LinesError::NotOnBoard => not_on_board(asked.around.as_deref().unwrap_or_default()),
            })?;
        (ladder.score_board(&key, &name).cloned().expect("a board it answered for"), page)
    };
    let entries = named(&app, page.entries, |e| &e.player).await;
    Ok(Json(ScoreAnswer {
        game,
        mode,
        board: name,
        kind: spec.kind,
        order: spec.order,
        period: page.period,
        reset_at_ms: page.reset_at_ms,
        entries,
        next: page.next,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// `all_time`, `weekly` or `monthly`: the current one is reset.
    period: String,
}

#[derive(Serialize)]
pub struct ResetAnswer {
    game: String,
    mode: String,
    board: String,
    period: &'static str,
    /// The period reset (as `GET` names it: `all_time`, `2026-11-30`, `2026-12`).
    label: String,
    reset_at_ms: u64,
}

/// `POST /admin/leaderboards/{game}/{mode}/{board}/reset`: the score board's
/// current period (`period`) starts again now: its lines are gone, games
/// that end from now on count. Rating boards have no periods to reset.
pub async fn reset(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    Path((game, mode, name)): Path<(String, String, String)>,
    body: Result<Json<ResetRequest>, JsonRejection>,
) -> Result<Json<ResetAnswer>, ApiError> {
    let context = super::auth::admin(&app, &headers, &ip)?;
    let Json(request) = body?;
    let period = Period::parse(&request.period).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_period",
            format!("period {:?} is not all_time, weekly or monthly", request.period),
        )
    })?;
    let key = BoardKey::new(&game, &mode);
    if app.ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner()).score_board(&key, &name).is_none() {
        return Err(score_board_not_found(&key, &name));
    }
    let at_ms = now_ms();
    let reset = arcade_identity::BoardReset {
        game: game.clone(),
        mode: mode.clone(),
        board: name.clone(),
        period: period.name().to_string(),
        at_ms,
        by: context.actor.clone(),
    };
    app.identity.reset_board(&reset, &context).await?;
    let resets = app.identity.board_resets().await?;
    app.ladder.write().unwrap_or_else(|poisoned| poisoned.into_inner()).set_score_resets(&score_resets(resets));
    Ok(Json(ResetAnswer {
        game,
        mode,
        board: name,
        period: period.name(),
        label: period.label(period.start_day(at_ms)),
        reset_at_ms: at_ms,
    }))
}

/// The ladder's reading of the stored resets (a period it does not know,
/// from a newer node, is left out).
pub fn score_resets(resets: Vec<arcade_identity::BoardReset>) -> Vec<ScoreReset> {
    resets
        .into_iter()
        .filter_map(|r| {
            Some(ScoreReset {
                period: Period::parse(&r.period)?,
                game: r.game,
                mode: r.mode,
                board: r.board,
                at_ms: r.at_ms,
            })
        })
        .collect()
}

/// A board that has no game yet exists when its game is published and its
/// mode is one the node queues.
fn board_exists(app: &App, key: &BoardKey) -> bool {
    app.node_agent.matchmaker.queues().iter().any(|q| q.game == key.game && q.mode == key.mode)
}

fn score_board_not_found(key: &BoardKey, name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "board_not_found",
        format!("no score board {name:?} for game {:?} in mode {:?}", key.game, key.mode),
    )
}

fn board_not_found(key: &BoardKey) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "board_not_found",
        format!("no leaderboard for game {:?} in mode {:?}", key.game, key.mode),
    )
}

fn limit(asked: Option<i64>) -> Result<usize, ApiError> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            format!("limit {n} is outside 1..={MAX_LIMIT}"),
        )),
    }
}

/// Lines with their players' display names.
async fn named<E>(app: &App, entries: Vec<E>, player: impl Fn(&E) -> &String) -> Vec<Named<E>> {
    let names: HashMap<String, String> = app
        .match_players(entries.iter().map(|e| player(e).clone()).collect())
        .await
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    entries
        .into_iter()
        .map(|entry| Named { name: names.get(player(&entry)).cloned().unwrap_or_default(), entry })
        .collect()
}

#[derive(Serialize)]
pub struct RatingLine {
    game: String,
    mode: String,
    rank: usize,
    #[serde(flatten)]
    entry: BoardEntry,
}

/// `GET /v1/players/{id}/ratings`: the player's line on every board it
/// played on.
pub async fn ratings(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path(player): Path<String>,
) -> Result<Json<Vec<RatingLine>>, ApiError> {
    check_player(&app, &player).await?;
    app.limit(Policy::Ip, &ip.0).await?;
    let ladder = app.ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    Ok(Json(lines_of(&ladder, &player)))
}

fn lines_of(ladder: &Ladder, player: &str) -> Vec<RatingLine> {
    let boards: Vec<BoardKey> = ladder.boards().cloned().collect();
    boards
        .into_iter()
        .filter_map(|key| {
            let entry = ladder.around(&key, player, 0)?.into_iter().next()?;
            Some(RatingLine { game: key.game, mode: key.mode, rank: entry.rank, entry })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    limit: Option<i64>,
    /// `next` of the previous page.
    before: Option<String>,
}

#[derive(Serialize)]
pub struct HistoryPage {
    games: Vec<HistoryEntry>,
    /// The cursor of the next (older) page, `None` on the last.
    next: Option<String>,
}

/// `GET /v1/players/{id}/games`: the player's rated games, newest first,
/// with each result and rating change.
pub async fn history(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    Path(player): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<HistoryPage>, ApiError> {
    let Query(query) = query?;
    let limit = limit(query.limit)?;
    let before = match &query.before {
        Some(cursor) => Some(history_cursor(cursor).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", "`before` is not a cursor this history gave")
        })?),
        None => None,
    };
    check_player(&app, &player).await?;
    app.limit(Policy::Ip, &ip.0).await?;
    let ladder = app.ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut games = ladder.history(&player, before.as_ref().map(|(at, id)| (*at, id.as_str())), limit + 1);
    let next = if games.len() > limit {
        games.truncate(limit);
        games.last().map(|g| format!("{}.{}", g.completed_at_ms, g.game_id))
    } else {
        None
    };
    Ok(Json(HistoryPage { games, next }))
}

/// `<completion ms>.<game id>`.
fn history_cursor(cursor: &str) -> Option<(u64, String)> {
    let (at, id) = cursor.split_once('.')?;
    if at.is_empty() || at.len() > 19 || !at.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
        return None;
    }
    Some((at.parse().ok()?, id.to_string()))
}

/// 404 `player_not_found` for an id that is no account, or one deleted
/// (its games now name a pseudonym).
async fn check_player(app: &App, player: &str) -> Result<(), ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "player_not_found", "no such player");
    let id = arcade_identity::AccountId::parse(player).ok_or_else(not_found)?;
    match app.identity.account(&id).await {
        Ok(Some(account)) if !account.deleted => Ok(()),
        Ok(_) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}
