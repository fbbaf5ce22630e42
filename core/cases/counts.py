"""The one definition of a technology's cumulative cases in an institution (累计开展的病例数).

NAT-24 (the institution discloses, for each restricted technology, its name, filing date
and cumulative case count; a province repeats it with its own id through its plugin's
``disclosure_fields``) and NAT-40 (the departments' lists of filed institutions) show this
number; the QC pages and the annual QC report (HOSP-17) show the same number for the same
data. Every caller reads it here — never ``Filing.case_count`` (a running counter kept on
the filing for its audit trail) and never a count of its own.

Definition: the institution's case records of the technology — its key is
``core.lifecycle.rules.technology_key``: the catalogue code in upper case, or
``"P<project id>"`` for a technology outside the catalogue — **voided cases excluded**
(NAT-37: a voided case counts nowhere), read **as corrected** (a correction rewrites the
record and keeps the earlier version apart, ``core.cases.corrections``), every case since
the first one (cases performed before the filing was completed count too), optionally up
to and including ``until`` (the annual report's period end).

The signatures stay this simple on purpose: the implementation may move to summary tables
without any caller changing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from core.lifecycle.rules import technology_key

__all__ = ["cumulative_cases", "cumulative_cases_many", "technology_key"]


async def cumulative_cases(institution_id: int, key: str, until: dt.date | None = None) -> int:
    """Cumulative cases of technology ``key`` (a code or ``"P<project id>"``) in the institution."""
    found = await cumulative_cases_many([(institution_id, key)], until)
    return found[(int(institution_id), key.strip().upper())]


async def cumulative_cases_many(pairs: Iterable[tuple[int, str]], until: dt.date | None = None
                                ) -> dict[tuple[int, str], int]:
    """``cumulative_cases`` for many (institution id, technology key) pairs in one query;
    every pair asked for is in the answer (0 when it has no case), keyed with the key in
    upper case."""
    from core.cases.tables import CaseRecord

    wanted = sorted({(int(i), k.strip().upper()) for i, k in pairs if k and k.strip()})
    out = {pair: 0 for pair in wanted}
    if not wanted:
        return out
    match, args = _match(wanted)
    institutions = ", ".join(str(i) for i in sorted({i for i, _ in wanted}))
    # The summary table (core.qc.tables.CaseSummary, kept by triggers in every case write's
    # transaction) holds the whole months; a period ending mid-month adds that month's
    # days from the case rows.
    month_args: list = []
    partial = None
    if until is not None:
        last_whole = until if (until + dt.timedelta(days=1)).day == 1 else until.replace(day=1) - dt.timedelta(days=1)
        month_args = [f"{last_whole:%Y-%m}"]
        if last_whole != until:
            partial = (until.replace(day=1), until)
    rows = await CaseRecord.raw(f"""
        SELECT c.institution AS institution, c.technology_code AS code, c.project AS project, SUM(c.cases) AS n
        FROM case_summary c
        WHERE c.institution IN ({institutions}) AND ({match}) {"AND c.month <= {}" if month_args else ""}
        GROUP BY c.institution, c.technology_code, c.project""", *args, *month_args)
    if partial is not None:
        rows += await _from_rows(institutions, match, args, partial)
    for r in rows:
        pair = (r["institution"], technology_key(r["code"], r["project"]))
        if pair in out:
            out[pair] += int(r["n"] or 0)
    return out


def _match(wanted: list[tuple[int, str]]) -> tuple[str, list]:
    """The condition on ``c.technology_code`` / ``c.project`` for the keys asked for."""
    codes = sorted({k for _, k in wanted if not _project_key(k)})
    projects = sorted({int(k[1:]) for _, k in wanted if _project_key(k)})
    match, args = [], []
    if codes:
        match.append(f"c.technology_code IN ({', '.join('{}' for _ in codes)})")
        args.extend(codes)
    if projects:
        match.append(f"(c.technology_code = '' AND c.project IN ({', '.join(str(p) for p in projects)}))")
    return " OR ".join(match), args


async def _from_rows(institutions: str, match: str, args: list, between: tuple[dt.date, dt.date] | None
                     ) -> list[dict]:
    """The same count from the case rows themselves (voided excluded), optionally for the
    days ``between`` (first, last) only."""
    from core.cases.tables import CaseRecord
    from core.db import is_sqlite

    period, dates = "", []
    if between is not None:
        period = "AND c.operated_on >= {} AND c.operated_on <= {}"
        dates = [d.isoformat() if is_sqlite() else d for d in between]
    return await CaseRecord.raw(f"""
        SELECT c.institution AS institution, c.technology_code AS code, c.project AS project, COUNT(*) AS n
        FROM case_record c
        WHERE NOT c.voided AND c.institution IN ({institutions}) AND ({match}) {period}
        GROUP BY c.institution, c.technology_code, c.project""", *args, *dates)


def _project_key(key: str) -> bool:
    return key.startswith("P") and key[1:].isdigit()
