//! Input rules for what a player types or a client sends: usernames (and
//! their case-insensitive key), display names (the platform's player-name
//! rule from `arcade_protocol::names`), device ids and password lengths.

use unicode_normalization::UnicodeNormalization;

use crate::error::AuthError;

pub const MIN_USERNAME_CHARS: usize = 3;
pub const MAX_USERNAME_CHARS: usize = 32;
pub const MIN_DEVICE_ID_LEN: usize = 16;
pub const MAX_DEVICE_ID_LEN: usize = 128;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A valid username: `display` as typed (NFC), `key` its case-folded form,
/// unique across accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    pub display: String,
    pub key: String,
}

/// NFC, 3 to 32 characters, each a letter, a digit, `_`, `-` or `.`.
pub fn username(raw: &str) -> Result<Username, AuthError> {
    let display: String = raw.nfc().collect();
    let chars = display.chars().count();
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&chars) || !display.chars().all(allowed) {
        return Err(AuthError::InvalidUsername);
    }
    Ok(Username { key: username_key(&display), display })
}

/// The case-insensitive key of an (already NFC) username.
fn username_key(display: &str) -> String {
    display.to_lowercase().nfc().collect()
}

/// The canonical display name, by the rule room player names follow.
pub fn display_name(raw: &str) -> Result<String, AuthError> {
    arcade_protocol::names::player_name(raw).map_err(|_| AuthError::InvalidDisplayName)
}

/// 16 to 128 printable ASCII characters (space excluded).
pub fn device_id(raw: &str) -> Result<&str, AuthError> {
    let valid =
        (MIN_DEVICE_ID_LEN..=MAX_DEVICE_ID_LEN).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
    if valid { Ok(raw) } else { Err(AuthError::InvalidDeviceId) }
}

/// 8 to 128 characters (Unicode scalar values, as JSON Schema counts them,
/// so the API document can state the rule exactly); anything else (spaces,
/// any script) is the user's choice.
pub fn password(raw: &str) -> Result<&str, AuthError> {
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&raw.chars().count()) {
        Ok(raw)
    } else {
        Err(AuthError::InvalidPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rule() {
        for ok in ["bob", "Alice_99", "jo.ao-x", "李雷雷", "joão", &"a".repeat(32)] {
            assert!(username(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ab", "a b c", "bob!", "al\u{200B}ice", "tab\tx", "semi;colon", &"a".repeat(33), "a@b.c"] {
            assert_eq!(username(bad), Err(AuthError::InvalidUsername), "{bad:?}");
        }
    }

    #[test]
    fn usernames_are_normalised_and_keyed_case_insensitively() {
        let decomposed = username("Jose\u{301}").unwrap();
        let composed = username("jos\u{e9}").unwrap();
        assert_eq!(decomposed.display, "Jos\u{e9}");
        assert_eq!(decomposed.key, composed.key);
        assert_eq!(username("ALICE").unwrap().key, username("alice").unwrap().key);
        assert_eq!(username("ALICE").unwrap().display, "ALICE");
        assert_eq!(username(&"é".repeat(32)).unwrap().display.chars().count(), 32);
    }

    #[test]
    fn display_names_use_the_player_name_rule() {
        assert_eq!(display_name("Jose\u{301} M").unwrap(), "Jos\u{e9} M");
        assert_eq!(display_name("李雷"), Ok("李雷".to_string()));
        for bad in ["", "\u{202E}evil", "zero\u{200B}width", &"x".repeat(33)] {
            assert_eq!(display_name(bad), Err(AuthError::InvalidDisplayName), "{bad:?}");
        }
    }

    #[test]
    fn device_ids_and_passwords_have_bounds() {
        assert!(device_id("0123456789abcdef").is_ok());
        assert!(device_id(&"d".repeat(128)).is_ok());
        for bad in ["short", &"d".repeat(129), "0123456789 abcdef", "0123456789abcdé1", "0123456789abcde\n"] {
            assert_eq!(device_id(bad), Err(AuthError::InvalidDeviceId), "{bad:?}");
        }
        assert!(password("12345678").is_ok());
        assert!(password(&"p".repeat(128)).is_ok());
        assert!(password(&"é".repeat(128)).is_ok(), "characters, not bytes");
        assert!(password("ééééééé").is_err(), "7 characters, 14 bytes");
        assert_eq!(password("1234567"), Err(AuthError::InvalidPassword));
        assert_eq!(password(&"p".repeat(129)), Err(AuthError::InvalidPassword));
    }
}
