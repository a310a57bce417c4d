"""Cell formats of one workbook copied into another's ``styles.xml``.

A cell's ``s="N"`` is an index into its own book's ``cellXfs``, a conditional format's ``dxfId`` into its
``dxfs``; a cell moved into another book needs the same format there. :class:`StyleCopy` copies a format
element as the source book has it (ECMA-376 Part 1, 18.8: ``xf`` with its ``numFmt``, ``font``, ``fill``
and ``border``; ``dxf`` whole), reusing an identical one the target already has, and gives the index in
the target. Elements are copied as XML text, never rebuilt, so nothing is re-escaped.

>>> old = ('<styleSheet><numFmts count="1"><numFmt numFmtId="170" formatCode="dd/mm/yy"/></numFmts>'
...        '<fonts count="1"><font><b/></font></fonts><fills count="1"><fill/></fills>'
...        '<borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" '
...        'borderId="0"/><xf numFmtId="170" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
...        '</cellXfs><dxfs count="1"><dxf><font><i/></font></dxf></dxfs></styleSheet>')
>>> new = ('<styleSheet><fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill/></fills>'
...        '<borders count="1"><border/></borders><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
...        'borderId="0"/></cellXfs></styleSheet>')
>>> sc = StyleCopy(old, new)
>>> sc.xf(1), sc.xf(1), sc.dxf(0)
(1, 1, 0)
>>> print(sc.xml())  # doctest: +NORMALIZE_WHITESPACE
<styleSheet><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yy"/></numFmts><fonts count="2"><font><sz val="11"/></font><font><b/></font></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="164" fontId="1" fillId="0" borderId="0" applyNumberFormat="1" xfId="0"/></cellXfs><dxfs count="1"><dxf><font><i/></font></dxf></dxfs></styleSheet>
"""

from __future__ import annotations

import re

_SECTIONS = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles",
             "colors", "extLst")
"""CT_Stylesheet's children in schema order (ECMA-376 Part 1, 18.8.39)."""
_ITEM = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border", "cellXfs": "xf", "dxfs": "dxf"}


def _section(xml: str, name: str) -> re.Match | None:
    return re.search(rf"<{name}\b[^>]*?(?:/>|>(.*?)</{name}>)", xml, re.S)


def _items(xml: str, name: str) -> list[str]:
    m = _section(xml, name)
    if not m or not m.group(1):
        return []
    tag = _ITEM[name]
    return re.findall(rf"<{tag}\b[^>]*?(?:/>|>.*?</{tag}>)", m.group(1), re.S)


def _attr(xml: str, name: str) -> str | None:
    m = re.search(rf'\s{name}="([^"]*)"', xml[:xml.find(">") + 1])
    return m.group(1) if m else None


def _set_attr(xml: str, name: str, value: object) -> str:
    end = xml.find(">")
    head = xml[:end + 1]
    if re.search(rf'\s{name}="[^"]*"', head):
        head = re.sub(rf'(\s{name}=")[^"]*"', lambda m: f'{m.group(1)}{value}"', head, count=1)
    else:
        close = len(head) - (2 if head.endswith("/>") else 1)
        head = f'{head[:close]} {name}="{value}"{head[close:]}'
    return head + xml[end + 1:]


class StyleCopy:
    """Formats of the book whose ``styles.xml`` is ``old`` copied into ``new`` (see the module doc)."""

    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        self._old = {k: _items(old, k) for k in _ITEM}
        self._new = {k: _items(new, k) for k in _ITEM}
        self._formats = {_attr(n, "numFmtId"): _attr(n, "formatCode") for n in self._old["numFmts"]}
        self._ids = [int(x) for x in re.findall(r'\bnumFmtId="(\d+)"', new)]
        self._added = {k: 0 for k in _ITEM}
        self._memo: dict[tuple[str, int], int] = {}

    @property
    def changed(self) -> bool:
        return any(self._added.values())

    def _index(self, section: str, element: str) -> int:
        items = self._new[section]
        try:
            return items.index(element)
        except ValueError:
            items.append(element)
            self._added[section] += 1
            return len(items) - 1

    def _num_fmt(self, old_id: str) -> str:
        if int(old_id) < 164 or old_id not in self._formats:
            return old_id  # a built-in format (18.8.30), the same in every book
        code = self._formats[old_id]
        for n in self._new["numFmts"]:
            if _attr(n, "formatCode") == code:
                return _attr(n, "numFmtId")
        new_id = max(self._ids + [163]) + 1
        self._ids.append(new_id)
        self._index("numFmts", f'<numFmt numFmtId="{new_id}" formatCode="{code}"/>')
        return str(new_id)

    def xf(self, old_index: int) -> int:
        """The index in the new book's ``cellXfs`` of the old book's cell format ``old_index``."""
        key = ("xf", old_index)
        if key not in self._memo:
            olds = self._old["cellXfs"]
            if not 0 <= old_index < len(olds):
                return 0
            x = olds[old_index]
            if self._same(old_index):
                self._memo[key] = old_index
                return old_index
            for attr, section in (("fontId", "fonts"), ("fillId", "fills"), ("borderId", "borders")):
                k = _attr(x, attr)
                if k is not None and k.isdigit() and int(k) < len(self._old[section]):
                    x = _set_attr(x, attr, self._index(section, self._old[section][int(k)]))
            if _attr(x, "numFmtId") is not None:
                x = _set_attr(x, "numFmtId", self._num_fmt(_attr(x, "numFmtId")))
            x = _set_attr(x, "xfId", 0)  # the Normal cell style
            self._memo[key] = self._index("cellXfs", x)
        return self._memo[key]

    def _same(self, k: int) -> bool:
        """Is cell format ``k`` the same in both books (the same element, font, fill, border and number format)?"""
        news = self._new["cellXfs"]
        x = self._old["cellXfs"][k]
        if k >= len(news) or news[k] != x:
            return False
        for attr, section in (("fontId", "fonts"), ("fillId", "fills"), ("borderId", "borders")):
            i = _attr(x, attr)
            if i is not None and i.isdigit():
                o, n = self._old[section], self._new[section]
                if int(i) >= len(o) or int(i) >= len(n) or o[int(i)] != n[int(i)]:
                    return False
        f = _attr(x, "numFmtId")
        if f is not None and f in self._formats:
            return any(_attr(n, "numFmtId") == f and _attr(n, "formatCode") == self._formats[f]
                       for n in self._new["numFmts"])
        return True

    def dxf(self, old_index: int) -> int:
        """The index in the new book's ``dxfs`` of the old book's differential format ``old_index``."""
        key = ("dxf", old_index)
        if key not in self._memo:
            olds = self._old["dxfs"]
            if not 0 <= old_index < len(olds):
                raise ValueError(f"no differential format {old_index} in the old book's styles")
            news = self._new["dxfs"]
            same = old_index < len(news) and news[old_index] == olds[old_index]
            self._memo[key] = old_index if same else self._index("dxfs", olds[old_index])
        return self._memo[key]

    def xml(self) -> str:
        """The new book's ``styles.xml`` with what was copied."""
        out = self.new
        for section, n in self._added.items():
            if not n:
                continue
            body = "".join(self._new[section])
            element = f'<{section} count="{len(self._new[section])}">{body}</{section}>'
            m = _section(out, section)
            if m:
                out = out[:m.start()] + element + out[m.end():]
                continue
            later = _SECTIONS[_SECTIONS.index(section) + 1:]
            at = min((m.start() for m in (_section(out, s) for s in later) if m), default=out.rfind("</styleSheet>"))
            out = out[:at] + element + out[at:]
        return out
