//! A quote-aware scan of CSV bytes into records, used where the fast reader cannot be trusted
//! alone: to give each row its true line when quoted fields span lines, and to quarantine rows
//! the reader would reject for the whole file (wrong number of fields, invalid UTF-8).

use std::ops::Range;

/// One CSV record: the line it starts on (1-based) and its bytes (without the line ending).
pub struct Record {
    pub line: u64,
    pub bytes: Range<usize>,
    pub fields: usize,
}

/// Splits `bytes` into records of fields separated by `delimiter`. Quotes follow RFC 4180
/// (`""` inside quotes is a quote).
pub fn scan(bytes: &[u8], delimiter: u8) -> Vec<Record> {
    let mut records = Vec::new();
    let (mut start, mut start_line, mut line, mut fields, mut quoted) = (0, 1u64, 1u64, 1usize, false);
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => quoted = !quoted,
            byte if byte == delimiter && !quoted => fields += 1,
            b'\n' => {
                line += 1;
                if !quoted {
                    let end = if index > start && bytes[index - 1] == b'\r' { index - 1 } else { index };
                    if end > start {
                        records.push(Record { line: start_line, bytes: start..end, fields });
                    }
                    start = index + 1;
                    start_line = line;
                    fields = 1;
                }
            }
            _ => {}
        }
        index += 1;
    }
    if start < bytes.len() {
        records.push(Record { line: start_line, bytes: start..bytes.len(), fields });
    }
    records
}

/// Splits one record into its fields, quotes removed (`""` inside quotes is a quote), borrowing
/// from the record where no quote had to be undoubled.
pub fn split_fields_borrowed(record: &str, delimiter: u8) -> Vec<std::borrow::Cow<'_, str>> {
    let bytes = record.as_bytes();
    let mut fields = Vec::new();
    let mut at = 0;
    loop {
        if bytes.get(at) == Some(&b'"') {
            // Quoted: up to the quote not followed by another quote.
            let mut end = at + 1;
            let mut doubled = false;
            while end < bytes.len() {
                if bytes[end] == b'"' {
                    if bytes.get(end + 1) == Some(&b'"') {
                        doubled = true;
                        end += 2;
                        continue;
                    }
                    break;
                }
                end += 1;
            }
            let inner = &record[at + 1..end.min(bytes.len())];
            fields.push(if doubled { inner.replace("\"\"", "\"").into() } else { inner.into() });
            at = end + 1;
            // Anything between the closing quote and the delimiter belongs to the field too.
            let next = bytes[at.min(bytes.len())..].iter().position(|b| *b == delimiter).map(|p| at + p);
            match next {
                Some(delimiter_at) => at = delimiter_at + 1,
                None => return fields,
            }
        } else {
            match bytes[at..].iter().position(|b| *b == delimiter) {
                Some(p) => {
                    fields.push(record[at..at + p].into());
                    at += p + 1;
                }
                None => {
                    fields.push(record[at..].into());
                    return fields;
                }
            }
        }
    }
}

/// Splits one record into its fields, quotes removed (`""` inside quotes is a quote).
pub fn split_fields(record: &str, delimiter: u8) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        // Cannot fail: `fields` starts with one field and only grows.
        let field = fields.last_mut().expect("one field at least");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            c if !quoted && c as u32 == u32::from(delimiter) => fields.push(String::new()),
            c => field.push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn records_know_their_first_line_and_field_count() {
        let text = b"a,b,c\r\n1,\"two\nlines\",3\n\n4,\"x,\"\"y\"\"\",6\n7,8";
        let records = scan(text, b',');
        let summary: Vec<(u64, usize, &str)> =
            records.iter().map(|r| (r.line, r.fields, std::str::from_utf8(&text[r.bytes.clone()]).unwrap())).collect();
        assert_eq!(
            summary,
            vec![(1, 3, "a,b,c"), (2, 3, "1,\"two\nlines\",3"), (5, 3, "4,\"x,\"\"y\"\"\",6"), (6, 2, "7,8"),]
        );
    }

    #[test]
    fn fields_are_unquoted() {
        assert_eq!(super::split_fields("a,\"b,\"\"c\"\"\",,d", b','), ["a", "b,\"c\"", "", "d"]);
        for record in ["a,\"b,\"\"c\"\"\",,d", "", ",", "\"x\"", "\"a\nb\",c,", "plain"] {
            let borrowed: Vec<String> =
                super::split_fields_borrowed(record, b',').into_iter().map(|f| f.into_owned()).collect();
            assert_eq!(borrowed, super::split_fields(record, b','), "{record:?}");
        }
    }

    #[test]
    fn any_single_byte_delimiter_and_quoted_delimiters() {
        let text = b"a;b;c\n\"x;y\";2;3\n";
        let fields: Vec<usize> = scan(text, b';').iter().map(|r| r.fields).collect();
        assert_eq!(fields, vec![3, 3]);
        assert_eq!(scan(b"a\tb\n1\t2", b'\t')[1].fields, 2);
    }
}
