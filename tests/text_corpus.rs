//! The CSV and JSON-lines readers against an independent reader: every file of
//! `tests/text-corpus/` (quotes in every position, CR / LF / CRLF, BOMs, blank lines, ragged rows,
//! Windows-1252, UTF-16, invalid bytes, NUL, NaN, lone surrogates…) read by driftwatch must give,
//! record by record and field by field, what Python's csv and json modules found in it
//! (`NAME.expected.json`, written by `reference.py`): each record the reference finds is either a
//! row with the same fields at the same line, or quarantined naming that line — never lost, never
//! merged with another.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use driftwatch::ingest::formats::csv::{Csv, CsvOptions};
use driftwatch::ingest::formats::csv_records::Dialect;
use driftwatch::ingest::formats::jsonl::JsonLines;
use driftwatch::ingest::formats::{InputFile, RawTable, ReadOptions, read_whole};
use polars::prelude::*;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("text-corpus")
}

fn files(prefix: &str, extension: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(prefix) && name.ends_with(extension)
        })
        .collect();
    found.sort();
    assert!(found.len() >= 10, "the corpus is in tests/text-corpus");
    found
}

fn expected(path: &Path) -> Value {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    serde_json::from_str(&std::fs::read_to_string(corpus().join(format!("{stem}.expected.json"))).unwrap()).unwrap()
}

fn cell(frame: &DataFrame, column: &str, row: usize) -> Option<String> {
    frame.column(column).unwrap().str().unwrap().get(row).map(str::to_string)
}

fn rejected_lines(table: &RawTable) -> Vec<u64> {
    table.rejected.iter().map(|r| r.line.unwrap()).collect()
}

fn row_lines(table: &RawTable) -> Vec<u64> {
    (0..table.frame.height()).map(|row| table.lines.line_of(row).unwrap()).collect()
}

fn csv_options(path: &Path) -> CsvOptions {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    let mut options = CsvOptions::default();
    if let Ok(text) = std::fs::read_to_string(corpus().join(format!("{stem}.options.json"))) {
        let given: Value = serde_json::from_str(&text).unwrap();
        if let Some(delimiter) = given["delimiter"].as_str() {
            options.dialect = Dialect::with_delimiter(delimiter.as_bytes()[0]);
        }
        if let Some(label) = given["encoding"].as_str() {
            options.encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
        }
    }
    options
}

#[test]
fn csv_files_read_as_pythons_csv_module_reads_them() {
    for path in files("csv_", ".csv") {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let reference = expected(&path);
        let records = reference["records"].as_array().unwrap();
        let invalid: BTreeSet<u64> =
            reference["invalid_lines"].as_array().unwrap().iter().map(|l| l.as_u64().unwrap()).collect();
        let options = ReadOptions { csv: csv_options(&path), ..ReadOptions::default() };
        let table = read_whole(&Csv, &InputFile::new(&path, &name, &options)).unwrap();
        let Some((header, data)) = records.split_first() else {
            assert_eq!((table.frame.width(), table.frame.height(), table.rejected.len()), (0, 0, 0), "{name}");
            continue;
        };
        let names: Vec<&str> = header["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
        let read_names: Vec<String> = table.frame.get_column_names().iter().map(|n| n.to_string()).collect();
        assert_eq!(read_names, names, "{name}: header");

        let (mut used, mut quarantined) = (Vec::new(), Vec::new());
        for record in data {
            let line = record["line"].as_u64().unwrap();
            let fields: Vec<&str> = record["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
            let usable =
                fields.len() == names.len() && !invalid.contains(&line) && !fields.iter().any(|f| f.contains('\0'));
            if usable { used.push((line, fields)) } else { quarantined.push(line) }
        }
        assert_eq!(row_lines(&table), used.iter().map(|(line, _)| *line).collect::<Vec<_>>(), "{name}: rows");
        assert_eq!(rejected_lines(&table), quarantined, "{name}: quarantined lines");
        for (row, (line, fields)) in used.iter().enumerate() {
            for (column, field) in names.iter().zip(fields) {
                let want = (!field.is_empty()).then(|| field.to_string());
                assert_eq!(cell(&table.frame, column, row), want, "{name}: line {line}, column {column}");
            }
        }
        assert_eq!(table.frame.height() + table.rejected.len(), data.len(), "{name}: every record accounted for");
    }
}

/// The text the JSON-lines reader gives a scalar, compared with Python's value (numbers by value:
/// `6.02e23` and `6.02e+23` are one number).
fn same_scalar(read: Option<&str>, want: &Value, context: &str) {
    match want {
        Value::Null => assert_eq!(read, None, "{context}"),
        Value::String(text) => assert_eq!(read, Some(text.as_str()), "{context}"),
        Value::Bool(flag) => assert_eq!(read, Some(if *flag { "true" } else { "false" }), "{context}"),
        Value::Number(number) => {
            let read: f64 = read.unwrap_or_else(|| panic!("{context}: missing")).parse().unwrap();
            let want = number.as_f64().unwrap();
            assert!(read == want || (read - want).abs() <= want.abs() * 1e-15, "{context}: {read} vs {want}");
        }
        Value::Array(items) => {
            let texts: Vec<String> = items
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect();
            if items.iter().all(|v| v.is_string() || v.is_null()) {
                assert_eq!(read, Some(texts.join(";").as_str()), "{context}");
            } else {
                assert!(read.is_some(), "{context}");
            }
        }
        Value::Object(_) => assert!(read.is_some(), "{context}"),
    }
}

#[test]
fn json_lines_read_as_pythons_json_module_reads_them() {
    for path in files("jsonl_", ".jsonl") {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let reference = expected(&path);
        let options = ReadOptions::default();
        let table = read_whole(&JsonLines, &InputFile::new(&path, &name, &options)).unwrap();
        let (mut used, mut quarantined) = (Vec::new(), Vec::new());
        for line in reference["lines"].as_array().unwrap() {
            let number = line["line"].as_u64().unwrap();
            match line.get("object").and_then(Value::as_object) {
                // The event frame takes one value per contract field: an object or array there is quarantined.
                Some(object)
                    if !object.iter().any(|(key, value)| {
                        driftwatch::event::is_contract_column(key)
                            && key != "categories"
                            && (value.is_object() || value.is_array())
                    }) =>
                {
                    used.push((number, object.clone()))
                }
                _ => quarantined.push(number),
            }
        }
        assert_eq!(row_lines(&table), used.iter().map(|(line, _)| *line).collect::<Vec<_>>(), "{name}: rows");
        assert_eq!(rejected_lines(&table), quarantined, "{name}: quarantined lines");
        for (row, (line, object)) in used.iter().enumerate() {
            for (key, value) in object {
                let column = table.frame.column(key).unwrap_or_else(|_| panic!("{name}: column {key}"));
                let read = column.str().unwrap().get(row);
                same_scalar(read, value, &format!("{name}: line {line}, key {key}"));
            }
        }
    }
}
