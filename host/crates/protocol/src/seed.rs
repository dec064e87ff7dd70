//! A room's secret seed and the random streams derived from it.
//!
//! New rooms draw a 256-bit key from the operating system and run ChaCha20
//! (the `chacha20` crate's `ChaCha20Rng`, RFC 8439 block function) keyed
//! with it: the generator is cryptographic, so draws a plugin reveals
//! (a card dealt face up) say nothing about later ones. The seed is a
//! secret of the room until the game ends; the archive keeps it so the game
//! replays.
//!
//! Games recorded before the switch were seeded with a 64-bit number and
//! splitmix64; [`Seed::SplitMix64`] keeps replaying them exactly.
//!
//! On the wire and in the archive a seed is `"chacha20-v1:<64 hex digits>"`
//! (generator, version, key), or a bare JSON number for a splitmix64 game.
//! Its `Debug` form never shows the key.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The name and version of the current generator, as recorded.
pub const CHACHA20_V1: &str = "chacha20-v1";

/// Which independent stream of a seed a consumer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// `arcade:game/host.random-u64`.
    Plugin = 0,
    /// `wasi:random/random`.
    WasiSecure = 1,
    /// `wasi:random/insecure`.
    WasiInsecure = 2,
    /// The u64 `create` receives and `wasi:random/insecure-seed`.
    Derived = 3,
}

#[derive(Clone, PartialEq, Eq)]
pub enum Seed {
    /// Games recorded before ChaCha20: splitmix64 of a public 64-bit seed.
    SplitMix64(u64),
    /// A 256-bit ChaCha20 key.
    ChaCha20([u8; 32]),
}

impl Seed {
    /// A fresh secret seed from the operating system's generator.
    pub fn generate() -> Seed {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random generator failed");
        Seed::ChaCha20(key)
    }

    /// A seed a test chose (only accepted where the server runs in test
    /// mode): the number is the key's first eight bytes, little-endian.
    pub fn from_test_number(n: u64) -> Seed {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&n.to_le_bytes());
        Seed::ChaCha20(key)
    }

    /// The generator's recorded name and version.
    pub fn generator(&self) -> &'static str {
        match self {
            Seed::SplitMix64(_) => "splitmix64",
            Seed::ChaCha20(_) => CHACHA20_V1,
        }
    }

    /// The 64-bit seed the plugin's `create` receives.
    pub fn plugin_seed(&self) -> u64 {
        match self {
            Seed::SplitMix64(n) => *n,
            Seed::ChaCha20(_) => self.stream(Stream::Derived).next_u64(),
        }
    }

    /// An independent random stream of this seed.
    pub fn stream(&self, stream: Stream) -> SeededRng {
        match self {
            Seed::SplitMix64(n) => {
                // The constants the splitmix64 rooms always used.
                let start = match stream {
                    Stream::Plugin | Stream::Derived => *n,
                    Stream::WasiSecure => n ^ 0x5EC0_4E5E_C0DE_0001,
                    Stream::WasiInsecure => n ^ 0x1A5E_C0DE_0000_0002,
                };
                SeededRng::SplitMix64(SplitMix64::new(start))
            }
            Seed::ChaCha20(key) => {
                use rand_core::SeedableRng;
                let mut rng = chacha20::ChaCha20Rng::from_seed(*key);
                rng.set_stream(stream as u64);
                SeededRng::ChaCha20(Box::new(rng))
            }
        }
    }

    /// The recorded text form (`chacha20-v1:<hex>`), or the number.
    pub fn to_text(&self) -> String {
        match self {
            Seed::SplitMix64(n) => n.to_string(),
            Seed::ChaCha20(key) => format!("{CHACHA20_V1}:{}", hex::encode(key)),
        }
    }

    /// Parses [`Seed::to_text`]'s form; a bare number is splitmix64.
    pub fn parse(text: &str) -> Result<Seed, String> {
        if let Some(key) = text.strip_prefix(CHACHA20_V1).and_then(|t| t.strip_prefix(':')) {
            let bytes = hex::decode(key).map_err(|e| format!("seed key is not hex: {e}"))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| "a chacha20-v1 seed key has 64 hex digits".to_string())?;
            return Ok(Seed::ChaCha20(key));
        }
        text.parse::<u64>().map(Seed::SplitMix64).map_err(|_| format!("unknown seed generator in {:.16}...", text))
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seed({}, <secret>)", self.generator())
    }
}

impl Serialize for Seed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Seed::SplitMix64(n) => serializer.serialize_u64(*n),
            Seed::ChaCha20(_) => serializer.serialize_str(&self.to_text()),
        }
    }
}

impl<'de> Deserialize<'de> for Seed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Seed, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Number(u64),
            Text(String),
        }
        match Form::deserialize(deserializer)? {
            Form::Number(n) => Ok(Seed::SplitMix64(n)),
            Form::Text(text) => Seed::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// One random stream of a [`Seed`].
pub enum SeededRng {
    SplitMix64(SplitMix64),
    ChaCha20(Box<chacha20::ChaCha20Rng>),
}

impl SeededRng {
    pub fn next_u64(&mut self) -> u64 {
        match self {
            SeededRng::SplitMix64(rng) => rng.next_u64(),
            SeededRng::ChaCha20(rng) => rand_core::Rng::next_u64(rng.as_mut()),
        }
    }

    pub fn fill_bytes(&mut self, dst: &mut [u8]) {
        match self {
            SeededRng::SplitMix64(rng) => {
                for chunk in dst.chunks_mut(8) {
                    let bytes = rng.next_u64().to_le_bytes();
                    chunk.copy_from_slice(&bytes[..chunk.len()]);
                }
            }
            SeededRng::ChaCha20(rng) => rand_core::Rng::fill_bytes(rng.as_mut(), dst),
        }
    }
}

impl rand_core::TryRng for SeededRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next_u64() as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.fill_bytes(dst);
        Ok(())
    }
}

/// splitmix64: the generator of games recorded before ChaCha20, and of the
/// CLI's bot dice. The SDK's native test harness uses the same algorithm
/// (`sdk/src/host.rs`).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_values() {
        // Reference: splitmix64 seeded with 0 (Vigna's published generator).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn chacha20_matches_the_rfc_8439_keystream() {
        // RFC 8439 §2.3.2 block function test vector is for counter 1 with a
        // nonce; with an all-zero key, stream 0 and counter 0 the first
        // keystream word is 0xade0b876 (RFC 7539 appendix A.1 test vector 1).
        let mut rng = Seed::ChaCha20([0; 32]).stream(Stream::Plugin);
        assert_eq!(rng.next_u64() as u32, 0xade0_b876);
    }

    #[test]
    fn streams_are_independent_and_repeatable() {
        let seed = Seed::generate();
        let draw = |s: Stream| seed.stream(s).next_u64();
        assert_eq!(draw(Stream::Plugin), draw(Stream::Plugin));
        assert_ne!(draw(Stream::Plugin), draw(Stream::WasiSecure));
        assert_ne!(draw(Stream::WasiSecure), draw(Stream::WasiInsecure));
        assert_ne!(Seed::generate(), Seed::generate());
    }

    #[test]
    fn legacy_seeds_keep_their_old_streams() {
        let seed = Seed::SplitMix64(11);
        assert_eq!(seed.stream(Stream::Plugin).next_u64(), SplitMix64::new(11).next_u64());
        assert_eq!(seed.plugin_seed(), 11);
        assert_eq!(seed.stream(Stream::WasiSecure).next_u64(), SplitMix64::new(11 ^ 0x5EC0_4E5E_C0DE_0001).next_u64());
    }

    #[test]
    fn text_and_json_forms_round_trip_and_old_records_still_read() {
        let seed = Seed::generate();
        let json = serde_json::to_string(&seed).unwrap();
        assert!(json.starts_with("\"chacha20-v1:"), "{json}");
        assert_eq!(serde_json::from_str::<Seed>(&json).unwrap(), seed);
        assert_eq!(serde_json::from_str::<Seed>("18446744073709551615").unwrap(), Seed::SplitMix64(u64::MAX));
        assert!(serde_json::from_str::<Seed>("\"chacha20-v1:00\"").is_err());
        assert!(serde_json::from_str::<Seed>("\"mt19937:5\"").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let seed = Seed::ChaCha20([0xAB; 32]);
        assert!(!format!("{seed:?}").to_lowercase().contains("abab"));
    }
}
