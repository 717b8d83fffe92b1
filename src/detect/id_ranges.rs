//! Event ids as ranges of numbers (issue 21): the exact set of ids a partition saw, repeats
//! included, in a size that grows with the gaps in the log's numbering, not with its events.
//!
//! Logs number their events: "E0043126821", "E0043126822", … An id is split into its *stem*
//! (the text before its trailing digits), how many digits it ends with, and their value; ids of
//! one stem and width are kept as segments `[first, last]` of consecutive values, each marked
//! seen once or more than once. A month of a sequentially numbered log is one segment, whatever
//! its size; two months merged are two segments, or one when they follow each other. Ids
//! without trailing digits (or with more than 18) are a stem of their own: a log numbered by
//! random UUIDs costs an entry per event, the price of finding its repeats exactly.
//!
//! The segments are canonical (sorted, disjoint, neighbours with the same mark joined), so the
//! same ids give the same state bytes whatever the order and the partitions they came in.

use std::collections::BTreeMap;

use crate::finding::MAX_EVIDENCE;

/// More trailing digits than this are not read as a number (10^18 fits in a u64 with room for
/// `last + 1`).
const MAX_DIGITS: usize = 18;

/// An id as (stem, digits, value); `digits` is 0 when it does not end with a number.
fn split(id: &str) -> (&str, u8, u64) {
    let digits = id.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > MAX_DIGITS {
        return (id, 0, 0);
    }
    let (stem, tail) = id.split_at(id.len() - digits);
    let value = tail.bytes().fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
    (stem, digits as u8, value)
}

/// The value of `tail` when it is all ASCII digits (at most [`MAX_DIGITS`]), else None: eight
/// digits at a time in one 64-bit word (the usual SWAR conversion), the rest one by one. What
/// [`IdRanges::add`] reads each id with while the ids keep the previous one's stem and width.
fn digits_value(tail: &[u8]) -> Option<u64> {
    if tail.len() > MAX_DIGITS {
        return None;
    }
    let mut value = 0u64;
    let mut chunks = tail.chunks_exact(8);
    for chunk in &mut chunks {
        // Cannot fail: chunks_exact(8) gives slices of 8 bytes.
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        value = value * 100_000_000 + eight_digits(word)?;
    }
    for &byte in chunks.remainder() {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(byte - b'0');
    }
    Some(value)
}

/// Eight ASCII digits, the first in the lowest byte, as a number; None if one is not a digit.
fn eight_digits(word: u64) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let offsets = word.wrapping_sub(ONES * u64::from(b'0'));
    // A byte below '0' wraps to 0x80 or more; one above '9' reaches 0x80 once 0x76 is added.
    if (offsets | offsets.wrapping_add(ONES * 0x76)) & (ONES * 0x80) != 0 {
        return None;
    }
    // Pairs, then fours, then the eight: each step multiplies the higher half by 10, 100, 10^4.
    let pairs = (offsets.wrapping_mul(10) + (offsets >> 8)) & 0x00FF_00FF_00FF_00FF;
    let fours = (pairs.wrapping_mul(100) + (pairs >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((fours.wrapping_mul(10_000) + (fours >> 32)) & 0xFFFF_FFFF)
}

/// The id that [`split`] took apart.
fn joined(stem: &str, digits: u8, value: u64) -> String {
    match digits {
        0 => stem.to_string(),
        width => format!("{stem}{value:0width$}", width = usize::from(width)),
    }
}

/// Consecutive values `first..=last`, each seen once (`repeated` false) or more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    first: u64,
    last: u64,
    repeated: bool,
}

/// The values of one (stem, digits): canonical segments, plus values not yet folded in.
#[derive(Debug, Default)]
struct Values {
    segments: Vec<Segment>,
    /// Folded in when they outnumber the segments: each value is folded a logarithmic number
    /// of times, however unsorted the log.
    pending: Vec<Segment>,
}

impl Values {
    /// Adds a segment; returns by how much the segments held grew (negative after a fold).
    fn push(&mut self, segment: Segment) -> isize {
        // A value following the last one, both seen once, extends its segment: a log read in
        // the order it numbers its events never grows past one segment.
        if let Some(last) = self.pending.last_mut()
            && !last.repeated
            && !segment.repeated
            && last.last + 1 == segment.first
        {
            last.last = segment.last;
            return 0;
        }
        let before = self.len() as isize;
        self.pending.push(segment);
        if self.pending.len() > self.segments.len().max(4096) {
            self.fold();
        }
        self.len() as isize - before
    }

    fn len(&self) -> usize {
        self.segments.len() + self.pending.len()
    }

    /// The canonical segments, pending values folded in.
    fn folded(&self) -> Vec<Segment> {
        match self.pending.is_empty() {
            true => self.segments.clone(),
            false => canonical(self.segments.iter().chain(&self.pending).copied()),
        }
    }

    fn fold(&mut self) {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.segments = canonical(std::mem::take(&mut self.segments).into_iter().chain(pending));
        }
    }
}

/// Segments as a multiset of values → sorted, disjoint segments, each value marked repeated
/// when the segments hold it more than once, neighbours with the same mark joined.
fn canonical(segments: impl Iterator<Item = Segment>) -> Vec<Segment> {
    // Each segment opens at `first` and closes after `last`; how many are open tells how many
    // times a value was seen (counted up to 2: more changes nothing).
    let mut edges: Vec<(u64, i64)> = Vec::new();
    for segment in segments {
        let times = if segment.repeated { 2 } else { 1 };
        edges.push((segment.first, times));
        edges.push((segment.last + 1, -times));
    }
    edges.sort_unstable();
    let mut result: Vec<Segment> = Vec::new();
    let mut open = 0i64;
    let mut index = 0;
    while index < edges.len() {
        let at = edges[index].0;
        while index < edges.len() && edges[index].0 == at {
            open += edges[index].1;
            index += 1;
        }
        if open == 0 {
            continue;
        }
        // Open from `at` to the next edge.
        let until = edges.get(index).map_or(at, |edge| edge.0 - 1);
        let repeated = open > 1;
        match result.last_mut() {
            Some(previous) if previous.last + 1 == at && previous.repeated == repeated => previous.last = until,
            _ => result.push(Segment { first: at, last: until, repeated }),
        }
    }
    result
}

/// The values of `stem` followed by `digits` digits, created empty on first sight (then `true`).
fn values_of<'m>(
    by_stem: &'m mut BTreeMap<String, BTreeMap<u8, Values>>,
    stem: &str,
    digits: u8,
) -> (&'m mut Values, bool) {
    // Looked up by reference first: no allocation for a stem already known.
    if !by_stem.contains_key(stem) {
        by_stem.insert(stem.to_string(), BTreeMap::new());
    }
    let widths = by_stem.get_mut(stem).expect("inserted above");
    let new = !widths.contains_key(&digits);
    (widths.entry(digits).or_default(), new)
}

/// Every event id seen, as ranges, repeats marked.
#[derive(Debug, Default)]
pub struct IdRanges {
    /// By stem, then by how many digits follow it.
    by_stem: BTreeMap<String, BTreeMap<u8, Values>>,
    /// Stems and segments held: what the ranges cost (`entries`).
    entries: usize,
}

/// One (stem, digits) as saved: its stem front-coded against the previous one (bytes shared,
/// the rest), then its segments as `[first, last, repeated]`.
pub type SavedStem = (usize, String, u8, Vec<(u64, u64, bool)>);

impl IdRanges {
    pub fn add<'a>(&mut self, ids: impl Iterator<Item = &'a str>) {
        let mut current: Option<((&str, u8), &mut Values)> = None;
        let mut entries = self.entries as isize;
        for id in ids {
            // The usual id: the previous one's stem and width, then digits. Read without looking
            // for where the digits start (a stem never ends with a digit) nor the stem's values.
            if let Some(((stem, digits), values)) = &mut current
                && *digits > 0
                && id.len() == stem.len() + usize::from(*digits)
                && id.as_bytes().starts_with(stem.as_bytes())
                && let Some(value) = digits_value(&id.as_bytes()[stem.len()..])
            {
                entries += values.push(Segment { first: value, last: value, repeated: false });
                continue;
            }
            let (stem, digits, value) = split(id);
            let segment = Segment { first: value, last: value, repeated: false };
            // Neighbouring ids share their stem: one map lookup per change of stem.
            let values = match current {
                Some(((current_stem, current_digits), values)) if current_stem == stem && current_digits == digits => {
                    values
                }
                _ => {
                    let (values, new) = values_of(&mut self.by_stem, stem, digits);
                    entries += isize::from(new);
                    values
                }
            };
            entries += values.push(segment);
            current = Some(((stem, digits), values));
        }
        self.entries = entries.max(0) as usize;
    }

    /// Stems and segments held: a numbered log holds a few whatever its size; a log of random
    /// ids, one per event.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Every id, twice when it was seen more than once, in text order of stems.
    pub fn ids(&self) -> impl Iterator<Item = String> + '_ {
        self.stems().flat_map(|(stem, digits, values)| {
            values.folded().into_iter().flat_map(move |segment| {
                let times = if segment.repeated { 2 } else { 1 };
                (segment.first..=segment.last)
                    .flat_map(move |value| std::iter::repeat_n(joined(stem, digits, value), times))
            })
        })
    }

    /// The (stem, digits) in text order of the stems, with their values.
    fn stems(&self) -> impl Iterator<Item = (&str, u8, &Values)> {
        self.by_stem
            .iter()
            .flat_map(|(stem, widths)| widths.iter().map(move |(digits, values)| (stem.as_str(), *digits, values)))
    }

    /// Folds every pending value in: after it, the segments are canonical.
    fn fold(&mut self) {
        self.by_stem.values_mut().flat_map(BTreeMap::values_mut).for_each(Values::fold);
    }

    pub fn save(&self) -> Vec<SavedStem> {
        let mut previous = "";
        self.stems()
            .map(|(stem, digits, values)| {
                let mut shared = stem.bytes().zip(previous.bytes()).take_while(|(a, b)| a == b).count();
                while !stem.is_char_boundary(shared) {
                    shared -= 1;
                }
                previous = stem;
                let segments = values.folded().iter().map(|s| (s.first, s.last, s.repeated)).collect();
                (shared, stem[shared..].to_string(), digits, segments)
            })
            .collect()
    }

    /// Adds saved ranges; None when the stems' front coding or a segment is damaged.
    pub fn absorb(&mut self, saved: Vec<SavedStem>) -> Option<()> {
        let mut previous = String::new();
        for (shared, rest, digits, segments) in saved {
            let stem = format!("{}{rest}", previous.get(..shared)?);
            // The width first: 10^digits of a forged width would overflow.
            if usize::from(digits) > MAX_DIGITS {
                return None;
            }
            let ceiling = if digits == 0 { 0 } else { 10u64.pow(u32::from(digits)) - 1 };
            if segments.iter().any(|&(first, last, _)| first > last || last > ceiling) {
                return None;
            }
            let (values, new) = values_of(&mut self.by_stem, &stem, digits);
            let before = values.len();
            for (first, last, repeated) in segments {
                values.push(Segment { first, last, repeated });
            }
            self.entries += usize::from(new) + values.len().saturating_sub(before);
            previous = stem;
        }
        Some(())
    }

    /// The ids seen more than once: how many, and the first [`MAX_EVIDENCE`] in text order.
    pub fn repeated(mut self) -> (usize, Vec<String>) {
        self.fold();
        let mut count = 0usize;
        let mut first = Vec::new();
        for (stem, digits, values) in self.stems() {
            // Within a stem and width, value order is text order: its first few suffice.
            let mut taken = 0;
            for segment in values.segments.iter().filter(|segment| segment.repeated) {
                count += (segment.last - segment.first + 1) as usize;
                let mut value = segment.first;
                while taken < MAX_EVIDENCE && value <= segment.last {
                    first.push(joined(stem, digits, value));
                    (taken, value) = (taken + 1, value + 1);
                }
            }
        }
        first.sort_unstable();
        first.truncate(MAX_EVIDENCE);
        (count, first)
    }
}

/// An id of a list saved in order ([`id_steps`]): how far its number is from the previous
/// id's when they share a stem and width (a JSON number), else its text (a JSON string).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum IdStep {
    Step(i64),
    Text(String),
}

/// Ids in a given order as steps: in a flow's time order, a log's ids climb by a few thousand
/// at a time, written in a few digits instead of the whole id.
pub fn id_steps<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<IdStep> {
    let mut previous: Option<(&str, u8, u64)> = None;
    ids.map(|id| {
        let (stem, digits, value) = split(id);
        let step = match previous {
            Some((before, width, was)) if digits > 0 && before == stem && width == digits => {
                IdStep::Step(value as i64 - was as i64)
            }
            _ => IdStep::Text(id.to_string()),
        };
        previous = Some((stem, digits, value));
        step
    })
    .collect()
}

/// The ids [`id_steps`] wrote; None when a step has no id before it or leaves the width.
pub fn from_id_steps(steps: Vec<IdStep>) -> Option<Vec<String>> {
    let mut ids: Vec<String> = Vec::with_capacity(steps.len());
    let mut previous: Option<(String, u8, u64)> = None;
    for step in steps {
        let id = match step {
            IdStep::Text(id) => id,
            IdStep::Step(step) => {
                let (stem, digits, was) = previous.as_ref()?;
                let value = was.checked_add_signed(step)?;
                if *digits == 0 || value >= 10u64.pow(u32::from(*digits)) {
                    return None;
                }
                joined(stem, *digits, value)
            }
        };
        let (stem, digits, value) = split(&id);
        previous = Some((stem.to_string(), digits, value));
        ids.push(id);
    }
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_split_into_stem_width_and_value_and_join_back() {
        assert_eq!(split("E0043126821"), ("E", 10, 43_126_821));
        assert_eq!(split("évt-7"), ("évt-", 1, 7));
        assert_eq!(split("abc"), ("abc", 0, 0));
        assert_eq!(split("12"), ("", 2, 12));
        let long = "x1234567890123456789";
        assert_eq!(split(long), (long, 0, 0));
        for id in ["E0043126821", "évt-7", "abc", "12", long, "E00"] {
            let (stem, digits, value) = split(id);
            assert_eq!(joined(stem, digits, value), id);
        }
    }

    #[test]
    fn a_sequentially_numbered_log_is_one_segment() {
        let ids: Vec<String> = (0..100_000).map(|n| format!("E{n:08}")).collect();
        let mut ranges = IdRanges::default();
        ranges.add(ids.iter().rev().map(String::as_str));
        let saved = ranges.save();
        assert_eq!(saved, vec![(0, "E".to_string(), 8, vec![(0, 99_999, false)])]);
        assert_eq!(ranges.repeated(), (0, Vec::new()));
    }

    fn ranges_of(ids: &[String]) -> IdRanges {
        let mut ranges = IdRanges::default();
        ranges.add(ids.iter().map(String::as_str));
        ranges
    }

    proptest! {
        /// The word-at-a-time digits read as the digits one by one: every length up to 18,
        /// any byte anywhere (the bytes just outside '0'..='9' included).
        #[test]
        fn digits_are_read_eight_at_a_time_as_one_by_one(
            tail in proptest::collection::vec(prop_oneof![8 => b'0'..=b'9', 1 => any::<u8>(), 1 => Just(b'/'), 1 => Just(b':')], 0..20),
        ) {
            let one_by_one = (tail.len() <= MAX_DIGITS && tail.iter().all(u8::is_ascii_digit))
                .then(|| tail.iter().fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0')));
            prop_assert_eq!(digits_value(&tail), one_by_one);
        }

        /// Whatever the ids and however they are split: the repeats counted and cited are those
        /// of the whole list, and the saved state is the same as one pass over it.
        #[test]
        fn merged_ranges_find_exactly_the_repeated_ids(
            ids in proptest::collection::vec("(E|F|x)?[0-9]{0,3}", 0..300),
            cut in 0usize..300,
        ) {
            let cut = cut.min(ids.len());
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            ids.iter().for_each(|id| *counts.entry(id).or_default() += 1);
            let repeated: Vec<String> = counts.iter().filter(|(_, n)| **n > 1).map(|(id, _)| id.to_string()).collect();
            let mut merged = ranges_of(&ids[..cut]);
            let later = ranges_of(&ids[cut..]).save();
            merged.absorb(later).unwrap();
            let whole = ranges_of(&ids);
            prop_assert_eq!(merged.save(), whole.save());
            let (count, first) = merged.repeated();
            prop_assert_eq!(count, repeated.len());
            prop_assert_eq!(first, repeated.into_iter().take(MAX_EVIDENCE).collect::<Vec<_>>());
        }
    }

    #[test]
    fn ids_in_steps_come_back_whole() {
        let ids: Vec<String> =
            ["E0000120", "E0000100", "E0000100", "F7", "x", "E0000101", "E101", "12", "13"].map(String::from).to_vec();
        let steps = id_steps(ids.iter().map(String::as_str));
        assert_eq!(steps[1], IdStep::Step(-20));
        assert_eq!(steps[6], IdStep::Text("E101".into()));
        assert_eq!(steps[8], IdStep::Step(1));
        assert_eq!(serde_json::to_string(&steps[..2]).unwrap(), r#"["E0000120",-20]"#);
        assert_eq!(from_id_steps(steps).unwrap(), ids);
        assert!(from_id_steps(vec![IdStep::Step(1)]).is_none());
        assert!(from_id_steps(vec![IdStep::Text("E9".into()), IdStep::Step(1)]).is_none());
    }

    #[test]
    fn a_damaged_state_is_refused() {
        let mut ranges = IdRanges::default();
        assert!(ranges.absorb(vec![(2, "E".into(), 3, vec![])]).is_none());
        assert!(ranges.absorb(vec![(0, "E".into(), 3, vec![(5, 4, false)])]).is_none());
        assert!(ranges.absorb(vec![(0, "E".into(), 3, vec![(0, 1000, false)])]).is_none());
        assert!(ranges.absorb(vec![(0, "E".into(), 200, vec![(0, 1, false)])]).is_none(), "a forged width");
    }
}
