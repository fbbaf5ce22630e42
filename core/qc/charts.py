"""Server-rendered SVG charts: readable without JavaScript, with a text title and
labelled values (a screen reader and a printout see the same numbers as the table)."""

from __future__ import annotations

from html import escape


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def monthly(points: list[dict], *, title: str, width: int = 720, height: int = 260) -> str:
    """Bars of cases per month (``cases``) and a line of the complication rate in percent
    (``complication_rate``), one point per ``month`` ("2026-03")."""
    pad_l, pad_r, pad_t, pad_b = 44, 44, 28, 40
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    n = max(len(points), 1)
    top = max([p["cases"] for p in points] + [1])
    rate_top = max([p.get("complication_rate") or 0 for p in points] + [10.0])
    step = inner_w / n
    bar_w = max(step * 0.6, 2)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="100%" aria-labelledby="chart-title"><title id="chart-title">{escape(title)}</title>',
           f'<text x="{pad_l}" y="16" font-size="13">{escape(title)}</text>',
           f'<line x1="{pad_l}" y1="{pad_t + inner_h}" x2="{pad_l + inner_w}" y2="{pad_t + inner_h}" stroke="#888"/>',
           f'<text x="4" y="{pad_t + 10}" font-size="10" fill="#1f5f99">例数</text>',
           f'<text x="{width - pad_r + 4}" y="{pad_t + 10}" font-size="10" fill="#c0392b">并发症%</text>']
    line = []
    for i, p in enumerate(points):
        x = pad_l + i * step + (step - bar_w) / 2
        h = inner_h * p["cases"] / top
        y = pad_t + inner_h - h
        out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#1f5f99">'
                   f'<title>{escape(p["month"])}：{p["cases"]} 例，并发症发生率 '
                   f'{_num(p.get("complication_rate") or 0)}%</title></rect>')
        out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{p["cases"]}</text>')
        if n <= 24 or i % max(n // 12, 1) == 0:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{pad_t + inner_h + 14}" font-size="10" '
                       f'text-anchor="middle">{escape(p["month"][2:])}</text>')
        ry = pad_t + inner_h - inner_h * (p.get("complication_rate") or 0) / rate_top
        line.append(f"{x + bar_w / 2:.1f},{ry:.1f}")
    if line:
        out.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="#c0392b" stroke-width="2"/>')
    if not points:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#888">暂无病例</text>')
    out.append("</svg>")
    return "".join(out)


def ranking(items: list[dict], *, title: str, value: str, unit: str = "%", width: int = 720) -> str:
    """Horizontal bars: one per item (``label``), length by ``item[value]``."""
    row_h, pad_l, pad_t = 22, 220, 26
    height = pad_t + row_h * max(len(items), 1) + 10
    top = max([float(i.get(value) or 0) for i in items] + [1.0])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
           f'width="100%"><title>{escape(title)}</title><text x="4" y="16" font-size="13">{escape(title)}</text>']
    for k, item in enumerate(items):
        v = float(item.get(value) or 0)
        y = pad_t + k * row_h
        w = (width - pad_l - 60) * v / top
        out.append(f'<text x="{pad_l - 6}" y="{y + 14}" font-size="11" text-anchor="end">{escape(item["label"][:18])}</text>')
        out.append(f'<rect x="{pad_l}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="#1f5f99">'
                   f'<title>{escape(item["label"])}：{_num(v)}{unit}</title></rect>')
        out.append(f'<text x="{pad_l + w + 4:.1f}" y="{y + 14}" font-size="11">{_num(v)}{unit}</text>')
    out.append("</svg>")
    return "".join(out)
