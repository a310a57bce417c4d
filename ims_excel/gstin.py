"""GSTIN: the one rule that decides whether a GSTIN is valid (state code, shape, check character).

Spec: shared/domain/formats-and-market.md section 8 (issue 12.3). A GSTIN is valid when

* it has 15 characters, upper-case ``0-9A-Z``;
* its first two digits are a GST state code: 01-38 (37 Andhra Pradesh, 38 Ladakh), 97 (Other
  Territory) or 99 (Centre jurisdiction, OIDAR) (:data:`STATE_CODES`);
* characters 3-14 have the shape of one of the registrations GSTN issues (the developer.gst.gov.in
  patterns india-compliance keeps in ``gst_india/constants``): a normal taxpayer (PAN-shaped body,
  13th = registration count 1-9/A-Z, 14th = Z, 1-9, A, B or D-J), a government department, a TDS
  deductor (TAN-shaped, 14th D), a TCS collector (PAN-shaped, 14th C), a non-resident (``NR``), an
  OIDAR supplier (``99..OS``) or a UN body / notified person (UIN, ``UN`` / ``ON``);
* its 15th character is the Luhn mod-36 check over the first 14 (weight 1 on odd and 2 on even
  positions, counting from the left).

:func:`valid` is the decider, vectorised over the distinct values of a column; the CLI (``--gstin``,
``new``), the Config check, the ``GSTIN_VALID`` UDF, the records' check and the workbook formulas
(:func:`ims_excel.template.formulas.gstin_valid`, laid out from :data:`SHAPES`) all use it.
python-stdnum is not consulted: its state list stops at 37 and it knows no 97.

>>> check_char("27AAPFU0939F1Z")
'V'
>>> is_valid("27AAPFU0939F1ZV"), is_valid("27AAPFU0939F1ZA")
(True, False)
>>> valid(pd.Series(["38AAACL1234L1ZJ", "38AAACL1234L1ZA", "00AAPFU0939F1ZB", "9917USA29001OSH", ""])).tolist()
[True, False, False, True, False]
>>> state_code("29AAACS2222T1ZX")
'29'
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_D = "0123456789"
_L = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_X = ALPHABET
_COUNT = "123456789" + _L  # 13th character: registration count within the state for the PAN

SHAPES: dict[str, tuple[str, ...]] = {
    "normal": (_D, _D, _L, _L, _L, _L, _L, _D, _D, _D, _D, _L, _COUNT, "Z123456789ABDEFGHIJ", _X),
    "government": (_D, _D, _L, _L, _L, _L, _D, _D, _D, _D, _D, _L, _D, "Z", _X),
    "tds": (_D, _D, _L, _L, _L, _L, _X, _D, _D, _D, _D, _L, _COUNT, "D", _X),
    "tcs": (_D, _D, _L, _L, _L, _L, _L, _D, _D, _D, _D, _L, _COUNT, "C", _X),
    "non_resident": (_D, _D, _D, _D, _L, _L, _L, _D, _D, _D, _D, _D, "N", "R", _X),
    "oidar": ("9", "9", _D, _D, _L, _L, _L, _D, _D, _D, _D, _D, "O", "S", _X),
    "un_body": (_D, _D, _D, _D, _L, _L, _L, _D, _D, _D, _D, _D, "UO", "N", _X),
}
"""Allowed characters at each of the 15 positions, per registration (india-compliance's
``NORMAL``, ``GOVT_DEPTID``, ``TDS``, ``TCS``, ``NRI_ID``, ``OIDAR``, ``UNBODY`` patterns)."""

WEIGHTS = tuple(1 if i % 2 else 2 for i in range(1, 15)) + (0,)
"""Luhn mod-36 weights of positions 1-15 (the 15th, the check itself, weighs nothing)."""


def _pattern(sets: tuple[str, ...]) -> str:
    return "".join("[" + re.escape(s) + "]" for s in sets)


STATE_CODES: tuple[str, ...] = tuple(f"{i:02d}" for i in range(1, 39)) + ("97", "99")
"""GST state codes a GSTIN may start with (formats-and-market.md section 8): 01-38 (26 = DNH & DD
merged, 37 = Andhra Pradesh, 38 = Ladakh), 97 = Other Territory, 99 = Centre jurisdiction (OIDAR).
96 (Other Countries) is a place-of-supply code only."""
PLACE_OF_SUPPLY_CODES: tuple[str, ...] = STATE_CODES + ("96",)
"""Codes a Place Of Supply may hold: the state codes (:data:`STATE_CODES`) and 96 (Other Countries,
formats-and-market.md section 8)."""


STATE_NAMES: dict[str, str] = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh",
    "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur",
    "15": "Mizoram", "16": "Tripura", "17": "Meghalaya", "18": "Assam", "19": "West Bengal",
    "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh", "24": "Gujarat",
    "25": "Daman and Diu", "26": "Dadra and Nagar Haveli and Daman and Diu", "27": "Maharashtra",
    "28": "Andhra Pradesh (Old)", "29": "Karnataka", "30": "Goa", "31": "Lakshadweep", "32": "Kerala",
    "33": "Tamil Nadu", "34": "Puducherry", "35": "Andaman and Nicobar Islands", "36": "Telangana",
    "37": "Andhra Pradesh", "38": "Ladakh", "96": "Other Countries", "97": "Other Territory",
    "99": "Centre Jurisdiction",
}
"""The GST state code list (GSTN's state codes as the portal's place-of-supply list and the GSTR-1/IMS
offline tools' ``Place of supply`` drop-down spell them, e.g. ``27-Maharashtra``; formats-and-market.md
section 8): the one table of names, one per code of :data:`PLACE_OF_SUPPLY_CODES`."""

STATE_NAME_SPELLINGS: dict[str, str] = {
    "Jammu & Kashmir": "01", "Orissa": "21", "Chattisgarh": "22", "Uttaranchal": "05", "New Delhi": "07",
    "NCT of Delhi": "07", "Pondicherry": "34", "Andaman & Nicobar Islands": "35", "Andaman and Nicobar": "35",
    "Dadra & Nagar Haveli and Daman & Diu": "26", "Dadra and Nagar Haveli": "26", "Daman & Diu": "25",
    "Andhra Pradesh (New)": "37", "Andhra Pradesh (Before Division)": "28", "Foreign Country": "96",
    "Foreign": "96", "Other Country": "96", "Centre Jurisdiction (OIDAR)": "99",
}
"""Other spellings of the names in :data:`STATE_NAMES` that accounting exports (Tally, Busy) carry: ``&`` for
"and", the state's former names (Orissa, Uttaranchal, Pondicherry), Tally's "Foreign Country"; DNH alone is
26 (merged with Daman and Diu, 26 in the list)."""


def _name_key(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower().replace("&", "and"))


STATE_NAME_CODES: dict[str, str] = {_name_key(n): c for c, n in STATE_NAMES.items()} | {
    _name_key(n): c for n, c in STATE_NAME_SPELLINGS.items()}
"""A name's key (letters only, lower case, ``&`` as "and") -> its code: :data:`STATE_NAMES` and
:data:`STATE_NAME_SPELLINGS`."""

_CODE_NAME = re.compile(r"(\d{1,2})\s*[-:]?\s*([^\d]*)")
_NAME_CODE = re.compile(r"([^\d]*?)\s*(?:\(\s*(\d{1,2})\s*\)|[-:/\s]\s*(\d{1,2}))")


def place_of_supply(value: object, names: bool = False) -> str:
    """A place of supply as the readers spell it: a whole number as 2 digits (``7`` -> ``07``), text's
    leading 1-2 digits before a ``-`` (``27-Maharashtra`` -> ``27``, ``7`` -> ``07``); anything else
    (a state's name, ``27.5``, ``True``) as its stripped text, for the caller to check against
    :data:`PLACE_OF_SUPPLY_CODES`. Without ``names`` (the portal's files, which carry codes:
    formats-and-market.md 2.1, 2.3 ``pos``) ``Maharashtra`` is not read as 27.

    With ``names`` (the accountant's own books: Tally and Busy export the state's name) a state's name
    of :data:`STATE_NAME_CODES` is read as its code, alone or with its code (``Maharashtra``,
    ``27-Maharashtra``, ``27 Maharashtra``, ``Maharashtra (27)``, ``Maharashtra-27``, ``Maharashtra 27``,
    ``Maharashtra / 27``); a name that is another state's than its code's (``29-Maharashtra``,
    ``Maharashtra 29``), or digits in no such form (``Maharashtra29``), is left as text, for the caller to
    refuse.

    >>> [place_of_supply(v) for v in ("27-Maharashtra", 7, 7.0, "07", " 7 ", "Maharashtra", "270")]
    ['27', '07', '07', '07', '07', 'Maharashtra', '270']
    >>> [place_of_supply(v, names=True) for v in ("Maharashtra", "KARNATAKA", "Karnataka (29)", "29-Karnataka",
    ...                                           "Jammu & Kashmir", "29-Maharashtra", "Atlantis", 27)]
    ['27', '29', '29', '29', '01', '29-Maharashtra', 'Atlantis', '27']
    >>> [place_of_supply(v, names=True) for v in ("Maharashtra 27", "Maharashtra / 27", "Maharashtra 29",
    ...                                           "Maharashtra29", "Maharashtra / 29")]
    ['27', '27', 'Maharashtra 29', 'Maharashtra29', 'Maharashtra / 29']
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        return f"{int(value):02d}"
    text = str(value).strip()
    if names:
        return _named_place(text)
    head = text.split("-", 1)[0].strip()
    if head.isdigit() and len(head) <= 2 and (head != text or len(text) <= 2):
        return head.zfill(2)
    return text


def _named_place(text: str) -> str:
    """:func:`place_of_supply` with ``names``: the code of ``NN``, ``NN-Name``, ``Name (NN)``,
    ``Name-NN`` or ``Name`` (names of :data:`STATE_NAME_CODES`); else ``text``."""
    m = _CODE_NAME.fullmatch(text)
    if m:
        code, name = m.group(1).zfill(2), m.group(2)
    else:
        m = _NAME_CODE.fullmatch(text)
        if m is None and any(ch.isdigit() for ch in text):
            return text  # digits in no form above ("Maharashtra29"): not read as the name's state
        code, name = ((m.group(2) or m.group(3)).zfill(2), m.group(1)) if m else ("", text)
    named = STATE_NAME_CODES.get(_name_key(name)) if _name_key(name) else None
    if code:
        return code if named in (None, code) else text
    return named or text

SHAPE_RE = re.compile("|".join(f"(?:{_pattern(s)})" for s in SHAPES.values()))
FORMAT = r"[0-9]{2}[0-9A-Z]{13}"
"""The loose shape the importers insist on (2 digits, then 13 of 0-9A-Z): anything else is not a GSTIN
at all; :func:`valid` decides the rest record by record."""


def _contribution(value: int, weight: int) -> int:
    """Luhn mod-36 contribution of a character of ``value`` (its place in :data:`ALPHABET`) at weight
    ``weight``: the digits of the product in base 36 added up; its place in :data:`CHECK_ORDERS`.

    >>> CHECK_ORDERS[0] == ALPHABET, CHECK_ORDERS[1]
    (True, '0I1J2K3L4M5N6O7P8Q9RASBTCUDVEWFXGYHZ')
    >>> all(CHECK_ORDERS[i].index(ch) == _contribution(ALPHABET.index(ch), WEIGHTS[i])
    ...     for i in range(14) for ch in ALPHABET)
    True
    """
    p = value * weight
    return p // 36 + p % 36


CHECK_ORDERS: tuple[str, ...] = tuple("".join(sorted(ALPHABET, key=lambda ch: _contribution(ALPHABET.index(ch), w)))
                                      for w in WEIGHTS[:14])
"""Per position 1-14, :data:`ALPHABET` in the order of the character's Luhn contribution at that
position's weight: a character's place in its position's string (0-based) IS its contribution, so the
workbook sums one FIND per position (``formulas.gstin_check_char``) instead of value, product,
INT and MOD."""

def _atoms(position: int) -> list[str]:
    """The characters of :data:`ALPHABET` grouped by the shapes that allow them at ``position``
    (0-based): two characters of one group are allowed by exactly the same shapes there."""
    groups: dict[tuple[bool, ...], str] = {}
    for ch in ALPHABET:
        key = tuple(ch in sets[position] for sets in SHAPES.values())
        groups[key] = groups.get(key, "") + ch
    return list(groups.values())


_ATOMS = [_atoms(i) for i in range(14)]  # the 15th allows any character in every shape
ATOM_CODES: tuple[str, ...] = tuple("".join(chr(48 + next(k for k, a in enumerate(atoms) if ch in a))
                                            for ch in ALPHABET) for atoms in _ATOMS)
"""Per position 1-14, one character per :data:`ALPHABET` character: ``"0"`` + the number of its group
(characters allowed by the same shapes at that position: digits and letters, or finer where a shape
wants ``9``, a registration count, ``N``, ``Z`` ...)."""

ATOM_WEIGHTS: tuple[int, ...] = tuple(int(np.prod([len(a) for a in _ATOMS[:i]])) if len(_ATOMS[i]) > 1 else 0
                                      for i in range(14))
"""Mixed-radix place of each position 1-14 in :func:`shape_key` (0 where all characters are alike)."""


def shape_key(first14: str) -> int:
    """One number for the groups of the first 14 characters (``0-9A-Z`` only): the sum over positions of
    ``ord(ATOM_CODES[i][ALPHABET.index(ch)]) * ATOM_WEIGHTS[i]``, what the workbook's one SUMPRODUCT
    works out (``formulas.gstin_valid``). Two texts of one key fit exactly the same shapes.

    >>> len(SHAPE_KEYS), shape_key("27AAACR5055K1Z") in SHAPE_KEYS, shape_key("27AAACR5055K1K") in SHAPE_KEYS
    (121, True, False)
    >>> all((shape_key(g[:14]) in SHAPE_KEYS) == bool(SHAPE_RE.fullmatch(g))
    ...     for g in ["9917USA29001OSH", "8817USA29001OSK", "0717UNO12345UNL", "0717UNO12345OSL", "07DELA12345A1Z7"])
    True
    """
    return sum(ord(ATOM_CODES[i][ALPHABET.index(ch)]) * ATOM_WEIGHTS[i] for i, ch in enumerate(first14[:14]))


def _shape_keys() -> tuple[int, ...]:
    import itertools

    keys = set()
    for sets in SHAPES.values():
        choices = [[a[0] for a in atoms if a[0] in sets[i]] for i, atoms in enumerate(_ATOMS)]
        keys.update(shape_key("".join(t)) for t in itertools.product(*choices))
    return tuple(sorted(keys))


SHAPE_KEYS: tuple[int, ...] = _shape_keys()
"""The :func:`shape_key` of every text some registration shape allows (a group is allowed by a shape or
not as a whole): a text of ``0-9A-Z`` fits :data:`SHAPES` exactly when its key is here."""


def check_char(first14: str) -> str:
    """The 15th character of a GSTIN whose first 14 characters are given."""
    total = 0
    for pos, ch in enumerate(first14.upper(), start=1):
        p = ALPHABET.index(ch) * (1 if pos % 2 else 2)
        total += p // 36 + p % 36
    return ALPHABET[(36 - total % 36) % 36]


def _check_ok(uniq: np.ndarray) -> np.ndarray:
    """Vectorised Luhn mod 36 over 15-character strings of ``0-9A-Z`` (others: False)."""
    ok = np.zeros(len(uniq), dtype=bool)
    shaped = np.array([len(v) == 15 and all(c in ALPHABET for c in v) for v in uniq], dtype=bool)
    if shaped.any():
        codes = np.frombuffer("".join(uniq[shaped]).encode("ascii"), dtype=np.uint8).reshape(-1, 15)
        values = np.where(codes >= 65, codes - 55, codes - 48).astype("int64")  # '0'-'9' -> 0-9, 'A'-'Z' -> 10-35
        p = values[:, :14] * np.array(WEIGHTS[:14])
        total = (p // 36 + p % 36).sum(axis=1)
        ok[shaped] = (36 - total % 36) % 36 == values[:, 14]
    return ok


def valid(values: pd.Series | list | np.ndarray) -> np.ndarray:
    """THE GSTIN rule, vectorised over distinct values: state code, registration shape, check character.

    Exact text (strip and upper-case before calling, as the portal writes GSTINs); blank is not valid.
    """
    s = pd.Series(values, dtype=object).fillna("").astype(str)
    codes, uniq = pd.factorize(s)
    uniq = np.asarray(uniq, dtype=object)
    if not len(uniq):
        return np.zeros(len(s), dtype=bool)
    states = frozenset(STATE_CODES)
    shape = pd.Series(uniq).str.fullmatch(SHAPE_RE).to_numpy(dtype=bool)
    state = np.array([v[:2] in states for v in uniq], dtype=bool)
    ok = shape & state & _check_ok(uniq)
    return ok[codes]


def is_valid(value: str) -> bool:
    """:func:`valid` of one value."""
    return bool(valid([value])[0])


def state_code(value: str) -> str:
    return str(value)[:2]


def format_ok(values: pd.Series) -> pd.Series:
    """Vectorised: does each value have the loose shape of a GSTIN (:data:`FORMAT`)?"""
    return values.astype(str).str.fullmatch(FORMAT)


def check_ok(value: str) -> bool:
    """Is the 15th character the right check? (state code and shape aside)"""
    return bool(_check_ok(np.array([str(value)], dtype=object))[0])


def expected(values: pd.Series) -> pd.Series:
    """The GSTIN with the right check character (for messages)."""
    uniq = pd.unique(values.astype(str))
    fixed = {v: (v[:14] + check_char(v[:14]) if len(v) >= 14 and all(c in ALPHABET for c in v[:14])
                 else "") for v in uniq}
    return values.astype(str).map(fixed)


__all__ = ["ALPHABET", "ATOM_CODES", "ATOM_WEIGHTS", "CHECK_ORDERS", "FORMAT", "SHAPES", "SHAPE_KEYS", "SHAPE_RE",
           "WEIGHTS", "check_char", "check_ok", "expected", "format_ok", "is_valid", "place_of_supply",
           "PLACE_OF_SUPPLY_CODES", "shape_key", "state_code", "STATE_CODES", "STATE_NAME_CODES", "STATE_NAMES",
           "STATE_NAME_SPELLINGS", "valid"]
