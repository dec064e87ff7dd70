//! Hostile fixture: the first action panics. Plugins are built with
//! `panic = "abort"`, so the instance traps; the room must end with the
//! panic message as its reason.

use hostile::{Hostile, Misbehaviour};

pub struct Panic;

impl Misbehaviour for Panic {
    const NAME: &'static str = "panicker";
    const DESCRIPTION: &'static str = "Test fixture: the first action panics.";

    fn misbehave() -> Vec<arcade_sdk::Event> {
        panic!("deliberate panic")
    }
}

arcade_sdk::export_game!(Hostile<Panic>);
