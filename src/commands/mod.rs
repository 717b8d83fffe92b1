//! One file per subcommand: each validates its arguments and calls the library.

pub mod audit;
pub mod check_bundle;
pub mod diff;
pub mod generate;
pub mod map;
pub mod replay;
pub mod scan_merge;
pub mod schema;
pub mod seal;
pub mod verify;
