//! Helpers shared by the archive tests and the archive benchmark (included
//! there with `#[path]`): the test services' addresses, fresh databases and
//! buckets, and synthetic game records.
#![allow(dead_code)]

pub mod records;
pub mod services;
