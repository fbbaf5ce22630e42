"""Funnel plots (漏斗图) for the province's and cities' QC: each institution's complication or
mortality rate of one technology against the provincial rate, with 95% and 99.8% control
limits from exact binomial quantiles (``scipy.stats.binom``); institutions outside a limit
are named and drill down to their cases. Server-rendered SVG with the same numbers in a
table (readable without JavaScript).

The provincial rate is over every institution of the deployment (one deployment is one
province); the points are the institutions of the reader's region."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

import msgspec
import numpy as np
from scipy.stats import binom

from core.accounts.schemas import Actor
from core.errors import DomainError, NotFound, Problem
from core.tenancy.service import require_institution, visible_institution_ids

# Death at discharge or within 30 days of it (the follow-up, HOSP-15); the predicate of the
# partial index ``case_record_deaths`` (migration "Indexes of the regulator's pages at scale").
DEATHS = "(c.outcome = 'death' OR c.followup_died)"
MEASURES = {
    "complication": ("并发症发生率", "c.complication"),
    "mortality": ("死亡率", DEATHS),
}
LIMITS = (("95", 0.025, 0.975), ("99.8", 0.001, 0.999))
FLAGS = {"high998": "高于99.8%控制限（异常）", "high95": "高于95%控制限（警示）",
         "low998": "低于99.8%控制限", "low95": "低于95%控制限", "in": "控制限内"}


class Point(msgspec.Struct, frozen=True):
    institution_id: int
    name: str
    n: int
    events: int
    rate: float
    lo95: float
    hi95: float
    lo998: float
    hi998: float
    flag: str

    @property
    def flag_label(self) -> str:
        return FLAGS[self.flag]

    @property
    def outlier(self) -> bool:
        return self.flag != "in"


class Funnel(msgspec.Struct, frozen=True):
    code: str
    technology: str
    measure: str
    measure_label: str
    rate: float  # the provincial rate
    total_n: int
    total_events: int
    points: tuple[Point, ...]


def limits(n: int, p: float) -> dict[str, tuple[float, float]]:
    """The control limits of a rate over ``n`` cases around ``p``: ``{"95": (lo, hi), "99.8": …}``
    — binomial quantiles divided by ``n``: a rate above ``hi`` (below ``lo``) has a chance
    under 2.5% (0.1%) when the institution's true rate is ``p``."""
    return {name: (float(binom.ppf(low, n, p)) / n, float(binom.ppf(high, n, p)) / n) for name, low, high in LIMITS}


def limits_many(ns: list[int], p: float) -> list[dict[str, tuple[float, float]]]:
    """``limits`` for many case counts at once: one vectorised quantile call per limit
    (a call per institution cost ~1 ms each: a second for a province of 1,000)."""
    if not ns:
        return []
    n = np.asarray(ns, dtype=float)
    q = {(name, side): (binom.ppf(level, n, p) / n).tolist()
         for name, low, high in LIMITS for side, level in (("lo", low), ("hi", high))}
    return [{name: (float(q[(name, "lo")][k]), float(q[(name, "hi")][k])) for name, _, _ in LIMITS}
            for k in range(len(ns))]


def flag(rate: float, lim: dict[str, tuple[float, float]]) -> str:
    if rate > lim["99.8"][1]:
        return "high998"
    if rate < lim["99.8"][0]:
        return "low998"
    if rate > lim["95"][1]:
        return "high95"
    if rate < lim["95"][0]:
        return "low95"
    return "in"


def _check(actor: Actor, measure: str) -> None:
    if not (actor.is_admin or actor.has("regulator", "qc_center")):
        raise NotFound("未找到")
    if measure not in MEASURES:
        raise DomainError(Problem("请选择指标：并发症发生率或死亡率", "measure"))


async def technologies(actor: Actor, *, from_cases: bool = False) -> list[dict]:
    """The technologies with cases in the reader's region, most cases first — from the
    summary ``case_summary`` (kept by triggers; voided cases are not in it), or with
    ``from_cases`` from the case rows (what the page read before; a test proves them equal)."""
    from core.cases.tables import CaseRecord

    if not (actor.is_admin or actor.has("regulator", "qc_center")):
        raise NotFound("未找到")
    ids = await visible_institution_ids(actor)
    where = "" if ids is None else f"AND c.institution IN ({', '.join(str(int(i)) for i in ids) or '-1'})"
    if from_cases:
        return await CaseRecord.raw(f"""
            SELECT c.technology_code AS code, MAX(c.technology_name) AS name, COUNT(*) AS n
            FROM case_record c WHERE NOT c.voided AND c.technology_code <> '' {where}
            GROUP BY c.technology_code ORDER BY n DESC, code""")
    # A group whose cases were all voided keeps a row of zeros: its name counts for nothing.
    rows = await CaseRecord.raw(f"""
        SELECT c.technology_code AS code, MAX(CASE WHEN c.cases > 0 THEN c.technology_name END) AS name,
               SUM(c.cases) AS n
        FROM case_summary c WHERE c.due = '' AND c.technology_code <> '' {where}
        GROUP BY c.technology_code HAVING SUM(c.cases) > 0 ORDER BY n DESC, code""")
    return [{"code": r["code"], "name": r["name"], "n": int(r["n"])} for r in rows]


async def _rows(code: str, measure: str, from_cases: bool) -> list[dict]:
    """Per institution with cases of ``code``: name, cases, events, the technology's name.
    From ``case_summary`` (complications) and, for mortality, the partial index of deaths
    (``case_record_deaths``); with ``from_cases``, one grouped query over the case rows."""
    from core.cases.tables import CaseRecord

    _, expr = MEASURES[measure]
    if from_cases:
        return await CaseRecord.raw(f"""
            SELECT c.institution AS institution, i.name AS name, COUNT(*) AS n,
                   SUM(CASE WHEN {expr} THEN 1 ELSE 0 END) AS events, MAX(c.technology_name) AS technology
            FROM case_record c JOIN institution i ON i.id = c.institution
            WHERE c.technology_code = {{}} AND NOT c.voided
            GROUP BY c.institution, i.name""", code)
    rows = await CaseRecord.raw("""
        SELECT s.institution AS institution, i.name AS name, SUM(s.cases) AS n, SUM(s.complications) AS events,
               MAX(CASE WHEN s.cases > 0 THEN s.technology_name END) AS technology
        FROM case_summary s JOIN institution i ON i.id = s.institution
        WHERE s.technology_code = {} AND s.due = ''
        GROUP BY s.institution, i.name HAVING SUM(s.cases) > 0""", code)
    if measure == "mortality":
        # The predicate is the partial index's, word for word (the planner matches it).
        deaths = {r["institution"]: int(r["n"]) for r in await CaseRecord.raw(f"""
            SELECT c.institution AS institution, COUNT(*) AS n FROM case_record c
            WHERE c.technology_code = {{}} AND NOT c.voided AND {DEATHS} GROUP BY c.institution""", code)}
        rows = [{**r, "events": deaths.get(r["institution"], 0)} for r in rows]
    return rows


async def funnel(actor: Actor, code: str, measure: str = "complication", *, from_cases: bool = False) -> Funnel:
    """The funnel of ``code``'s ``measure`` for the reader's region (regulators, QC centre)."""
    _check(actor, measure)
    label, _ = MEASURES[measure]
    rows = await _rows(code, measure, from_cases)
    total_n = sum(int(r["n"]) for r in rows)
    total_events = sum(int(r["events"] or 0) for r in rows)
    p = total_events / total_n if total_n else 0.0
    ids = await visible_institution_ids(actor)
    seen = set(ids) if ids is not None else None
    shown = [r for r in rows if seen is None or r["institution"] in seen]
    points = []
    for r, lim in zip(shown, limits_many([int(r["n"]) for r in shown], p), strict=True):
        n, events = int(r["n"]), int(r["events"] or 0)
        rate = events / n
        points.append(Point(institution_id=r["institution"], name=r["name"], n=n, events=events, rate=rate,
                            lo95=lim["95"][0], hi95=lim["95"][1], lo998=lim["99.8"][0], hi998=lim["99.8"][1],
                            flag=flag(rate, lim)))
    points.sort(key=lambda x: (not x.outlier, -x.rate, x.name))
    return Funnel(code=code, technology=next((r["technology"] for r in rows), "") or "", measure=measure,
                  measure_label=label, rate=p, total_n=total_n, total_events=total_events, points=tuple(points))


async def institution_cases(actor: Actor, code: str, measure: str, institution_id: int) -> dict:
    """The drill-down: one institution's cases of ``code``, those counted by ``measure`` first."""
    from core.cases.tables import CaseRecord

    _check(actor, measure)
    institution = await require_institution(actor, institution_id)
    _, expr = MEASURES[measure]
    rows = await CaseRecord.raw(f"""
        SELECT c.id AS id, c.external_id AS external_id, c.operated_on AS operated_on, c.outcome AS outcome,
               CASE WHEN {expr} THEN 1 ELSE 0 END AS event
        FROM case_record c WHERE c.institution = {{}} AND c.technology_code = {{}} AND NOT c.voided
        ORDER BY event DESC, c.operated_on DESC, c.id DESC LIMIT 500""", institution_id, code)
    return {"institution": institution, "cases": rows}


# ---------------------------------------------------------------- the chart


def svg(f: Funnel, *, width: int = 720, height: int = 360) -> str:
    """The funnel as SVG: the provincial rate, the 95% and 99.8% limits as curves over the
    number of cases, one dot per institution (outliers red, named, linked to the drill-down)."""
    pad_l, pad_r, pad_t, pad_b = 52, 20, 30, 40
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    n_max = max([pt.n for pt in f.points] + [10]) * 1.1
    y_max = min(1.0, max([pt.rate for pt in f.points] + [f.rate * 3, 0.05]) * 1.15)

    def x(n: float) -> float:
        return pad_l + inner_w * n / n_max

    def y(rate: float) -> float:
        return pad_t + inner_h * (1 - min(rate, y_max) / y_max)

    title = f"{f.code} {f.technology}：{f.measure_label}漏斗图（全省 {f.rate * 100:.1f}%）"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart funnel" role="img" viewBox="0 0 {width} {height}" '
           f'width="100%" aria-labelledby="funnel-title"><title id="funnel-title">{escape(title)}</title>',
           f'<text x="{pad_l}" y="18" font-size="13">{escape(title)}</text>',
           f'<line x1="{pad_l}" y1="{pad_t + inner_h}" x2="{pad_l + inner_w}" y2="{pad_t + inner_h}" stroke="#888"/>',
           f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + inner_h}" stroke="#888"/>',
           f'<text x="{pad_l + inner_w / 2}" y="{height - 6}" font-size="11" text-anchor="middle">病例数</text>',
           f'<text x="4" y="{pad_t - 6}" font-size="11">{escape(f.measure_label)}</text>']
    for i in range(5):
        rate = y_max * i / 4
        out.append(f'<text x="{pad_l - 4}" y="{y(rate) + 4:.1f}" font-size="10" text-anchor="end">'
                   f'{rate * 100:.0f}%</text>')
    steps = sorted({max(1, round(n_max * k / 60)) for k in range(1, 61)})
    curves = {key: ([], []) for key in ("95", "99.8")}
    for n, lim in zip(steps, limits_many(steps, f.rate), strict=True):
        for key in curves:
            curves[key][0].append(f"{x(n):.1f},{y(lim[key][0]):.1f}")
            curves[key][1].append(f"{x(n):.1f},{y(lim[key][1]):.1f}")
    styles = {"95": 'stroke="#e67e22" stroke-dasharray="4 3"', "99.8": 'stroke="#c0392b"'}
    for key, (low, high) in curves.items():
        for name, pts in (("lower", low), ("upper", high)):
            out.append(f'<polyline class="limit limit-{key.replace(".", "")}-{name}" fill="none" {styles[key]} '
                       f'points="{" ".join(pts)}"><title>{key}% 控制限</title></polyline>')
    out.append(f'<line class="provincial" x1="{pad_l}" y1="{y(f.rate):.1f}" x2="{pad_l + inner_w}" '
               f'y2="{y(f.rate):.1f}" stroke="#1f5f99"><title>全省 {f.rate * 100:.1f}%</title></line>')
    for pt in f.points:
        colour = "#c0392b" if pt.outlier else "#1f5f99"
        out.append(f'<a href="{escape(_drill(f, pt.institution_id))}"><circle class="institution{" outlier" if pt.outlier else ""}" '
                   f'data-institution="{pt.institution_id}" cx="{x(pt.n):.1f}" cy="{y(pt.rate):.1f}" r="5" '
                   f'fill="{colour}"><title>{escape(pt.name)}：{pt.events}/{pt.n}，{pt.rate * 100:.1f}%，'
                   f'{escape(pt.flag_label)}</title></circle></a>')
        if pt.outlier:
            out.append(f'<text x="{x(pt.n) + 7:.1f}" y="{y(pt.rate) + 4:.1f}" font-size="10" fill="#c0392b">'
                       f'{escape(pt.name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _drill(f: Funnel, institution_id: int) -> str:
    return f"/analytics/funnel/{quote(f.code, safe='')}/institutions/{institution_id}?measure={f.measure}"
