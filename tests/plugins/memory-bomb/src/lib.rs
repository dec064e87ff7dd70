//! Hostile fixture: the first action allocates 1 MiB chunks forever and
//! keeps them alive. The room memory cap must stop it.

use hostile::{Hostile, Misbehaviour};

pub struct Hoard;

impl Misbehaviour for Hoard {
    const NAME: &'static str = "memory-bomb";
    const DESCRIPTION: &'static str = "Test fixture: the first action allocates without end.";

    fn misbehave() -> Vec<arcade_sdk::Event> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Touch every chunk and pass it through `black_box` so neither the
            // allocation nor the hoard can be optimised away.
            hoard.push(std::hint::black_box(vec![0xA5u8; 1 << 20]));
            std::hint::black_box(&mut hoard);
        }
    }
}

arcade_sdk::export_game!(Hostile<Hoard>);
