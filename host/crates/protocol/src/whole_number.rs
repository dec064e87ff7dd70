//! Integers in JSON request bodies, read as JSON Schema counts them: since
//! draft 6 a number with a zero fraction is an integer (`2.0` is `2`), so
//! an `"type": "integer"` field of the OpenAPI document accepts both
//! spellings. serde reads `2.0` only into a float; these read it into an
//! unsigned integer when it is whole and in range (`2.5`, `-1` and
//! `1e20` into a `u32` stay errors).
//!
//! Use `#[serde(deserialize_with = "whole_number::of")]` on a `u32`/`u64`
//! field, [`option`] on an `Option` of one, and [`Whole`] inside
//! containers (e.g. the values of a map).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error, Unexpected, Visitor};

/// An unsigned integer read from a JSON integer or a whole JSON number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Whole<T>(pub T);

impl<'de, T: TryFrom<u64>> Deserialize<'de> for Whole<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WholeVisitor(PhantomData)).map(Whole)
    }
}

/// For `#[serde(deserialize_with = ...)]` on an unsigned integer field.
pub fn of<'de, D: Deserializer<'de>, T: TryFrom<u64>>(deserializer: D) -> Result<T, D::Error> {
    Whole::deserialize(deserializer).map(|Whole(n)| n)
}

/// For `#[serde(default, deserialize_with = ...)]` on an `Option` of an
/// unsigned integer (`null` is `None`).
pub fn option<'de, D: Deserializer<'de>, T: TryFrom<u64>>(deserializer: D) -> Result<Option<T>, D::Error> {
    Option::<Whole<T>>::deserialize(deserializer).map(|n| n.map(|Whole(n)| n))
}

struct WholeVisitor<T>(PhantomData<T>);

impl<T: TryFrom<u64>> Visitor<'_> for WholeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a non-negative integer of at most {} bits", 8 * std::mem::size_of::<T>())
    }

    fn visit_u64<E: Error>(self, n: u64) -> Result<T, E> {
        T::try_from(n).map_err(|_| E::invalid_value(Unexpected::Unsigned(n), &self))
    }

    fn visit_i64<E: Error>(self, n: i64) -> Result<T, E> {
        let unsigned = u64::try_from(n).map_err(|_| E::invalid_value(Unexpected::Signed(n), &self))?;
        self.visit_u64(unsigned)
    }

    fn visit_f64<E: Error>(self, n: f64) -> Result<T, E> {
        // 2^64: the first whole float past u64::MAX.
        if n.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&n) {
            return T::try_from(n as u64).map_err(|_| E::invalid_value(Unexpected::Float(n), &self));
        }
        Err(E::invalid_value(Unexpected::Float(n), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T: TryFrom<u64>>(json: &str) -> Option<T> {
        serde_json::from_str::<Whole<T>>(json).ok().map(|Whole(n)| n)
    }

    #[test]
    fn whole_numbers_in_either_spelling_are_read() {
        assert_eq!(read::<u32>("7"), Some(7));
        assert_eq!(read::<u32>("7.0"), Some(7));
        assert_eq!(read::<u32>("7e2"), Some(700));
        assert_eq!(read::<u32>("-0.0"), Some(0));
        assert_eq!(read::<u32>("4294967295.0"), Some(u32::MAX));
        assert_eq!(read::<u64>("1e19"), Some(10_000_000_000_000_000_000));
        assert_eq!(read::<u64>("18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn fractions_negatives_and_out_of_range_numbers_are_refused() {
        for bad in ["7.5", "-1", "-1.0", "4294967296", "4294967296.0", "1e20", "\"7\"", "null", "true"] {
            assert_eq!(read::<u32>(bad), None, "{bad}");
        }
        assert_eq!(read::<u64>("18446744073709551616.0"), None);
        assert_eq!(read::<u64>("-5"), None);
    }

    #[test]
    fn options_read_null_as_none() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "option")]
            seats: Option<u32>,
        }
        let seats = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.seats).ok();
        assert_eq!(seats(r#"{"seats": 3.0}"#), Some(Some(3)));
        assert_eq!(seats(r#"{"seats": null}"#), Some(None));
        assert_eq!(seats("{}"), Some(None));
        assert_eq!(seats(r#"{"seats": 3.5}"#), None);
    }
}
