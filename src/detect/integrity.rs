//! `integrity`: when the log carries a hash chain (`prev_hash`/`hash`), the audit checks it as
//! `driftwatch verify` does (`evidence/chain.rs`): broken links, altered rows, missing hashes,
//! duplicate event ids, time going backwards, business-day gaps over 24 h, and coverage of at
//! least 183 days (seed 002: a security log kept with its integrity for six months). One
//! finding per (file, kind of problem); severity high for the chain and duplicate ids, medium
//! for time order and gaps, low for short coverage.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use super::id_ranges::{IdRanges, SavedStem};
use super::{Context, Detector, Scanner};
use polars::prelude::*;

use crate::error::Result;
use crate::event::{EVENT_ID, HASH};
use crate::evidence::chain::{self, ProblemKind, VerifyParams};
use crate::finding::{Finding, FindingDraft, MAX_EVIDENCE, Severity, facts};

pub struct Integrity;

impl Detector for Integrity {
    fn name(&self) -> &'static str {
        "integrity"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(IntegrityScanner::default())
    }
}

#[derive(Default)]
struct IntegrityScanner {
    /// The rows of chunks that carry a hash chain, checked as a whole at the end.
    chained: Vec<chain::ChainRow>,
    ids: EventIds,
    /// A saved state was absorbed: the ids stay ranges, whatever they cost.
    absorbed: bool,
}

/// How the event ids are kept for the duplicate-id check.
enum EventIds {
    /// As ranges of numbers (`id_ranges.rs`): exact, a few bytes for a log that numbers its
    /// events, and what a saved state holds (two partitions' repeats are found only from all
    /// their ids).
    Ranges(IdRanges),
    /// As 64-bit hashes and the text of the few ids flagged, once the ranges of a log not
    /// numbered in order pass [`RANGES_LIMIT`] in an audit that neither saves nor merges a
    /// state: 6.5 bytes an event instead of an entry each.
    Hashed(DuplicateIds),
}

impl Default for EventIds {
    fn default() -> Self {
        EventIds::Ranges(IdRanges::default())
    }
}

impl EventIds {
    /// Keeps a chunk's ids; as hashes from now on when the ranges pass `hash_past` entries.
    fn add(&mut self, ids: &StringChunked, hash_past: Option<usize>) {
        match self {
            EventIds::Ranges(ranges) => {
                use polars_arrow::array::Array;
                // Array by array: the chunked array's own iterator dispatches per value, and an
                // array without nulls (the usual: ids are required) needs no validity walk.
                for array in ids.downcast_iter() {
                    match array.null_count() {
                        0 => ranges.add(array.values_iter()),
                        _ => ranges.add(array.iter().map(Option::unwrap_or_default)),
                    }
                }
                if hash_past.is_some_and(|limit| ranges.entries() > limit) {
                    *self = EventIds::Hashed(hashed(ranges));
                }
            }
            EventIds::Hashed(hashes) => hashes.add(ids),
        }
    }

    fn duplicated(self) -> Duplicated {
        match self {
            EventIds::Ranges(ranges) => {
                let (count, first) = ranges.repeated();
                Duplicated { count, first }
            }
            EventIds::Hashed(hashes) => hashes.duplicated(),
        }
    }
}

/// Stems and segments past which an audit's ranges become hashes (at most about 80 MB of them).
const RANGES_LIMIT: usize = 1 << 19;

/// The ranges' ids as hashes, each repeated id given twice (so counted as repeated).
fn hashed(ranges: &IdRanges) -> DuplicateIds {
    let mut hashed = DuplicateIds::default();
    let mut batch: Vec<String> = Vec::with_capacity(crate::ingest::DEFAULT_CHUNK_ROWS);
    let mut flush = |batch: &mut Vec<String>| {
        hashed.add(&StringChunked::from_iter_values("event_id".into(), batch.iter().map(String::as_str)));
        batch.clear();
    };
    for id in ranges.ids() {
        batch.push(id);
        if batch.len() == crate::ingest::DEFAULT_CHUNK_ROWS {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    hashed
}

/// The integrity state as saved: the chained rows with their file's path (partitions number
/// their files apart), and every event id as ranges.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedIntegrity {
    chained: Vec<(String, chain::ChainRow)>,
    event_ids: Vec<SavedStem>,
}

impl Scanner for IntegrityScanner {
    fn scan(&mut self, context: &Context, chunk: &super::chunk::Chunk) -> Result<()> {
        let events = chunk.events;
        let chained = events.column(HASH).map(|c| c.null_count() < c.len()).unwrap_or(false);
        if chained {
            let events = events.drop_many([crate::register::versions::REGISTER_VERSION, super::ROW]);
            self.chained.extend(chain::rows(&events)?);
        }
        let ids = super::text_column(events, EVENT_ID)?;
        let may_hash = !context.settings.saving_state && !self.absorbed;
        self.ids.add(ids, may_hash.then_some(RANGES_LIMIT));
        Ok(())
    }

    fn save(&self, context: &Context) -> Box<super::state::Saved> {
        let path = |file: usize| context.input_files.get(file).cloned().unwrap_or_default();
        let chained = self.chained.iter().map(|row| (path(row.file), row.clone())).collect();
        let event_ids = match &self.ids {
            EventIds::Ranges(ranges) => ranges.save(),
            // Never: hashes are kept only when no state is saved (`EventIds::add` is told so).
            EventIds::Hashed(_) => {
                debug_assert!(false, "integrity: a state saved after its ids were hashed");
                Vec::new()
            }
        };
        super::state::save(&SavedIntegrity { chained, event_ids })
    }

    fn absorb(&mut self, context: &Context, state: &super::state::Saved) -> Result<()> {
        let saved: SavedIntegrity = super::state::load(Integrity.name(), "ids and chain", state)?;
        for (path, mut row) in saved.chained {
            row.file = context.input_files.iter().position(|file| *file == path).ok_or_else(|| {
                crate::error::Error::Usage(format!("integrity state: the file {path} is not among this merge's inputs"))
            })?;
            self.chained.push(row);
        }
        // States are absorbed before any event is scanned (`pipeline.rs`), so the ids are still
        // ranges; from here on they stay so.
        self.absorbed = true;
        let EventIds::Ranges(ranges) = &mut self.ids else {
            return Err(crate::error::Error::Usage(
                "integrity state: absorbed after events were hashed (a bug: please report it)".into(),
            ));
        };
        ranges
            .absorb(saved.event_ids)
            .ok_or_else(|| crate::error::Error::Usage("integrity state: a damaged list of event ids".into()))
    }

    fn finish(mut self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        // Files in input order, rows in file order, whatever order the partitions came in.
        self.chained.sort_by_key(|row| (row.file, row.row));
        if self.chained.is_empty() {
            // Without a chain, still make sure every piece of evidence names one event.
            return Ok(Integrity.duplicate_ids(self.ids.duplicated()).into_iter().collect());
        }
        let params = VerifyParams {
            max_gap_us: 24 * 3_600_000_000,
            min_coverage_days: 183,
            timezone: context.settings.timezone,
        };
        let mut grouped: BTreeMap<(usize, ProblemKind), Vec<chain::Problem>> = BTreeMap::new();
        for problem in chain::verify(&self.chained, &params) {
            grouped.entry((problem.file, problem.kind)).or_default().push(problem);
        }
        Ok(grouped
            .into_iter()
            .map(|((file, kind), problems)| Integrity.finding(context, file, kind, problems))
            .collect())
    }
}

impl Integrity {
    /// Event ids used more than once across the inputs: evidence citing them is ambiguous.
    fn duplicate_ids(&self, duplicated: Duplicated) -> Option<Finding> {
        let Duplicated { count, first } = duplicated;
        first.first()?;
        let facts =
            facts::Integrity::DuplicateIds { reason: ProblemKind::DuplicateEventId.name(), duplicated_ids: count };
        Some(FindingDraft { events: count as u64, score: 1.0, evidence: first, ..Default::default() }.finish(
            facts,
            Severity::High,
            &["duplicates"],
        ))
    }

    fn finding(&self, context: &Context, file: usize, kind: ProblemKind, problems: Vec<chain::Problem>) -> Finding {
        let path = context.input_files.get(file).cloned().unwrap_or_default();
        let severity = match kind {
            ProblemKind::TimeBackwards | ProblemKind::Gap => Severity::Medium,
            ProblemKind::ShortCoverage => Severity::Low,
            _ => Severity::High,
        };
        let first = problems.iter().map(|p| p.ts).min();
        let last = problems.iter().map(|p| p.ts).max();
        // The id names the kind of problem and the event where it starts, not the file's path:
        // the same log exported under another name next month (a longer cut) keeps its
        // findings' ids, and two files never share one (their events differ).
        let key = [kind.name().to_string(), problems[0].event_id.clone()];
        let facts = facts::Integrity::Chain {
            reason: kind.name(),
            rows: problems.iter().take(MAX_EVIDENCE).map(|p| p.row).collect(),
            messages: problems.iter().take(5).map(|p| format!("row {}: {}", p.row, p.message)).collect(),
            first_row: problems[0].row,
            first_message: problems[0].message.clone(),
            file: path,
        };
        FindingDraft {
            first_seen: first,
            last_seen: last,
            events: problems.len() as u64,
            score: 1.0,
            evidence: problems.iter().take(MAX_EVIDENCE).map(|p| p.event_id.clone()).collect(),
            ..Default::default()
        }
        .finish(facts, severity, &[&key[0], &key[1]])
    }
}

/// Finds event ids used more than once across all chunks without keeping the ids: each id is
/// kept as a 64-bit hash (6.5 bytes a row: [`PackedRun`]), and an id's text only when a Bloom filter says its
/// hash may have been seen before (a few rows in a hundred). At the end, hashes seen twice are
/// duplicates, named by the text kept at their second sighting. Two distinct ids sharing a
/// 64-bit hash would be reported as one duplicate: odds below 1 in 10,000 at 50 million rows.
#[derive(Default)]
struct DuplicateIds {
    /// The hashes of each chunk (one run per chunk: no reallocation of one vector as long as
    /// the log, which would hold it twice while copying).
    runs: Vec<PackedRun>,
    seen: Bloom,
    /// The flagged hashes: their id, and (at the end) how many times the hash came in.
    texts: PlHashMap<u64, (String, u32)>,
}

impl DuplicateIds {
    fn add(&mut self, ids: &StringChunked) {
        let hashes = id_hashes(ids);
        // Probed in (about) hash order, the filter is walked front to back (its word is the
        // hash's high bits) instead of at random: one pass through memory, not a cache miss
        // per row.
        let hashed = by_leading_bits(&hashes);
        let count: usize = self.runs.iter().map(|run| run.len).sum::<usize>() + hashed.len();
        self.seen.grow_for(count, self.runs.iter().flat_map(PackedRun::hashes));
        for &(hash, row) in &hashed {
            if self.seen.check_and_insert(hash) {
                self.texts.entry(hash).or_insert_with(|| (ids.get(row as usize).unwrap_or_default().to_string(), 0));
            }
        }
        self.runs.push(PackedRun::new(&hashed));
    }

    /// The event ids used more than once: how many, and the first [`MAX_EVIDENCE`] in text
    /// order. Only the hashes the Bloom filter flagged when they came in can be repeated (it has
    /// no false negatives): each is counted beside its text, chunk after chunk, each chunk's
    /// hashes freed once counted. Nothing here grows with the number of duplicates beyond the
    /// flags themselves: a log given twice (every id repeated) must not double the memory.
    fn duplicated(mut self) -> Duplicated {
        // Most hashes were never flagged: a bitset of the flagged ones' leading bits (16 bits per
        // flagged hash, in cache) turns them away before any lookup in the map.
        let flagged = FlaggedBits::of(self.texts.keys().copied(), self.texts.len());
        for run in std::mem::take(&mut self.runs) {
            for hash in run.hashes().filter(|&hash| flagged.may_hold(hash)) {
                if let Some((_, count)) = self.texts.get_mut(&hash) {
                    *count += 1;
                }
            }
        }
        let mut count = 0;
        // The earliest ids in text order: a max-heap of at most MAX_EVIDENCE.
        let mut first: std::collections::BinaryHeap<&str> = std::collections::BinaryHeap::new();
        for (text, _) in self.texts.values().filter(|(_, seen)| *seen > 1) {
            count += 1;
            if first.len() < MAX_EVIDENCE || first.peek().is_some_and(|latest| text.as_str() < *latest) {
                first.push(text);
                if first.len() > MAX_EVIDENCE {
                    first.pop();
                }
            }
        }
        Duplicated { count, first: first.into_sorted_vec().into_iter().map(str::to_string).collect() }
    }
}

/// The leading bits of a set of hashes, one bit each: no false negatives, few false hits.
struct FlaggedBits {
    words: Vec<u64>,
    shift: u32,
}

impl FlaggedBits {
    fn of(hashes: impl Iterator<Item = u64>, count: usize) -> FlaggedBits {
        let bits = (count * 16).next_power_of_two().max(64);
        let mut flagged = FlaggedBits { words: vec![0; bits / 64], shift: 64 - bits.trailing_zeros() };
        for hash in hashes {
            let bit = flagged.bit(hash);
            flagged.words[bit / 64] |= 1 << (bit % 64);
        }
        flagged
    }

    /// The hash's leading bits (`shift` is at most 58: there are at least 64 bits).
    fn bit(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize
    }

    fn may_hold(&self, hash: u64) -> bool {
        let bit = self.bit(hash);
        self.words[bit / 64] >> (bit % 64) & 1 == 1
    }
}

/// Event ids used more than once across the inputs.
#[derive(Debug, PartialEq)]
struct Duplicated {
    /// How many distinct ids.
    count: usize,
    /// The first of them in text order, at most [`MAX_EVIDENCE`].
    first: Vec<String>,
}

/// A 64-bit hash of each id (required, so never null). An id of at most 12 bytes is hashed as
/// its Arrow view (its length and bytes in one integer): the same id always gives the same
/// view, and hashing one integer is cheaper than hashing text.
fn id_hashes(ids: &StringChunked) -> Vec<u64> {
    let hasher = PlFixedStateQuality::default();
    let mut hashes = Vec::with_capacity(ids.len());
    for array in ids.downcast_iter() {
        for (row, view) in array.views().iter().enumerate() {
            hashes.push(if view.is_inline() {
                hasher.hash_one(view.as_u128())
            } else {
                // SAFETY: `row` is within the array (it indexes its views).
                hasher.hash_one(unsafe { array.value_unchecked(row) })
            });
        }
    }
    hashes
}

/// Bits of a hash that order [`by_leading_bits`]: 4096 buckets, each a small stretch of the
/// Bloom filter (its word index grows with the hash).
const LEADING_BITS: u32 = 12;

/// (hash, row) ordered by the hash's leading bits, in two linear passes (a counting sort, not a
/// comparison sort of the whole chunk).
fn by_leading_bits(hashes: &[u64]) -> Vec<(u64, u32)> {
    let bucket = |hash: u64| (hash >> (64 - LEADING_BITS)) as usize;
    let mut starts = vec![0usize; (1 << LEADING_BITS) + 1];
    for &hash in hashes {
        starts[bucket(hash) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut ordered = vec![(0u64, 0u32); hashes.len()];
    for (row, &hash) in hashes.iter().enumerate() {
        let slot = &mut starts[bucket(hash)];
        ordered[*slot] = (hash, row as u32);
        *slot += 1;
    }
    ordered
}

/// Bits of a hash kept in a [`PackedRun`]: the others are its bucket.
const TRAILING_BITS: u32 = 64 - LEADING_BITS;

/// One chunk's hashes in the order of their leading bits: each bucket's hashes share those 12
/// bits, so a run keeps where each bucket starts and, per hash, only its 52 trailing bits, packed
/// end to end (6.5 bytes a hash instead of 8: at 50M events, 75 MB less). Every hash comes back
/// whole: nothing is lost to the packing, and the odds of two ids sharing a hash are unchanged.
struct PackedRun {
    len: usize,
    /// Hashes of bucket `b` are the `starts[b]`-th to the `starts[b + 1]`-th.
    starts: Vec<u32>,
    bits: Vec<u64>,
}

impl PackedRun {
    /// From hashes ordered by their leading bits ([`by_leading_bits`]).
    fn new(ordered: &[(u64, u32)]) -> PackedRun {
        let mut starts = vec![0u32; (1 << LEADING_BITS) + 1];
        for &(hash, _) in ordered {
            starts[(hash >> TRAILING_BITS) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut bits = vec![0u64; (ordered.len() * TRAILING_BITS as usize).div_ceil(64) + 1];
        let mask = (1u64 << TRAILING_BITS) - 1;
        for (index, &(hash, _)) in ordered.iter().enumerate() {
            let at = index * TRAILING_BITS as usize;
            let (word, offset) = (at / 64, (at % 64) as u32);
            let value = hash & mask;
            bits[word] |= value << offset;
            if offset + TRAILING_BITS > 64 {
                bits[word + 1] |= value >> (64 - offset);
            }
        }
        PackedRun { len: ordered.len(), starts, bits }
    }

    /// The hashes, whole, in the order they were given.
    fn hashes(&self) -> impl Iterator<Item = u64> + '_ {
        let mask = (1u64 << TRAILING_BITS) - 1;
        self.starts.windows(2).enumerate().flat_map(move |(bucket, range)| {
            (range[0] as usize..range[1] as usize).map(move |index| {
                let at = index * TRAILING_BITS as usize;
                let (word, offset) = (at / 64, (at % 64) as u32);
                let mut value = self.bits[word] >> offset;
                if offset + TRAILING_BITS > 64 {
                    value |= self.bits[word + 1] << (64 - offset);
                }
                ((bucket as u64) << TRAILING_BITS) | (value & mask)
            })
        })
    }
}

/// A blocked Bloom filter over 64-bit hashes: three bits in one 64-bit word per value (one
/// cache miss), 8 to 16 bits per value (under 2 % false hits); rebuilt at 16 bits per value,
/// from every value that went in, when they pass 8.
#[derive(Default)]
struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    fn word_and_mask(&self, hash: u64) -> (usize, u64) {
        // The word from the high bits, the three bits from the low ones: independent.
        let word = ((hash as u128 * self.words.len() as u128) >> 64) as usize;
        let mask = (1 << (hash & 63)) | (1 << ((hash >> 6) & 63)) | (1 << ((hash >> 12) & 63));
        (word, mask)
    }

    /// Makes room for `values` values; `inserted` are the values already in.
    fn grow_for(&mut self, values: usize, inserted: impl Iterator<Item = u64>) {
        if self.words.len() >= (values / 8).max(1 << 10) {
            return;
        }
        self.words = Vec::new(); // freed before the larger one is allocated
        self.words = vec![0; (values / 4).max(1 << 10)];
        for value in inserted {
            self.check_and_insert(value);
        }
    }

    #[cfg(test)]
    fn may_contain(&self, hash: u64) -> bool {
        let (word, mask) = self.word_and_mask(hash);
        self.words[word] & mask == mask
    }

    /// Whether the value may have been inserted before; inserts it.
    fn check_and_insert(&mut self, hash: u64) -> bool {
        let (word, mask) = self.word_and_mask(hash);
        let seen = self.words[word] & mask == mask;
        self.words[word] |= mask;
        seen
    }
}

#[cfg(test)]
mod duplicate_tests {
    use super::*;

    fn ids(values: &[&str]) -> StringChunked {
        StringChunked::new("id".into(), values)
    }

    #[test]
    fn duplicates_within_and_across_chunks_are_found_once_each_and_sorted() {
        let mut tracker = DuplicateIds::default();
        tracker.add(&ids(&["b", "a", "c", "b"]));
        tracker.add(&ids(&["d", "a", "e"]));
        tracker.add(&ids(&["b", "f"]));
        assert_eq!(tracker.duplicated(), Duplicated { count: 2, first: vec!["a".into(), "b".into()] });
        let mut clean = DuplicateIds::default();
        clean.add(&ids(&["x", "y"]));
        clean.add(&ids(&["z"]));
        assert_eq!(clean.duplicated(), Duplicated { count: 0, first: Vec::new() });
    }

    #[test]
    fn a_log_given_twice_reports_every_id_once_and_cites_the_first_ones() {
        let names: Vec<String> = (0..3 * MAX_EVIDENCE).map(|i| format!("e{i:04}")).collect();
        let texts: Vec<&str> = names.iter().rev().map(String::as_str).collect();
        let mut tracker = DuplicateIds::default();
        tracker.add(&ids(&texts));
        tracker.add(&ids(&texts));
        let duplicated = tracker.duplicated();
        assert_eq!(duplicated.count, names.len());
        assert_eq!(duplicated.first, names[..MAX_EVIDENCE].to_vec());
    }

    /// A log not numbered in order (random hexadecimal ids, some repeated) passes the limit of
    /// its ranges and goes on as hashes: the repeats found are the same as ranges alone find,
    /// and the ids stay ranges where no switch is allowed.
    #[test]
    fn unnumbered_ids_past_the_limit_become_hashes_and_find_the_same_repeats() {
        let hasher = PlFixedStateQuality::default();
        let names: Vec<String> = (0..3000u64).map(|i| format!("{:x}", hasher.hash_one(i % 2500))).collect();
        let (mut switching, mut kept) = (EventIds::default(), EventIds::default());
        for chunk in names.chunks(700) {
            let chunk = ids(&chunk.iter().map(String::as_str).collect::<Vec<_>>());
            switching.add(&chunk, Some(1000));
            kept.add(&chunk, None);
        }
        assert!(matches!(switching, EventIds::Hashed(_)) && matches!(kept, EventIds::Ranges(_)));
        let (switched, ranged) = (switching.duplicated(), kept.duplicated());
        assert_eq!(ranged.count, 500);
        assert_eq!(switched, ranged);
    }

    #[test]
    fn the_bloom_filter_never_forgets_a_value_when_it_grows() {
        let hasher = PlFixedStateQuality::default();
        let mut bloom = Bloom::default();
        let mut inserted = Vec::new();
        for value in (0..100_000u64).map(|v| hasher.hash_one(v)) {
            bloom.grow_for(inserted.len() + 1, inserted.iter().copied());
            bloom.check_and_insert(value);
            inserted.push(value);
        }
        assert!(inserted.iter().all(|v| bloom.may_contain(*v)));
        let false_hits = (100_000..200_000u64).filter(|v| bloom.may_contain(hasher.hash_one(v))).count();
        assert!(false_hits < 3_000, "{false_hits} false hits in 100,000");
    }
}
#[cfg(test)]
mod ordering_tests {
    use super::*;

    /// Packed, every hash comes back whole and in order, whatever its bits (all ones, all zeros,
    /// one bucket or many).
    #[test]
    fn a_packed_run_gives_every_hash_back_whole() {
        let mut hashes: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        hashes.extend([0, u64::MAX, u64::MAX - 1, 1 << 63, (1 << 52) - 1, 1 << 52]);
        let ordered = by_leading_bits(&hashes);
        let run = PackedRun::new(&ordered);
        assert_eq!(run.len, hashes.len());
        assert_eq!(run.hashes().collect::<Vec<u64>>(), ordered.iter().map(|(h, _)| *h).collect::<Vec<u64>>());
        assert_eq!(PackedRun::new(&[]).hashes().count(), 0);
    }

    #[test]
    fn hashes_are_ordered_by_their_leading_bits_and_none_is_lost() {
        let hashes: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).collect();
        let ordered = by_leading_bits(&hashes);
        let leading: Vec<u64> = ordered.iter().map(|(h, _)| h >> (64 - LEADING_BITS)).collect();
        assert!(leading.windows(2).all(|w| w[0] <= w[1]));
        let mut rows: Vec<u32> = ordered.iter().map(|(_, row)| *row).collect();
        assert!(ordered.iter().all(|(hash, row)| hashes[*row as usize] == *hash));
        rows.sort_unstable();
        assert_eq!(rows, (0..5000).collect::<Vec<u32>>());
    }
}
