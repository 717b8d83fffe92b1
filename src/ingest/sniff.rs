//! `driftwatch map init`: sniffs a log — format, encoding, delimiter, header, timestamp formats —
//! and drafts a source map with every column listed and the obvious fields guessed from column
//! names (French and English) and values. A draft is for a person to finish: what could not be
//! guessed is left commented out, so that `map check` or the map's own validation says so.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use polars::prelude::*;

use super::Format;
use super::formats::{InputFile, ReadOptions, csv_records};
use crate::error::{Error, Result};
use crate::event;

/// How much of a text file is sniffed.
const SAMPLE_BYTES: usize = 1 << 20;
/// Records looked at for types and values (at most the sample's bytes).
const SAMPLE_ROWS: usize = 20_000;

/// The format of a file whose extension may not tell: its extension, else its first bytes.
pub fn guess_format(path: &Path) -> Result<Format> {
    for format in [Format::Parquet, Format::ArrowIpc, Format::JsonLines, Format::Csv] {
        if format.suits(path) {
            return Ok(format);
        }
    }
    let head = read_head(path, 8)?;
    Ok(if head.starts_with(b"PAR1") {
        Format::Parquet
    } else if head.starts_with(b"ARROW1") {
        Format::ArrowIpc
    } else if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        Format::JsonLines
    } else {
        Format::Csv
    })
}

fn read_head(path: &Path, bytes: usize) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(bytes.min(SAMPLE_BYTES));
    super::formats::open_maybe_gzipped(path)?
        .take(bytes as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    Ok(head)
}

/// What was sniffed of a delimited file.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvSniff {
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    pub header: bool,
}

/// One column of the sample: its name and some of its values (text; a list's items joined
/// with `|`).
struct SampleColumn {
    name: String,
    values: Vec<String>,
    /// A native timestamp column (Parquet, Arrow), and whether it carries a time zone.
    typed_timestamp: Option<bool>,
    /// A typed column other than text (Parquet, Arrow): its values need no format.
    typed: bool,
    /// A list (JSON array, Parquet list): no `split` needed.
    list: bool,
}

impl SampleColumn {
    fn text(name: String, values: Vec<String>) -> SampleColumn {
        SampleColumn { name, values, typed_timestamp: None, typed: false, list: false }
    }
}

/// The draft map of `path` read as `format`.
pub fn draft_map(path: &Path, format: Format) -> Result<String> {
    let (columns, csv) = match format {
        Format::Csv => {
            let (columns, sniffed) = sample_csv(path)?;
            (columns, Some(sniffed))
        }
        Format::JsonLines => (sample_json(path)?, None),
        Format::Parquet | Format::ArrowIpc => (sample_columnar(path, format)?, None),
        Format::AccessLog | Format::PgAudit => {
            return Err(Error::Usage(
                "map init drafts tabular maps; a web log's map lists routes (examples/web/), a pgAudit map tables (examples/pgaudit/)".into(),
            ));
        }
    };
    Ok(Draft::guess(path, format, csv, columns).render())
}

/// The encoding of a sample: a byte-order mark, else UTF-8 when it decodes, else Windows-1252
/// (what French administrative exports are, nearly always, when they are not UTF-8).
pub fn sniff_encoding(sample: &[u8], truncated: bool) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(sample) {
        return encoding;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => UTF_8,
        // A sample cut in the middle of a character at its end: still UTF-8.
        Err(e) if truncated && e.error_len().is_none() => UTF_8,
        Err(_) => WINDOWS_1252,
    }
}

/// The delimiter that splits the first records into the same number (> 1) of fields most often.
pub fn sniff_delimiter(text: &str) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for candidate in [b',', b';', b'\t', b'|'] {
        let block = csv_records::parse(&csv_records::Dialect::with_delimiter(candidate), text.as_bytes(), true);
        let counts: Vec<usize> = block.records.iter().take(50).map(csv_records::Record::field_count).collect();
        let mut frequency: BTreeMap<usize, usize> = BTreeMap::new();
        for count in &counts {
            *frequency.entry(*count).or_default() += 1;
        }
        let Some((&fields, &agreeing)) = frequency.iter().filter(|(f, _)| **f > 1).max_by_key(|(f, n)| (**n, **f))
        else {
            continue;
        };
        if (agreeing, fields) > (best.1, best.2) {
            best = (candidate, agreeing, fields);
        }
    }
    best.0
}

/// Whether a value looks like data rather than a column name.
fn looks_like_data(value: &str) -> bool {
    let value = value.trim();
    value.is_empty()
        || value.parse::<f64>().is_ok()
        || TIME_FORMATS.iter().any(|(format, _)| parses(value, format))
        || chrono::DateTime::parse_from_rfc3339(value).is_ok()
}

fn sample_csv(path: &Path) -> Result<(Vec<SampleColumn>, CsvSniff)> {
    let head = read_head(path, SAMPLE_BYTES)?;
    let encoding = sniff_encoding(&head, head.len() == SAMPLE_BYTES);
    let (text, _, _) = encoding.decode(&head);
    // Only whole lines: the sample may end mid-record.
    let text =
        if head.len() == SAMPLE_BYTES { text.rsplit_once('\n').map_or(&*text, |(whole, _)| whole) } else { &text };
    let text = text.trim_start_matches('\u{feff}');
    let delimiter = sniff_delimiter(text);
    let block = csv_records::parse(&csv_records::Dialect::with_delimiter(delimiter), text.as_bytes(), true);
    let records: Vec<Vec<String>> = block
        .records
        .iter()
        .take(SAMPLE_ROWS + 1)
        .map(|r| block.field_bytes(r).map(|f| String::from_utf8_lossy(f).into_owned()).collect())
        .collect();
    let Some(first) = records.first() else {
        return Err(Error::file(path.display(), "empty: nothing to sniff"));
    };
    let distinct = first.iter().collect::<std::collections::BTreeSet<_>>().len() == first.len();
    let header = distinct && !first.iter().any(|v| looks_like_data(v));
    let names: Vec<String> = if header {
        first.iter().map(|n| n.trim().to_string()).collect()
    } else {
        (1..=first.len()).map(|n| n.to_string()).collect()
    };
    let data = &records[usize::from(header)..];
    let columns = names
        .into_iter()
        .enumerate()
        .map(|(index, name)| {
            SampleColumn::text(name, data.iter().filter_map(|r| r.get(index)).map(|v| v.trim().to_string()).collect())
        })
        .collect();
    Ok((columns, CsvSniff { encoding, delimiter, header }))
}

fn sample_json(path: &Path) -> Result<Vec<SampleColumn>> {
    let head = read_head(path, SAMPLE_BYTES)?;
    let text = String::from_utf8_lossy(&head);
    let mut columns: Vec<SampleColumn> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(SAMPLE_ROWS) {
        let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let mut flat = Vec::new();
        flatten("", serde_json::Value::Object(object), &mut flat);
        for (name, value, list) in flat {
            match columns.iter_mut().find(|c| c.name == name) {
                Some(column) => {
                    column.values.push(value);
                    column.list &= list;
                }
                None => columns.push(SampleColumn { list, ..SampleColumn::text(name, vec![value]) }),
            }
        }
    }
    Ok(columns)
}

/// (dotted path, text, whether it was an array).
fn flatten(prefix: &str, value: serde_json::Value, out: &mut Vec<(String, String, bool)>) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, value) in object {
                let name = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
                flatten(&name, value, out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(text) => out.push((prefix.to_string(), text, false)),
        serde_json::Value::Array(items) => {
            let items: Vec<String> =
                items.into_iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect();
            out.push((prefix.to_string(), items.join("|"), true));
        }
        other => out.push((prefix.to_string(), other.to_string(), false)),
    }
}

fn sample_columnar(path: &Path, format: Format) -> Result<Vec<SampleColumn>> {
    let display = path.display().to_string();
    let options = ReadOptions::default();
    let mut first: Option<DataFrame> = None;
    format.reader().read_chunks(&InputFile::new(path, &display, &options), SAMPLE_ROWS, &mut |t, _| {
        if first.is_none() {
            first = Some(t.frame);
        }
        Ok(())
    })?;
    let frame = first.unwrap_or_default();
    Ok(frame
        .columns()
        .iter()
        .map(|column| {
            let list = matches!(column.dtype(), DataType::List(_));
            let as_text = if list {
                column.list().ok().map(|lists| {
                    lists
                        .amortized_iter()
                        .flatten()
                        .map(|items| {
                            let items = items.as_ref().cast(&DataType::String).ok();
                            let texts: Vec<String> = items
                                .as_ref()
                                .and_then(|s| s.str().ok())
                                .map(|s| s.iter().flatten().map(str::to_string).collect())
                                .unwrap_or_default();
                            texts.join("|")
                        })
                        .collect()
                })
            } else {
                column
                    .cast(&DataType::String)
                    .ok()
                    .and_then(|c| c.str().ok().map(|s| s.iter().flatten().map(str::to_string).collect()))
            };
            SampleColumn {
                name: column.name().to_string(),
                values: as_text.unwrap_or_default(),
                typed_timestamp: match column.dtype() {
                    DataType::Datetime(_, zone) => Some(zone.is_some()),
                    _ => None,
                },
                typed: !matches!(column.dtype(), DataType::String),
                list,
            }
        })
        .collect())
}

/// Timestamp formats tried on a column, most specific first; `true` when they have a time.
const TIME_FORMATS: [(&str, bool); 17] = [
    ("%d/%m/%Y %H:%M:%S", true),
    ("%d/%m/%Y %H:%M:%S%.f", true),
    ("%d/%m/%Y %H:%M", true),
    ("%m/%d/%Y %H:%M:%S", true),
    ("%m/%d/%Y %H:%M", true),
    ("%Y-%m-%d %H:%M:%S", true),
    ("%Y-%m-%d %H:%M:%S%.f", true),
    ("%Y-%m-%dT%H:%M:%S", true),
    ("%Y-%m-%dT%H:%M:%S%.f", true),
    ("%Y-%m-%d %H:%M", true),
    ("%d-%m-%Y %H:%M:%S", true),
    ("%d.%m.%Y %H:%M:%S", true),
    ("%Y%m%d%H%M%S", true),
    ("%d/%m/%Y", false),
    ("%m/%d/%Y", false),
    ("%Y-%m-%d", false),
    ("%d.%m.%Y", false),
];

fn parses(value: &str, format: &str) -> bool {
    let with_time = chrono::NaiveDateTime::parse_from_str(value, format).is_ok();
    with_time || (!format.contains("%H") && chrono::NaiveDate::parse_from_str(value, format).is_ok())
}

/// How a column's values are written as time: RFC 3339 (`None` format), or a strftime format.
#[derive(Debug, Clone, PartialEq)]
enum TimeWriting {
    Rfc3339 { has_offset: bool },
    Format { format: &'static str, has_time: bool },
}

fn time_writing(values: &[String]) -> Option<TimeWriting> {
    let values: Vec<&str> = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return None;
    }
    if values.iter().all(|v| chrono::DateTime::parse_from_rfc3339(v).is_ok()) {
        return Some(TimeWriting::Rfc3339 { has_offset: true });
    }
    TIME_FORMATS
        .iter()
        .find(|(format, _)| values.iter().all(|v| parses(v, format)))
        .map(|(format, has_time)| TimeWriting::Format { format, has_time: *has_time })
}

/// Column names that suggest each field, normalised (lower case, no accents, `_`).
const FIELD_HINTS: [(&str, &[&str]); 16] = [
    (
        "event_id",
        &[
            "event_id",
            "id_trace",
            "id_evenement",
            "id_event",
            "identifiant_trace",
            "trace_id",
            "uuid",
            "id",
            "num_trace",
        ],
    ),
    (
        "ts",
        &[
            "ts",
            "timestamp",
            "date_heure",
            "horodatage",
            "datetime",
            "date_evenement",
            "date_action",
            "time",
            "heure",
            "date",
        ],
    ),
    (
        "actor_id",
        &[
            "actor_id",
            "matricule",
            "utilisateur",
            "user",
            "user_id",
            "login",
            "username",
            "compte",
            "agent",
            "auteur",
            "acteur",
        ],
    ),
    ("actor_role", &["actor_role", "profil", "role", "fonction", "profil_utilisateur"]),
    ("actor_unit", &["actor_unit", "service", "unite", "unit", "direction", "structure", "site", "region"]),
    ("action", &["action", "operation", "type_operation", "verbe", "type_action", "evenement", "event", "activity"]),
    (
        "dataset",
        &["dataset", "objet", "module", "table", "ressource", "resource", "domaine", "fichier", "ecran", "type_objet"],
    ),
    ("categories", &["categories", "rubriques", "champs", "donnees", "fields", "categorie", "rubrique"]),
    ("recipient", &["recipient", "destinataire", "dest", "organisme_destinataire", "partenaire"]),
    ("purpose", &["purpose", "finalite", "motif"]),
    (
        "request_ref",
        &["request_ref", "num_demande", "numero_demande", "ref_demande", "reference_demande", "demande", "request"],
    ),
    ("target_agent", &["target_agent", "agent_cible", "cible", "agent_concerne", "agent_vise"]),
    ("group_size", &["group_size", "taille_groupe", "effectif_min", "plus_petit_groupe"]),
    (
        "record_count",
        &["record_count", "nb_lignes", "nombre_lignes", "nb_enregistrements", "nombre", "nb", "count", "lignes"],
    ),
    ("record_date", &["record_date", "date_piece", "date_reference", "date_fin", "date_cloture", "date_dossier"]),
    ("report_kind", &["report_kind", "type_rapport", "type_edition", "type_etat"]),
];

/// `Date de la pièce` → `date_de_la_piece`.
fn normalise_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        };
        if plain != '_' || !out.ends_with('_') {
            out.push(plain);
        }
    }
    out.trim_matches('_').to_string()
}

/// How well a column name suggests a field: 2 exactly, 1 as one of its words, 0 not.
fn name_score(name: &str, hints: &[&str]) -> usize {
    let name = normalise_name(name);
    if hints.contains(&name.as_str()) {
        return 2;
    }
    let words: Vec<&str> = name.split(['_', '.']).collect();
    usize::from(hints.iter().any(|hint| !hint.contains('_') && hint.len() > 2 && words.contains(hint)))
}

/// Action words (normalised, prefixes) → the event model's verbs.
const ACTION_WORDS: [(&str, &str); 31] = [
    ("consult", "read"),
    ("lectur", "read"),
    ("visualis", "read"),
    ("affich", "read"),
    ("view", "read"),
    ("read", "read"),
    ("acces", "read"),
    ("recherch", "search"),
    ("search", "search"),
    ("filtr", "search"),
    ("export", "export"),
    ("extract", "export"),
    ("telecharg", "export"),
    ("download", "export"),
    ("envoi", "transfer"),
    ("transmi", "transfer"),
    ("transfer", "transfer"),
    ("communic", "transfer"),
    ("send", "transfer"),
    ("rapport", "report"),
    ("edition", "report"),
    ("report", "report"),
    ("statist", "report"),
    ("modif", "update"),
    ("maj", "update"),
    ("update", "update"),
    ("saisi", "update"),
    ("creat", "update"),
    ("suppr", "delete"),
    ("delet", "delete"),
    ("connex", "login"),
];

fn guess_action(value: &str) -> Option<&'static str> {
    let lower = value.trim().to_lowercase();
    if let Some(exact) = event::ACTIONS.iter().find(|a| **a == lower) {
        return Some(exact);
    }
    let name = normalise_name(value);
    ACTION_WORDS.iter().find(|(word, _)| name.contains(word)).map(|(_, verb)| *verb)
}

/// The guesses, ready to be written.
struct Draft {
    source: String,
    format: Format,
    csv: Option<CsvSniff>,
    columns: Vec<SampleColumn>,
    /// field → column index.
    chosen: BTreeMap<&'static str, usize>,
    /// column index → how its values are written as time.
    times: BTreeMap<usize, TimeWriting>,
    french: bool,
}

impl Draft {
    fn guess(path: &Path, format: Format, csv: Option<CsvSniff>, columns: Vec<SampleColumn>) -> Draft {
        let times: BTreeMap<usize, TimeWriting> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.typed && !c.list)
            .filter_map(|(i, c)| time_writing(&c.values).map(|t| (i, t)))
            .collect();
        let mut draft = Draft {
            source: path.display().to_string(),
            format,
            csv,
            columns,
            chosen: BTreeMap::new(),
            times,
            french: false,
        };
        draft.french = draft.columns.iter().any(|c| {
            let name = normalise_name(&c.name);
            [
                "matricule",
                "utilisateur",
                "profil",
                "objet",
                "rubriques",
                "destinataire",
                "horodatage",
                "date_heure",
                "service",
                "operation",
            ]
            .iter()
            .any(|w| name.contains(w))
        }) || draft
            .times
            .values()
            .any(|t| matches!(t, TimeWriting::Format { format, .. } if format.starts_with("%d")));
        draft.choose_timestamps();
        for (field, hints) in FIELD_HINTS {
            if draft.chosen.contains_key(field) {
                continue;
            }
            let best = (0..draft.columns.len())
                .filter(|i| !draft.chosen.values().any(|c| c == i))
                .filter(|i| !draft.times.contains_key(i) || field == "record_date")
                .map(|i| (name_score(&draft.columns[i].name, hints), std::cmp::Reverse(i)))
                .filter(|(score, _)| *score > 0)
                .max();
            if let Some((_, std::cmp::Reverse(index))) = best {
                draft.chosen.insert(field, index);
            }
        }
        draft
    }

    /// `ts`: a timestamp column (with a time), best named; `record_date`: a date column named so.
    fn choose_timestamps(&mut self) {
        let ts_hints = FIELD_HINTS[1].1;
        let with_time = |i: &usize, draft: &Draft| {
            draft.columns[*i].typed_timestamp.is_some()
                || matches!(
                    draft.times.get(i),
                    Some(TimeWriting::Rfc3339 { .. } | TimeWriting::Format { has_time: true, .. })
                )
        };
        let candidates: Vec<usize> = (0..self.columns.len()).filter(|i| with_time(i, self)).collect();
        if let Some(best) =
            candidates.iter().max_by_key(|i| (name_score(&self.columns[**i].name, ts_hints), std::cmp::Reverse(**i)))
        {
            self.chosen.insert("ts", *best);
        }
        let date_hints = FIELD_HINTS[14].1;
        let dated = (0..self.columns.len())
            .filter(|i| self.times.contains_key(i) && !self.chosen.values().any(|c| c == i))
            .find(|i| name_score(&self.columns[*i].name, date_hints) > 0);
        if let Some(index) = dated {
            self.chosen.insert("record_date", index);
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Draft source map written by `driftwatch map init` from {}.", self.source);
        let _ = writeln!(out, "# Every line is a guess: check each one, finish the TODOs, then run");
        let _ = writeln!(out, "#   driftwatch map check --events {} --source-map THIS_FILE", self.source);
        let _ = writeln!(out, "# Keys: schemas/source-map.schema.json (driftwatch schema source-map).\n");
        let format = match self.format {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
            Format::Parquet => "parquet",
            _ => "arrow",
        };
        let _ = writeln!(out, "format = \"{format}\"");
        let ts = self.chosen.get("ts");
        let offsets =
            ts.and_then(|i| self.times.get(i)).is_some_and(|t| matches!(t, TimeWriting::Rfc3339 { has_offset: true }))
                || ts.is_some_and(|i| self.columns[*i].typed_timestamp == Some(true));
        if offsets {
            let _ = writeln!(out, "timezone = \"UTC\"               # the timestamps carry their offset");
        } else if self.french {
            let _ = writeln!(
                out,
                "timezone = \"Europe/Paris\"      # the timestamps carry no offset: local time, guessed French"
            );
        } else {
            let _ = writeln!(
                out,
                "timezone = \"UTC\"               # the timestamps carry no offset: set the system's zone (e.g. Europe/Paris)"
            );
        }
        if let Some(csv) = &self.csv {
            let delimiter = match csv.delimiter {
                b'\t' => "\\t".to_string(),
                other => (other as char).to_string(),
            };
            let _ = writeln!(out, "delimiter = \"{delimiter}\"");
            let _ = writeln!(out, "encoding = \"{}\"", csv.encoding.name().to_ascii_lowercase());
            let _ = writeln!(out, "header = {}", csv.header);
        }
        out.push_str("\n[fields]\n");
        let mut tables = String::new();
        for spec in event::COLUMNS.iter().map(|c| (c.name, c.required)).chain([("report_kind", false)]) {
            self.render_field(spec.0, spec.1, &mut out, &mut tables);
        }
        out.push_str(&tables);
        out.push_str("\n# The file's columns (sample values) and the field each was guessed to be:\n");
        for (index, column) in self.columns.iter().enumerate() {
            let field = self.chosen.iter().find(|(_, c)| **c == index).map_or("(kept as an extra column)", |(f, _)| f);
            let mut samples: Vec<&str> = Vec::new();
            for value in &column.values {
                if !value.is_empty() && !samples.contains(&value.as_str()) && samples.len() < 3 {
                    samples.push(value);
                }
            }
            let samples: Vec<String> =
                samples.iter().map(|s| format!("{:?}", s.chars().take(40).collect::<String>())).collect();
            let samples = if samples.is_empty() {
                "(empty in the sample)".to_string()
            } else {
                format!("e.g. {}", samples.join(", "))
            };
            let _ = writeln!(out, "#   {:<24} → {:<20} {samples}", format!("{:?}", column.name), field);
        }
        out
    }

    fn render_field(&self, field: &'static str, required: bool, out: &mut String, tables: &mut String) {
        let Some(&index) = self.chosen.get(field) else {
            if field == "event_id" {
                out.push_str("# event_id: no id column found; ids are derived from the file's SHA-256 and line\n");
            } else if required {
                let _ = writeln!(
                    out,
                    "# {field} = \"…\"    # TODO required: no column looks like it (a column, or {{ value = \"…\" }})"
                );
            }
            return;
        };
        let column = &self.columns[index];
        let name = toml_string(&column.name);
        match field {
            "ts" | "record_date" => match self.times.get(&index) {
                Some(TimeWriting::Format { format, .. }) => {
                    let _ = writeln!(out, "{field} = {{ column = {name}, format = \"{format}\" }}");
                }
                _ => {
                    let _ = writeln!(out, "{field} = {name}");
                }
            },
            "action" => self.render_value_map(field, &name, column, guess_action, out, tables),
            "actor_role" | "dataset" | "recipient" | "purpose" => {
                let mut values: Vec<&str> = column.values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
                values.sort_unstable();
                values.dedup();
                let shown: Vec<&str> = values.iter().take(8).copied().collect();
                let more = if values.len() > shown.len() { ", …" } else { "" };
                let _ = writeln!(
                    out,
                    "{field} = {name}   # values: {}{more} — the register's ids? else {{ column = {name}, map = {{ CODE = \"id\" }} }}",
                    shown.join(", ")
                );
            }
            "categories" => {
                let separator = ["|", ",", ";", "/"]
                    .into_iter()
                    .filter(|s| !column.list || *s == "|")
                    .filter(|s| self.csv.as_ref().is_none_or(|c| s.as_bytes()[0] != c.delimiter))
                    .find(|s| column.values.iter().any(|v| v.contains(s)));
                let _ = writeln!(tables, "\n[fields.categories]\ncolumn = {name}");
                if let Some(separator) = separator.filter(|_| !column.list) {
                    let _ = writeln!(tables, "split = \"{separator}\"");
                }
                let mut codes: Vec<&str> = column
                    .values
                    .iter()
                    .flat_map(|v| match separator {
                        Some(s) => v.split(s).collect::<Vec<_>>(),
                        None => vec![v.as_str()],
                    })
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                codes.sort_unstable();
                codes.dedup();
                let _ = writeln!(tables, "[fields.categories.map]   # TODO: the register's category for each code");
                for code in codes.iter().take(60) {
                    let _ = writeln!(tables, "# {} = \"\"", toml_key(code));
                }
            }
            _ => {
                let _ = writeln!(out, "{field} = {name}");
            }
        }
    }

    fn render_value_map(
        &self,
        field: &str,
        name: &str,
        column: &SampleColumn,
        guess: fn(&str) -> Option<&'static str>,
        out: &mut String,
        tables: &mut String,
    ) {
        let mut values: Vec<&str> = column.values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
        values.sort_unstable();
        values.dedup();
        if values.iter().all(|v| event::ACTIONS.contains(v)) {
            let _ = writeln!(out, "{field} = {name}");
            return;
        }
        let _ = writeln!(tables, "\n[fields.{field}]\ncolumn = {name}\n[fields.{field}.map]");
        for value in values.iter().take(60) {
            match guess(value) {
                Some(verb) => {
                    let _ = writeln!(tables, "{} = \"{verb}\"", toml_key(value));
                }
                None => {
                    let _ = writeln!(
                        tables,
                        "# {} = \"\"   # TODO: one of {}",
                        toml_string(value),
                        event::ACTIONS.join(", ")
                    );
                }
            }
        }
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A TOML key: bare when it can be, else quoted.
fn toml_key(text: &str) -> String {
    let bare = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { text.to_string() } else { toml_string(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_encoding_and_names() {
        assert_eq!(sniff_delimiter("a;b;c\n1;\"x;y\";3\n4;5;6\n"), b';');
        assert_eq!(sniff_delimiter("a,b\n1,2\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_encoding(b"caf\xe9", false), WINDOWS_1252);
        assert_eq!(sniff_encoding(b"caf\xc3", true), UTF_8, "a sample cut inside a character");
        assert_eq!(sniff_encoding("café".as_bytes(), false), UTF_8);
        assert_eq!(sniff_encoding(b"\xff\xfea\x00", false), encoding_rs::UTF_16LE);
        assert_eq!(normalise_name("Date de la pièce"), "date_de_la_piece");
        assert_eq!(guess_action("CONSULTATION"), Some("read"));
        assert_eq!(guess_action("ENVOI_PARTENAIRE"), Some("transfer"));
        assert_eq!(guess_action("Read"), Some("read"));
    }

    #[test]
    fn a_french_export_gets_a_usable_draft() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        let text = "id_trace;date_heure;matricule;profil;service;operation;objet;rubriques;destinataire;date_pièce;commentaire\n\
                    T1;07/09/2021 06:14:00;A12;INSP;UD75;CONSULTATION;SUITE;NOM|PV;;01/02/2020;déjà vu\n\
                    T2;14/09/2021 06:15:00;A12;INSP;UD75;ENVOI;SUITE;PV;MOE;01/02/2020;\n";
        let (bytes, _, _) = WINDOWS_1252.encode(text);
        std::fs::write(&path, &bytes).unwrap();
        let draft = draft_map(&path, guess_format(&path).unwrap()).unwrap();
        for expected in [
            "delimiter = \";\"",
            "encoding = \"windows-1252\"",
            "header = true",
            "timezone = \"Europe/Paris\"",
            "event_id = \"id_trace\"",
            "ts = { column = \"date_heure\", format = \"%d/%m/%Y %H:%M:%S\" }",
            "actor_id = \"matricule\"",
            "actor_role = \"profil\"   # values: INSP",
            "actor_unit = \"service\"",
            "dataset = \"objet\"",
            "recipient = \"destinataire\"",
            "record_date = { column = \"date_pièce\", format = \"%d/%m/%Y\" }",
            "CONSULTATION = \"read\"",
            "ENVOI = \"transfer\"",
            "split = \"|\"",
        ] {
            assert!(draft.contains(expected), "missing `{expected}` in:\n{draft}");
        }
        // The draft is valid TOML.
        let _: toml::Table = toml::from_str(&draft).unwrap();
    }
}
