//! # Arcade SDK
//!
//! Write the rules of a game once, in plain Rust, and publish them to an
//! Arcade server as a sandboxed WebAssembly component.
//!
//! A plugin is one file: implement [`Game`] for your state type and call
//! [`export_game!`]. The SDK turns JSON configs and actions into your typed
//! values, rejects actions from non-players or after the game ended, and
//! renders your views to JSON. Randomness comes from [`random_u64`], seeded by
//! the host from the room seed, so every game can be replayed exactly.
//! Real-time games (`tick_hz > 0`) can hand their physics to the host, which
//! steps the worlds of all rooms together, on a GPU when it has one: see [`sim`].
//!
//! ```
//! use arcade_sdk::prelude::*;
//! use serde::Deserialize;
//!
//! /// Players take turns adding 1 or 2; whoever reaches 10 wins.
//! pub struct CountToTen { players: Vec<String>, turn: usize, total: u32 }
//!
//! #[derive(Deserialize)]
//! pub struct Add { add: u32 }
//!
//! impl Game for CountToTen {
//!     type Config = serde_json::Value;
//!     type Action = Add;
//!
//!     fn info() -> GameInfo {
//!         GameInfo::turn_based("count-to-ten", "1.0.0", "Reach ten first", 2, 2)
//!     }
//!     fn create(_: Self::Config, players: &[String], _seed: u64) -> Result<Self, String> {
//!         Ok(CountToTen { players: players.to_vec(), turn: 0, total: 0 })
//!     }
//!     fn apply(&mut self, player: &str, action: Add) -> Result<Vec<Event>, ActionError> {
//!         if player != self.players[self.turn] { return Err(ActionError::NotYourTurn); }
//!         if !(1..=2).contains(&action.add) { return Err(ActionError::Illegal("add 1 or 2".into())); }
//!         self.total += action.add;
//!         self.turn = 1 - self.turn;
//!         Ok(vec![Event::public("add", &serde_json::json!({ "player": player, "add": action.add }))])
//!     }
//!     fn view(&self, _viewer: &Viewer) -> serde_json::Value {
//!         serde_json::json!({ "total": self.total })
//!     }
//!     fn status(&self) -> Status {
//!         if self.total >= 10 {
//!             // The player who just moved is the one before `turn`.
//!             Status::winner(&self.players[1 - self.turn])
//!         } else {
//!             Status::Awaiting(vec![self.players[self.turn].clone()])
//!         }
//!     }
//! }
//!
//! // In the plugin crate: `arcade_sdk::export_game!(CountToTen);`
//!
//! // Rules tests run natively, without a server:
//! let mut table = arcade_sdk::testing::Table::<CountToTen>::start(&["ann", "bob"], 1).unwrap();
//! for (who, add) in [("ann", 2), ("bob", 2), ("ann", 2), ("bob", 2), ("ann", 2)] {
//!     table.act(who, serde_json::json!({ "add": add })).unwrap();
//! }
//! assert_eq!(table.status().winners(), Some(&["ann".to_string()][..]));
//! ```
//!
//! Build the component with
//! `cargo build --target wasm32-wasip2 --profile plugin` (see the workspace
//! `Cargo.toml` for the profile) and publish the `.wasm` with
//! `arcade plugin publish`.

mod adapter;
mod game;
mod host;
pub mod sim;
/// Native only: components are driven by the host.
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

/// The raw bindings generated from `wit/arcade.wit` by wit-bindgen.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "game",
        path: "../wit",
        pub_export_macro: true,
        default_bindings_module: "arcade_sdk::bindings",
        export_macro_name: "export",
        additional_derives: [PartialEq],
    });
}

pub use adapter::RoomAdapter;
pub use bindings::arcade::game::host::LogLevel;
pub use bindings::arcade::game::types::{ActionError, Audience, Event, GameInfo, Outcome, Score, Status, Viewer};
pub use game::Game;
pub use host::{log, random_below, random_u64};

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::{
        ActionError, Audience, Event, Game, GameInfo, LogLevel, Outcome, Score, Status, Viewer, log, random_below,
        random_u64,
    };
}

/// Export a [`Game`] implementation as the plugin's `arcade:game/rules`.
///
/// Call it once, at the crate root of a `cdylib` plugin crate. The component
/// exports are only emitted when compiling for `wasm32`; native builds just
/// type-check the glue so that rules tests can link.
#[macro_export]
macro_rules! export_game {
    ($game:ty) => {
        #[doc(hidden)]
        pub struct __ArcadeExport;

        impl $crate::bindings::exports::arcade::game::rules::Guest for __ArcadeExport {
            type Room = $crate::RoomAdapter<$game>;
            fn info() -> $crate::GameInfo {
                <$game as $crate::Game>::info()
            }
        }

        // Only components export anything: in native builds (rules tests) the
        // export symbols, whose names contain ':' and '#', would break the
        // linker's version script of a `cdylib`.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::export!(__ArcadeExport);
    };
}
