//! The room directory: creates rooms (enforcing `max_rooms`), finds them by
//! id, and forgets them when their task ends.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::metrics::Metrics;
use crate::registry::PluginVersion;
use crate::room::{self, RoomError, RoomHandle, RoomSpec, Seat};
use crate::sandbox::{Runtime, StartError};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the server holds its maximum of {0} rooms; try again later")]
    TooManyRooms(u32),
    #[error("{game} takes {min}..={max} players, not {seats}")]
    InvalidSeats { game: String, seats: u32, min: u32, max: u32 },
    #[error("the game refused this config: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Room(#[from] RoomError),
}

/// What a creator asks for.
pub struct NewRoom {
    pub plugin: Arc<PluginVersion>,
    /// JSON config for the game ("{}" when none).
    pub config: String,
    /// Seat count; defaults to the game's minimum.
    pub seats: Option<u32>,
    /// Players to seat at once (their tokens are returned).
    pub players: Vec<String>,
    /// Fixed seed (tests, replays); random otherwise.
    pub seed: Option<u64>,
}

pub struct Rooms {
    runtime: Arc<Runtime>,
    metrics: Arc<Metrics>,
    max_rooms: u32,
    grace: Duration,
    rooms: Arc<RwLock<HashMap<Arc<str>, RoomHandle>>>,
}

impl Rooms {
    pub fn new(runtime: Arc<Runtime>, metrics: Arc<Metrics>, max_rooms: u32, grace: Duration) -> Self {
        Rooms { runtime, metrics, max_rooms, grace, rooms: Arc::default() }
    }

    pub fn create(&self, new: NewRoom) -> Result<(RoomHandle, Vec<Seat>), CreateError> {
        let info = new.plugin.plugin.info();
        let seats = new.seats.unwrap_or(if new.players.is_empty() {
            info.min_players
        } else {
            new.players.len() as u32
        });
        if seats < info.min_players || seats > info.max_players || new.players.len() as u32 > seats {
            return Err(CreateError::InvalidSeats {
                game: info.name.clone(),
                seats,
                min: info.min_players,
                max: info.max_players,
            });
        }
        let seed = new.seed.unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0);
        let id: Arc<str> = Arc::from(uuid::Uuid::new_v4().simple().to_string()[..16].to_string());
        if new.players.len() as u32 != seats {
            // Check the config now (with placeholder players) rather than
            // when the last seat is taken.
            let placeholders: Vec<String> = (1..=seats).map(|i| format!("seat-{i}")).collect();
            match new.plugin.plugin.start(&self.runtime, id.clone(), &new.config, &placeholders, seed) {
                Ok(_) => {}
                Err(StartError::Rejected(reason)) => return Err(CreateError::InvalidConfig(reason)),
                Err(StartError::Fault(fault)) => return Err(CreateError::InvalidConfig(fault.to_string())),
            }
        }
        let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
        if rooms.len() as u32 >= self.max_rooms {
            return Err(CreateError::TooManyRooms(self.max_rooms));
        }
        let spec = RoomSpec { id: id.clone(), plugin: new.plugin, config: new.config, seats, seed, grace: self.grace };
        let directory = self.rooms.clone();
        let metrics = self.metrics.clone();
        let exiting_id = id.clone();
        let (handle, seats) = room::spawn(spec, new.players, self.runtime.clone(), self.metrics.clone(), move || {
            directory.write().unwrap_or_else(|e| e.into_inner()).remove(&exiting_id);
            metrics.rooms_active.dec();
        })?;
        rooms.insert(id, handle.clone());
        self.metrics.rooms_active.inc();
        self.metrics.rooms_created.inc();
        Ok((handle, seats))
    }

    pub fn get(&self, id: &str) -> Option<RoomHandle> {
        self.rooms.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    pub fn len(&self) -> usize {
        self.rooms.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
