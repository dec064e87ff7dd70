//! Hostile fixture: the first action loops forever. The server must cut
//! it off at the CPU deadline and keep serving other rooms.

use hostile::{Hostile, Misbehaviour};

pub struct Spin;

impl Misbehaviour for Spin {
    const NAME: &'static str = "spinner";
    const DESCRIPTION: &'static str = "Test fixture: the first action loops forever.";

    fn misbehave() -> Vec<arcade_sdk::Event> {
        // `black_box` hides the counter from the optimiser, so the loop runs.
        let mut spins = 0u64;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }
}

arcade_sdk::export_game!(Hostile<Spin>);
