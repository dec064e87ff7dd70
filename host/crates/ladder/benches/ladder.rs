//! The ladder at scale: a board of 1,000,000 players (500,000 games of two
//! newcomers), then
//! - `count`: one more game between two of them (a rating update and two
//!   board writes: the live path of every archived game);
//! - `rank`: a player's line with its rank (`around` with no neighbours);
//! - `around`: a player's line and 5 either side;
//! - `page`: 20 lines after a cursor in the middle of the board.
//!
//! With `ARCADE_BENCH_REDIS_URL` set (e.g. the test Redis of
//! `scripts/services.sh`), the same board as a Redis sorted set (the design
//! issue #13 first asked for, where every node would ask Redis), measured
//! through the same loopback the nodes would use:
//! - `redis count`: a game counted exactly once (`SADD` of its id and
//!   `HMGET` of both skills in one round trip, the rating computed here,
//!   then `HSET` of the skills and `ZADD` of both lines in a `MULTI`);
//! - `redis rank`: `ZREVRANK` and `ZSCORE` pipelined;
//! - `redis around`: `ZREVRANK`, then `ZREVRANGE` of 5 either side;
//! - `redis page`: `ZREVRANGEBYSCORE` of 20 below a cursor's score.
//!
//! `cargo bench -p arcade-ladder --bench ladder`; figures in docs/benchmarks.md.

use std::hint::black_box;
use std::time::Instant;

use arcade_ladder::{BoardKey, Ladder, RankKey, RatedGame, RatingSystem, Skill};
use criterion::{Criterion, criterion_group, criterion_main};

const PLAYERS: u64 = 1_000_000;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn player(i: u64) -> String {
    format!("acc_{i:026}")
}

fn game(id: u64, at_ms: u64, a: u64, b: u64, first: bool) -> RatedGame {
    RatedGame {
        game_id: format!("g{id:012}"),
        game: "tic-tac-toe".into(),
        mode: "standard".into(),
        completed_at_ms: at_ms,
        players: vec![player(a), player(b)],
        places: if first { vec![1, 2] } else { vec![2, 1] },
        scores: Default::default(),
    }
}

fn board() -> BoardKey {
    BoardKey::new("tic-tac-toe", "standard")
}

fn ladder_of_a_million() -> Ladder {
    let started = Instant::now();
    let mut ladder = Ladder::default();
    for i in 0..PLAYERS / 2 {
        ladder.count(game(i, 1_000 + i, 2 * i, 2 * i + 1, i.is_multiple_of(2)));
    }
    eprintln!("a board of {PLAYERS} players in {:.1} s", started.elapsed().as_secs_f64());
    ladder
}

fn bench(c: &mut Criterion) {
    let mut ladder = ladder_of_a_million();
    let mut rng = Rng(7);
    let mut next_id = PLAYERS;
    let mut at = 10_000_000;
    c.bench_function("count (a game on a board of 1M)", |b| {
        b.iter(|| {
            next_id += 1;
            at += 1;
            let (a, p) = (rng.below(PLAYERS), rng.below(PLAYERS));
            let p = if p == a { (a + 1) % PLAYERS } else { p };
            black_box(ladder.count(game(next_id, at, a, p, next_id.is_multiple_of(2))))
        })
    });
    c.bench_function("rank (one line of 1M with its rank)", |b| {
        b.iter(|| black_box(ladder.around(&board(), &player(rng.below(PLAYERS)), 0)))
    });
    c.bench_function("around (11 lines of 1M)", |b| {
        b.iter(|| black_box(ladder.around(&board(), &player(rng.below(PLAYERS)), 5)))
    });
    let cursor = ladder.around(&board(), &player(PLAYERS / 2), 0).expect("a line")[0].clone();
    let after = RankKey::from_cursor(&ladder.page(&board(), None, cursor.rank).expect("the board").next.expect("more"))
        .expect("a cursor");
    c.bench_function("page (20 lines after a cursor mid-board of 1M)", |b| {
        b.iter(|| black_box(ladder.page(&board(), Some(&after), 20)))
    });
}

/// The board as a Redis sorted set of conservative ratings, and the skills
/// in a hash: what a node would read and write per game and per query.
fn bench_redis(c: &mut Criterion) {
    let Ok(url) = std::env::var("ARCADE_BENCH_REDIS_URL") else {
        eprintln!("ARCADE_BENCH_REDIS_URL is not set: no Redis figures");
        return;
    };
    let mut redis = redis::Client::open(url).expect("a Redis URL").get_connection().expect("Redis answers");
    let prefix = format!("arcade-bench-ladder:{}", std::process::id());
    let (board, skills, counted) = (format!("{prefix}:board"), format!("{prefix}:skills"), format!("{prefix}:counted"));
    let system = RatingSystem::WengLin;
    let newcomer = system.initial();
    let started = Instant::now();
    let mut rng = Rng(11);
    for first in (0..PLAYERS).step_by(10_000) {
        let mut zadd = redis::cmd("ZADD");
        zadd.arg(&board);
        let mut hset = redis::cmd("HSET");
        hset.arg(&skills);
        for i in first..(first + 10_000).min(PLAYERS) {
            let skill = Skill::WengLin { mu: 25.0 + rng.below(2_000) as f64 / 100.0 - 10.0, sigma: 6.0 };
            zadd.arg(skill.conservative()).arg(player(i));
            hset.arg(player(i)).arg(encode(skill));
        }
        redis::pipe().add_command(zadd).ignore().add_command(hset).ignore().query::<()>(&mut redis).expect("loading");
    }
    eprintln!("a Redis board of {PLAYERS} players in {:.1} s", started.elapsed().as_secs_f64());

    let mut next_id = 0u64;
    c.bench_function("redis count (a game on a board of 1M)", |b| {
        b.iter(|| {
            next_id += 1;
            let (a, p) = (rng.below(PLAYERS), rng.below(PLAYERS));
            let p = if p == a { (a + 1) % PLAYERS } else { p };
            let players = [player(a), player(p)];
            let (new, stored): (u32, Vec<Option<String>>) = redis::pipe()
                .cmd("SADD")
                .arg(&counted)
                .arg(format!("g{next_id:012}"))
                .cmd("HMGET")
                .arg(&skills)
                .arg(&players)
                .query(&mut redis)
                .expect("reading the skills");
            assert_eq!(new, 1, "a new game");
            let before: Vec<Skill> = stored.iter().map(|s| s.as_deref().map_or(newcomer, decode)).collect();
            let after = system.rate(&before, &[1, 2]);
            let mut write = redis::pipe();
            write.atomic();
            for (player, skill) in players.iter().zip(&after) {
                write.cmd("HSET").arg(&skills).arg(player).arg(encode(*skill)).ignore();
                write.cmd("ZADD").arg(&board).arg(skill.conservative()).arg(player).ignore();
            }
            write.query::<()>(&mut redis).expect("writing the game");
        })
    });
    c.bench_function("redis rank (one line of 1M with its rank)", |b| {
        b.iter(|| {
            let p = player(rng.below(PLAYERS));
            let line: (Option<u64>, Option<f64>) = redis::pipe()
                .cmd("ZREVRANK")
                .arg(&board)
                .arg(&p)
                .cmd("ZSCORE")
                .arg(&board)
                .arg(&p)
                .query(&mut redis)
                .unwrap();
            black_box(line)
        })
    });
    c.bench_function("redis around (11 lines of 1M)", |b| {
        b.iter(|| {
            let rank: u64 =
                redis::cmd("ZREVRANK").arg(&board).arg(player(rng.below(PLAYERS))).query(&mut redis).unwrap();
            let lines: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
                .arg(&board)
                .arg(rank.saturating_sub(5))
                .arg(rank + 5)
                .arg("WITHSCORES")
                .query(&mut redis)
                .unwrap();
            black_box(lines)
        })
    });
    let middle: f64 = redis::cmd("ZSCORE").arg(&board).arg(player(PLAYERS / 2)).query(&mut redis).unwrap();
    c.bench_function("redis page (20 lines after a cursor mid-board of 1M)", |b| {
        b.iter(|| {
            let lines: Vec<(String, f64)> = redis::cmd("ZREVRANGEBYSCORE")
                .arg(&board)
                .arg(format!("({middle}"))
                .arg("-inf")
                .arg("WITHSCORES")
                .arg("LIMIT")
                .arg(0)
                .arg(20)
                .query(&mut redis)
                .unwrap();
            black_box(lines)
        })
    });
    redis::cmd("DEL").arg(&board).arg(&skills).arg(&counted).query::<()>(&mut redis).expect("cleaning up");
}

fn encode(skill: Skill) -> String {
    match skill {
        Skill::WengLin { mu, sigma } => format!("{mu} {sigma}"),
        Skill::Glicko2 { .. } => unreachable!("the bench rates with Weng-Lin"),
    }
}

fn decode(text: &str) -> Skill {
    let (mu, sigma) = text.split_once(' ').expect("two numbers");
    Skill::WengLin { mu: mu.parse().expect("mu"), sigma: sigma.parse().expect("sigma") }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench, bench_redis
}
criterion_main!(benches);
