//! Parquet text columns read as categoricals, straight from each row group's dictionary.
//!
//! Why: a Parquet writer stores a text column of few distinct values (actor, role, dataset,
//! recipient…) as one dictionary per row group and, for each row, an index into it. Read as text,
//! every row's string is rebuilt from the dictionary, and the judge then hashes it again to code
//! it (`detect::chunk`): a third of a large audit's work (issue 17). Read as a categorical, each
//! dictionary value is looked up once and each row keeps an integer.
//!
//! Only pages the writer dictionary-encoded can be read so: a column chunk whose dictionary grew
//! too large (its writer then falls back to plain pages) is read as text, as before. Either way
//! the values are the same; only the column's type differs, and every reader of the event frame
//! takes both (`event::CODED_COLUMNS`).

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use polars::io::parquet::read::_internal::to_deserializer;
use polars::io::parquet::read::{FileMetadata, infer_schema};
use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, ListArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, DTYPE_CATEGORICAL_NEW, Field, IntegerType, Metadata};

/// A column of the file to read as a categorical.
struct Wanted {
    name: String,
    /// The name of the list's item field, for a list of text (the categories); None for text.
    list_item: Option<PlSmallStr>,
}

/// The columns of one Parquet file read from their dictionaries.
pub struct DictionaryColumns {
    /// Every column of the file, in its order.
    columns: Vec<String>,
    wanted: Vec<Wanted>,
    metadata: Arc<FileMetadata>,
}

impl DictionaryColumns {
    /// Which of `names` the file holds as text or as lists of text (None when none does).
    pub fn of(metadata: Arc<FileMetadata>, names: &[&str]) -> Option<DictionaryColumns> {
        let schema = infer_schema(&metadata).ok()?;
        let is_text = |dtype: &ArrowDataType| {
            matches!(dtype, ArrowDataType::Utf8 | ArrowDataType::LargeUtf8 | ArrowDataType::Utf8View)
        };
        let wanted: Vec<Wanted> = schema
            .iter()
            .filter(|(name, _)| names.contains(&name.as_str()))
            .filter_map(|(name, field)| match field.dtype() {
                dtype if is_text(dtype) => Some(Wanted { name: name.to_string(), list_item: None }),
                ArrowDataType::List(item) | ArrowDataType::LargeList(item) if is_text(item.dtype()) => {
                    Some(Wanted { name: name.to_string(), list_item: Some(item.name.clone()) })
                }
                _ => None,
            })
            .collect();
        let columns = schema.iter_names().map(|name| name.to_string()).collect();
        (!wanted.is_empty()).then_some(DictionaryColumns { columns, wanted, metadata })
    }

    /// Every column of the file, in its order.
    pub fn file_columns(&self) -> &[String] {
        &self.columns
    }

    /// The wanted columns of row groups `groups`, each as a categorical column, or None where a
    /// page is not dictionary-encoded or cannot be read here (the caller then reads that column
    /// as text, and reports what is wrong with it).
    pub fn read(&self, path: &Path, groups: Range<usize>) -> Vec<(&str, Option<Column>)> {
        use rayon::prelude::*;
        let categories = Categories::global();
        // Held for the whole read: the mapping lives as long as a column refers to it.
        let mapping = categories.mapping();
        self.wanted
            .par_iter()
            .map(|wanted| {
                let column = self.read_column(path, wanted, groups.clone(), &categories, &mapping);
                (wanted.name.as_str(), column)
            })
            .collect()
    }

    fn read_column(
        &self,
        path: &Path,
        wanted: &Wanted,
        groups: Range<usize>,
        categories: &Arc<Categories>,
        mapping: &Arc<CategoricalMapping>,
    ) -> Option<Column> {
        let mut file = std::fs::File::open(path).ok()?;
        let mut chunks: Vec<ArrayRef> = Vec::new();
        for group in &self.metadata.row_groups[groups] {
            let mut pages = Vec::new();
            for column in group.columns_under_root_iter(&wanted.name)? {
                let bytes = read_range(&mut file, column.byte_range()).ok()?;
                pages.push((column, polars_buffer::Buffer::from_vec(bytes)));
            }
            // A list of text of the usual shape is decoded here; polars decodes anything else.
            if let (Some(_), [(column, bytes)]) = (&wanted.list_item, pages.as_slice())
                && let Some(lists) = super::dictionary_lists::decode(column, bytes.clone(), mapping)
            {
                chunks.push(Box::new(lists));
                continue;
            }
            // The decoder refuses a page that is not dictionary-encoded: then the column is text.
            let (arrays, _) = to_deserializer(pages, field_of(wanted), None).ok()?;
            for array in arrays {
                chunks.push(match &wanted.list_item {
                    None => Box::new(category_ids(array.as_ref(), mapping)?),
                    Some(_) => Box::new(list_of_category_ids(array.as_ref(), mapping)?),
                });
            }
        }
        let categorical = DataType::Categorical(categories.clone(), mapping.clone());
        let name = PlSmallStr::from(wanted.name.as_str());
        Some(match &wanted.list_item {
            None => {
                // SAFETY: each chunk is a u32 array (`category_ids`), each id given by `mapping`.
                let ids = unsafe { UInt32Chunked::from_chunks_and_dtype(name, chunks, DataType::UInt32) };
                unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(ids, categorical) }
                    .into_series()
                    .into_column()
            }
            // SAFETY: each chunk is a large list of u32 category ids, the physical layout of a
            // list of categoricals.
            Some(_) => {
                unsafe { ListChunked::from_chunks_and_dtype(name, chunks, DataType::List(Box::new(categorical))) }
                    .into_column()
            }
        })
    }
}

/// The field telling the Parquet decoder to keep dictionary indices (the categorical marker in
/// its metadata: without it, the decoder rebuilds the strings).
fn field_of(wanted: &Wanted) -> Field {
    let marker: Metadata = [(PlSmallStr::from_static(DTYPE_CATEGORICAL_NEW), PlSmallStr::EMPTY)].into_iter().collect();
    let dictionary = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(ArrowDataType::Utf8View), false);
    let name = PlSmallStr::from(wanted.name.as_str());
    match &wanted.list_item {
        None => Field::new(name, dictionary, true).with_metadata(marker),
        Some(item) => {
            let item = Field::new(item.clone(), dictionary, true).with_metadata(marker);
            Field::new(name, ArrowDataType::LargeList(Box::new(item)), true)
        }
    }
}

/// One row group's dictionary-encoded array as category ids: each dictionary value is looked up
/// once, each row reads its value's id. None if an index points outside the dictionary.
fn category_ids(array: &dyn Array, mapping: &CategoricalMapping) -> Option<PrimitiveArray<u32>> {
    let dictionary = array.as_any().downcast_ref::<DictionaryArray<u32>>()?;
    let values = dictionary.values().as_any().downcast_ref::<Utf8ViewArray>()?;
    let ids: Vec<u32> = values.values_iter().map(|text| mapping.insert_cat(text).ok()).collect::<Option<_>>()?;
    let keys = dictionary.keys();
    // The usual case, every index within the dictionary: one gather, an index beyond it only
    // noted (clamped, so the gather needs no bounds check and no branch per row).
    let mut beyond = false;
    let rows: Vec<u32> = match ids.len().checked_sub(1) {
        Some(last) => keys
            .values()
            .iter()
            .map(|&key| {
                beyond |= key as usize > last;
                // SAFETY: the index is clamped to `last`, the last of `ids`.
                unsafe { *ids.get_unchecked((key as usize).min(last)) }
            })
            .collect(),
        None => {
            beyond = !keys.is_empty();
            Vec::new()
        }
    };
    // Indices under a null may be anything: when one points outside the dictionary, the valid
    // rows' are checked one by one.
    let rows = if !beyond {
        rows
    } else {
        let valid = |row: usize| keys.validity().is_none_or(|mask| mask.get_bit(row));
        let mut rows = Vec::with_capacity(keys.len());
        for (row, &key) in keys.values().iter().enumerate() {
            match ids.get(key as usize) {
                Some(&id) => rows.push(id),
                None if !valid(row) => rows.push(0),
                None => return None,
            }
        }
        rows
    };
    Some(PrimitiveArray::new(ArrowDataType::UInt32, rows.into(), keys.validity().cloned()))
}

/// A list array whose items are dictionary-encoded, as a list of category ids.
fn list_of_category_ids(array: &dyn Array, mapping: &CategoricalMapping) -> Option<ListArray<i64>> {
    let lists = array.as_any().downcast_ref::<ListArray<i64>>()?;
    let items = category_ids(lists.values().as_ref(), mapping)?;
    let dtype = ListArray::<i64>::default_datatype(ArrowDataType::UInt32);
    ListArray::try_new(dtype, lists.offsets().clone(), Box::new(items), lists.validity().cloned()).ok()
}

/// Bytes `range` of the file.
fn read_range(file: &mut std::fs::File, range: Range<u64>) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; (range.end - range.start) as usize];
    file.seek(SeekFrom::Start(range.start))?;
    file.read_exact(&mut bytes)?;
    Ok(bytes)
}
