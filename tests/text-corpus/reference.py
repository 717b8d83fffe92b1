#!/usr/bin/env python3
"""Compute NAME.expected.json for every corpus file in this directory.

CSV files are read with Python's `csv` module, JSON-lines files with Python's
`json` module.  See README.md for the exact contract.  Standard library only;
output is deterministic.

For CSV, a small independent re-implementation of the reader state machine
(`cross_check_csv`) re-derives fields, record start lines and the
"EOF inside an open quoted field" flag, and the script aborts if it disagrees
with the csv module.
"""
import codecs
import csv
import io
import json
import os
import re
import sys

if sys.version_info < (3, 11):
    sys.exit("reference.py needs Python >= 3.11 (NUL bytes in csv fields)")

HERE = os.path.dirname(os.path.abspath(__file__))

# label used in NAME.options.json -> Python codec
ENCODINGS = {
    "utf-8": "utf-8",
    "windows-1252": "cp1252",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}
BOMS = [  # checked in this order
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
]
SURROGATE_ESCAPE = re.compile("[\udc80-\udcff]")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def dump(path, obj):
    text = json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    data = text.encode("utf-8")  # strict: fails if a lone surrogate slipped through
    assert len(data) < 4096, (path, len(data))
    with open(path, "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

def decode_csv_bytes(data, declared):
    label = declared
    for bom, bom_label in BOMS:
        if data.startswith(bom):
            data = data[len(bom):]
            label = bom_label
            break
    codec = ENCODINGS[label]
    # Undecodable bytes become U+DC80..U+DCFF; they are mapped back below.
    return data.decode(codec, errors="surrogateescape"), codec


def repair(field, codec):
    """Replace surrogate-escaped bytes by U+FFFD.

    The escaped bytes are turned back into the original bytes and decoded with
    errors='replace', which gives one U+FFFD per maximal invalid subpart (the
    Unicode / WHATWG practice, same as Rust's String::from_utf8_lossy).
    """
    if not SURROGATE_ESCAPE.search(field):
        return field
    return field.encode(codec, errors="surrogateescape").decode(codec, errors="replace")


def python_csv(text, delimiter):
    """Records as (start_line, fields) using the csv module; blank lines skipped.

    Returns (records, error_line): error_line is the start line of the record
    during which the reader raised csv.Error (CPython 3.11 with strict=False
    does not raise at EOF inside quotes, it returns the record), else None.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = []
    prev_line_num = 0
    while True:
        start = prev_line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return out, None
        except csv.Error:
            return out, start
        prev_line_num = reader.line_num
        if row == []:
            continue
        out.append((start, row))


EOL = object()


def cross_check_csv(text, delimiter):
    """Independent model of CPython 3.11's reader with quotechar '"',
    doublequote=True, strict=False, no escapechar, skipinitialspace=False.

    Returns (records, unterminated_start_line_or_None); records are
    (start_line, fields) where start_line is the physical line (\\n, \\r\\n or
    lone \\r terminated) holding the record's first character.
    """
    lines = [m for m in re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text) if m]
    assert "".join(lines) == text
    records = []
    fields, field = [], []
    state = "START_RECORD"
    start_line = None
    q = '"'

    def save():
        fields.append("".join(field))
        field.clear()

    for lineno, line in enumerate(lines, 1):
        if state == "START_RECORD":
            start_line = lineno
        for c in list(line) + [EOL]:
            if state == "START_RECORD":
                if c is EOL:
                    continue
                if c in "\r\n":
                    state = "EAT_CRNL"
                    continue
                state = "START_FIELD"
            if state == "START_FIELD":
                if c is EOL or c in "\r\n":
                    save()
                    state = "START_RECORD" if c is EOL else "EAT_CRNL"
                elif c == q:
                    state = "IN_QUOTED_FIELD"
                elif c == delimiter:
                    save()
                else:
                    field.append(c)
                    state = "IN_FIELD"
            elif state == "IN_FIELD":
                if c is EOL or c in "\r\n":
                    save()
                    state = "START_RECORD" if c is EOL else "EAT_CRNL"
                elif c == delimiter:
                    save()
                    state = "START_FIELD"
                else:
                    field.append(c)
            elif state == "IN_QUOTED_FIELD":
                if c is EOL:
                    pass
                elif c == q:
                    state = "QUOTE_IN_QUOTED_FIELD"
                else:
                    field.append(c)
            elif state == "QUOTE_IN_QUOTED_FIELD":
                if c is not EOL and c == q:
                    field.append(c)
                    state = "IN_QUOTED_FIELD"
                elif c is not EOL and c == delimiter:
                    save()
                    state = "START_FIELD"
                elif c is EOL or c in "\r\n":
                    save()
                    state = "START_RECORD" if c is EOL else "EAT_CRNL"
                else:  # strict=False: keep the character, continue unquoted
                    field.append(c)
                    state = "IN_FIELD"
            elif state == "EAT_CRNL":
                if c is EOL:
                    state = "START_RECORD"
                elif c not in "\r\n":
                    raise AssertionError("text after line break within one line?")
            else:
                raise AssertionError(state)
        if state == "START_RECORD":
            if fields:
                records.append((start_line, fields))
            fields = []
    unterminated = None
    if state != "START_RECORD":
        assert state == "IN_QUOTED_FIELD", state
        save()
        records.append((start_line, fields))
        unterminated = start_line
    return records, unterminated


def reference_csv(name):
    with open(os.path.join(HERE, name), "rb") as f:
        data = f.read()
    options = {}
    opt_path = os.path.join(HERE, name[: -len(".csv")] + ".options.json")
    if os.path.exists(opt_path):
        with open(opt_path, "rb") as f:
            options = json.loads(f.read().decode("utf-8"))
    delimiter = options.get("delimiter", ",")
    encoding = options.get("encoding", "utf-8")

    text, codec = decode_csv_bytes(data, encoding)
    py_records, error_line = python_csv(text, delimiter)
    model_records, unterminated = cross_check_csv(text, delimiter)
    if error_line is not None:
        # Python raised: the pending record goes to "unterminated" only
        if unterminated != error_line:
            raise SystemExit("%s: csv.Error at line %d not at EOF inside quotes" % (name, error_line))
        model_records = model_records[:-1]
    if py_records != model_records:
        raise SystemExit("%s: csv module and model disagree:\n%r\n%r" % (name, py_records, model_records))
    # the start lines must also agree with a plain count of line breaks
    # before the record's first character (checked on the model's line split)
    total_lines = len([m for m in re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text) if m])
    for line, _ in py_records:
        assert 1 <= line <= total_lines, (name, line, total_lines)

    records, invalid = [], []
    for line, fields in py_records:
        if any(SURROGATE_ESCAPE.search(f) for f in fields):
            invalid.append(line)
        records.append({"line": line, "fields": [repair(f, codec) for f in fields]})
    out = {
        "file": name,
        "delimiter": delimiter,
        "encoding": encoding,
        "records": records,
        "invalid_lines": invalid,
    }
    if unterminated is not None:
        out["unterminated"] = {"line": unterminated}
    dump(os.path.join(HERE, name[: -len(".csv")] + ".expected.json"), out)


# --------------------------------------------------------------------------
# JSON lines
# --------------------------------------------------------------------------

class ConstantRejected(ValueError):
    pass


def reject_constant(name):
    raise ConstantRejected(name)


def has_lone_surrogate(value):
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def classify_json_line(raw):
    try:
        text = raw.decode("utf-8")  # strict
    except UnicodeDecodeError:
        return {"error": "utf8"}
    try:
        value = json.loads(text, parse_constant=reject_constant)
    except ValueError:  # JSONDecodeError and ConstantRejected
        return {"error": "json"}
    if not isinstance(value, dict):
        return {"error": "not_object"}
    if has_lone_surrogate(value):
        return {"error": "surrogate"}
    return {"object": value}


def reference_jsonl(name):
    with open(os.path.join(HERE, name), "rb") as f:
        data = f.read()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    lines = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if raw.strip(b" \t\r") == b"":
            continue
        entry = {"line": number}
        entry.update(classify_json_line(raw))
        lines.append(entry)
    dump(os.path.join(HERE, name[: -len(".jsonl")] + ".expected.json"), {"file": name, "lines": lines})


def main():
    names = sorted(os.listdir(HERE))
    n_csv = n_jsonl = 0
    for name in names:
        if name.startswith("csv_") and name.endswith(".csv"):
            reference_csv(name)
            n_csv += 1
        elif name.startswith("jsonl_") and name.endswith(".jsonl"):
            reference_jsonl(name)
            n_jsonl += 1
    print("wrote expected output for %d csv and %d jsonl files" % (n_csv, n_jsonl))


if __name__ == "__main__":
    main()
