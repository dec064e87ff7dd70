//! Player names: the one rule rooms, tickets and seats share.
//!
//! A name is NFC-normalised (so "é" typed two ways is one name), 1 to
//! [`MAX_PLAYER_NAME_CHARS`] characters, and free of characters that make
//! two different names look alike or reorder what is displayed around them:
//! control characters, bidirectional overrides and isolates, and zero-width
//! characters.

use unicode_normalization::UnicodeNormalization;

/// Longest player name, in characters (after normalisation).
pub const MAX_PLAYER_NAME_CHARS: usize = 32;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("player names must be 1-32 characters without control, bidirectional-override or zero-width characters")]
pub struct InvalidName;

/// The canonical (NFC) form of `raw`, or why it is not a valid player name.
pub fn player_name(raw: &str) -> Result<String, InvalidName> {
    let name: String = raw.nfc().collect();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_PLAYER_NAME_CHARS || name.chars().any(is_forbidden) {
        return Err(InvalidName);
    }
    Ok(name)
}

/// Characters a name may not contain.
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // Bidirectional marks, embeddings, overrides and isolates.
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Zero-width and invisible joiners, the word joiner, the BOM.
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
            // Line and paragraph separators.
            | '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass_unchanged() {
        for name in ["alice", "Bob 2", "joão", "李雷", "a", &"x".repeat(32)] {
            assert_eq!(player_name(name).as_deref(), Ok(name));
        }
    }

    #[test]
    fn decomposed_and_composed_forms_are_one_name() {
        let composed = "jos\u{e9}";
        let decomposed = "jose\u{301}";
        assert_eq!(player_name(decomposed).unwrap(), composed);
        assert_eq!(player_name(composed).unwrap(), composed);
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(player_name("").is_err());
        assert!(player_name(&"é".repeat(32)).is_ok(), "32 two-byte characters are 32 characters");
        assert!(player_name(&"x".repeat(33)).is_err());
        assert!(player_name(&"x".repeat(40)).is_err());
    }

    #[test]
    fn lookalike_and_reordering_characters_are_refused() {
        for bad in
            ["al\u{200B}ice", "\u{202E}ecila", "bob\u{2066}", "a\u{FEFF}", "tab\there", "nl\n", "\u{200D}", "x\u{2028}"]
        {
            assert_eq!(player_name(bad), Err(InvalidName), "{bad:?}");
        }
    }
}
