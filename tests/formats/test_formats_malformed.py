"""Malformed inputs give one clear message naming file and place; bombs are refused."""

from __future__ import annotations

import json
import zipfile

import openpyxl
import pytest

from formats_helpers import SUPPLIERS, build_canonical_workbook
from ims_excel.formats import _excel, _jsonio, detect_and_read, load
from ims_excel.formats._jsonio import json_depth
from ims_excel.normalise import InputError

GOOD = {"stin": SUPPLIERS[0], "inum": "A1", "idt": "01-10-2025", "val": 118, "txval": 100, "iamt": 18}


def _json(tmp_path, obj, name="in.json") -> str:
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return path


def _one_problem(path) -> str:
    with pytest.raises(InputError) as err:
        load(path)
    assert len(err.value.problems) == 1, err.value.problems
    text = str(err.value)
    assert text.startswith(str(path))
    return text


@pytest.mark.parametrize("content, expected", [
    ("this is not json", "is not JSON (it does not start with '{')"),
    ('{"imsDetails": {"b2b": [ {"stin": "x",, }]}}', "is not JSON: Expecting property name"),
    ('{"val": NaN, "b2b": []}', "is not JSON: NaN is not allowed"),
    ("[1, 2]", "is a JSON list; an IMS file is an object"),
    ('{"foo": 1, "bar": []}', "is not an IMS JSON: expected imsDetails, invdata or section keys"),
    ('{"imsDetails": [1]}', "imsDetails is a list, not an object of sections"),
    ('{"token": "abc", "est": 5}', "is a queued GETINV response"),
])
def test_not_an_ims_json(tmp_path, content, expected):
    assert expected in _one_problem(_json(tmp_path, content))


@pytest.mark.parametrize("obj, expected", [
    ({"imsDetails": {"b2b": {"stin": "x"}}}, ": imsDetails.b2b: is a dict; a section is a list of records"),
    ({"imsDetails": {"b2b": [GOOD, "oops"]}}, ": imsDetails.b2b[1]: is a str, not a record object"),
    ({"b2b": [GOOD, {k: v for k, v in GOOD.items() if k != "stin"}]}, ": b2b[1]: missing stin"),
    ({"b2b": [dict(GOOD, inum=None)]}, ": b2b[0]: missing inum (the document number)"),
    ({"b2bcn": [{"stin": SUPPLIERS[0], "nt_num": 12.5, "nt_dt": "01-10-2025"}]}, ": b2bcn[0]: nt_num 12.5 is not text"),
    ({"imsDetails": {"b2b": [GOOD, dict(GOOD, txval="1O0")]}}, ": imsDetails.b2b[1]: txval '1O0' is not a number"),
    ({"b2b": [dict(GOOD, iamt=True)]}, ": b2b[0]: iamt True is not a number"),
    ({"b2b": [dict(GOOD, idt="2025-10-01")]}, ": b2b[0]: idt '2025-10-01' is not a date in DD-MM-YYYY form"),
    ({"b2b": [dict(GOOD, idt="31-02-2025")]}, ": b2b[0]: idt '31-02-2025' is not a date in DD-MM-YYYY form"),
    ({"data": {"b2b": [dict(GOOD, idt="1/10/2025")]}}, ": data.b2b[0]: idt '1/10/2025' is not a date"),
])
def test_one_clear_message_with_the_json_path(tmp_path, obj, expected):
    path = _json(tmp_path, obj)
    text = _one_problem(path)
    assert text.startswith(f"{path}{expected}"), text


def test_unsupported_extension(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("a,b\n", encoding="utf-8")
    assert "unsupported type '.txt'" in _one_problem(path)


def test_not_a_zip_xlsx(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("hello", encoding="utf-8")
    assert "is not an Excel workbook" in _one_problem(path)


# ---------------------------------------------------------------- bombs

def test_json_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:  # sparse: no disk used, nothing read
        fh.write(b"{")
        fh.truncate(513 * 1024 * 1024)
    assert "is 513 MB; the limit is 512 MB" in _one_problem(path)


def test_deep_json_is_refused(tmp_path):
    path = _json(tmp_path, "[" * 5000 + "]" * 5000)
    assert "is nested 5000 levels deep; more than 20 is refused" in _one_problem(path)
    path = _json(tmp_path, '{"imsDetails": {"b2b": [{"x": ' + "[" * 30 + "]" * 30 + "}]}}", "deep2.json")
    assert "nested 34 levels deep" in _one_problem(path)


def test_depth_ignores_brackets_in_strings_and_escapes():
    assert json_depth(b'{"a": "[[[[{{{{\\"]]]]", "b": ["\\\\", {"c": 1}]}') == 3
    chunked = b'{"s": "' + b"[" * 10 + b'"' + b"}"
    assert json_depth(chunked) == 1


def test_depth_across_chunks(monkeypatch):
    monkeypatch.setattr(_jsonio, "_CHUNK", 7)
    assert json_depth(b'{"a": "[[[[[[[[[[[[", "b": [[[1]]]}') == 4


def _zip_with(path, name, data, compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compress) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr(name, data)
    return path


def test_xlsx_with_absurd_compression_ratio_is_refused(tmp_path):
    path = _zip_with(tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", b"<" + b"0" * (20 * 2**20))
    assert "compresses" in _one_problem(path) and "zip bomb" in _one_problem(path)


def test_xlsx_with_absurd_declared_size_is_refused(tmp_path, monkeypatch):
    path = _zip_with(tmp_path / "big.xlsx", "xl/worksheets/sheet1.xml", b"<x/>" * 3000)
    monkeypatch.setattr(_excel, "MAX_ENTRY_BYTES", 10_000)
    assert "declares 0 MB uncompressed, over the limit of 0 MB (IMS_EXCEL_MAX_SOURCE_PART_MB); refused as a zip bomb" \
        in _one_problem(path)
    monkeypatch.setattr(_excel, "MAX_ENTRY_BYTES", 2**40)
    monkeypatch.setattr(_excel, "MAX_TOTAL_BYTES", 10_000)
    assert "refused as a zip bomb" in _one_problem(path)


@pytest.mark.parametrize("prolog", [
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>',
    '<?xml version="1.0"?>\n<!-- a comment -->\n<!doctype x SYSTEM "file:///etc/passwd">',
    '<?xml version="1.0"?>' + "<!-- pad -->" * 7000,  # a prolog too long to see past
], ids=["entities", "doctype-after-comment", "long-prolog"])
def test_xml_with_doctype_or_entity_is_refused(tmp_path, prolog):
    good = build_canonical_workbook(tmp_path / "good.xlsx")
    assert len(load(good)) == 3
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                text = data.decode("utf-8")
                body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
                data = (prolog + body).encode("utf-8")
            dst.writestr(info, data)
    text = _one_problem(bad)
    assert "xl/worksheets/sheet2.xml" in text and "DOCTYPE or ENTITY" in text


def test_a_normal_workbook_passes_the_checks(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["Section", "Document Number", "Document Date"])
    wb.active.append(["B2B", "X", "01-10-2025"])
    path = tmp_path / "ok.xlsx"
    wb.save(path)
    _excel.check_xlsx(path)
    with pytest.raises(InputError, match="Supplier GSTIN"):  # blank GSTIN is normalise's complaint
        load(path)
    assert len(detect_and_read(path)) == 1
