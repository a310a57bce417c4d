"""The IMS rules as dated data, loaded once.

The YAML files beside this module are the single source of the rules:
``decision_table.yaml`` (shared/domain/ims-rules.md section 3.2, rows D1-D30),
``reason_codes.yaml`` (section 3.3) and ``parameters.yaml`` (dates, due days,
settings). The engine reads them through :func:`rulebook`; the workbook's
Rules sheet is :meth:`RuleBook.table`.

>>> rb = rulebook()
>>> [r.id for r in rb.rules][:3], len(rb.rules)
(['D1', 'D2', 'D3'], 30)
>>> rb.lookup("D7", "2025-11").pending, rb.lookup("D7", "2025-09").pending
('W', 'N')
>>> rb.codes["PEND_WINDOW_OVER"].severity
'error'
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import pandas as pd
import yaml

from ims_excel import periods

ACTION_CELLS = ("A", "R", "P", "N")


@dataclass(frozen=True)
class Version:
    start: int  # period index
    end: int | None
    accept: str
    reject: str
    pending: str
    no_action: str
    code: str
    decl: bool

    def allows(self, action: str) -> str:
        return {"A": self.accept, "R": self.reject, "P": self.pending, "N": self.no_action}[action]


@dataclass(frozen=True)
class Rule:
    id: str
    record: str
    condition: str
    kind: str  # ims | not_in_ims | frozen | time_barred | modifier
    specified: bool
    addback: str
    accept_reversal: str
    table: str
    bucket: str
    source: tuple[str, ...]
    tag: str
    notes: str
    versions: tuple[Version, ...]


@dataclass(frozen=True)
class ReasonCode:
    code: str
    severity: str
    state: bool
    quiet: str
    rule: str
    message: str
    bit: int


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]
    codes: dict[str, ReasonCode]
    params: dict
    version: str

    @property
    def eras(self) -> list[int]:
        """Start periods of the rule regimes (Oct-2024 launch, Oct-2025 changes)."""
        return sorted({v.start for r in self.rules for v in r.versions})

    def era_of(self, period: int) -> int:
        """The regime a GSTR-2B period falls in (periods before the first regime: the first)."""
        eras = self.eras
        return max([e for e in eras if e <= period] or [eras[0]])

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def lookup(self, rule_id: str, period: str | int) -> Version:
        p = periods.parse(period) if isinstance(period, str) else period
        era = self.era_of(p)
        for v in self.rule(rule_id).versions:
            if v.start <= era and (v.end is None or era <= v.end):
                return v
        raise KeyError(f"{rule_id} has no version for {periods.iso(p)}")

    def param(self, name: str, key: str = "value"):
        return self.params[name][key]

    def period_param(self, name: str) -> int:
        return periods.parse(str(self.params[name]["value"]))

    def table(self) -> pd.DataFrame:
        """The decision table flattened: one row per rule and regime (the Rules sheet).

        ``key`` = ``<rule id>@<regime start YYYY-MM>`` is what a row formula looks up.
        """
        rows = []
        for r in self.rules:
            for era in self.eras:
                v = next((v for v in r.versions
                          if v.start <= era and (v.end is None or era <= v.end)), None)
                if v is None:
                    continue
                rows.append({
                    "key": f"{r.id}@{periods.iso(era)}", "id": r.id, "record": r.record,
                    "condition": r.condition, "kind": r.kind,
                    "from": periods.iso(v.start), "to": periods.iso(v.end) if v.end is not None else "",
                    "accept": v.accept, "reject": v.reject, "pending": v.pending, "no_action": v.no_action,
                    "code": v.code, "message": self.codes[v.code].message if v.code else "",
                    "declaration": "Y" if v.decl else "N", "specified": "Y" if r.specified else "N",
                    "addback": r.addback, "accept_reversal": r.accept_reversal,
                    "gstr3b_table": r.table, "bucket": r.bucket,
                    "source": ", ".join(r.source), "tag": r.tag, "notes": r.notes,
                })
        return pd.DataFrame(rows)

    def codes_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"code": c.code, "severity": c.severity, "quiet": c.quiet,
                              "rule": c.rule, "message": c.message, "bit": c.bit}
                             for c in self.codes.values()])


_OPTION = re.compile(r"\s*(?:(accept)(\s+with\s+itc\s+reduction\s+full)?|(reject|pending)(\s+with\s+remark)?)\s*",
                     re.IGNORECASE)
NEVER_SUGGESTED = ("probable",)
"""Match statuses whose policy must stay empty: a probable match (another number, or the same PAN under
another GSTIN) is for a person to confirm (issue 11), never an action copied into the Inward table."""


def policy_option(text: str) -> str | None:
    """A suggestion policy option in its one spelling, or None when it is not one (issue 11; the grammar of
    ``reconcile.yaml``'s ``policy`` and of the Config sheet's policy cells): ``Accept``, optionally ``with
    ITC Reduction Full`` (the G9 declaration); ``Reject`` or ``Pending``, optionally ``with remark`` - the
    offline upload carries a remark only with Reject and Pending (formats-and-market.md section 10; the
    export refuses REMARKS_ON_ACCEPT), and a declaration goes only with Accept.

    >>> policy_option("accept  with itc reduction full"), policy_option("Pending with remark")
    ('Accept with ITC Reduction Full', 'Pending with remark')
    >>> [policy_option(t) is None for t in ("Accept later", "No Action", "Accept with remark",
    ...                                      "Reject with ITC Reduction Full")]
    [True, True, True, True]
    """
    m = _OPTION.fullmatch(text)
    if m is None:
        return None
    if m.group(1):
        return "Accept" + (" with ITC Reduction Full" if m.group(2) else "")
    return m.group(3).capitalize() + (" with remark" if m.group(4) else "")


POLICY_GRAMMAR = "Accept or Accept with ITC Reduction Full; Reject or Pending, optionally 'with remark'"
"""The options a policy may hold, as the messages say it."""


@functools.lru_cache(maxsize=1)
def reconcile_policy() -> dict:
    """``reconcile.yaml``: matching tolerances, the fuzzy threshold and the suggestion policy (issue 11)."""
    data = yaml.safe_load(_text("reconcile.yaml"))
    for row in data["policy"]:
        if row["status"] in NEVER_SUGGESTED and row["options"]:
            raise ValueError(f"reconcile.yaml: {row['status']!r} must have no options: a person confirms it")
        for option in row["options"]:
            if policy_option(option) != option:
                raise ValueError(f"reconcile.yaml: policy option {option!r} of {row['status']!r} is not one of: "
                                 f"{POLICY_GRAMMAR}")
    return data


def _text(name: str) -> str:
    return resources.files("ims_excel.rules").joinpath(name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def rulebook() -> RuleBook:
    """Load and check the rule data (cached)."""
    texts = {n: _text(n) for n in ("decision_table.yaml", "reason_codes.yaml", "parameters.yaml")}
    table = yaml.safe_load(texts["decision_table.yaml"])
    codes_doc = yaml.safe_load(texts["reason_codes.yaml"])
    params = yaml.safe_load(texts["parameters.yaml"])
    codes = {}
    for bit, c in enumerate(codes_doc["codes"]):
        codes[c["code"]] = ReasonCode(c["code"], c["severity"], bool(c.get("state", False)),
                                      c.get("quiet", c["severity"]), c.get("rule", ""),
                                      c["message"], bit)
    rules = []
    for r in table["rules"]:
        versions = []
        for v in r["versions"]:
            for cell in ACTION_CELLS:
                if v[cell] not in ("Y", "N", "W", "F"):
                    raise ValueError(f"{r['id']}: action cell {cell}={v[cell]!r}")
            if v.get("code") and v["code"] not in codes:
                raise ValueError(f"{r['id']}: unknown reason code {v['code']}")
            versions.append(Version(periods.parse(str(v["from"])),
                                    periods.parse(str(v["to"])) if v.get("to") else None,
                                    v["A"], v["R"], v["P"], v["N"], v.get("code", ""),
                                    bool(v.get("decl", False))))
        rules.append(Rule(r["id"], r["record"], str(r["condition"]), r["kind"],
                          bool(r.get("specified", False)), r.get("addback", "none"),
                          r.get("accept_reversal", "none"), str(r.get("table", "")),
                          r.get("bucket", ""), tuple(r.get("source", [])), r.get("tag", ""),
                          r.get("notes", ""), tuple(versions)))
    digest = hashlib.sha256("".join(texts[k] for k in sorted(texts)).encode()).hexdigest()[:10]
    return RuleBook(tuple(rules), codes, params, f"2026.11-{digest}")
