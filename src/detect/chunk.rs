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

use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray, View};

use crate::error::{PolarsContext, Result};
use crate::event::{self, OUTBOUND_ACTIONS};
use crate::register::RegisterSet;
use crate::register::versions::{self, InForce, REGISTER_VERSION};

/// The code of a null (or absent) value.
pub const NULL: u32 = 0;

/// Distinct views of long values after which an array's views are no longer cached.
const LONG_VIEW_MISSES: usize = 4096;

/// Entries of the direct-mapped cache in front of a dictionary (a power of two: 64 - 52 bits).
const RECENT_VIEWS: usize = 1 << 12;

/// No view is all ones (its length would be 4 GiB): the empty slot of the cache.
const NO_VIEW: u128 = u128::MAX;

/// Views of values longer than 12 bytes, within one array: decoded from a Parquet dictionary,
/// repeats of a value share one view (same buffer, same offset). Given up once the views turn
/// out to be mostly distinct (plain-encoded text), where it would only grow.
#[derive(Default)]
struct LongViews {
    codes: PlHashMap<u128, u32>,
    misses: usize,
}

impl LongViews {
    fn code(&mut self, view: u128, intern: impl FnOnce() -> u32) -> u32 {
        if self.misses >= LONG_VIEW_MISSES {
            return intern();
        }
        if let Some(code) = self.codes.get(&view) {
            return *code;
        }
        self.misses += 1;
        let code = intern();
        self.codes.insert(view, code);
        code
    }
}

/// The caches in front of a dictionary while one array is coded.
struct ViewCoder {
    /// A direct-mapped cache of recent views: most rows repeat a value seen a few rows before,
    /// and then cost one multiply and one compare.
    recent: Box<[(u128, u32); RECENT_VIEWS]>,
    long_views: LongViews,
}

impl Default for ViewCoder {
    fn default() -> Self {
        // A fixed-size table: indexed by a 12-bit slot, it needs no bounds check.
        ViewCoder { recent: Box::new([(NO_VIEW, NULL); RECENT_VIEWS]), long_views: LongViews::default() }
    }
}

impl ViewCoder {
    /// The code of the (valid) value at `row`, whose view is `view`.
    #[inline]
    fn code(&mut self, dictionary: &mut Dictionary, array: &Utf8ViewArray, row: usize, view: &View) -> u32 {
        let key = view.as_u128();
        let slot = (((key as u64) ^ ((key >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize;
        let cached = &mut self.recent[slot];
        if cached.0 == key {
            return cached.1;
        }
        // SAFETY: `row` is within the array (it indexes its views).
        let text = || unsafe { array.value_unchecked(row) };
        let code = if view.is_inline() {
            match dictionary.inline.get(&key) {
                Some(code) => *code,
                None => {
                    let code = dictionary.intern(text());
                    dictionary.inline.insert(key, code);
                    code
                }
            }
        } else {
            self.long_views.code(key, || dictionary.intern(text()))
        };
        *cached = (key, code);
        code
    }
}

/// One column's distinct values, each with a code (its position; 0 is null).
pub struct Dictionary {
    /// Values of at most 12 bytes, by their whole Arrow view (length and bytes in 16 bytes):
    /// one integer hash instead of a string hash and compare.
    inline: PlHashMap<u128, u32>,
    by_text: PlHashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
    /// Columns read as categoricals (`event::CODED_COLUMNS`): the code of each category id seen
    /// ([`UNSEEN`] for the others), and the mapping the ids are of. Held here, the mapping lives
    /// as long as the audit, so the ids keep their meaning from one chunk to the next.
    by_category: Vec<u32>,
    categories: Option<Arc<CategoricalMapping>>,
}

/// A category id not coded yet.
const UNSEEN: u32 = u32::MAX;

impl Default for Dictionary {
    fn default() -> Self {
        Dictionary {
            inline: PlHashMap::new(),
            by_text: PlHashMap::new(),
            values: vec!["".into()],
            by_category: Vec::new(),
            categories: None,
        }
    }
}

impl Dictionary {
    /// The text behind a code; None for [`NULL`].
    pub fn text(&self, code: u32) -> Option<&str> {
        (code != NULL).then(|| &*self.values[code as usize])
    }

    /// The text behind a code, empty for [`NULL`] (the way the detectors name a missing value).
    pub fn name(&self, code: u32) -> &str {
        self.text(code).unwrap_or_default()
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
        let mut coder = ViewCoder::default();
        let views = array.views().iter().enumerate();
        // Two loops, with and without nulls: no test of a validity mask on the rows of a column
        // without nulls (the vector sized once from the views' count either way).
        match array.validity().filter(|valid| valid.unset_bits() > 0) {
            None => codes.extend(views.map(|(row, view)| coder.code(self, array, row, view))),
            // Zipped with the mask's iterator the rows were pushed one by one (Vec::extend of an
            // iterator of unknown length: 3 % of a 10M audit); a row's bit read by its index
            // keeps the length known and the codes written in one go.
            Some(valid) => codes.extend(views.map(|(row, view)| {
                // SAFETY: the mask has a bit per view (Arrow arrays are as long as their mask).
                let present = unsafe { valid.get_bit_unchecked(row) };
                if present { coder.code(self, array, row, view) } else { NULL }
            })),
        }
    }

    /// The codes of a text column's values.
    fn code_column(&mut self, column: &StringChunked) -> Vec<u32> {
        let mut codes = Vec::with_capacity(column.len());
        for array in column.downcast_iter() {
            self.code_array(array, &mut codes);
        }
        codes
    }

    /// The codes of a column's values, text or categorical.
    fn code_values(&mut self, column: &Column, name: &str) -> Result<Vec<u32>> {
        let Ok(categorical) = column.cat32() else {
            return Ok(self.code_column(column.str().polars(format!("column `{name}`"))?));
        };
        let mut codes = Vec::with_capacity(column.len());
        for array in categorical.physical().downcast_iter() {
            self.code_category_ids(array, categorical.get_mapping(), &mut codes);
        }
        Ok(codes)
    }

    /// Appends the codes of category ids (of `mapping`) to `codes`: a row costs one load, each
    /// category is looked up once in the audit.
    ///
    /// Passes without a branch per row — a gather from the table by id ([`UNSEEN`] for an id
    /// not coded yet), then the nulls blanked — and, only while new ids appear, a walk in row
    /// order that codes them: in that order, the codes a single walk would give.
    fn code_category_ids(
        &mut self,
        ids: &PrimitiveArray<u32>,
        mapping: &Arc<CategoricalMapping>,
        codes: &mut Vec<u32>,
    ) {
        if !self.categories.as_ref().is_some_and(|known| Arc::ptr_eq(known, mapping)) {
            self.categories = Some(mapping.clone());
            self.by_category.clear();
        }
        let first = codes.len();
        // A slice, not the vector: its start and length stay in registers through the loop
        // (through `&Vec` they were reloaded for every row, the writes to `codes` might alias).
        let table = self.by_category.as_slice();
        // Whether an id was not coded yet, noted during the gather (no second pass to find out).
        let mut unseen = false;
        codes.extend(ids.values().iter().map(|&id| {
            let code = table.get(id as usize).copied().unwrap_or(UNSEEN);
            unseen |= code == UNSEEN;
            code
        }));
        let gathered = &mut codes[first..];
        if let Some(valid) = ids.validity().filter(|valid| valid.unset_bits() > 0) {
            blank_nulls(gathered, valid);
        }
        // A null's id may be one not coded yet: then the walk below has nothing to do.
        if !unseen || !gathered.contains(&UNSEEN) {
            return;
        }
        for (code, &id) in gathered.iter_mut().zip(ids.values().iter()) {
            if *code == UNSEEN {
                *code = match self.by_category.get(id as usize) {
                    Some(&known) if known != UNSEEN => known,
                    _ => self.code_category(id, mapping),
                };
            }
        }
    }

    /// The first time a category id is seen: its text coded, remembered by id.
    #[cold]
    fn code_category(&mut self, id: u32, mapping: &CategoricalMapping) -> u32 {
        // An id the mapping does not know cannot come from a read column: a null, to be safe.
        let Some(text) = mapping.cat_to_str(id) else { return NULL };
        let code = self.intern(text);
        if id as usize >= self.by_category.len() {
            self.by_category.resize(id as usize + 1, UNSEEN);
        }
        self.by_category[id as usize] = code;
        code
    }
}

/// Sets the codes of the rows `valid` marks null to [`NULL`] (a null's id means nothing): the
/// mask read 64 rows at a time, a word without null skipped and a word of nulls filled at once
/// (a bit iterator cost a few nanoseconds a row on mostly-null columns such as the recipient).
fn blank_nulls(codes: &mut [u32], valid: &polars_arrow::bitmap::Bitmap) {
    // As many whole words as whole blocks of 64 rows (the mask is as long as the codes).
    let mut words = valid.chunks::<u64>();
    let mut blocks = codes.chunks_exact_mut(64);
    for (word, block) in (&mut words).zip(&mut blocks) {
        blank_block(block, word);
    }
    blank_block(blocks.into_remainder(), words.remainder());
}

/// [`blank_nulls`] for up to 64 rows and their word of the mask.
#[inline]
fn blank_block(block: &mut [u32], word: u64) {
    match word {
        u64::MAX => {}
        0 => block.fill(NULL),
        _ => {
            for (index, code) in block.iter_mut().enumerate() {
                *code = if (word >> index) & 1 == 1 { *code } else { NULL };
            }
        }
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
    /// Not a column: the situations rows are judged in (see [`Situation`]).
    pub situations: Situations,
}

/// What a row's rules depend on besides its actor, instant and categories: the register version
/// in force, the dataset, the role, the purpose, the recipient and whether the data leaves.
/// A log holds a few hundred of them whatever its size, so a detector resolves its rule once per
/// situation and then reads a vector by the row's situation code, instead of hashing its own
/// key on every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Situation {
    /// The register version in force, -1 for none.
    pub version: i32,
    pub dataset: u32,
    pub role: u32,
    pub purpose: u32,
    pub recipient: u32,
    pub outbound: bool,
}

/// The situations of one audit, coded from 0 in order of first sight.
#[derive(Default)]
pub struct Situations {
    codes: PlHashMap<Situation, u32>,
    list: Vec<Situation>,
}

impl Situations {
    /// The situation behind a code.
    pub fn get(&self, code: u32) -> &Situation {
        &self.list[code as usize]
    }

    /// The situations coded after the first `known`: what a detector's table by situation code
    /// (`known` long) has yet to resolve, in code order.
    pub fn since(&self, known: usize) -> &[Situation] {
        self.list.get(known..).unwrap_or_default()
    }

    /// How many there are: a vector this long is indexed by situation code.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The situation code of every row of `codes` (whose `version` is set).
    fn code_rows(&mut self, codes: &Codes) -> Vec<u32> {
        if PackedSituation::fits(codes) { self.code_packed_rows(codes) } else { self.code_rows_by_fields(codes) }
    }

    /// [`Self::code_rows`] when every row's situation packs into a u64 (the usual case): the
    /// cache in front of the hash map then costs a row one multiply and one compare, not a
    /// hash and a compare of six fields (3 % of a 10M audit's CPU).
    fn code_packed_rows(&mut self, codes: &Codes) -> Vec<u32> {
        let mut recent = vec![(PackedSituation::NONE, 0u32); RECENT_SITUATIONS];
        (0..codes.len())
            .map(|row| {
                let key = PackedSituation::of(codes, row);
                let cached = &mut recent[(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 53) as usize];
                if cached.0 != key {
                    *cached = (key, self.code(Situation::of(codes, row)));
                }
                cached.1
            })
            .collect()
    }

    /// [`Self::code_rows`] for codes too large to pack: the six fields compared.
    fn code_rows_by_fields(&mut self, codes: &Codes) -> Vec<u32> {
        // A direct-mapped cache in front of the hash map, as for text views: most rows cost a
        // few multiplies and one compare instead of hashing six fields.
        let mut recent = vec![None::<(Situation, u32)>; RECENT_SITUATIONS];
        (0..codes.len())
            .map(|row| {
                let situation = Situation::of(codes, row);
                let cached = &mut recent[situation.slot()];
                match cached {
                    Some((seen, code)) if *seen == situation => *code,
                    _ => {
                        let code = self.code(situation);
                        *cached = Some((situation, code));
                        code
                    }
                }
            })
            .collect()
    }

    fn code(&mut self, situation: Situation) -> u32 {
        let next = self.list.len() as u32;
        let code = *self.codes.entry(situation).or_insert(next);
        if code == next {
            self.list.push(situation);
        }
        code
    }
}

/// Entries of the cache in front of the situations (a power of two: 64 - 53 bits).
const RECENT_SITUATIONS: usize = 1 << 11;

/// A situation's codes in one u64 — version + 1 in 11 bits, dataset, role, purpose and
/// recipient in 12 bits each, outbound in 1 — for chunks whose codes all fit.
struct PackedSituation;

impl PackedSituation {
    /// No packed situation is all ones (its top bits are never set): the empty cache slot.
    const NONE: u64 = u64::MAX;
    const CODE_BITS: u32 = 12;
    const VERSION_BITS: u32 = 11;

    /// Whether every row of the chunk packs: its codes below 4,096, its versions below 2,047.
    fn fits(codes: &Codes) -> bool {
        // Folds without an early exit, which the compiler turns into vector instructions: every
        // code is below 2^12 exactly when their bitwise or is.
        let small = |column: &[u32]| column.iter().fold(0, |all, &code| all | code) < (1 << Self::CODE_BITS);
        let (lowest, highest) =
            codes.version.iter().fold((-1, -1), |(low, high), &v| (std::cmp::min(low, v), std::cmp::max(high, v)));
        let version_fits = lowest >= -1 && highest < (1 << Self::VERSION_BITS) - 1;
        version_fits && small(&codes.dataset) && small(&codes.role) && small(&codes.purpose) && small(&codes.recipient)
    }

    /// Row `row`'s situation packed (the chunk [`Self::fits`]).
    #[inline]
    fn of(codes: &Codes, row: usize) -> u64 {
        let version = (codes.version[row] + 1) as u64;
        let fields = [codes.dataset[row], codes.role[row], codes.purpose[row], codes.recipient[row]];
        let packed = fields.iter().fold(version, |packed, &code| (packed << Self::CODE_BITS) | u64::from(code));
        (packed << 1) | u64::from(codes.outbound[row])
    }
}

impl Situation {
    /// Row `row`'s situation.
    #[inline]
    fn of(codes: &Codes, row: usize) -> Situation {
        Situation {
            version: codes.version[row],
            dataset: codes.dataset[row],
            role: codes.role[row],
            purpose: codes.purpose[row],
            recipient: codes.recipient[row],
            outbound: codes.outbound[row],
        }
    }

    /// Its entry in the cache of recent situations: a multiplicative hash of its fields.
    fn slot(&self) -> usize {
        let pair = |high: u32, low: u32| (u64::from(high) << 32) | u64::from(low);
        let mixed = pair(self.version as u32, self.dataset).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ pair(self.role, self.purpose).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ pair(self.recipient, u32::from(self.outbound)).wrapping_mul(0x1656_67B1_9E37_79F9);
        (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 53) as usize
    }
}

/// A value worked out once per code and remembered: a detector's rule for one situation, or
/// (as [`Verdicts`]) a yes-or-no question about a category or a role.
#[derive(Debug, Clone)]
pub struct Memo<T> {
    by_code: Vec<Option<T>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo { by_code: Vec::new() }
    }
}

impl<T> Memo<T> {
    /// The value for `code`, from `work_out` the first time it is asked. Asked for nearly
    /// every row by several detectors: inlined, the value known in one load and one test.
    #[inline]
    pub fn get(&mut self, code: u32, work_out: impl FnOnce() -> T) -> &T {
        let index = code as usize;
        if matches!(self.by_code.get(index), Some(Some(_))) {
            // Cannot fail: the entry was just seen filled.
            return self.by_code[index].as_ref().expect("filled entry");
        }
        self.work_out(index, work_out)
    }

    /// The first answer for a code, remembered.
    #[cold]
    fn work_out(&mut self, index: usize, work_out: impl FnOnce() -> T) -> &T {
        if index >= self.by_code.len() {
            self.by_code.resize_with(index + 1, || None);
        }
        self.by_code[index].get_or_insert_with(work_out)
    }
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
    /// A transfer or export (`event::OUTBOUND_ACTIONS`) to a recipient.
    pub outbound: Vec<bool>,
    /// The row's [`Situation`] code (in `Dictionaries::situations`).
    pub situation: Vec<u32>,
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
}

/// A judged chunk as the detectors receive it.
pub struct Chunk<'a> {
    /// The judged frame (`crate::event` columns, `register_version`, `event_row`).
    pub events: &'a DataFrame,
    pub codes: &'a Codes,
    pub dictionaries: &'a Dictionaries,
}

/// A yes-or-no question about a code, answered once per code and remembered: the memo a
/// detector keeps for "is this category covered", "is this role a management role".
#[derive(Debug, Clone, Default)]
pub struct Verdicts(Memo<bool>);

impl Verdicts {
    /// The verdict on `code`, from `judge` the first time it is asked.
    #[inline]
    pub fn get(&mut self, code: u32, judge: impl FnOnce() -> bool) -> bool {
        *self.0.get(code, judge)
    }
}

/// Judges chunks against the register and codes them, keeping the dictionaries (and what each
/// dataset's versions are) for the whole audit.
pub struct Judge<'r> {
    register: &'r RegisterSet,
    pub dictionaries: Dictionaries,
    /// By dataset code: the versions declaring it (filled as codes appear).
    declaring: Vec<Vec<InForce>>,
}

impl<'r> Judge<'r> {
    pub fn new(register: &'r RegisterSet) -> Judge<'r> {
        Judge { register, dictionaries: Dictionaries::default(), declaring: Vec::new() }
    }

    /// The judged frame of a chunk (the events, `event_row` first and `register_version` last)
    /// and its codes.
    pub fn judge(&mut self, events: DataFrame) -> Result<(DataFrame, Codes)> {
        let mut codes = code_text(&events, &mut self.dictionaries)?;
        for code in self.declaring.len()..self.dictionaries.dataset.len() {
            let dataset = self.dictionaries.dataset.text(code as u32);
            self.declaring.push(dataset.map(|d| versions::declaring(self.register, d)).unwrap_or_default());
        }
        codes.version = codes
            .dataset
            .iter()
            .zip(&codes.ts)
            .map(|(&dataset, &ts)| versions::in_force_at(&self.declaring[dataset as usize], ts).unwrap_or(-1))
            .collect();
        // The version column from the codes as they are, -1 masked as null (no per-row Option).
        let judged = codes.version.iter().all(|&v| v >= 0);
        let validity =
            (!judged).then(|| polars_arrow::bitmap::Bitmap::from_iter(codes.version.iter().map(|&v| v >= 0)));
        let column = Int32Chunked::from_vec_validity(REGISTER_VERSION.into(), codes.version.clone(), validity);
        codes.situation = self.dictionaries.situations.code_rows(&codes);
        let mut frame = events.with_row_index(super::ROW.into(), None).polars("numbering the events")?;
        frame.with_column(column.into_column()).polars("judging events")?;
        Ok((frame, codes))
    }
}

/// Codes a judged frame's columns (with its `register_version`), extending the dictionaries.
pub fn code(events: &DataFrame, dictionaries: &mut Dictionaries) -> Result<Codes> {
    let mut codes = code_text(events, dictionaries)?;
    codes.version = versions(events)?;
    codes.situation = dictionaries.situations.code_rows(&codes);
    Ok(codes)
}

/// Codes an event frame's columns, the columns side by side; `version` is left empty.
fn code_text(events: &DataFrame, dictionaries: &mut Dictionaries) -> Result<Codes> {
    let text = |name: &'static str| events.column(name).map(|column| (name, column)).polars(format!("column `{name}`"));
    let Dictionaries { actor, role, unit, action, dataset, recipient, purpose, target_agent, category, .. } =
        dictionaries;
    let mut jobs: Vec<(&mut Dictionary, (&str, &Column), Result<Vec<u32>>)> = vec![
        (actor, text(event::ACTOR_ID)?, Ok(Vec::new())),
        (role, text(event::ACTOR_ROLE)?, Ok(Vec::new())),
        (unit, text(event::ACTOR_UNIT)?, Ok(Vec::new())),
        (action, text(event::ACTION)?, Ok(Vec::new())),
        (dataset, text(event::DATASET)?, Ok(Vec::new())),
        (recipient, text(event::RECIPIENT)?, Ok(Vec::new())),
        (purpose, text(event::PURPOSE)?, Ok(Vec::new())),
        (target_agent, text(event::TARGET_AGENT)?, Ok(Vec::new())),
    ];
    let lists = events.column(event::CATEGORIES).and_then(|c| c.list()).polars("categories")?;
    let ts = timestamps(events)?;
    let ((), (category_offsets, categories)) = rayon::join(
        || {
            use rayon::prelude::*;
            jobs.par_iter_mut()
                .for_each(|(dictionary, (name, column), codes)| *codes = dictionary.code_values(column, name));
        },
        || code_lists(lists, category),
    );
    let mut coded = Vec::with_capacity(jobs.len());
    for (_, _, codes) in jobs {
        coded.push(codes?);
    }
    let mut coded = coded.into_iter();
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
        version: Vec::new(),
        outbound,
        situation: Vec::new(),
    })
}

fn timestamps(events: &DataFrame) -> Result<Vec<i64>> {
    let ts = events.column(event::TS).and_then(|c| c.datetime()).polars("ts")?.physical();
    let mut instants = Vec::with_capacity(ts.len());
    for array in ts.downcast_iter() {
        // `ts` is required, so an array without nulls is the usual case: copied as it is.
        match array.validity().filter(|valid| valid.unset_bits() > 0) {
            None => instants.extend_from_slice(array.values()),
            Some(_) => instants.extend(array.iter().map(|value| value.copied().unwrap_or_default())),
        }
    }
    Ok(instants)
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
    // A list of categoricals (read from a Parquet dictionary) holds category ids.
    let categories = match lists.inner_dtype() {
        DataType::Categorical(_, mapping) => Some(mapping.clone()),
        _ => None,
    };
    for array in lists.downcast_iter() {
        values.clear();
        let items = array.values().as_any();
        match (&categories, items.downcast_ref::<Utf8ViewArray>(), items.downcast_ref::<PrimitiveArray<u32>>()) {
            (None, Some(strings), _) => dictionary.code_array(strings, &mut values),
            (Some(mapping), _, Some(ids)) => dictionary.code_category_ids(ids, mapping, &mut values),
            _ => return (offsets, Err(crate::error::Error::Usage("categories: not a list of text".into()))),
        }
        let bounds = array.offsets().buffer();
        let validity = array.validity().filter(|valid| valid.unset_bits() > 0);
        // A null list is read as holding no value: an empty one, as Parquet readers write it.
        let null_lists_empty =
            || validity.is_none_or(|valid| valid.iter().zip(bounds.windows(2)).all(|(v, w)| v || w[0] == w[1]));
        if !values.contains(&NULL) && null_lists_empty() {
            // The usual case: no null value inside a list, null lists empty: the codes as they
            // are, the offsets shifted (no per-row filtering).
            let (first, last) = (bounds[0] as usize, bounds[array.len()] as usize);
            let base = codes.len() as u32;
            codes.extend_from_slice(&values[first..last]);
            offsets.extend(bounds[1..=array.len()].iter().map(|&end| base + (end as usize - first) as u32));
            continue;
        }
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
        assert_eq!(later.version, vec![0, -1], "no version covers dataset x");
    }

    #[test]
    fn the_version_in_force_is_the_one_the_register_expression_gives() {
        let register = testing::register(&[testing::WIKIT_V1, testing::WIKIT_V2]);
        let rows = [
            "e1,2015-10-05T23:59:59Z,a,agent,read,follow_ups,,,,",
            "e2,2015-10-06T00:00:00Z,a,agent,read,follow_ups,,,,",
            "e3,2022-02-28T23:59:59.999999Z,a,agent,read,follow_ups,,,,",
            "e4,2022-03-01T00:00:00Z,a,agent,read,follow_ups,,,,",
            "e5,2030-01-01T00:00:00Z,a,agent,read,follow_ups,,,,",
            "e6,2023-01-01T00:00:00Z,a,agent,read,undeclared_dataset,,,,",
        ];
        let judged = testing::judged_events(&register, &rows);
        let by_expression = judged
            .clone()
            .lazy()
            .select([versions::reference::version_in_force(&register).alias("expected")])
            .collect()
            .unwrap();
        let expected: Vec<Option<i32>> = by_expression.column("expected").unwrap().i32().unwrap().iter().collect();
        let judged_versions: Vec<Option<i32>> =
            judged.column(REGISTER_VERSION).unwrap().i32().unwrap().iter().collect();
        assert_eq!(judged_versions, expected);
        assert_eq!(judged_versions, vec![None, Some(0), Some(0), Some(1), Some(1), None]);
        let rows_numbered: Vec<Option<IdxSize>> =
            judged.column(super::super::ROW).unwrap().idx().unwrap().iter().collect();
        assert_eq!(rows_numbered, (0..6).map(Some).collect::<Vec<_>>());
    }

    /// Every row's situation code names its own (version, dataset, role, purpose, recipient,
    /// outbound), equal situations share a code across chunks, and rows that differ in one field
    /// only, or collide in the cache of recent situations, get their own.
    #[test]
    fn situation_codes_name_each_rows_situation() {
        let mut codes = code_text(
            &testing::judged_events(
                &testing::register(&[testing::WIKIT_V2]),
                &["e0,2023-01-02T10:00:00Z,a,agent,read,follow_ups,,,,"],
            ),
            &mut Dictionaries::default(),
        )
        .unwrap();
        // Each field cycles at its own pace: all 5,040 combinations, then repeats.
        let rows = 6_000usize;
        let field = |row: usize, pace: usize, modulus: usize| (row / pace % modulus) as u32;
        codes.version = (0..rows).map(|row| field(row, 840, 3) as i32 - 1).collect();
        codes.dataset = (0..rows).map(|row| field(row, 1, 5)).collect();
        codes.role = (0..rows).map(|row| field(row, 5, 4)).collect();
        codes.purpose = (0..rows).map(|row| field(row, 20, 6)).collect();
        codes.recipient = (0..rows).map(|row| field(row, 120, 7)).collect();
        codes.outbound = (0..rows).map(|row| field(row, 2_520, 2) == 1).collect();
        codes.ts = vec![0; rows];
        let mut situations = Situations::default();
        let first = situations.code_rows(&codes);
        let again = situations.code_rows(&codes);
        assert_eq!(first, again, "a later chunk keeps the codes");
        let mut by_situation: std::collections::HashMap<Situation, u32> = std::collections::HashMap::new();
        for (row, &code) in first.iter().enumerate() {
            let expected = Situation {
                version: codes.version[row],
                dataset: codes.dataset[row],
                role: codes.role[row],
                purpose: codes.purpose[row],
                recipient: codes.recipient[row],
                outbound: codes.outbound[row],
            };
            assert_eq!(situations.get(code), &expected, "row {row}");
            assert_eq!(*by_situation.entry(expected).or_insert(code), code, "row {row}");
        }
        assert_eq!(situations.len(), by_situation.len());
        assert_eq!(situations.len(), 5_040, "more situations than the cache has entries");
        // Recipient codes too large to pack: the rows are coded field by field, to the same
        // codes in the same order of first sight.
        assert!(PackedSituation::fits(&codes));
        codes.recipient.iter_mut().for_each(|code| *code += 5_000);
        assert!(!PackedSituation::fits(&codes));
        let mut unpacked = Situations::default();
        assert_eq!(unpacked.code_rows(&codes), first);
        assert_eq!(unpacked.get(first[799]).recipient, codes.recipient[799]);
    }

    /// Category codes per row, whether the lists take the shortcut (no null value inside a
    /// list) or not, and for a slice of a list column (its offsets not starting at zero).
    #[test]
    fn category_lists_code_as_their_values_either_way() {
        let rows_without_null_values: Vec<Option<Vec<Option<&str>>>> = vec![
            Some(vec![Some("identity"), Some("health")]),
            None,
            Some(vec![]),
            Some(vec![Some("health")]),
            None,
            Some(vec![Some("penal"), Some("identity"), Some("identity")]),
        ];
        let mut with_a_null_value = rows_without_null_values.clone();
        with_a_null_value[3] = Some(vec![None, Some("health")]);
        for rows in [rows_without_null_values, with_a_null_value] {
            let series: Vec<Series> = rows
                .iter()
                .map(|row| row.as_ref().map(|values| Series::new("".into(), values.as_slice())).unwrap_or_default())
                .collect();
            let mut lists: ListChunked =
                rows.iter().zip(&series).map(|(row, values)| row.as_ref().map(|_| values.clone())).collect();
            lists.rename("categories".into());
            for (skip, column) in [(0, lists.clone()), (2, lists.slice(2, 4))] {
                let mut dictionary = Dictionary::default();
                let (offsets, codes) = code_lists(&column, &mut dictionary);
                let codes = codes.unwrap();
                assert_eq!(offsets.len(), column.len() + 1);
                for (index, row) in rows[skip..skip + column.len()].iter().enumerate() {
                    let coded: Vec<&str> = codes[offsets[index] as usize..offsets[index + 1] as usize]
                        .iter()
                        .map(|&code| dictionary.name(code))
                        .collect();
                    let expected: Vec<&str> = row.iter().flatten().flatten().copied().collect();
                    assert_eq!(coded, expected, "row {}", skip + index);
                }
            }
        }
    }

    #[test]
    fn codes_agree_with_a_plain_hash_map_past_every_cache() {
        // More distinct long values than the per-array view cache keeps (it gives up), repeats
        // that collide in the direct-mapped cache, nulls, and short values: every row's code
        // names its own text, and equal texts share a code.
        let values: Vec<Option<String>> = (0..12_000)
            .map(|i: usize| match i % 5 {
                0 => None,
                1 => Some(format!("s{}", i % 300)),
                _ => Some(format!("a-long-value-of-more-than-twelve-bytes-{}", (i * 7919) % 9_000)),
            })
            .collect();
        let column: StringChunked = values.iter().map(|v| v.as_deref()).collect();
        let mut dictionary = Dictionary::default();
        let codes = dictionary.code_column(&column);
        let mut expected: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        for (value, code) in values.iter().zip(&codes) {
            match value {
                None => assert_eq!(*code, NULL),
                Some(text) => {
                    assert_eq!(dictionary.text(*code), Some(text.as_str()));
                    assert_eq!(*expected.entry(text).or_insert(*code), *code, "{text}");
                }
            }
        }
        assert_eq!(dictionary.len(), expected.len() + 1);
    }

    /// Nulls blanked by words of the mask give what a row-by-row walk gives: masks of every
    /// shape (no null, all null, mixed words, a partial last word, an offset slice).
    #[test]
    fn nulls_are_blanked_as_the_mask_says() {
        let rows = 64 * 3 + 17;
        let shapes: [Box<dyn Fn(usize) -> bool>; 4] = [
            Box::new(|row| row % 7 != 3),
            Box::new(|row| !(64..128).contains(&row)),
            Box::new(|row| (128..140).contains(&row) || row > 200),
            Box::new(|_| false),
        ];
        for valid_at in shapes {
            let mask: polars_arrow::bitmap::Bitmap = (0..rows + 5).map(&valid_at).collect();
            for offset in [0, 5] {
                let valid = mask.clone().sliced(offset, rows);
                let mut codes: Vec<u32> = (1..=rows as u32).collect();
                blank_nulls(&mut codes, &valid);
                let expected: Vec<u32> =
                    (0..rows).map(|row| if valid_at(row + offset) { row as u32 + 1 } else { NULL }).collect();
                assert_eq!(codes, expected, "offset {offset}");
            }
        }
    }

    #[test]
    fn category_ids_code_in_order_of_first_sight_with_nulls_and_new_ids() {
        // Ids given in another order than the rows meet them, nulls (whose ids mean nothing),
        // and a second array with known and new ids: the codes are those one walk in row order
        // gives, whatever the gather-then-fix-up takes.
        let categories = Categories::global();
        let mapping = categories.mapping();
        let id = |text: &str| mapping.insert_cat(text).unwrap();
        let texts = ["zeta-dw17", "alpha-dw17", "mid-dw17", "late-dw17"];
        let ids: Vec<u32> = texts.iter().map(|t| id(t)).collect();
        let rows = |picks: &[Option<usize>]| {
            let values: Vec<u32> = picks.iter().map(|p| p.map_or(ids[0], |i| ids[i])).collect();
            let valid: polars_arrow::bitmap::Bitmap = picks.iter().map(Option::is_some).collect();
            PrimitiveArray::new(polars_arrow::datatypes::ArrowDataType::UInt32, values.into(), Some(valid))
        };
        let mut dictionary = Dictionary::default();
        let mut codes = Vec::new();
        dictionary.code_category_ids(&rows(&[Some(2), None, Some(1), Some(2)]), &mapping, &mut codes);
        dictionary.code_category_ids(&rows(&[Some(3), Some(1), None, Some(0)]), &mapping, &mut codes);
        assert_eq!(codes, vec![1, NULL, 2, 1, 3, 2, NULL, 4]);
        let named: Vec<&str> = codes.iter().map(|&c| dictionary.name(c)).collect();
        assert_eq!(named, ["mid-dw17", "", "alpha-dw17", "mid-dw17", "late-dw17", "alpha-dw17", "", "zeta-dw17"]);
        // Without nulls nor new ids: the gather alone.
        let all_known = PrimitiveArray::new(
            polars_arrow::datatypes::ArrowDataType::UInt32,
            vec![ids[0], ids[3], ids[2]].into(),
            None,
        );
        let mut again = Vec::new();
        dictionary.code_category_ids(&all_known, &mapping, &mut again);
        assert_eq!(again, vec![4, 3, 1]);
    }
}
