//! Sandbox costs: creating a room (new Store + instantiate + `create`), its
//! whole lifecycle (creation + drop), one `apply` call and one `view` call,
//! with the tic-tac-toe example plugin.
//!
//! `cargo bench -p arcade-host --bench sandbox` (the plugins come from
//! `arcade-test-plugins`).

use std::sync::Arc;

use arcade_host::sandbox::{Plugin, Sandbox, SandboxEngine, SandboxLimits};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn example(name: &str) -> Vec<u8> {
    let path = arcade_test_plugins::plugin_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn setup() -> (SandboxEngine, Plugin) {
    let runtime = SandboxEngine::new(SandboxLimits { max_instances: 4096, ..SandboxLimits::default() }).unwrap();
    let component = runtime.compile(&example("tic-tac-toe")).unwrap();
    let plugin = runtime.prepare(&component).unwrap();
    (runtime, plugin)
}

fn players() -> Vec<String> {
    vec!["alice".to_string(), "bob".to_string()]
}

fn start(runtime: &SandboxEngine, plugin: &Plugin, label: &Arc<str>) -> Sandbox {
    plugin.start(runtime, label.clone(), "{}", &players(), &arcade_protocol::seed::Seed::from_test_number(7)).unwrap()
}

fn benches(c: &mut Criterion) {
    let (runtime, plugin) = setup();
    let label: Arc<str> = Arc::from("bench");
    // Creation alone (the room is dropped outside the measurement), and the
    // whole lifecycle (create + drop: the pool resets the instance's memory).
    c.bench_function("room_create", |b| {
        b.iter_batched(|| (), |()| start(&runtime, &plugin, &label), BatchSize::NumIterations(512))
    });
    c.bench_function("room_create_and_drop", |b| b.iter(|| start(&runtime, &plugin, &label)));
    // One move on a live room. Setup does what the host does after creating
    // a room (status, a view), so the instance's pages are already touched.
    // Batches of 512 rooms do not fit in the CPU caches (like a busy server);
    // batches of 8 do (like a room that just acted).
    let live_room = || {
        let mut room = start(&runtime, &plugin, &label);
        room.status().unwrap();
        room.view(&arcade_host::sandbox::Viewer::Spectator).unwrap();
        room
    };
    for (name, batch) in [("apply", 512), ("apply_cache_warm", 8)] {
        c.bench_function(name, |b| {
            b.iter_batched_ref(
                live_room,
                |room| room.apply("alice", r#"{"cell":4}"#).unwrap().unwrap(),
                BatchSize::NumIterations(batch),
            )
        });
    }
    c.bench_function("view", |b| {
        let mut room = start(&runtime, &plugin, &label);
        let viewer = arcade_host::sandbox::Viewer::Player("alice".into());
        b.iter(|| room.view(&viewer).unwrap())
    });
}

criterion_group!(sandbox, benches);
criterion_main!(sandbox);
