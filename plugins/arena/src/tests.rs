//! Rules tests: whole games through the SDK's native harness (`Table`, with
//! the SDK's physics test double standing in for the host), plus the pure
//! rules on their own.

use arcade_sdk::testing::Table;
use serde_json::{Value, json};

use super::*;

const DT_MS: u32 = 1000 / TICK_HZ;

fn table(players: &[&str], seed: u64, config: Value) -> Table<Arena> {
    Table::start_with(players, seed, &config).expect("the game starts")
}

fn ship<'a>(view: &'a Value, player: &str) -> &'a Value {
    view["ships"].as_array().unwrap().iter().find(|s| s["player"] == player).unwrap()
}

fn thrust(x: f32, y: f32) -> Value {
    json!({ "thrust": { "x": x, "y": y } })
}

#[test]
fn a_seed_deals_the_same_field_clear_of_the_ships() {
    let config = json!({ "asteroids": 50 });
    let field = |seed| table(&["ann", "bob"], seed, config.clone()).spectator_view()["asteroids"].clone();
    assert_eq!(field(1), field(1));
    assert_ne!(field(1), field(2));
    let rocks = field(1);
    let rocks = rocks.as_array().unwrap();
    assert_eq!(rocks.len(), 50);
    for rock in rocks {
        let [x, y, r] = [0, 1, 2].map(|i| rock[i].as_f64().unwrap());
        assert!((0.0..=1000.0).contains(&x) && (0.0..=1000.0).contains(&y) && (6.0..=14.0).contains(&r), "{rock}");
        assert!((x - 500.0).hypot(y - 500.0) > 249.0, "the middle is kept clear: {rock}");
    }
    let view = table(&["ann", "bob"], 1, config).view_of("bob");
    assert_eq!((ship(&view, "ann")["x"].as_i64(), ship(&view, "bob")["x"].as_i64()), (Some(650), Some(350)));
    assert_eq!((view["tick"].as_u64(), view["ticks_left"].as_u64()), (Some(0), Some(600)));
}

#[test]
fn thrust_steers_until_changed_and_speed_is_capped() {
    let mut game = table(&["ann", "bob"], 3, json!({ "asteroids": 0 }));
    game.act("ann", thrust(1.0, 0.0)).unwrap();
    for _ in 0..10 {
        assert!(game.tick(DT_MS).is_empty());
    }
    let view = game.spectator_view();
    // 10 ticks of 300 units/s² for 50 ms each: 150 units/s.
    assert_eq!(ship(&view, "ann")["vx"], 150);
    // It moved 0.05 s × (15 + 30 + ... + 150) = 41.25 units.
    assert_eq!(ship(&view, "ann")["x"], 650 + 41, "{view}");
    assert_eq!((ship(&view, "bob")["x"].as_i64(), ship(&view, "bob")["vx"].as_i64()), (Some(350), Some(0)));
    for _ in 0..20 {
        game.tick(DT_MS);
    }
    assert_eq!(ship(&game.spectator_view(), "ann")["vx"], MAX_SPEED as i64);
    game.act("ann", thrust(0.0, 0.0)).unwrap();
    game.tick(DT_MS);
    assert_eq!(ship(&game.spectator_view(), "ann")["vx"], MAX_SPEED as i64, "coasting keeps the speed");
}

#[test]
fn thrust_is_clamped_and_checked() {
    let mut game = table(&["ann", "bob"], 3, json!({ "asteroids": 0 }));
    game.act("ann", thrust(30.0, 40.0)).unwrap();
    game.tick(DT_MS);
    let view = game.spectator_view();
    assert_eq!((ship(&view, "ann")["vx"].as_i64(), ship(&view, "ann")["vy"].as_i64()), (Some(9), Some(12)));
    assert!(matches!(game.act("ann", json!({ "thrust": 1 })), Err(ActionError::Malformed(_))));
    assert!(matches!(game.act("ann", json!({ "fire": true })), Err(ActionError::Malformed(_))));
    assert!(matches!(game.act("eve", thrust(1.0, 0.0)), Err(ActionError::NotAPlayer)));
    assert!(Table::<Arena>::start_with(&["ann"], 1, &json!({ "lives": 0 })).is_err());
}

#[test]
fn asteroid_hits_cost_lives_until_ships_are_out() {
    // A small, crowded field: ships that sit still get hit soon.
    let players = ["ann", "bob", "cy"];
    let config = json!({ "size": 300, "asteroids": 60, "lives": 2, "duration_ticks": 4000 });
    let mut game = table(&players, 11, config);
    let mut hits: Vec<(u64, String, u64)> = Vec::new();
    let mut outs: Vec<String> = Vec::new();
    let mut refused_while_out = 0;
    let mut tick = 0;
    while !game.status().is_finished() {
        tick += 1;
        assert!(tick <= 4000, "the game never ended");
        for event in game.tick(DT_MS) {
            let data: Value = serde_json::from_str(&event.data).unwrap();
            let player = data["player"].as_str().unwrap().to_string();
            match event.kind.as_str() {
                "hit" => hits.push((tick, player, data["lives"].as_u64().unwrap())),
                "out" => outs.push(player),
                other => panic!("unexpected event {other}"),
            }
        }
        if !game.status().is_finished() {
            for out in &outs {
                let refused = game.act(out, thrust(1.0, 0.0));
                assert!(matches!(refused, Err(ActionError::Illegal(_))), "{out} is out: {refused:?}");
                refused_while_out += 1;
            }
        }
    }
    assert!(tick < 4000, "it ended before time ran out, with at most one ship left");
    assert!(refused_while_out > 0, "a ship went out while the others flew on");
    for player in players {
        let own: Vec<_> = hits.iter().filter(|(_, p, _)| p == player).collect();
        for (i, (at, _, lives)) in own.iter().enumerate() {
            assert_eq!(*lives, 1 - i as u64, "{player} loses one life per hit: {own:?}");
            if i > 0 {
                assert!(at - own[i - 1].0 >= u64::from(SHIELD_TICKS), "shielded after a hit: {own:?}");
            }
        }
    }
    assert!((2..=3).contains(&outs.len()), "{outs:?}");
    let view = game.spectator_view();
    let Status::Finished(outcome) = game.status() else { panic!("finished") };
    for score in &outcome.scores {
        assert_eq!(ship(&view, &score.player)["lives"].as_i64(), Some(score.points), "{view}");
        assert_eq!(ship(&view, &score.player)["out"], score.points == 0);
    }
    let best = outcome.scores.iter().map(|s| s.points).max().unwrap();
    let leaders: Vec<String> = outcome.scores.iter().filter(|s| s.points == best).map(|s| s.player.clone()).collect();
    assert_eq!(outcome.winners, leaders);
    assert!(matches!(game.act(&outs[0], thrust(1.0, 0.0)), Err(ActionError::GameOver)));
}

#[test]
fn time_up_ends_the_game_and_ticks_stop() {
    let mut game = table(&["ann", "bob"], 1, json!({ "asteroids": 0, "duration_ticks": 5 }));
    for _ in 0..4 {
        game.tick(DT_MS);
    }
    assert_eq!(game.awaiting(), ["ann", "bob"]);
    game.tick(DT_MS);
    let Status::Finished(outcome) = game.status() else { panic!("time is up: {:?}", game.status()) };
    assert_eq!(outcome.winners, ["ann", "bob"], "a tie shares the win");
    assert!(outcome.scores.iter().all(|s| s.points == 3));
    game.tick(DT_MS);
    assert_eq!(game.spectator_view()["tick"], 5, "a finished game does not tick");
}

#[test]
fn pure_rules() {
    let mut ship = Ship { player: "ann".into(), body: 0, lives: 2, shield: 0, thrust: Vec2::ZERO };
    assert!(take_hit(&mut ship) && !take_hit(&mut ship), "shielded after a hit");
    ship.shield = 0;
    assert!(take_hit(&mut ship) && ship.lives == 0 && !take_hit(&mut ship));
    assert_eq!(accelerate(Vec2::new(240.0, 0.0), Vec2::new(1.0, 0.0), 0.05), Vec2::new(MAX_SPEED, 0.0));
    assert_eq!(accelerate(Vec2::ZERO, Vec2::new(0.0, -1.0), 0.1), Vec2::new(0.0, -30.0));
    let three = |lives: [u32; 3]| {
        lives.map(|lives| Ship { player: String::new(), body: 0, lives, shield: 0, thrust: Vec2::ZERO })
    };
    assert!(!is_over(&three([1, 0, 2]), 5, 100), "two ships still fly");
    assert!(is_over(&three([0, 0, 2]), 5, 100), "one ship left");
    assert!(is_over(&three([1, 1, 1]), 100, 100), "time is up");
    assert!(!is_over(&three([1, 0, 0])[..1], 5, 100), "a solo game runs until time is up");
}
