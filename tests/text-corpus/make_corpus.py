#!/usr/bin/env python3
"""Write the CSV / JSON-lines reader corpus into this script's directory.

Deterministic: every file is written byte-for-byte from literals below with
open(..., 'wb').  Run `python3 make_corpus.py && python3 reference.py`.
Standard library only.
"""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

CSV = {}       # name -> bytes
OPTIONS = {}   # name -> dict of non-default options
JSONL = {}     # name -> bytes


def csv_file(name, data, **options):
    assert name.startswith("csv_") and name.endswith(".csv"), name
    assert name not in CSV, name
    assert isinstance(data, bytes)
    CSV[name] = data
    if options:
        OPTIONS[name] = options


def jsonl_file(name, data):
    assert name.startswith("jsonl_") and name.endswith(".jsonl"), name
    assert name not in JSONL, name
    assert isinstance(data, bytes)
    JSONL[name] = data


# --------------------------------------------------------------------------
# CSV corpus
# --------------------------------------------------------------------------

csv_file("csv_basic.csv",
         b"id,user,action\n"
         b"1,alice,login\n"
         b"2,bob,logout\n"
         b"3,carol,delete\n")

# Quotes in every position.
csv_file("csv_quotes_positions.csv",
         b"case,value,tail\n"
         b'start,"quoted at start",x\n'            # quote opens the field
         b'middle,GE-67"x,x\n'                      # quote in middle of unquoted field
         b'end,ab",x\n'                             # quote at end of unquoted field
         b'after_close,"ab"cd,x\n'                  # text after the closing quote
         b'after_close_space,"ab" ,x\n'             # space after the closing quote
         b'two_in_middle,a"b"c,x\n'                 # two quotes inside unquoted field
         b'lone,",x\n'                              # a lone quote opens a field -> spans to next line
         b'next,row,"here"\n'
         b'only_quote_unquoted,x"",y\n')            # doubled quote inside unquoted field stays literal

csv_file("csv_doubled_quotes.csv",
         b"case,value\n"
         b'inner,"a""b"\n'
         b'only_one,""""\n'
         b'only_two,""""""\n'
         b'leading,"""x"\n'
         b'trailing,"x"""\n'
         b'with_comma,"say ""hi"", ok"\n'
         b'json_like,"{""k"": ""v""}"\n')

csv_file("csv_empty_quoted.csv",
         b"a,b,c\n"
         b'"",x,y\n'
         b'x,"",y\n'
         b'x,y,""\n'
         b'"","",""\n'
         b'""\n'                                    # a line holding only "" is a 1-field record
         b',,\n')                                   # a line of delimiters: three empty fields

csv_file("csv_quote_all.csv",
         b'"id","name","note","empty"\n'
         b'"1","alice","plain",""\n'
         b'"2","bob","has, comma",""\n'
         b'"3","","","with ""quotes"""\n'
         b'"","","",""\n')

csv_file("csv_crlf.csv",
         b"id,name\r\n"
         b"1,alice\r\n"
         b'2,"bob"\r\n'
         b"3,carol\r\n")

csv_file("csv_cr_only.csv",
         b"id,name\r"
         b"1,alice\r"
         b'2,"bob"\r'
         b"3,carol\r")

# LF, CRLF, lone CR, LF followed by CR (two breaks), CR CR LF (two breaks).
csv_file("csv_mixed_line_endings.csv",
         b"id,ending\n"
         b"1,lf\n"
         b"2,crlf\r\n"
         b"3,cr\r"
         b"4,lf_then_cr\n\r"
         b"5,cr_cr_lf\r\r\n"
         b"6,last\n")

csv_file("csv_quoted_delims_newlines.csv",
         b"id,text,after\n"
         b'1,"a,b,c",x\n'
         b'2,"line one\nline two",x\n'
         b'3,"crlf one\r\ncrlf two",x\n'
         b'4,"cr one\rcr two",x\n'
         b'5,"many\n\n\nbreaks",x\n'
         b'6,"ends with break\n",x\n'
         b'7,"\r\n",x\n'
         b'8,plain,x\n')

csv_file("csv_utf8_bom.csv",
         b"\xef\xbb\xbfid,name\n"
         b"1,alice\n"
         b"2,\xc3\xa9lodie\n")

csv_file("csv_blank_lines.csv",
         b"id,name\n"
         b"\n"                                      # blank right after header
         b"1,alice\n"
         b"\n"                                      # blank in the middle
         b"2,bob\n"
         b"\n\n\n"                                  # several in a row
         b"3,carol\n"
         b"\n\n")                                   # blank lines at the end

csv_file("csv_blank_lines_crlf_cr.csv",
         b"id,name\r\n"
         b"\r\n"
         b"1,alice\r\n"
         b"\r\n\r\n"
         b"2,bob\r"
         b"\r\r"
         b"3,carol\r\n"
         b"\r\n")

csv_file("csv_space_lines.csv",
         b"id,name\n"
         b" \n"
         b"1,alice\n"
         b"   \n"
         b"\t\n"
         b"2,bob\n"
         b"  \n")

csv_file("csv_ragged.csv",
         b"a,b,c\n"
         b"1,2,3\n"
         b"1,2\n"
         b"1\n"
         b"1,2,3,4\n"
         b"1,2,3,4,5,6\n"
         b"1,2,\n"
         b",\n"
         b"1,2,3\n")

csv_file("csv_no_final_newline.csv",
         b"id,name\n"
         b"1,alice\n"
         b"2,bob")

csv_file("csv_eof_in_quotes.csv",
         b"id,text\n"
         b'1,"closed"\n'
         b'2,"never closed\n'
         b"3,still inside the quote\n")

csv_file("csv_eof_in_quotes_escaped.csv",
         b"id,text\n"
         b'1,ok\n'
         b'2,"ends with an escaped quote""')

csv_file("csv_eof_after_open_quote.csv",
         b"id,text\n"
         b'1,ok\n'
         b'2,"')

csv_file("csv_header_only.csv",
         b"id,name,action\n")

csv_file("csv_header_only_no_newline.csv",
         b"id,name,action")

csv_file("csv_header_then_blank_lines.csv",
         b"id,name\n"
         b"\n"
         b"\r\n"
         b"\r"
         b"\n")

csv_file("csv_empty_file.csv", b"")

csv_file("csv_nul_bytes.csv",
         b"id,value\n"
         b"1,a\x00b\n"
         b'2,"quoted\x00nul"\n'
         b"3,\x00\n"
         b"4,plain\n")

LONG = b"".join(b"%04d-abcdefghij;" % i for i in range(128))  # 2048 bytes, no comma/quote
assert len(LONG) == 2048
csv_file("csv_long_field.csv",
         b"id,payload,tail\n"
         b"1," + LONG + b",end\n"
         b"2,short,end\n")

csv_file("csv_non_ascii.csv",
         "nom,donn\u00e9e,\u5099\u8003\n"
         "caf\u00e9,na\u00efve r\u00e9sum\u00e9,\u00c5ngstr\u00f6m\n"
         "emoji,\U0001F600\U0001F389,\"\U0001F468\u200d\U0001F469\u200d\U0001F467, family\"\n"
         "cjk,\u65e5\u672c\u8a9e,\"\u4e2d\u6587,\ud55c\uad6d\uc5b4\"\n"
         "combining,e\u0301,\u00df\u1e9e\n"
         "greek_cyrillic,\u03b1\u03b2\u03b3,\u0436\u0443\u0440\u043d\u0430\u043b\n".encode("utf-8"))

csv_file("csv_invalid_utf8.csv",
         b"id,value,note\n"
         b"1,ok,fine\n"
         b"2,bad\xffbyte,trunc\xe2\x82ated\n"        # lone 0xFF and a truncated 3-byte sequence
         b"3,\xc3\xa9t\xc3\xa9,fine\n")

csv_file("csv_invalid_utf8_multiline.csv",
         b"id,value\n"
         b"1,ok\n"
         b'2,"first line\nsecond \xfe line"\n'        # bad byte on the record's 2nd physical line
         b"3,ok\n"
         b'4,"\xc0\xaf overlong"\n')

csv_file("csv_cp1252_semicolon.csv",
         "id;nom;prix;note\r\n"
         "1;caf\u00e9;5\u20ac;\u0153uvre\r\n"
         "2;\u00c9lise;10,50 \u20ac;\u201cquoted\u201d \u2019s\r\n"
         "3;\"a;b\";\u0152;na\u00efve\r\n".encode("cp1252"),
         delimiter=";", encoding="windows-1252")

# Declared windows-1252, but the UTF-8 BOM wins: content is UTF-8.
csv_file("csv_bom_overrides_cp1252.csv",
         b"\xef\xbb\xbf" + "id;nom\n1;caf\u00e9\n2;\u20ac\n".encode("utf-8"),
         delimiter=";", encoding="windows-1252")

csv_file("csv_utf16le_bom.csv",
         b"\xff\xfe" + "id,name,note\r\n1,caf\u00e9,\"a,b\"\r\n2,\U0001F600,\u65e5\u672c\r\n".encode("utf-16-le"))

csv_file("csv_utf16be_bom.csv",
         b"\xfe\xff" + "id,name,note\n1,caf\u00e9,\"multi\nline\"\n2,\u20ac,\u4e2d\n".encode("utf-16-be"))

csv_file("csv_tab_separated.csv",
         b"id\tname\tnote\n"
         b"1\talice\thas, comma\n"
         b'2\t"quoted\ttab"\tx\n'
         b"3\t\t\n"
         b"4\tbob|pipe\t\"q\"\n",
         delimiter="\t")

csv_file("csv_pipe_separated.csv",
         b"id|name|note\n"
         b"1|alice|has, comma\n"
         b'2|"quoted|pipe"|x\n'
         b"3|||\n"
         b"4|bob\ttab|end\n",
         delimiter="|")

csv_file("csv_quoted_header.csv",
         b'"id","user name","action, kind"\n'
         b"1,alice,login\n"
         b'2,"bob",logout\n')

csv_file("csv_whitespace_around_quotes.csv",
         b"case,value,tail\n"
         b'both, "a" ,x\n'
         b'leading, "a",x\n'
         b'trailing,"a" ,x\n'
         b'tabs,\t"a"\t,x\n'
         b' "lead" ,plain , spaced \n')

# Characters that some splitters treat as line breaks but which are NOT
# line breaks here: U+2028, U+2029, U+0085, VT, FF, FS.
csv_file("csv_unicode_line_separators.csv",
         "id,value\n"
         "1,a\u2028b\n"
         "2,a\u2029b\n"
         "3,a\u0085b\n"
         "4,a\x0bb\x0cc\x1cd\n"
         "5,end\n".encode("utf-8"))

# --------------------------------------------------------------------------
# JSON-lines corpus
# --------------------------------------------------------------------------

jsonl_file("jsonl_basic.jsonl",
           b'{"ts":"2024-01-01T00:00:00Z","user":"alice","action":"login","ok":true}\n'
           b'{"ts":"2024-01-01T00:00:01Z","user":"bob","action":"logout","ok":false}\n'
           b'{"ts":"2024-01-01T00:00:02Z","user":null,"action":"scan","ok":true,"n":3}\n'
           b'{}\n')

jsonl_file("jsonl_blank_lines.jsonl",
           b"\n"
           b"   \n"
           b'{"n":1}\n'
           b"\n"
           b"\t\n"
           b"\r\n"
           b" \t \r\n"
           b'{"n":2}\n'
           b"\n\n\n"
           b'{"n":3}\n'
           b"  \n"
           b"\n")

jsonl_file("jsonl_crlf.jsonl",
           b'{"n":1}\r\n'
           b'{"n":2,"s":"x"}\r\n'
           b'  {"n":3}  \r\n'
           b"\r\n"
           b'{"n":4}\r\r\n'                           # one \r stripped, the other is JSON whitespace
           b'{"n":5}\r{"n":6}\r\n')                   # lone \r is not a line break -> extra data

jsonl_file("jsonl_invalid_utf8.jsonl",
           b'{"n":1,"s":"ok"}\n'
           b'{"n":2,"s":"bad \xff byte"}\n'           # invalid byte inside a string
           b'{"n":3}\xff\n'                           # invalid byte outside any string
           b'{"n":4,"s":"trunc \xe2\x82"}\n'          # truncated sequence
           b'{"n":5,"s":"overlong \xc0\xaf"}\n'       # overlong encoding
           b'{"n":6,"s":"encoded surrogate \xed\xa0\x80"}\n'
           b'{"n":7,"s":"caf\xc3\xa9"}\n')

jsonl_file("jsonl_truncated_last_line.jsonl",
           b'{"n":1}\n'
           b'{"n":2,"tags":["a","b"]}\n'
           b'{"n":3,"tags":["a",')

jsonl_file("jsonl_not_object.jsonl",
           b'{"n":1}\n'
           b'[1,2,3]\n'
           b'[{"n":2}]\n'
           b'42\n'
           b'-1.5\n'
           b'"just a string"\n'
           b'null\n'
           b'true\n'
           b'false\n'
           b'[]\n'
           b'"\\ud800"\n'                             # lone surrogate but not an object
           b'{"n":3}\n')

jsonl_file("jsonl_trailing_commas.jsonl",
           b'{"n":1,}\n'
           b'{"n":2,"a":[1,2,]}\n'
           b'{"n":3,,"b":1}\n'
           b'{"n":4}\n'
           b'{"n":5} {"n":6}\n'                       # two values on one line
           b'{"n":7}x\n'
           b"{'n':8}\n"                               # single quotes
           b'{n:9}\n'                                 # unquoted key
           b'{"n":10} // comment\n'
           b'{"n":011}\n'                             # leading zero
           b'{"n":12}\n')

jsonl_file("jsonl_nan_infinity.jsonl",
           b'{"v":NaN}\n'
           b'{"v":Infinity}\n'
           b'{"v":-Infinity}\n'
           b'{"v":[1,NaN]}\n'
           b'{"v":"NaN","w":"Infinity"}\n'           # as strings: fine
           b'{"v":nan}\n'
           b'{"v":1.0}\n')

jsonl_file("jsonl_duplicate_keys.jsonl",
           b'{"a":1,"a":2}\n'
           b'{"a":{"x":1},"a":"second"}\n'
           b'{"a":1,"b":2,"a":3,"b":4}\n'
           b'{"o":{"k":1,"k":2}}\n')

jsonl_file("jsonl_nested.jsonl",
           b'{"user":{"name":"alice","roles":["admin","dev"],"meta":{"age":30,"tags":[]}}}\n'
           b'{"tags":["a","b","c, d","e\\"f"],"empty":{},"list":[[],[[]],{}]}\n'
           b'{"deep":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":[1,[2,[3,[4]]]]}}}}}}}}}\n'
           b'{"mixed":[1,"two",3.0,null,true,{"six":6},["seven"]]}\n')

jsonl_file("jsonl_unicode_escapes.jsonl",
           b'{"s":"caf\\u00e9 \\u20ac \\u65e5"}\n'
           b'{"s":"pair \\ud83d\\ude00"}\n'
           b'{"s":"lone high \\ud800"}\n'
           b'{"s":"lone low \\udc00"}\n'
           b'{"s":"reversed \\ude00\\ud83d"}\n'
           b'{"\\ud800":"lone surrogate in key"}\n'
           b'{"a":{"b":["ok","deep \\udbff"]}}\n'
           b'{"s":"nul \\u0000 end"}\n'
           b'{"s":"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t"}\n'
           b'{"s":"raw caf\xc3\xa9 \xf0\x9f\x98\x80 \xe6\x97\xa5"}\n'
           b'{"s":"bad escape \\x41"}\n'
           b'{"s":"short \\u12"}\n')

LONG_ITEMS = ",".join('"item-%03d-abcdefghijklmnop"' % i for i in range(104))
LONG_LINE = ('{"id":1,"items":[' + LONG_ITEMS + '],"end":true}').encode("ascii")
assert 2900 < len(LONG_LINE) < 3300, len(LONG_LINE)
jsonl_file("jsonl_long_line.jsonl",
           LONG_LINE + b"\n"
           b'{"id":2}\n')

jsonl_file("jsonl_bom.jsonl",
           b'\xef\xbb\xbf{"n":1,"first":true}\n'
           b'\xef\xbb\xbf{"n":2}\n'                   # a BOM not at file start is not removed
           b'{"n":3}\n')

jsonl_file("jsonl_numbers.jsonl",
           b'{"int":0,"pos":42,"neg":-17}\n'
           b'{"float":0.5,"negf":-1.25,"zero":0.0,"negzero":-0.0}\n'
           b'{"exp":1e10,"EXP":1E+2,"small":1.5e-7,"avogadro":6.02e23}\n'
           b'{"i64max":9223372036854775807,"i64min":-9223372036854775808}\n'
           b'{"two63":9223372036854775808,"u64max":18446744073709551615}\n'
           b'{"two64":18446744073709551616,"neg_big":-9223372036854775809,"huge":123456789012345678901234567890}\n'
           b'{"arr":[1,-1,1.0,1e0,100]}\n')

jsonl_file("jsonl_whitespace_in_line.jsonl",
           b'  {"n":1}\n'
           b'\t{"n":2}\t\n'
           b'{"n":3}\x0c\n'                           # form feed is not JSON whitespace
           b'\x0b\n'                                  # vertical tab only: not a blank line
           b'\xc2\xa0\n'                              # no-break space only: not a blank line
           b'{ "n" : 4 , "s" : "a b" }\n')

jsonl_file("jsonl_control_chars.jsonl",
           b'{"s":"raw\ttab"}\n'                      # raw control char in string: invalid JSON
           b'{"s":"raw\x00nul"}\n'
           b'{"s":"raw\x7fdel"}\n'                    # DEL is allowed raw
           b'{"s":"escaped\\ttab"}\n')

jsonl_file("jsonl_empty_file.jsonl", b"")


def main():
    # remove stale corpus files written by an earlier version of this script
    for pattern in ("csv_*", "jsonl_*"):
        for path in glob.glob(os.path.join(HERE, pattern)):
            os.remove(path)
    for name, data in list(CSV.items()) + list(JSONL.items()):
        assert len(data) < 4096, (name, len(data))
    for name, data in sorted(CSV.items()):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    for name, opts in sorted(OPTIONS.items()):
        stem = name[: -len(".csv")]
        with open(os.path.join(HERE, stem + ".options.json"), "wb") as f:
            f.write((json.dumps(opts, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    for name, data in sorted(JSONL.items()):
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    print("wrote %d csv, %d options, %d jsonl files" % (len(CSV), len(OPTIONS), len(JSONL)))


if __name__ == "__main__":
    main()
