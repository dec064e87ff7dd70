//! Naming shared by every storage place of archived games: which game ids
//! are acceptable (they become file names and object keys), the UTC calendar
//! date a game is filed under, and the record file name.

use super::ArchiveError;

/// File-name suffix of a compressed game record.
pub const RECORD_SUFFIX: &str = ".json.zst";
/// Longest accepted game id.
pub const MAX_GAME_ID_LEN: usize = 128;

/// Game ids are used verbatim as file names and S3 key segments, so they are
/// limited to `[A-Za-z0-9._-]`, at most 128 characters, not starting with `.`.
pub fn validate_game_id(game_id: &str) -> Result<(), ArchiveError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if game_id.is_empty()
        || game_id.len() > MAX_GAME_ID_LEN
        || game_id.starts_with('.')
        || !game_id.chars().all(allowed)
    {
        return Err(ArchiveError::InvalidRecord(format!(
            "game id {game_id:?} must be 1-{MAX_GAME_ID_LEN} characters of [A-Za-z0-9._-], not starting with '.'"
        )));
    }
    Ok(())
}

/// `<game_id>.json.zst`
pub fn record_file_name(game_id: &str) -> String {
    format!("{game_id}{RECORD_SUFFIX}")
}

/// The game id of a record file name, if it is one.
pub fn game_id_of_file_name(file_name: &str) -> Option<&str> {
    file_name.strip_suffix(RECORD_SUFFIX).filter(|id| validate_game_id(id).is_ok())
}

/// A UTC calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcDate {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

impl UtcDate {
    /// The UTC date of a unix timestamp in milliseconds.
    pub fn from_unix_ms(unix_ms: u64) -> UtcDate {
        let days = (unix_ms / 86_400_000) as i64;
        civil_from_days(days)
    }

    /// `yyyy-mm-dd`, one directory level (filesystem archive).
    pub fn dashed(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `yyyy/mm/dd`, three key levels (S3 archive).
    pub fn slashed(&self) -> String {
        format!("{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> UtcDate {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    UtcDate { year, month, day }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_known_timestamps() {
        assert_eq!(UtcDate::from_unix_ms(0).dashed(), "1970-01-01");
        // 2000-02-29T23:59:59.999Z
        assert_eq!(UtcDate::from_unix_ms(951_868_799_999).dashed(), "2000-02-29");
        assert_eq!(UtcDate::from_unix_ms(951_868_800_000).dashed(), "2000-03-01");
        // 2024-12-31T12:00:00Z
        assert_eq!(UtcDate::from_unix_ms(1_735_646_400_000).slashed(), "2024/12/31");
        // 2025-01-01T00:00:00Z
        assert_eq!(UtcDate::from_unix_ms(1_735_689_600_000).slashed(), "2025/01/01");
    }

    #[test]
    fn game_ids_that_are_safe_as_names() {
        for ok in ["g1", "room-7_game.3", &"a".repeat(MAX_GAME_ID_LEN)] {
            assert!(validate_game_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "../x", "sp ace", "ü", &"a".repeat(MAX_GAME_ID_LEN + 1)] {
            assert!(validate_game_id(bad).is_err(), "{bad}");
        }
        assert_eq!(game_id_of_file_name(&record_file_name("g-1")), Some("g-1"));
        assert_eq!(game_id_of_file_name("g-1.json"), None);
        assert_eq!(game_id_of_file_name(".tmp.json.zst"), None);
    }
}
