"""JSON sources are read streamed (issue 14, Security: "stream where the format allows"), with the same
result and the same refusals as parsing the file whole with ``json.loads``.

The batch and scan sizes are made tiny here so that every record boundary, chunk boundary, escaped
quote and multi-byte character falls across them somewhere.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import tempfile
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formats_helpers import FIXTURES, SUPPLIERS
from ims_excel.cli import main
from ims_excel.formats import _jsonstream, detect_and_read, gstr2b_json, ims_json, parse_json
from ims_excel.formats._jsonio import JsonNumber, dumps, read_whole_with
from ims_excel.formats._jsonstream import JsonArray, JsonDocument
from ims_excel.normalise import InputError

DOWNLOAD = FIXTURES / "ims_offline_download.json"
GSTR2B = FIXTURES / "gstr2b.json"


@contextmanager
def tiny(batch: int = 40, scan: int = 7):
    with mock.patch.object(_jsonstream, "BATCH_BYTES", batch), mock.patch.object(_jsonstream, "SCAN_BYTES", scan):
        yield


def materialise(value: object) -> object:
    """A streamed document as plain Python (every array read)."""
    if isinstance(value, JsonArray):
        return [materialise(x) for _, items, _ in value.batches() for x in items]
    if isinstance(value, dict):
        return {k: materialise(v) for k, v in value.items()}
    return value


def same_frames(streamed: pd.DataFrame, whole: pd.DataFrame) -> None:
    """Equal raw frames; ``_source`` is the record's text when streamed, its dict when parsed whole."""
    streamed, whole = streamed.copy(), whole.copy()
    if "_source" in whole:
        texts = streamed.pop("_source").tolist()
        dicts = whole.pop("_source").tolist()
        assert [json.loads(t) for t in texts] == dicts
        assert [dumps(json.loads(t, parse_float=JsonNumber)) for t in texts] == [dumps(d) for d in dicts]
    pd.testing.assert_frame_equal(streamed, whole)
    assert streamed.attrs == whole.attrs


def both(path: Path, parse=parse_json) -> tuple[pd.DataFrame, pd.DataFrame]:
    return detect_and_read(path), read_whole_with(parse, path)


# ---------------------------------------------------------------- same result

json_text = st.text(st.sampled_from(list('ab"\\[]{},: \n\té₹\u2028') + ["\ud7ff", "😀"]), max_size=12)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), json_text,
                        st.decimals(-10**6, 10**6, places=3, allow_nan=False).map(lambda d: JsonNumber(str(d))))
json_value = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(json_text, inner, max_size=4)), max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(value=json_value, indent=st.sampled_from([None, 0, 2]), bom=st.booleans())
def test_any_json_streams_to_what_json_loads_gives(value, indent, bom):
    """The scan (quotes escaped by odd runs of backslashes, brackets inside strings, multi-byte UTF-8 cut
    by a chunk) finds the arrays that ``json.loads`` finds: the same document, whatever the layout."""
    doc_value = {"k": value, "s": [value, [value]]}
    text = json.dumps(json.loads(dumps(doc_value)), indent=indent, ensure_ascii=False)
    with tempfile.TemporaryDirectory() as tmp, tiny(batch=16, scan=5):
        path = Path(tmp) / "x.json"
        path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))
        assert materialise(JsonDocument(path).root) == json.loads(text)


suppliers = st.sampled_from(SUPPLIERS)
doc_numbers = st.text(st.sampled_from(list('0123456789AB/-"\\[]{},é ')), min_size=1, max_size=10)
amounts = st.decimals(0, 10**7, places=2, allow_nan=False).map(lambda d: JsonNumber(str(d)))
dates = st.dates(pd.Timestamp("2025-04-01").date(), pd.Timestamp("2025-10-31").date()).map(
    lambda d: d.strftime("%d-%m-%Y"))


@st.composite
def ims_record(draw) -> dict:
    rec = {"stin": draw(suppliers), "inum": draw(doc_numbers), "idt": draw(dates), "val": draw(amounts),
           "txval": draw(amounts), "iamt": draw(amounts), "action": draw(st.sampled_from("ARPN")),
           "srcform": "R1", "rtnprd": "102025", "tradenm": draw(st.text(max_size=6))}
    if draw(st.booleans()):
        rec["remarks"] = draw(st.text(st.sampled_from(list('ab ]}",\\é')), max_size=8))
    if draw(st.booleans()):
        rec["unknown"] = draw(st.lists(st.integers(0, 9), max_size=3))
    return rec


@st.composite
def ims_document(draw) -> dict:
    keys = draw(st.lists(st.sampled_from(["b2b", "b2ba", "b2bcn", "ecom", "impg"]), unique=True, max_size=4))
    sections = {k: draw(st.lists(ims_record(), max_size=12)) for k in keys}
    if draw(st.booleans()) and sections:  # the supplier-grouped layout ({stin, inv: [...]})
        k = keys[0]
        sections[k] = [{"stin": r.pop("stin"), "inv": [r]} for r in sections[k]]
    wrap = draw(st.sampled_from(["imsDetails", "data", "getinv", "invdata"]))
    if wrap == "imsDetails":
        return {"imsDetails": sections}
    if wrap == "data":
        return {"data": {"imsDetails": sections}}
    if wrap == "invdata":
        return {"rtin": "29AAACS2222T1ZX", "reqtyp": "SAVE", "invdata": sections}
    return sections


@settings(max_examples=80, deadline=None)
@given(doc=ims_document(), indent=st.sampled_from([None, 1]), batch=st.sampled_from([1, 64, 1 << 20]))
def test_ims_json_streamed_equals_parsed_whole(doc, indent, batch):
    """Streamed and whole-file reads of an IMS JSON give the same raw frame (values, dtypes, paths,
    attrs) and the same ``_source`` records, numbers keeping their spelling (1000.10 stays 1000.10)."""
    text = json.dumps(json.loads(dumps(doc)), indent=indent, ensure_ascii=False) if indent else dumps(doc)
    with tempfile.TemporaryDirectory() as tmp, tiny(batch=batch, scan=11):
        path = Path(tmp) / "ims.json"
        path.write_text(text, encoding="utf-8")
        try:
            streamed = detect_and_read(path)
        except InputError as err:  # a generated record can be refused (an empty document number): both alike
            with pytest.raises(InputError) as whole_err:
                read_whole_with(ims_json.parse, path)
            assert sorted(map(str, err.problems)) == sorted(map(str, whole_err.value.problems))
            return
        same_frames(streamed, read_whole_with(ims_json.parse, path))


@pytest.mark.parametrize("batch", [1, 200, 1 << 22])
@pytest.mark.parametrize("fixture", [DOWNLOAD, GSTR2B])
def test_the_fixtures_read_the_same_streamed(fixture, batch):
    with tiny(batch=batch, scan=13):
        streamed, whole = both(fixture)
    same_frames(streamed, whole)
    assert len(streamed) > 5


def test_gstr2b_many_suppliers_across_batches(tmp_path):
    """GSTR-2B: suppliers (each with its invoices) are the batch unit; rows, paths and supplier fields
    line up across batch boundaries."""
    sups = [{"ctin": SUPPLIERS[i % 6], "trdnm": f"S{i}", "supfildt": "11-11-2025", "supprd": "102025",
             "inv": [{"inum": f"I{i}-{j}", "dt": "05-10-2025", "val": 118, "txval": 100, "igst": 18, "cgst": 0,
                      "sgst": 0, "cess": 0, "typ": "R", "pos": "29", "rev": "N", "itcavl": "T" if i == 30 else "Y"}
                     for j in range(i % 4)]} for i in range(40)]
    doc = {"data": {"gstin": "29AAACS2222T1ZX", "rtnprd": "102025",
                    "docdata": {"b2b": sups, "impg": [{"refdt": "01-10-2025", "portcode": "INMAA1", "boenum": "77",
                                                       "boedt": "01-10-2025", "txval": 10, "igst": 1.8, "cess": 0}]},
                    "itcsumm": {"x": [1, 2, 3]}}}
    path = tmp_path / "2b.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with tiny(batch=300):
        streamed, whole = both(path)
    same_frames(streamed, whole)
    assert len(streamed) == sum(i % 4 for i in range(40)) + 1
    assert streamed["_path"].iloc[-2] == "data.docdata.b2b[39].inv[2]"
    assert streamed["Supplier Name"].iloc[-2] == "S39"


# ---------------------------------------------------------------- the shape of the document

@pytest.mark.parametrize("doc, sections, rows", [
    ({"imsDetails": {}}, [], 0),                                     # no section at all
    ({"imsDetails": {"b2b": [], "b2bcn": []}}, ["b2b", "b2bcn"], 0),  # sections present, empty
    ({"imsDetails": {"b2b": None, "ecom": []}}, ["b2b", "ecom"], 0),  # a null section
    ({"imsDetails": {"b2b": [{"stin": SUPPLIERS[0], "inum": "A1", "idt": "01-10-2025", "val": 1, "txval": 1}]},
      "other": [[], {"x": []}]}, ["b2b"], 1),                        # arrays nobody reads
], ids=["absent", "empty", "null", "unread"])
def test_absent_and_empty_sections(tmp_path, doc, sections, rows):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    streamed, whole = both(path)
    same_frames(streamed, whole)
    assert streamed.attrs["sections"] == sections and len(streamed) == rows


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_bom_and_utf16_read_the_same(tmp_path, encoding):
    """A BOM (UTF-8) is skipped; UTF-16 (Notepad's "Unicode"), with or without a BOM, is read as text."""
    path = tmp_path / "u.json"
    path.write_bytes(DOWNLOAD.read_text(encoding="utf-8").encode(encoding))
    with tiny(batch=100, scan=64):
        streamed = detect_and_read(path)
        same_frames(streamed, read_whole_with(parse_json, path))
    plain = detect_and_read(DOWNLOAD)
    assert streamed["_source"].tolist() == plain["_source"].tolist()
    pd.testing.assert_frame_equal(streamed, plain)


def test_a_duplicate_section_key_is_read_as_json_loads_reads_it(tmp_path):
    """json keeps the last of two equal keys; so does the stream (and the dropped one must still be JSON)."""
    rec = {"stin": SUPPLIERS[0], "inum": "A1", "idt": "01-10-2025", "val": 1, "txval": 1}
    path = tmp_path / "d.json"
    path.write_text('{"b2b": [%s], "b2b": [%s, %s]}' % (json.dumps(rec), json.dumps(rec), json.dumps(rec)))
    streamed, whole = both(path)
    same_frames(streamed, whole)
    assert len(streamed) == 2
    path.write_text('{"b2b": [1,,2], "b2b": [%s]}' % json.dumps(rec))
    with pytest.raises(InputError, match=r"is not JSON: Expecting value"):
        detect_and_read(path)


# ---------------------------------------------------------------- refusals, named

def _records(n: int) -> list[str]:
    return [json.dumps({"stin": SUPPLIERS[i % 6], "inum": f"INV-{i}", "idt": "01-10-2025", "val": 118,
                        "txval": 100, "iamt": 18}) for i in range(n)]


def _refusal(path: Path) -> str:
    with pytest.raises(InputError) as err:
        detect_and_read(path)
    assert len(err.value.problems) == 1
    text = str(err.value)
    assert text.startswith(str(path))
    return text


def _json_error(text: str) -> json.JSONDecodeError:
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(text)
    return err.value


@pytest.mark.parametrize("batch", [50, 1 << 22])
def test_malformed_record_mid_stream_names_file_record_line_and_column(tmp_path, batch):
    """A record broken after thousands of good ones: the file, the record (its path), and the line and
    column ``json.loads`` would give; nothing is returned."""
    recs = _records(3000)
    recs[2345] = recs[2345].replace('"idt"', '"idt" "01"', 1)  # a missing ':'
    text = '{"imsDetails": {"b2b": [\n' + ",\n".join(recs) + "\n]}}"
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    exc = _json_error(text)
    with tiny(batch=batch, scan=4096):
        msg = _refusal(path)
    assert msg == (f"{path}: imsDetails.b2b[2345]: is not JSON: {exc.msg} "
                   f"at line {exc.lineno} column {exc.colno}"), msg


def test_exit_2_on_a_malformed_record(tmp_path):
    """Through the command line the refusal is an input error: exit 2, the message, no traceback."""
    recs = _records(50)
    recs[40] = recs[40][:-1] + ",}"  # a trailing comma in record 40
    path = tmp_path / "bad.json"
    path.write_text('{"b2b": [' + ",".join(recs) + "]}", encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["report", str(path), "--gstin", "29AAACS2222T1ZX", "--period", "2025-10"])
    assert code == 2
    assert f"{path}: b2b[40]: is not JSON: Expecting property name enclosed in double quotes" in err.getvalue()
    assert "Traceback" not in err.getvalue()


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.999])
def test_truncated_file_is_refused(tmp_path, cut):
    text = '{"imsDetails": {"b2b": [' + ",".join(_records(200)) + "]}}"
    path = tmp_path / "t.json"
    path.write_text(text[: int(len(text) * cut)], encoding="utf-8")
    with tiny(batch=500, scan=1000):
        msg = _refusal(path)
    assert "is not JSON: the file ends" in msg and "(truncated?)" in msg, msg


@pytest.mark.parametrize("content, where, expected", [
    ('{"b2b": [{"stin": "x", "val": NaN}]}', "b2b[0]", "NaN is not allowed in JSON at line 1 column 10"),
    ('{"b2b": [{"a": 1}, {"a": 1} {"a": 2}]}', "b2b[1]", None),
    ('{"b2b": [{"a": 1},\n {"a": 1, "b": tru}]}', "b2b[1]", None),
    ('{"b2b": [{"a": 1}]]}', "", "']' closes nothing at line 1 column 19"),
    ('{"b2b": [{"a": 1}}', "", "the file ends with 1 bracket not closed (truncated?) at line 1 column 19"),
    ('[}', "", "this '[' is never closed at line 1 column 1"),
    ('{"b2b": [{"a": 1}], "x": [1, 2,]}', "x[2]", None),
    ('{"b2b": [], "x": {"y": [[1], [2 3]]}}', "x.y[1]", None),
    ('{"b2b": [] "x": 1}', "", None),
    ('{"b2b": []} trailing', "", None),
], ids=["nan", "missing-comma", "bad-literal", "extra-close", "unclosed", "mismatched", "unread-array", "nested-unread",
        "frame", "trailing"])
def test_malformed_places_are_named(tmp_path, content, where, expected):
    """Named as json.loads names it (message, line, column), with the element it is in; also where no
    reader looks (an array outside the sections): the whole file must be JSON."""
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    if expected is None:
        exc = _json_error(content)
        expected = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    assert _refusal(path) == f"{path}: {where + ': ' if where else ''}is not JSON: {expected}"


def test_not_utf8_inside_a_record_names_the_byte(tmp_path):
    raw = b'{"b2b": [{"stin": "x"}, {"tradenm": "Caf\xe9"}]}'
    path = tmp_path / "l.json"
    path.write_bytes(raw)
    byte = raw.index(b"\xe9")
    assert _refusal(path) == f"{path}: b2b[1]: is not UTF-8 text (byte {byte})"


def test_the_file_changing_between_the_passes_is_refused(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"b2b": [' + ",".join(_records(3)) + "]}", encoding="utf-8")
    doc = JsonDocument(path)
    path.write_text('{"b2b": [' + ",".join(_records(4)) + "]}", encoding="utf-8")
    with pytest.raises(InputError, match="changed while it was being read"):
        ims_json.parse(doc.root, str(path))


def test_gstr2b_parse_given_objects_still_works():
    """The readers take plain parsed JSON too (the doctests, other callers)."""
    obj = json.loads(GSTR2B.read_text(encoding="utf-8"))
    same_frames(gstr2b_json.parse(obj, str(GSTR2B)), read_whole_with(gstr2b_json.parse, GSTR2B))


@pytest.mark.parametrize("content, where", [
    ('{"b2b": [{"inum": "A"},\n {"inum": "INV\\ud800"}]}', "b2b[1]: holds a lone surrogate (\\ud800 at line 2 column 15)"),
    ('{"gstin": "\\uDC00x", "b2b": []}', "holds a lone surrogate (\\uDC00 at line 1 column 12)"),
], ids=["in-a-record", "in-the-frame"])
def test_lone_surrogate_is_refused_where_it_is(tmp_path, content, where):
    """Issue 14: a \\uD800-\\uDFFF escape that is not half of a pair is not a character (it would crash the
    save); refused naming the record and the place, as the whole-file reader names it."""
    path = tmp_path / "s.json"
    path.write_text(content, encoding="utf-8")
    assert _refusal(path).startswith(f"{path}: {where}: half of a UTF-16 pair")
    with pytest.raises(InputError, match="lone surrogate"):
        read_whole_with(parse_json, path)


def test_surrogate_pairs_and_escaped_backslashes_are_read(tmp_path):
    rec = {"stin": SUPPLIERS[0], "inum": "X", "idt": "01-10-2025", "val": 1, "txval": 1}
    path = tmp_path / "p.json"
    path.write_text('{"b2b": [%s]}' % json.dumps([dict(rec, inum="INV\ud83d\ude00"), dict(rec, inum="A\\ud800")])[1:-1])
    streamed, whole = both(path)
    same_frames(streamed, whole)
    assert streamed["Document Number"].tolist() == ["INV\U0001F600", "A\\ud800"]
