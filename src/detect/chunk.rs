//! The judged chunk every detector reads: the event frame, and its low-cardinality text columns
//! turned once into integer codes.
//!
//! Why codes: detectors group and judge events by actor, role, dataset, recipient, purpose and
//! categories. Keyed by text, every detector hashed and compared the same strings again, row by
//! row (the profile's memcmp and hashing). Coded once per chunk, a row's key is a few integers:
//! a detector judges each distinct combination once and then walks integer vectors.
//!
//! Codes are stable for the whole audit (the dictionaries live as long as the stream), so a
//! scanner may keep them across chunks; code 0 is a null value.

use polars::prelude::*;
use polars_arrow::array::{Array, Utf8ViewArray};

use crate::error::{PolarsContext, Result};
use crate::event::{self, OUTBOUND_ACTIONS};
use crate::register::versions::REGISTER_VERSION;

/// The code of a null (or absent) value.
pub const NULL: u32 = 0;

/// Distinct views of long values after which an array's views are no longer cached.
const LONG_VIEW_MISSES: usize = 4096;

/// One column's distinct values, each with a code (its position; 0 is null).
pub struct Dictionary {
    /// Values of at most 12 bytes, by their whole Arrow view (length and bytes in 16 bytes):
    /// one integer hash instead of a string hash and compare.
    inline: PlHashMap<u128, u32>,
    by_text: PlHashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
}

impl Default for Dictionary {
    fn default() -> Self {
        Dictionary { inline: PlHashMap::new(), by_text: PlHashMap::new(), values: vec!["".into()] }
    }
}

impl Dictionary {
    /// The text behind a code; None for [`NULL`].
    pub fn text(&self, code: u32) -> Option<&str> {
        (code != NULL).then(|| &*self.values[code as usize])
    }

    /// The code of a value seen in the audit so far, if any.
    pub fn code_of(&self, text: &str) -> Option<u32> {
        self.by_text.get(text).copied()
    }

    /// How many codes there are, [`NULL`] included: a vector this long is indexed by code.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.len() == 1
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(code) = self.by_text.get(text) {
            return *code;
        }
        let code = self.values.len() as u32;
        self.values.push(text.into());
        self.by_text.insert(text.into(), code);
        code
    }

    /// Appends the codes of one text array's values to `codes`.
    fn code_array(&mut self, array: &Utf8ViewArray, codes: &mut Vec<u32>) {
        let validity = array.validity();
        // Longer values by view too, within this array: decoded from a Parquet dictionary,
        // repeats of a value share one view (same buffer, same offset). Given up when the
        // views turn out to be mostly distinct (plain-encoded text).
        let mut long_views: PlHashMap<u128, u32> = PlHashMap::new();
        let mut long_misses = 0usize;
        for (row, view) in array.views().iter().enumerate() {
            if validity.is_some_and(|valid| !valid.get_bit(row)) {
                codes.push(NULL);
                continue;
            }
            // SAFETY: `row` is within the array (it indexes its views).
            let text = || unsafe { array.value_unchecked(row) };
            let key = view.as_u128();
            let code = if view.is_inline() {
                match self.inline.get(&key) {
                    Some(code) => *code,
                    None => {
                        let code = self.intern(text());
                        self.inline.insert(key, code);
                        code
                    }
                }
            } else if long_misses < LONG_VIEW_MISSES {
                match long_views.get(&key) {
                    Some(code) => *code,
                    None => {
                        long_misses += 1;
                        let code = self.intern(text());
                        long_views.insert(key, code);
                        code
                    }
                }
            } else {
                self.intern(text())
            };
            codes.push(code);
        }
    }

    fn code_column(&mut self, column: &StringChunked) -> Vec<u32> {
        let mut codes = Vec::with_capacity(column.len());
        for array in column.downcast_iter() {
            self.code_array(array, &mut codes);
        }
        codes
    }
}

/// The dictionaries of one audit, one per coded column.
#[derive(Default)]
pub struct Dictionaries {
    pub actor: Dictionary,
    pub role: Dictionary,
    pub unit: Dictionary,
    pub action: Dictionary,
    pub dataset: Dictionary,
    pub recipient: Dictionary,
    pub purpose: Dictionary,
    pub target_agent: Dictionary,
    pub category: Dictionary,
}

/// One chunk's coded columns, row-aligned with its frame.
pub struct Codes {
    pub actor: Vec<u32>,
    pub role: Vec<u32>,
    pub unit: Vec<u32>,
    pub action: Vec<u32>,
    pub dataset: Vec<u32>,
    pub recipient: Vec<u32>,
    pub purpose: Vec<u32>,
    pub target_agent: Vec<u32>,
    /// Row `r`'s categories are `categories[category_offsets[r]..category_offsets[r + 1]]`
    /// (null lists and null values inside a list contribute none).
    pub category_offsets: Vec<u32>,
    pub categories: Vec<u32>,
    /// Microseconds since the epoch (UTC); `ts` is required, so never null.
    pub ts: Vec<i64>,
    /// The register version in force (index into the register set), or -1 for none.
    pub version: Vec<i32>,
    /// A transfer or export to a recipient (`event::is_outbound`).
    pub outbound: Vec<bool>,
}

impl Codes {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The category codes of one row.
    pub fn categories_of(&self, row: usize) -> &[u32] {
        &self.categories[self.category_offsets[row] as usize..self.category_offsets[row + 1] as usize]
    }

    /// The register version of a row, if one is in force.
    pub fn version_of(&self, row: usize) -> Option<usize> {
        usize::try_from(self.version[row]).ok()
    }
}

/// A judged chunk as the detectors receive it.
pub struct Chunk<'a> {
    /// The judged frame (`crate::event` columns, `register_version`, `event_row`).
    pub events: &'a DataFrame,
    pub codes: &'a Codes,
    pub dictionaries: &'a Dictionaries,
}

/// Codes a judged frame's columns, the columns side by side, extending the dictionaries.
pub fn code(events: &DataFrame, dictionaries: &mut Dictionaries) -> Result<Codes> {
    let text = |name: &str| super::text_column(events, name);
    let Dictionaries { actor, role, unit, action, dataset, recipient, purpose, target_agent, category } = dictionaries;
    let mut jobs: Vec<(&mut Dictionary, &StringChunked, Vec<u32>)> = vec![
        (actor, text(event::ACTOR_ID)?, Vec::new()),
        (role, text(event::ACTOR_ROLE)?, Vec::new()),
        (unit, text(event::ACTOR_UNIT)?, Vec::new()),
        (action, text(event::ACTION)?, Vec::new()),
        (dataset, text(event::DATASET)?, Vec::new()),
        (recipient, text(event::RECIPIENT)?, Vec::new()),
        (purpose, text(event::PURPOSE)?, Vec::new()),
        (target_agent, text(event::TARGET_AGENT)?, Vec::new()),
    ];
    let lists = events.column(event::CATEGORIES).and_then(|c| c.list()).polars("categories")?;
    let (ts, version) = (timestamps(events)?, versions(events)?);
    let ((), (category_offsets, categories)) = rayon::join(
        || {
            use rayon::prelude::*;
            jobs.par_iter_mut().for_each(|(dictionary, column, codes)| *codes = dictionary.code_column(column));
        },
        || code_lists(lists, category),
    );
    let mut coded = jobs.into_iter().map(|(_, _, codes)| codes);
    let mut next = || coded.next().unwrap_or_default();
    let (actor, role, unit, action, dataset, recipient, purpose, target_agent) =
        (next(), next(), next(), next(), next(), next(), next(), next());
    let outbound = outbound_rows(&action, &recipient, &dictionaries.action);
    Ok(Codes {
        actor,
        role,
        unit,
        action,
        dataset,
        recipient,
        purpose,
        target_agent,
        category_offsets,
        categories: categories?,
        ts,
        version,
        outbound,
    })
}

fn timestamps(events: &DataFrame) -> Result<Vec<i64>> {
    let ts = events.column(event::TS).and_then(|c| c.datetime()).polars("ts")?.physical();
    Ok(ts.iter().map(Option::unwrap_or_default).collect())
}

fn versions(events: &DataFrame) -> Result<Vec<i32>> {
    let versions = events.column(REGISTER_VERSION).and_then(|c| c.i32()).polars(REGISTER_VERSION)?;
    Ok(versions.iter().map(|v| v.unwrap_or(-1)).collect())
}

/// A row is outbound when its action is a transfer or an export and it names a recipient.
fn outbound_rows(action: &[u32], recipient: &[u32], actions: &Dictionary) -> Vec<bool> {
    let outbound_codes: Vec<u32> = OUTBOUND_ACTIONS.iter().filter_map(|a| actions.code_of(a)).collect();
    action.iter().zip(recipient).map(|(a, r)| *r != NULL && outbound_codes.contains(a)).collect()
}

/// The category codes of every row, flattened, with each row's offsets.
fn code_lists(lists: &ListChunked, dictionary: &mut Dictionary) -> (Vec<u32>, Result<Vec<u32>>) {
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    offsets.push(0u32);
    let mut codes: Vec<u32> = Vec::new();
    let mut values = Vec::new();
    for array in lists.downcast_iter() {
        let Some(strings) = array.values().as_any().downcast_ref::<Utf8ViewArray>() else {
            return (offsets, Err(crate::error::Error::Usage("categories: not a list of text".into())));
        };
        values.clear();
        dictionary.code_array(strings, &mut values);
        let bounds = array.offsets().buffer();
        let validity = array.validity();
        for row in 0..array.len() {
            if validity.is_none_or(|valid| valid.get_bit(row)) {
                let (start, end) = (bounds[row] as usize, bounds[row + 1] as usize);
                codes.extend(values[start..end].iter().filter(|code| **code != NULL));
            }
            offsets.push(codes.len() as u32);
        }
    }
    (offsets, Ok(codes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing;

    #[test]
    fn codes_name_the_same_values_in_every_chunk_and_zero_is_null() {
        let register = testing::register(&[testing::WIKIT_V2]);
        let rows = [
            "e1,2023-01-02T10:00:00Z,a_rather_long_actor_name,agent,read,follow_ups,identity;penal_follow_up,,,",
            "e2,2023-01-02T11:00:00Z,bob,agent,transfer,follow_ups,identity,moe,,",
            "e3,2023-01-02T12:00:00Z,a_rather_long_actor_name,agent,export,follow_ups,,,,",
        ];
        let mut dictionaries = Dictionaries::default();
        let first = testing::judged_events(&register, &rows);
        let codes = code(&first, &mut dictionaries).unwrap();
        assert_eq!(codes.actor, vec![1, 2, 1]);
        assert_eq!(dictionaries.actor.text(1), Some("a_rather_long_actor_name"));
        assert_eq!(codes.recipient, vec![NULL, 1, NULL]);
        assert_eq!(codes.outbound, vec![false, true, false], "an export without recipient stays inside");
        assert_eq!(codes.categories_of(0).len(), 2);
        assert_eq!(codes.categories_of(1), &[dictionaries.category.code_of("identity").unwrap()]);
        assert!(codes.categories_of(2).is_empty());
        assert_eq!(codes.version, vec![0, 0, 0]);
        // A later chunk: known values keep their codes, new ones get the next.
        let second = testing::judged_events(&register, &[rows[1], "e4,2023-01-03T10:00:00Z,carol,agent,read,x,,,,"]);
        let later = code(&second, &mut dictionaries).unwrap();
        assert_eq!(later.actor, vec![2, 3]);
        assert_eq!(later.dataset, vec![1, 2]);
        assert_eq!((later.version_of(0), later.version_of(1)), (Some(0), None), "no version covers dataset x");
    }
}
