//! Writes generated events in chunks, so that 100M events never sit in memory at once:
//! Parquet as numbered files of at most `CHUNK_ROWS` rows, CSV and JSON lines as one streamed file.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{EventFormat, GeneratedEvent};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::timestamp::format_us;

pub const CHUNK_ROWS: usize = 1_000_000;

pub struct EventSink {
    format: EventFormat,
    directory: PathBuf,
    stem: String,
    buffer: Vec<GeneratedEvent>,
    chunks_written: usize,
    text: Option<BufWriter<std::fs::File>>,
    pub written: u64,
}

impl EventSink {
    pub fn new(format: EventFormat, directory: &Path, stem: &str) -> Result<EventSink> {
        std::fs::create_dir_all(directory).map_err(|e| Error::io(directory, e))?;
        let mut sink = EventSink {
            format,
            directory: directory.to_path_buf(),
            stem: stem.to_string(),
            buffer: Vec::new(),
            chunks_written: 0,
            text: None,
            written: 0,
        };
        if format != EventFormat::Parquet {
            let path = directory.join(format!("{stem}.{}", format.extension()));
            let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
            let mut writer = BufWriter::new(file);
            if format == EventFormat::Csv {
                writeln!(writer, "{}", CSV_HEADER).map_err(|e| Error::io(&path, e))?;
            }
            sink.text = Some(writer);
        }
        Ok(sink)
    }

    pub fn push(&mut self, event: GeneratedEvent) -> Result<()> {
        self.buffer.push(event);
        if self.buffer.len() >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered events. Callers push events in time order per flush.
    pub fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.buffer);
        self.written += events.len() as u64;
        let result = match self.format {
            EventFormat::Parquet => self.write_parquet_chunk(&events),
            EventFormat::Csv => self.write_text(&events, csv_line),
            EventFormat::Jsonl => self.write_text(&events, json_line),
        };
        result
    }

    pub fn finish(mut self) -> Result<u64> {
        self.flush()?;
        if let Some(mut writer) = self.text.take() {
            writer.flush().map_err(|e| Error::io(&self.directory, e))?;
        }
        Ok(self.written)
    }

    fn write_text(&mut self, events: &[GeneratedEvent], line: fn(&GeneratedEvent) -> String) -> Result<()> {
        // Cannot fail: write_text is called only by the text formats, which open the text writer.
        let writer = self.text.as_mut().expect("text sink");
        for event in events {
            writeln!(writer, "{}", line(event)).map_err(|e| Error::io(&self.directory, e))?;
        }
        Ok(())
    }

    fn write_parquet_chunk(&mut self, events: &[GeneratedEvent]) -> Result<()> {
        let path = self.directory.join(format!("{}-{:04}.parquet", self.stem, self.chunks_written));
        self.chunks_written += 1;
        let mut frame = to_frame(events)?;
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        ParquetWriter::new(file).finish(&mut frame).polars(format!("writing {}", path.display()))?;
        Ok(())
    }
}

const CSV_HEADER: &str = "event_id,ts,actor_id,actor_role,actor_unit,action,dataset,categories,recipient,purpose,request_ref,target_agent,group_size,record_count,record_date,report_kind";

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value.to_string() }
}

fn csv_line(e: &GeneratedEvent) -> String {
    let optional = |v: &Option<String>| v.as_deref().map(csv_field).unwrap_or_default();
    let number = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    [
        csv_field(&e.event_id),
        format_us(e.ts),
        csv_field(&e.actor_id),
        e.actor_role.to_string(),
        csv_field(&e.actor_unit),
        e.action.to_string(),
        e.dataset.to_string(),
        csv_field(&e.categories.join(";")),
        e.recipient.map(str::to_string).unwrap_or_default(),
        e.purpose.map(str::to_string).unwrap_or_default(),
        optional(&e.request_ref),
        optional(&e.target_agent),
        number(e.group_size),
        number(e.record_count),
        e.record_date.map(|d| d.to_string()).unwrap_or_default(),
        e.report_kind.map(str::to_string).unwrap_or_default(),
    ]
    .join(",")
}

fn json_line(e: &GeneratedEvent) -> String {
    let mut object = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| {
        if !value.is_null() {
            object.insert(key.to_string(), value);
        }
    };
    put("event_id", e.event_id.clone().into());
    put("ts", format_us(e.ts).into());
    put("actor_id", e.actor_id.clone().into());
    put("actor_role", e.actor_role.into());
    put("actor_unit", e.actor_unit.clone().into());
    put("action", e.action.into());
    put("dataset", e.dataset.into());
    put("categories", e.categories.iter().map(|c| serde_json::Value::from(*c)).collect::<Vec<_>>().into());
    put("recipient", e.recipient.into());
    put("purpose", e.purpose.into());
    put("request_ref", e.request_ref.clone().into());
    put("target_agent", e.target_agent.clone().into());
    put("group_size", e.group_size.into());
    put("record_count", e.record_count.into());
    put("record_date", e.record_date.map(|d| d.to_string()).into());
    put("report_kind", e.report_kind.into());
    serde_json::Value::Object(object).to_string()
}

fn to_frame(events: &[GeneratedEvent]) -> Result<DataFrame> {
    let text = |get: fn(&GeneratedEvent) -> Option<String>| events.iter().map(get).collect::<Vec<Option<String>>>();
    let mut categories = ListStringChunkedBuilder::new("categories".into(), events.len(), events.len() * 3);
    for event in events {
        categories.append_values_iter(event.categories.iter().copied());
    }
    let ts = Column::new("ts".into(), events.iter().map(|e| e.ts).collect::<Vec<i64>>())
        .cast(&crate::event::timestamp_type())
        .polars("building ts")?;
    let record_date = Column::new(
        "record_date".into(),
        events
            .iter()
            .map(|e| e.record_date.map(crate::ingest::timestamp::days_since_epoch))
            .collect::<Vec<Option<i32>>>(),
    )
    .cast(&DataType::Date)
    .polars("building record_date")?;
    let columns = vec![
        Column::new("event_id".into(), text(|e| Some(e.event_id.clone()))),
        ts,
        Column::new("actor_id".into(), text(|e| Some(e.actor_id.clone()))),
        Column::new("actor_role".into(), text(|e| Some(e.actor_role.to_string()))),
        Column::new("actor_unit".into(), text(|e| Some(e.actor_unit.clone()))),
        Column::new("action".into(), text(|e| Some(e.action.to_string()))),
        Column::new("dataset".into(), text(|e| Some(e.dataset.to_string()))),
        categories.finish().into_column(),
        Column::new("recipient".into(), text(|e| e.recipient.map(str::to_string))),
        Column::new("purpose".into(), text(|e| e.purpose.map(str::to_string))),
        Column::new("request_ref".into(), text(|e| e.request_ref.clone())),
        Column::new("target_agent".into(), text(|e| e.target_agent.clone())),
        Column::new("group_size".into(), events.iter().map(|e| e.group_size).collect::<Vec<_>>()),
        Column::new("record_count".into(), events.iter().map(|e| e.record_count).collect::<Vec<_>>()),
        record_date,
        Column::new("report_kind".into(), text(|e| e.report_kind.map(str::to_string))),
    ];
    DataFrame::new(events.len(), columns).polars("building generated events")
}
