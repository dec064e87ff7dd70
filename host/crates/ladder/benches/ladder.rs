//! The ladder at scale: a board of 1,000,000 players (500,000 games of two
//! newcomers), then
//! - `count`: one more game between two of them (a rating update and two
//!   board writes: the live path of every archived game);
//! - `rank`: a player's line with its rank (`around` with no neighbours);
//! - `around`: a player's line and 5 either side;
//! - `page`: 20 lines after a cursor in the middle of the board.
//!
//! `cargo bench -p arcade-ladder --bench ladder`; figures in docs/benchmarks.md.

use std::hint::black_box;
use std::time::Instant;

use arcade_ladder::{BoardKey, Ladder, RankKey, RatedGame};
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
