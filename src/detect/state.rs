//! Detector state as data (issue 21): what a scanner has gathered, saved as JSON in text — never
//! this process's integer codes — so that a scanner of another process, or of another
//! partition of the log, absorbs it. `absorb` then `finish` gives the findings of one scan over
//! both partitions, whatever the order (`state_tests.rs` checks it for every detector on random
//! splits of the sample).
//!
//! Maps are saved as lists of `[key, value]` pairs (JSON keys are text only), in key order, so
//! the same state always gives the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A map as `[[key, value], …]`, in key order.
pub fn save_map<K: Serialize, V: Serialize>(map: &BTreeMap<K, V>) -> Box<Saved> {
    save(&map.iter().collect::<Vec<_>>())
}

/// A saved state as read back: its JSON text, parsed by the scanner that absorbs it (parsing
/// every partition's states into generic values first took several times their size).
pub type Saved = serde_json::value::RawValue;

/// Reads a value saved by [`save`], naming the detector when it does not fit.
pub fn load<T: DeserializeOwned>(detector: &str, part: &str, state: &Saved) -> Result<T> {
    serde_json::from_str(state.get())
        .map_err(|e| Error::Usage(format!("detector state of {detector} ({part}) does not fit this driftwatch: {e}")))
}

/// Any serialisable part of a state, as JSON text (no tree of values: a state of 50M event
/// ids took several times its size as one).
pub fn save<T: Serialize>(value: &T) -> Box<Saved> {
    // Cannot fail: states are text, numbers, lists and maps of them.
    serde_json::value::to_raw_value(value).expect("state serialises")
}

/// Adds the `[key, value]` pairs of a saved map into `map`, merging the values of keys both hold.
pub fn absorb_map<K, V>(
    detector: &str,
    part: &str,
    state: &Saved,
    map: &mut BTreeMap<K, V>,
    mut merge: impl FnMut(&mut V, V),
) -> Result<()>
where
    K: DeserializeOwned + Ord,
    V: DeserializeOwned,
{
    let pairs: Vec<(K, V)> = load(detector, part, state)?;
    for (key, value) in pairs {
        match map.get_mut(&key) {
            Some(existing) => merge(existing, value),
            None => {
                map.insert(key, value);
            }
        }
    }
    Ok(())
}

/// The value of `(ts, value)` pairs with the latest instant (then the larger value): what a
/// scanner keeps of a setting that may differ between register versions, whatever the order
/// it sees the events in.
pub fn latest<T: Ord + Clone>(mine: &mut (i64, T), theirs: (i64, T)) {
    if (theirs.0, &theirs.1) > (mine.0, &mine.1) {
        *mine = theirs;
    }
}
