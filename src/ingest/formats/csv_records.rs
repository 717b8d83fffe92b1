//! CSV records, split by csv-core (the parser of the `csv` crate) and by nothing else: RFC 4180
//! quotes and doubled quotes, an optional escape character, `\r`, `\n` or `\r\n` line ends, a
//! quote inside an unquoted field kept as text (`GE-67"x`), the text after a closing quote kept
//! (`"ab"cd` is `abcd`), blank lines skipped — as Python's csv module, DuckDB and Polars read them
//! (`tests/text-corpus` checks it record by record against Python's reading).
//!
//! A file is read a window at a time ([`RecordStream`]), never whole. Each window is cut after line
//! ends into one part per core and the parts are parsed at once, each as if a record started
//! there. A cut that fell inside a quoted field (a line end within quotes) shows as a part that
//! does not end on a record boundary: its unfinished record and the next part are then parsed
//! again from that record's start, so the records are always those of one parse from the start.

use std::io::Read;
use std::ops::Range;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};
use rayon::prelude::*;

use super::MAX_RECORD_BYTES;

/// How records and fields are written (a source map's `delimiter`, `quote`, `escape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    pub quote: u8,
    /// A byte that makes the next one literal inside quotes (`\"`), besides doubled quotes.
    pub escape: Option<u8>,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect { delimiter: b',', quote: b'"', escape: None }
    }
}

impl Dialect {
    pub fn with_delimiter(delimiter: u8) -> Dialect {
        Dialect { delimiter, ..Dialect::default() }
    }

    fn parser(&self) -> Reader {
        let mut parser = ReaderBuilder::new()
            .delimiter(self.delimiter)
            .quote(self.quote)
            .escape(self.escape)
            .double_quote(true)
            .terminator(Terminator::CRLF)
            .build();
        // csv-core drops a UTF-8 byte-order mark from the start of what it first reads; a part
        // starts mid-file, where those bytes are text (the file's own mark is handled by its
        // reader). One line end read first (a blank line, skipped) puts the parser past its start.
        let _ = parser.read_record(b"\n", &mut [0u8; 1], &mut [0usize; 1]);
        parser
    }
}

/// One record of a [`Block`].
#[derive(Debug, Clone)]
pub struct Record {
    /// The line the record starts on, counted from the block's first line (0 for it).
    pub line_offset: u64,
    /// The record's bytes in the block, without its line end.
    pub raw: Range<usize>,
    /// Where its first field starts in [`Block::data`].
    data_start: usize,
    /// Its fields' ends, as positions in the block's list of ends.
    fields: Range<usize>,
}

impl Record {
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }
}

/// The records parsed from one run of bytes.
#[derive(Debug, Default)]
pub struct Block {
    /// Every record's fields, unquoted and unescaped, back to back, then [`PADDING`] zero bytes
    /// (so that a short field can be read as one 16-byte word).
    pub data: Vec<u8>,
    ends: Vec<usize>,
    pub records: Vec<Record>,
    /// Where the last whole record (and the blank lines after it) ends in the bytes: their
    /// length, unless they end inside a record (a line end within quotes, or a cut mid-record).
    pub complete: usize,
    /// Line ends in the bytes before `complete`.
    pub line_ends: u64,
}

impl Block {
    /// Each field of `record`, as a range of [`Block::data`].
    pub fn fields<'b>(&'b self, record: &'b Record) -> impl Iterator<Item = Range<usize>> + 'b {
        let ends = &self.ends[record.fields.clone()];
        let starts = std::iter::once(record.data_start).chain(ends.iter().copied());
        starts.zip(ends.iter().copied()).map(|(start, end)| start..end)
    }

    /// The fields of `record` as byte strings.
    pub fn field_bytes<'b>(&'b self, record: &'b Record) -> impl Iterator<Item = &'b [u8]> + 'b {
        self.fields(record).map(|range| &self.data[range])
    }
}

/// Parses `bytes` into records, as if a record started at their first byte. Without `at_end`
/// (more bytes follow), a record not ended by a line end is left unparsed (see `complete`).
pub fn parse(dialect: &Dialect, bytes: &[u8], at_end: bool) -> Block {
    let mut parser = dialect.parser();
    // Unquoted fields are never longer than the bytes they come from: `data` never fills.
    let mut data = vec![0u8; bytes.len() + 1];
    let mut ends = Vec::with_capacity(bytes.len() / 8 + 8);
    let mut scratch = vec![0usize; 64];
    let mut records = Vec::with_capacity(bytes.len() / 64 + 1);
    let (mut at, mut written) = (0usize, 0usize);
    let mut lines = LineCount::new(bytes, &parser);
    loop {
        let start = at + bytes[at..].iter().position(|b| *b != b'\n' && *b != b'\r').unwrap_or(bytes.len() - at);
        let line_offset = lines.before(start, at, &parser);
        if start == bytes.len() {
            break;
        }
        at = start;
        let data_start = written;
        let mut fields = 0;
        let ended_by_eof = loop {
            let input = &bytes[at..];
            if input.is_empty() && !at_end {
                break None;
            }
            let (result, read, wrote, ended) = parser.read_record(input, &mut data[written..], &mut scratch[fields..]);
            at += read;
            written += wrote;
            fields += ended;
            match result {
                ReadRecordResult::Record => break Some(input.is_empty()),
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputEndsFull => scratch.resize(scratch.len() * 2, 0),
                ReadRecordResult::OutputFull => data.resize(data.len() * 2 + 1, 0),
                ReadRecordResult::End => break None,
            }
        };
        let Some(ended_by_eof) = ended_by_eof else {
            // Unfinished: the next bytes hold its end.
            return Block { data: truncated(data, data_start), ends, records, complete: start, line_ends: line_offset };
        };
        let raw_end = if ended_by_eof { at } else { at - 1 };
        let first_end = ends.len();
        ends.extend(scratch[..fields].iter().map(|end| data_start + end));
        records.push(Record { line_offset, raw: start..raw_end, data_start, fields: first_end..ends.len() });
    }
    let line_ends = lines.before(bytes.len(), bytes.len(), &parser);
    Block { data: truncated(data, written), ends, records, complete: bytes.len(), line_ends }
}

/// Line ends before a position of the bytes being parsed. Where the bytes hold no `\r` (most
/// files), line ends are the `\n`s csv-core counted in the records it read plus those skipped
/// between records (blank lines): no second pass over the bytes. Else they are counted in the
/// bytes from one record's start to the next's.
enum LineCount<'b> {
    NewlinesOnly { skipped: u64, parser_start: u64 },
    Counted { bytes: &'b [u8], counted: usize, lines: u64 },
}

impl<'b> LineCount<'b> {
    fn new(bytes: &'b [u8], parser: &Reader) -> LineCount<'b> {
        if memchr::memchr(b'\r', bytes).is_none() {
            LineCount::NewlinesOnly { skipped: 0, parser_start: parser.line() }
        } else {
            LineCount::Counted { bytes, counted: 0, lines: 0 }
        }
    }

    /// Line ends before `start`, a record's first byte (or the end), the bytes from `skipped_from`
    /// to it being line ends the parser did not read.
    fn before(&mut self, start: usize, skipped_from: usize, parser: &Reader) -> u64 {
        match self {
            LineCount::NewlinesOnly { skipped, parser_start } => {
                *skipped += (start - skipped_from) as u64;
                *skipped + parser.line() - *parser_start
            }
            LineCount::Counted { bytes, counted, lines } => {
                *lines += line_ends(&bytes[*counted..start]);
                *counted = start;
                *lines
            }
        }
    }
}

/// Zero bytes after a block's fields.
pub const PADDING: usize = 16;

fn truncated(mut data: Vec<u8>, length: usize) -> Vec<u8> {
    data.truncate(length);
    data.resize(length + PADDING, 0);
    data
}

/// Line ends in `bytes`: `\n`, `\r\n` and a lone `\r` each end one line (as Python counts
/// `line_num`). `bytes` must not end with a `\r` whose `\n` follows them.
pub fn line_ends(bytes: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', bytes).count();
    let lone_returns = memchr::memchr_iter(b'\r', bytes).filter(|&at| bytes.get(at + 1) != Some(&b'\n')).count();
    (newlines + lone_returns) as u64
}

/// The length of the whole lines at the start of `bytes`: up to its last line end, unless that
/// is a `\r` ending `bytes` (a `\n` may follow it in the next bytes).
fn whole_lines(bytes: &[u8]) -> usize {
    let mut end = bytes.len();
    while let Some(at) = memchr::memrchr2(b'\n', b'\r', &bytes[..end]) {
        if bytes[at] == b'\n' || at + 1 < bytes.len() {
            return at + 1;
        }
        end = at;
    }
    0
}

/// Splits one record held in a string into its fields (a pgAudit message, a sample's line).
/// Text after the record's first line end is ignored.
pub fn split_record(text: &str, dialect: &Dialect) -> Vec<String> {
    let block = parse(dialect, text.as_bytes(), true);
    match block.records.first() {
        Some(record) => block.field_bytes(record).map(|field| String::from_utf8_lossy(field).into_owned()).collect(),
        None => vec![String::new()],
    }
}

/// Where the `count`-th delimiter outside quotes of `text` ends (the byte after it), reading
/// `text` as one record; `None` when it has fewer fields.
pub fn after_fields(text: &str, count: usize, dialect: &Dialect) -> Option<usize> {
    let mut parser = dialect.parser();
    let mut output = vec![0u8; text.len() + 1];
    let (mut at, mut seen) = (0, 0);
    while seen < count {
        let (result, read, _) = parser.read_field(&text.as_bytes()[at..], &mut output);
        at += read;
        match result {
            csv_core::ReadFieldResult::Field { record_end: false } => seen += 1,
            _ => return None,
        }
    }
    Some(at)
}

/// A record longer than [`MAX_RECORD_BYTES`], skipped without being held.
#[derive(Debug, Clone)]
pub struct TooLong {
    pub line: u64,
    /// Its first bytes, for the quarantine.
    pub head: Vec<u8>,
    pub bytes: u64,
}

/// What is built from a part: its line numbers, counted from the part's first line (1), are
/// shifted once the lines before the part are known.
pub trait ShiftLines {
    fn shift_lines(&mut self, by: u64);
}

impl<T: ShiftLines, E> ShiftLines for Result<T, E> {
    fn shift_lines(&mut self, by: u64) {
        if let Ok(built) = self {
            built.shift_lines(by);
        }
    }
}

/// Records as (line, anything).
impl<T> ShiftLines for Vec<(u64, T)> {
    fn shift_lines(&mut self, by: u64) {
        self.iter_mut().for_each(|(line, _)| *line += by);
    }
}

/// One part of a window, parsed: what a reader builds its rows from.
pub struct Part<'w> {
    /// The part's bytes (its records' `raw` ranges point here).
    pub bytes: &'w [u8],
    pub block: Block,
    /// The line the part starts on, 1-based, as far as the part knows (1: lines are shifted
    /// afterwards, [`ShiftLines`]).
    pub first_line: u64,
}

/// What one window of a file gave.
pub struct Window<T> {
    /// What was built from each part, in file order.
    pub parts: Vec<T>,
    /// A record too long to read, found before this window's records.
    pub too_long: Option<TooLong>,
}

/// Bytes per part: large enough that the per-part costs vanish, small enough that a window of
/// one part per core stays a few tens of MiB whatever the file's size.
pub const PART_BYTES: usize = 8 << 20;

/// A CSV source read a window at a time.
pub struct RecordStream<R> {
    source: R,
    dialect: Dialect,
    /// Bytes read and not yet parsed: the start of a record the last window cut.
    pending: Vec<u8>,
    /// The line `pending` starts on.
    line: u64,
    source_done: bool,
    part_bytes: usize,
    parts: usize,
}

impl<R: Read> RecordStream<R> {
    pub fn new(source: R, dialect: Dialect) -> RecordStream<R> {
        RecordStream::with_part_bytes(source, dialect, PART_BYTES)
    }

    /// A stream whose parts are `part_bytes` long (tests cut files into tiny parts).
    pub fn with_part_bytes(source: R, dialect: Dialect, part_bytes: usize) -> RecordStream<R> {
        RecordStream {
            source,
            dialect,
            pending: Vec::new(),
            line: 1,
            source_done: false,
            part_bytes: part_bytes.max(1),
            // Two parts per core: a part that parses slower is made up for by the others.
            parts: 2 * rayon::current_num_threads().max(1),
        }
    }

    /// The stream's first record (a header), with its line and bytes; `None` when there is
    /// none. Unless `consume`, the record stays in the stream (a file without a header).
    pub fn first_record(&mut self, consume: bool) -> std::io::Result<Option<(u64, Vec<Vec<u8>>, Vec<u8>)>> {
        loop {
            let block = parse(&self.dialect, &self.pending, self.source_done);
            if let Some(record) = block.records.first() {
                let fields = block.field_bytes(record).map(<[u8]>::to_vec).collect();
                let raw = self.pending[record.raw.clone()].to_vec();
                let line = self.line + record.line_offset;
                if consume {
                    // The rest of the stream starts at the record's line end (a blank line to it).
                    self.line += line_ends(&self.pending[..record.raw.end]);
                    self.pending.drain(..record.raw.end);
                }
                return Ok(Some((line, fields, raw)));
            }
            if self.source_done {
                return Ok(None);
            }
            if self.pending.len() > MAX_RECORD_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the first record is longer than {} MiB", MAX_RECORD_BYTES >> 20),
                ));
            }
            self.fill(self.pending.len() + 64 * 1024)?;
        }
    }

    /// Reads the next window, parses its parts at once and hands each to `build` (also at once);
    /// `None` when the source is done.
    pub fn next_window<T: Send + ShiftLines>(
        &mut self,
        build: &(dyn Fn(Part) -> T + Sync),
    ) -> std::io::Result<Option<Window<T>>> {
        let mut too_long = None;
        if self.pending.len() > MAX_RECORD_BYTES {
            too_long = Some(self.skip_record()?);
        }
        self.fill(self.pending.len() + self.part_bytes * self.parts)?;
        if self.pending.is_empty() && self.source_done {
            return Ok(too_long.map(|too_long| Window { parts: Vec::new(), too_long: Some(too_long) }));
        }
        let window = std::mem::take(&mut self.pending);
        // Whole lines only, unless the file ends here.
        let cut = if self.source_done { window.len() } else { whole_lines(&window) };
        let ranges = self.part_ranges(&window[..cut]);
        let last = ranges.len().saturating_sub(1);
        let at_end = |index: usize| self.source_done && index == last;
        // Each part parsed and built at once, as if a record started there; lines counted from
        // the part's start, shifted once the parts before it are known.
        let parse_and_build = |range: &Range<usize>, index: usize| {
            let block = parse(&self.dialect, &window[range.clone()], at_end(index));
            let (complete, line_ends) = (block.complete, block.line_ends);
            (complete, line_ends, build(Part { bytes: &window[range.clone()], block, first_line: 1 }))
        };
        let mut built: Vec<(usize, u64, T)> =
            ranges.par_iter().enumerate().map(|(index, range)| parse_and_build(range, index)).collect();
        let mut ranges = ranges;
        // A part whose predecessor ended inside a record (a cut within quotes) is parsed again
        // from that record's start (rare).
        for index in 1..ranges.len() {
            let complete = built[index - 1].0;
            if complete == ranges[index - 1].len() {
                continue;
            }
            let resume = ranges[index - 1].start + complete;
            ranges[index - 1].end = resume;
            ranges[index].start = resume;
            built[index] = parse_and_build(&ranges[index], index);
        }
        let parsed_to = ranges.last().map_or(0, |range| range.start + built[last].0);
        let mut parts = Vec::with_capacity(built.len());
        for (_, line_ends, mut part) in built {
            part.shift_lines(self.line - 1);
            self.line += line_ends;
            parts.push(part);
        }
        self.pending = window[parsed_to..].to_vec();
        Ok(Some(Window { parts, too_long }))
    }

    /// Reads until `pending` holds `target` bytes or the source ends.
    fn fill(&mut self, target: usize) -> std::io::Result<()> {
        if !self.source_done {
            self.source_done = super::fill_to(&mut self.source, &mut self.pending, target)?;
        }
        Ok(())
    }

    /// Cuts `bytes` (whole lines) into about one part per core, each cut after a line end.
    fn part_ranges(&self, bytes: &[u8]) -> Vec<Range<usize>> {
        let size = bytes.len().div_ceil(self.parts).max(self.part_bytes.min(bytes.len()).max(1));
        let mut ranges = Vec::new();
        let mut start = 0;
        while start < bytes.len() {
            let aim = start + size;
            let end = if aim >= bytes.len() {
                bytes.len()
            } else {
                match memchr::memchr(b'\n', &bytes[aim..]) {
                    Some(at) => aim + at + 1,
                    None => bytes.len(),
                }
            };
            ranges.push(start..end);
            start = end;
        }
        if ranges.is_empty() {
            ranges.push(0..0);
        }
        ranges
    }

    /// Skips the record `pending` starts with, read on from the source without holding it:
    /// a record longer than [`MAX_RECORD_BYTES`] is quarantined, not read.
    fn skip_record(&mut self) -> std::io::Result<TooLong> {
        let mut parser = self.dialect.parser();
        let head = self.pending[..self.pending.len().min(200)].to_vec();
        let line = self.line;
        let (mut output, mut ends) = (vec![0u8; 1 << 16], vec![0usize; 1024]);
        let mut chunk = std::mem::take(&mut self.pending);
        let mut total = 0u64;
        loop {
            let mut at = 0;
            while at < chunk.len() || (self.source_done && chunk.is_empty()) {
                let (result, read, _, _) = parser.read_record(&chunk[at..], &mut output, &mut ends);
                at += read;
                if result == ReadRecordResult::Record || result == ReadRecordResult::End {
                    let record_end = if chunk.is_empty() { at } else { at - 1 };
                    total += record_end as u64;
                    self.line += line_ends(&chunk[..at]);
                    self.pending = chunk[at..].to_vec();
                    return Ok(TooLong { line, head, bytes: total });
                }
                if chunk.is_empty() {
                    break;
                }
            }
            if self.source_done && chunk.is_empty() {
                return Ok(TooLong { line, head, bytes: total });
            }
            total += chunk.len() as u64;
            // A `\r` ending this piece is counted with the `\n` that may start the next.
            let keep_return = chunk.last() == Some(&b'\r');
            self.line += line_ends(&chunk[..chunk.len() - usize::from(keep_return)]);
            chunk.clear();
            if keep_return {
                self.line += 1;
            }
            let mut piece = vec![0u8; 1 << 20];
            let read = if self.source_done { 0 } else { self.source.read(&mut piece)? };
            piece.truncate(read);
            self.source_done = read == 0;
            if keep_return && piece.first() == Some(&b'\n') {
                self.line -= 1;
            }
            chunk = piece;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8]) -> Vec<(u64, Vec<String>)> {
        let block = parse(&Dialect::default(), text, true);
        block
            .records
            .iter()
            .map(|r| {
                let fields = block.field_bytes(r).map(|f| String::from_utf8_lossy(f).into_owned()).collect();
                (r.line_offset + 1, fields)
            })
            .collect()
    }

    #[test]
    fn records_know_their_first_line_and_fields() {
        let text = b"a,b,c\r\n1,\"two\nlines\",3\n\n4,\"x,\"\"y\"\"\",6\r7,8";
        let expected: Vec<(u64, Vec<String>)> = vec![
            (1, vec!["a".into(), "b".into(), "c".into()]),
            (2, vec!["1".into(), "two\nlines".into(), "3".into()]),
            (5, vec!["4".into(), "x,\"y\"".into(), "6".into()]),
            (6, vec!["7".into(), "8".into()]),
        ];
        assert_eq!(records(text), expected);
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_text() {
        assert_eq!(records(b"GE-67\"x,2\n")[0].1, ["GE-67\"x", "2"]);
        assert_eq!(records(b"\"ab\"cd,2\n")[0].1, ["abcd", "2"]);
    }

    #[test]
    fn an_unfinished_record_is_left_for_the_next_bytes() {
        let block = parse(&Dialect::default(), b"a,b\n\"c\nd\n", false);
        assert_eq!(block.records.len(), 1);
        assert_eq!((block.complete, block.line_ends), (4, 1));
    }

    #[test]
    fn split_record_and_after_fields() {
        let dialect = Dialect::default();
        assert_eq!(split_record("a,\"b,\"\"c\"\"\",,d", &dialect), ["a", "b,\"c\"", "", "d"]);
        assert_eq!(after_fields("x,\"y,z\",w", 2, &dialect), Some(8));
        assert_eq!(after_fields("x,y", 2, &dialect), None);
    }

    /// Any cut into parts gives the records of one parse from the start.
    #[test]
    fn windows_and_parts_give_the_records_of_one_parse() {
        let text = b"h1,h2\n\"q\nq\",1\r\n2,\"x\r\ny\"\n\n\"long,long\nlong\",3\r4,5\n6,\"7\"";
        let whole = records(text);
        for part_bytes in 1..text.len() + 2 {
            let mut stream = RecordStream::with_part_bytes(&text[..], Dialect::default(), part_bytes);
            let mut seen = Vec::new();
            while let Some(window) = stream
                .next_window(&|part: Part| {
                    part.block
                        .records
                        .iter()
                        .map(|r| {
                            let fields =
                                part.block.field_bytes(r).map(|f| String::from_utf8_lossy(f).into_owned()).collect();
                            (part.first_line + r.line_offset, fields)
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap()
            {
                seen.extend(window.parts.into_iter().flatten());
            }
            assert_eq!(seen, whole, "parts of {part_bytes} bytes");
        }
    }

    /// The corpus's files (tests/text-corpus) cut into parts of every size read as one parse.
    #[test]
    fn corpus_files_cut_anywhere_give_the_records_of_one_parse() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/text-corpus");
        let mut checked = 0;
        for entry in std::fs::read_dir(corpus).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let text = std::fs::read(&path).unwrap();
            let whole = records(&text);
            for part_bytes in (1..text.len().min(300)).chain([text.len() / 2 + 1, text.len() + 1]) {
                let mut stream = RecordStream::with_part_bytes(&text[..], Dialect::default(), part_bytes);
                let mut seen = Vec::new();
                let lines = |part: Part| {
                    let block = &part.block;
                    let found = block.records.iter().map(|r| {
                        let fields = block.field_bytes(r).map(|f| String::from_utf8_lossy(f).into_owned()).collect();
                        (part.first_line + r.line_offset, fields)
                    });
                    found.collect::<Vec<_>>()
                };
                while let Some(window) = stream.next_window(&lines).unwrap() {
                    seen.extend(window.parts.into_iter().flatten());
                }
                assert_eq!(seen, whole, "{}: parts of {part_bytes} bytes", path.display());
            }
            checked += 1;
        }
        assert!(checked >= 20);
    }

    #[test]
    fn the_first_record_is_taken_apart() {
        let text = b"\n\na,b\r\n1,2\n";
        let mut stream = RecordStream::new(&text[..], Dialect::default());
        let (line, fields, _) = stream.first_record(true).unwrap().unwrap();
        assert_eq!((line, fields), (3, vec![b"a".to_vec(), b"b".to_vec()]));
        let lines =
            |part: Part| part.block.records.iter().map(|r| (part.first_line + r.line_offset, ())).collect::<Vec<_>>();
        let window = stream.next_window(&lines).unwrap().unwrap();
        assert_eq!(window.parts, vec![vec![(4, ())]]);
    }
}
