"""Reading a year's State Council holiday notice as the admin types or pastes it.

Pure functions, no I/O. One line per holiday period or make-up working day, in
either of two forms (both may be mixed):

    2027-01-01~2027-01-03 元旦
    2027-02-07 调休上班
    二、春节：2月6日（周六）至14日（周日）放假调休，共9天。2月20日（周六）上班。

A line names dates (``2027-01-01``, ``2027/1/1``, ``2027年1月1日``, ``1月1日``),
ranges (``~``, ``至``, ``到``; the end may be just ``14日``) and lists (``、``). A part
mentioning 上班/补班 lists make-up working days (调休上班); any other part lists rest
days of the holiday named on the line (``元旦``, or the heading ``春节：``). A make-up
day with no name belongs to the nearest holiday of the notice. Empty lines and lines
starting with ``#`` are skipped.

The checks (CAL-1: the State Council's notice is the source of holidays and make-up
days; CAL-4: entering it makes the year exact): every date exists and lies in the
stated year; a make-up working day falls on a Saturday or Sunday; no day is both a
holiday and a make-up day; no day is listed twice. Problems name the line, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import re

import msgspec

from core.calendar import weekday_zh
from core.errors import Problem

MAX_LINES = 200
MAX_RANGE_DAYS = 31
NOTE_LENGTH = 60

_ENUMERATOR = re.compile(r"^\s*(?:[一二三四五六七八九十]+\s*[、.．]|\d{1,2}\s*[、．]|\d{1,2}\.\s)\s*")
_WEEKDAY = re.compile(r"[（(]\s*(?:周|星期|礼拜)[一二三四五六日天]\s*[）)]")
_HEADING = re.compile(r"^(?P<name>[^\d：:~～。；;]{1,30}?)\s*[：:]\s*")
# A date does not swallow the spaces after it (unless 日 follows): "2027-10-01 - 2027-10-03"
# needs them to read its " - " as a range.
_FULL = re.compile(r"(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})(?:\s*日)?")
_MONTH_DAY = re.compile(r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})(?:\s*日)?")
_DAY_ONLY = re.compile(r"(?P<d>\d{1,2})\s*日")
_RANGE_SEP = re.compile(r"\s*(?:~|～|〜|至|到|—|–|\s-\s|--)\s*")
_LIST_SEP = re.compile(r"\s*[、,，和及]\s*")
_SEGMENT_SEP = re.compile(r"[。；;]")
_WORKING = re.compile(r"上班|补班")
_FILLER = re.compile(r"放假调休|调休上班|调休|放假|休息|上班|补班|共\s*\d+\s*天|与周末连休|[，,、\s\"“”'‘’()（）]")

LABEL_TEXT = "放假安排"


class NoticeDay(msgspec.Struct, frozen=True):
    """One day of a notice: a rest day (``working=False``) or a make-up working day."""

    day: dt.date
    working: bool
    note: str
    line: int


def _problem(line: int, message: str) -> Problem:
    return Problem(f"第{line}行：{message}", "text", "CAL-1")


def parse_year(value: object) -> tuple[int | None, list[Problem]]:
    """The notice's year, from a form value."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None, [Problem("请填写年份，例如 2027", "year")]
    if not re.fullmatch(r"\d{4}", text) or not 2000 <= int(text) <= 2100:
        return None, [Problem("年份应为 2000 至 2100 之间的四位数字，例如 2027", "year")]
    return int(text), []


class _Cursor:
    """Reads date items from the front of a segment."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def match(self, pattern: re.Pattern) -> re.Match | None:
        found = pattern.match(self.text, self.pos)
        if found:
            self.pos = found.end()
        return found

    @property
    def rest(self) -> str:
        return self.text[self.pos :]


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _read_items(segment: str, year: int, line: int, problems: list[Problem]) -> tuple[list[dt.date], str] | None:
    """The dates at the front of ``segment`` and the text after them; None if it has no
    date, or when a problem was recorded (the caller looks at ``problems`` first)."""
    cur = _Cursor(segment)
    days: list[dt.date] = []
    while True:
        cur.skip_spaces()
        found = cur.match(_FULL) or cur.match(_MONTH_DAY)  # a failed match does not move the cursor
        if not found:
            break
        groups = found.groupdict()
        y = int(groups.get("y") or year)
        start = _make_date(y, int(groups["m"]), int(groups["d"]))
        if start is None:
            problems.append(_problem(line, f"日期「{found.group(0).strip()}」不存在"))
            return None
        end = start
        before_sep = cur.pos
        if cur.match(_RANGE_SEP):
            found_end = cur.match(_FULL) or cur.match(_MONTH_DAY) or cur.match(_DAY_ONLY)
            if not found_end:
                cur.pos = before_sep
            else:
                g = found_end.groupdict()
                end = _make_date(int(g.get("y") or start.year), int(g.get("m") or start.month), int(g["d"]))
                if end is None:
                    problems.append(_problem(line, f"日期「{found_end.group(0).strip()}」不存在"))
                    return None
                if end < start:
                    problems.append(_problem(line, f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}"))
                    return None
                if (end - start).days + 1 > MAX_RANGE_DAYS:
                    problems.append(_problem(line, f"{start.isoformat()} 至 {end.isoformat()} 超过 {MAX_RANGE_DAYS} 天，请检查日期"))
                    return None
        for d in (start, end):
            if d.year != year:
                problems.append(_problem(line, f"{d.isoformat()} 不在 {year} 年内（一次录入一个年份的通知）"))
                return None
        days.extend(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        after_item = cur.pos
        if not cur.match(_LIST_SEP):
            break
        cur.skip_spaces()
        if not (_FULL.match(cur.text, cur.pos) or _MONTH_DAY.match(cur.text, cur.pos)):
            cur.pos = after_item
            break
    if not days:
        return None
    return days, cur.rest


def _clean_name(text: str) -> str:
    return _FILLER.sub("", text).strip("：:，,。 ")


def parse_notice(year: int, text: str) -> tuple[list[NoticeDay], list[Problem]]:
    """Read a year's notice: its days (holidays and make-up working days, in date
    order) and the problems found. Any problem means nothing may be saved."""
    problems: list[Problem] = []
    lines = (text or "").splitlines()
    if len([ln for ln in lines if ln.strip()]) > MAX_LINES:
        return [], [Problem(f"一次最多录入 {MAX_LINES} 行", "text")]
    entries: list[NoticeDay] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = _WEEKDAY.sub("", _ENUMERATOR.sub("", line, count=1))
        heading = ""
        found = _HEADING.match(line)  # a heading has no digit: a line starting with a date has none
        if found:
            heading = found.group("name").strip()
            line = line[found.end() :]
        found_any = False
        for segment in _SEGMENT_SEP.split(line):
            if not segment.strip():
                continue
            before = len(problems)
            read = _read_items(segment, year, number, problems)
            if len(problems) > before:
                found_any = True
                break
            if read is None:
                if _clean_name(segment) and not found_any:
                    problems.append(_problem(number, f"未找到日期：「{segment.strip()[:30]}」"
                                                     "（日期写作 2027-01-01 或 1月1日；说明文字请删除或在行首加 #）"))
                    found_any = True
                    break
                if _clean_name(segment):
                    problems.append(_problem(number, f"无法识别「{segment.strip()[:30]}」（每段应以日期开头）"))
                    break
                continue
            found_any = True
            days, rest = read
            working = bool(_WORKING.search(rest))
            name = heading or _clean_name(rest)
            if not working and not name:
                problems.append(_problem(number, "请写明假日名称，例如「2027-01-01~2027-01-03 元旦」"))
                break
            if len(name) > NOTE_LENGTH:
                problems.append(_problem(number, f"名称过长（最多 {NOTE_LENGTH} 字）"))
                break
            entries.extend(NoticeDay(d, working, name, number) for d in days)
        if not found_any:
            problems.append(_problem(number, "未找到日期"))
    days, more = _check(year, entries, require_holiday=not problems)
    problems = sorted([*problems, *more], key=_line_of)
    return ([], problems) if problems else (days, [])


def _line_of(p: Problem) -> int:
    found = re.match(r"第(\d+)行", p.message)
    return int(found.group(1)) if found else 0


def _check(year: int, entries: list[NoticeDay], require_holiday: bool) -> tuple[list[NoticeDay], list[Problem]]:
    problems: list[Problem] = []
    if require_holiday and not any(not e.working for e in entries):
        problems.append(Problem(f"未填写任何假日：请按通知逐行填写 {year} 年的放假日期和调休上班日", "text", "CAL-1"))
    seen: dict[dt.date, NoticeDay] = {}
    for e in entries:
        if e.working and e.day.weekday() < 5:
            problems.append(_problem(e.line, f"调休上班日 {e.day.isoformat()} 是{weekday_zh(e.day)}，"
                                             "调休上班日必须是周六或周日"))
        other = seen.get(e.day)
        if other is None:
            seen[e.day] = e
            continue
        if other.working != e.working:
            problems.append(_problem(e.line, f"{e.day.isoformat()} 既列为假日又列为调休上班日"
                                             f"（见第{other.line}行和第{e.line}行）"))
        else:
            where = "同一行" if other.line == e.line else f"第{other.line}行"
            problems.append(_problem(e.line, f"{e.day.isoformat()} 重复列出（已见于{where}）"))
    if problems:
        return [], problems
    holidays = [e for e in entries if not e.working]
    out = []
    for e in entries:
        if e.working and not e.note and holidays:
            nearest = min(holidays, key=lambda h: (abs((h.day - e.day).days), h.day))
            e = NoticeDay(e.day, True, nearest.note, e.line)
        out.append(e)
    return sorted(out, key=lambda e: e.day), []


def notice_text(days: list[tuple[dt.date, bool, str]]) -> str:
    """Days back to the line format (holiday ranges and make-up days), for editing."""
    lines: list[str] = []
    run: list[tuple[dt.date, str]] = []

    def flush() -> None:
        if run:
            first, last = run[0][0], run[-1][0]
            span = first.isoformat() if first == last else f"{first.isoformat()}~{last.isoformat()}"
            lines.append(f"{span} {run[0][1]}")
            run.clear()

    for day, working, note in sorted(days):
        if working:
            flush()
            lines.append(f"{day.isoformat()} 调休上班 {note}".rstrip())
            continue
        if run and (day - run[-1][0]).days == 1 and run[-1][1] == note:
            run.append((day, note))
        else:
            flush()
            run.append((day, note))
    flush()
    return "\n".join(lines)
