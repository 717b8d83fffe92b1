//! A Parquet list of dictionary-encoded text (the categories) decoded straight from its pages
//! into lists of category ids.
//!
//! Why: polars' nested decoder walks every level through a state machine made for any depth of
//! lists and structs; on the 10M bench world it was a tenth of the audit's CPU for this one
//! column (issue 17). A list of text has one shape in practice — an optional list of optional
//! items (repetition level 1, definition level 3), as pyarrow, polars and Spark write it — and a
//! loop over its levels does the same work several times faster.
//!
//! Anything else gives None and the caller decodes the column through polars, as before: another
//! shape, a null item inside a list, a page not dictionary-encoded, an index outside the
//! dictionary, a page that does not decode. So a file this reader does not know is read as it
//! always was, and a damaged one is reported by polars' own reading.

use std::io::Cursor;

use polars::prelude::CategoricalMapping;
use polars_arrow::array::{ListArray, PrimitiveArray};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::offset::OffsetsBuffer;
use polars_buffer::Buffer;
use polars_parquet::parquet::encoding::Encoding;
use polars_parquet::parquet::encoding::hybrid_rle::HybridRleDecoder;
use polars_parquet::parquet::metadata::ColumnChunkMetadata;
use polars_parquet::parquet::page::{DataPage, split_buffer};
use polars_parquet::parquet::read::{BasicDecompressor, PageReader};

/// Definition levels of an optional list of optional items: the list is null (0), empty (1),
/// holds a null item (2, not read here) or a present item (3).
const NULL_LIST: u32 = 0;
const NULL_ITEM: u32 = 2;
const PRESENT_ITEM: u32 = 3;
/// Bits per level: repetition levels 0–1, definition levels 0–3.
const REPETITION_BITS: u32 = 1;
const DEFINITION_BITS: u32 = 2;

/// The most levels [`Lists::for_values`] makes room for in advance (a row group of 16M items).
const PRESIZED_LEVELS: usize = 1 << 24;

/// One row group's column chunk (`bytes`, described by `column`) as lists of category ids, each
/// dictionary value looked up once in `mapping`. None when the chunk is not of the one shape
/// read here (see the module's comment).
pub fn decode(column: &ColumnChunkMetadata, bytes: Buffer<u8>, mapping: &CategoricalMapping) -> Option<ListArray<i64>> {
    let descriptor = &column.descriptor().descriptor;
    if descriptor.max_rep_level != 1 || descriptor.max_def_level != 3 {
        return None;
    }
    let reader = PageReader::new(Cursor::new(bytes), column, vec![], usize::MAX);
    let mut pages = BasicDecompressor::new(reader, vec![]);
    let dictionary = pages.read_dict_page().ok()??;
    let ids = dictionary_ids(&dictionary.buffer, dictionary.num_values, mapping)?;
    let mut lists = Lists::for_values(usize::try_from(column.num_values()).unwrap_or_default());
    while let Some(item) = pages.next() {
        let page = item.ok()?.decompress(&mut pages).ok()?;
        lists.add_page(&page, &ids)?;
        pages.reuse_page_buffer(page);
    }
    lists.into_array()
}

/// The dictionary page's values (Parquet PLAIN byte arrays: a 4-byte little-endian length, then
/// the bytes) as category ids. None for text that is not UTF-8 or a page cut short.
fn dictionary_ids(mut bytes: &[u8], count: usize, mapping: &CategoricalMapping) -> Option<Vec<u32>> {
    (0..count)
        .map(|_| {
            let (length, rest) = bytes.split_first_chunk::<4>()?;
            let length = u32::from_le_bytes(*length) as usize;
            let text = rest.get(..length)?;
            bytes = &rest[length..];
            mapping.insert_cat(std::str::from_utf8(text).ok()?).ok()
        })
        .collect()
}

/// What one page's levels hold, counted in a single pass (each separate question was a walk
/// over the levels of its own).
#[derive(Debug, Default, PartialEq)]
struct LevelSummary {
    /// Levels that are a present item (definition level 3).
    present: usize,
    /// Levels that start a row (repetition level 0).
    rows: usize,
    /// A null item inside a list (definition level 2): not read here.
    null_items: bool,
    /// A level continuing a row that is not an item: no list of present items has one.
    broken_rows: bool,
    /// A null list (definition level 0).
    null_lists: bool,
}

impl LevelSummary {
    fn of(repetitions: &[u32], definitions: &[u32]) -> LevelSummary {
        let mut summary = LevelSummary::default();
        // Flags or-ed, never tested inside the loop: it has no branch.
        let (mut null_items, mut broken_rows, mut null_lists) = (false, false, false);
        for (&repetition, &definition) in repetitions.iter().zip(definitions) {
            summary.present += usize::from(definition == PRESENT_ITEM);
            summary.rows += usize::from(repetition == 0);
            null_items |= definition == NULL_ITEM;
            broken_rows |= repetition == 1 && definition != PRESENT_ITEM;
            null_lists |= definition == NULL_LIST;
        }
        LevelSummary { null_items, broken_rows, null_lists, ..summary }
    }
}

/// The lists decoded so far: where each row's items start, the items, which rows are null.
#[derive(Default)]
struct Lists {
    starts: Vec<i64>,
    items: Vec<u32>,
    /// The rows whose list is null (rarely any).
    null_rows: Vec<usize>,
}

impl Lists {
    /// Room for a column chunk of `values` levels (its metadata's count): no list row and no
    /// item is more than one level, so the vectors never grow while the pages are read (their
    /// reallocations were 1.4 % of a 10M audit's CPU).
    /// The count comes from the file: a damaged one could claim any, so the room asked for is
    /// capped (past it the vectors simply grow).
    fn for_values(values: usize) -> Lists {
        let values = values.min(PRESIZED_LEVELS);
        Lists { starts: Vec::with_capacity(values + 1), items: Vec::with_capacity(values), null_rows: Vec::new() }
    }

    /// One data page: its levels and dictionary indices, row by row. A page may begin in the
    /// middle of a row (a repetition level of 1 first): that row goes on.
    fn add_page(&mut self, page: &DataPage, ids: &[u32]) -> Option<()> {
        let dictionary_encoded = matches!(page.encoding(), Encoding::RleDictionary | Encoding::PlainDictionary);
        let levels_rle =
            page.repetition_level_encoding() == Encoding::Rle && page.definition_level_encoding() == Encoding::Rle;
        if !dictionary_encoded || !levels_rle {
            return None;
        }
        let count = page.num_values();
        let split = split_buffer(page).ok()?;
        let repetitions = HybridRleDecoder::new(split.rep, REPETITION_BITS, count).collect().ok()?;
        let definitions = HybridRleDecoder::new(split.def, DEFINITION_BITS, count).collect().ok()?;
        if repetitions.len() != count || definitions.len() != count {
            return None;
        }
        let levels = LevelSummary::of(&repetitions, &definitions);
        let present = levels.present;
        let indices = match split.values.split_first() {
            Some((&bits, packed)) if present > 0 => {
                HybridRleDecoder::new(packed, u32::from(bits), present).collect().ok()?
            }
            _ if present == 0 => Vec::new(),
            _ => return None,
        };
        if indices.len() != present {
            return None;
        }
        // No null item is read here, so the items are exactly the indices, in order, looked up.
        if indices.iter().any(|&index| index as usize >= ids.len()) {
            return None;
        }
        let first_item = self.items.len() as i64;
        // SAFETY: every index was just checked to be within `ids`.
        self.items.extend(indices.iter().map(|&index| unsafe { *ids.get_unchecked(index as usize) }));
        // Levels a list of present items cannot have: a null item (2), or a continued row that
        // is not an item (or continues a row no earlier page started).
        let continues_a_row = repetitions.first() == Some(&1);
        if (continues_a_row && self.starts.is_empty()) || levels.null_items || levels.broken_rows {
            return None;
        }
        self.add_rows(&repetitions, &definitions, first_item, &levels);
        Some(())
    }

    /// The rows of one page's (checked) levels: a row starts at each repetition level 0, where
    /// the items so far are its start. Written without a branch per level: every level writes
    /// the start of the row it would begin, and only a level 0 moves on to the next row.
    fn add_rows(&mut self, repetitions: &[u32], definitions: &[u32], first_item: i64, levels: &LevelSummary) {
        let first_row = self.starts.len();
        self.starts.resize(first_row + levels.rows + 1, 0);
        let starts = &mut self.starts[first_row..];
        let (mut row, mut item) = (0, first_item);
        for (&repetition, &definition) in repetitions.iter().zip(definitions) {
            starts[row] = item;
            row += usize::from(repetition == 0);
            item += i64::from(definition == PRESENT_ITEM);
        }
        // The slot past the last row was only written to; the next page or `into_array` fills it.
        self.starts.pop();
        if levels.null_lists {
            let row_starts = repetitions.iter().zip(definitions).filter(|&(&r, _)| r == 0);
            let null_rows =
                row_starts.enumerate().filter(|(_, (_, d))| **d == NULL_LIST).map(|(row, _)| first_row + row);
            self.null_rows.extend(null_rows);
        }
    }

    /// The rows as a large list of u32 ids: the layout polars gives a list of categoricals.
    fn into_array(mut self) -> Option<ListArray<i64>> {
        let rows = self.starts.len();
        self.starts.push(self.items.len() as i64);
        // Cannot fail: the starts only grow, from 0 (checked anyway, as the decoder would).
        let offsets = OffsetsBuffer::try_from(self.starts).ok()?;
        let items = PrimitiveArray::new(ArrowDataType::UInt32, self.items.into(), None);
        let validity = (!self.null_rows.is_empty()).then(|| {
            let mut valid = MutableBitmap::from_len_set(rows);
            self.null_rows.iter().for_each(|&row| valid.set(row, false));
            valid.into()
        });
        let dtype = ListArray::<i64>::default_datatype(ArrowDataType::UInt32);
        ListArray::try_new(dtype, offsets, Box::new(items), validity).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;
    use polars_arrow::array::Array;

    /// The rows of `tests/parquet/make_list_fixtures.py`, in row groups of four.
    fn fixture_rows() -> Vec<Option<Vec<Option<&'static str>>>> {
        let some = |items: &[&'static str]| Some(items.iter().map(|i| Some(*i)).collect());
        vec![
            some(&["health", "identity"]),
            some(&[]),
            None,
            some(&["identity"]),
            some(&["health", "health", "tax", "identity", "tax"]),
            None,
            some(&[]),
            some(&["tax"]),
            Some(vec![Some("health"), None]),
            some(&["tax"]),
            None,
            some(&[]),
        ]
    }

    /// Each row group of the file decoded here, as text (None where this reader declines).
    fn decoded(path: &std::path::Path) -> Vec<Option<Vec<Option<Vec<String>>>>> {
        let metadata = ParquetReader::new(std::fs::File::open(path).unwrap()).get_metadata().unwrap().clone();
        let bytes = std::fs::read(path).unwrap();
        let categories = Categories::global();
        let mapping = categories.mapping();
        metadata
            .row_groups
            .iter()
            .map(|group| {
                let column = group.columns_under_root_iter("categories").unwrap().next().unwrap();
                let range = column.byte_range();
                let chunk = Buffer::from_vec(bytes[range.start as usize..range.end as usize].to_vec());
                let lists = decode(column, chunk, &mapping)?;
                let items = lists.values().as_any().downcast_ref::<PrimitiveArray<u32>>().unwrap();
                let text = |id: &u32| mapping.cat_to_str(*id).unwrap().to_string();
                Some(
                    (0..lists.len())
                        .map(|row| {
                            lists.is_valid(row).then(|| {
                                let (start, end) = lists.offsets().start_end(row);
                                items.values()[start..end].iter().map(text).collect()
                            })
                        })
                        .collect(),
                )
            })
            .collect()
    }

    /// pyarrow's lists (null lists, empty lists, several pages per row group, data pages v1 and
    /// v2): the row groups without a null item decoded here to the values written; the one with
    /// a null item left to polars' decoder.
    #[test]
    fn pyarrow_lists_decode_to_the_values_written() {
        let expected: Vec<Option<Vec<String>>> = fixture_rows()
            .into_iter()
            .map(|row| row.map(|items| items.into_iter().map(|i| i.unwrap_or("").to_string()).collect()))
            .collect();
        for version in [1, 2] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("tests/parquet/pyarrow_category_lists_v{version}.parquet"));
            let groups = decoded(&path);
            assert_eq!(groups.len(), 3, "v{version}");
            assert_eq!(groups[0].as_deref(), Some(&expected[0..4]), "v{version}");
            assert_eq!(groups[1].as_deref(), Some(&expected[4..8]), "v{version}");
            assert_eq!(groups[2], None, "v{version}: a null item");
        }
    }

    #[test]
    fn one_pass_over_the_levels_answers_every_question() {
        // Rows: [a, b], [], null, [a]; then a continued row that is not an item, a null item.
        let repetitions = [0, 1, 0, 0, 0];
        let definitions = [3, 3, 1, 0, 3];
        let expected = LevelSummary { present: 3, rows: 4, null_items: false, broken_rows: false, null_lists: true };
        assert_eq!(LevelSummary::of(&repetitions, &definitions), expected);
        let broken = LevelSummary::of(&[0, 1], &[3, 1]);
        assert!(broken.broken_rows && !broken.null_items && !broken.null_lists);
        let null_item = LevelSummary::of(&[0, 1], &[3, 2]);
        assert!(null_item.null_items && null_item.broken_rows);
        assert_eq!(LevelSummary::of(&[], &[]), LevelSummary::default());
    }
}
