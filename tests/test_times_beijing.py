"""Issue 11 point 5, beyond the pages (tests/test_timezone.py): stored in UTC, every time a
person reads is Beijing time — in the PDFs, the XLSX exports, the iCalendar feed and the
e-mail. Each test uses an instant late in the UTC evening, whose Beijing date is the next
day, so a UTC rendering cannot pass."""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import re
import socket

import icalendar

from core.timefmt import SHANGHAI

LATE_UTC = dt.datetime(2026, 3, 4, 17, 30, tzinfo=dt.UTC)  # 2026-03-05 01:30 in Beijing


async def test_the_application_pdf_dates_each_decision_by_its_beijing_day(deployment, login_as):
    from core.admission.tables import StepDecision
    from tests.case_helpers import admitted, release_obligations
    from tests.test_filing_web import pdf_text

    project_id = await admitted(deployment["host"].view(), tech_index=31)
    try:
        await StepDecision.update({StepDecision.at: LATE_UTC}).where(StepDecision.project == project_id)
        pdf = await (await login_as("medaffairs_a")).get(f"/admission/projects/{project_id}/pdf/form")
        assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf")
        text = pdf_text(pdf.content)
        assert "2026-03-05" in text and "2026-03-04" not in text
    finally:
        await release_obligations()


async def test_an_xlsx_export_gives_times_in_beijing(deployment, login_as):
    import openpyxl

    from core.cases import service as cases
    from core.outbox.tables import Delivery
    from tests.admission_helpers import actor
    from tests.case_helpers import admitted, case_input, release_obligations

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=32)  # restricted: its case is reported to the platform
    try:
        [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(project_id)])
        await Delivery.update({Delivery.created_at: LATE_UTC}).where(Delivery.id == result.delivery_id)
        export = await (await login_as("medaffairs_a")).get("/outbox", params={"format": "xlsx"})
        assert export.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
        header = [c.value for c in sheet[1]]
        row = next(r for r in sheet.iter_rows(min_row=2, values_only=True)
                   if r[header.index("编号")] == result.delivery_id)
        assert row[header.index("创建时间")] == "2026-03-05 01:30"
    finally:
        await release_obligations()


async def test_the_ical_feed_is_in_beijing_time(deployment, login_as, anon):
    """All-day due dates are Beijing dates; the feed says so, and any time in it is an
    absolute UTC instant (``…Z``) or Asia/Shanghai — never a floating local time."""
    client = await login_as("medaffairs_a")
    page = await client.post("/obligations/feed")
    path = "/ical/" + page.text.split("/ical/", 1)[1].split('"')[0]
    raw = (await anon.get(path)).content
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["x-wr-timezone"]) == "Asia/Shanghai"
    for line in raw.decode().split("\r\n"):
        value = line.split(":", 1)[-1]
        if re.fullmatch(r"\d{8}T\d{6}Z?", value):
            assert value.endswith("Z") or "TZID=Asia/Shanghai" in line, line
    await client.post("/obligations/feed/revoke")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_e_mail_is_dated_in_beijing_time():
    """The reminder e-mail's Date header is Beijing time (+0800), through a real SMTP server."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from core.inbox.mail import Mailer

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    controller = Controller(Collect(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        await Mailer(host="127.0.0.1", port=controller.port).send("yiwu@hospital-a.example.cn", "【待办提醒】测试",
                                                                 "截止日期：2026-03-09")
    finally:
        controller.stop()
    [message] = received
    sent = email.utils.parsedate_to_datetime(message["Date"])
    assert sent.utcoffset() == dt.timedelta(hours=8)
    assert sent >= before and sent.astimezone(SHANGHAI).tzinfo is not None
