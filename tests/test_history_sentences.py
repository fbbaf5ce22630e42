"""Issue 11 point 12: history and audit read as Chinese sentences with people's names —
no "step.vote", "upload/edit", "filing #1" or login names."""

from __future__ import annotations

import re

from core.messages import AUDIT_SENTENCES, audit_sentence
from tests.test_tenancy import filing_of

CODE_WORDS = re.compile(r"\b(upload|edit|submit|open|filing|step\.vote|medaffairs_a|clinician_a|admin\.)\b")


def _visible(html: str) -> str:
    """The text a person reads (tags, attributes and the admin's opened-on-demand details
    removed)."""
    html = re.sub(r"<details>.*?</details>", " ", html, flags=re.S)
    html = re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_every_action_reads_as_chinese():
    assert audit_sentence("filing.submit") == "提交了备案"
    assert audit_sentence("filing.something_new", "filing") == "修改了备案"
    assert audit_sentence("calendar.notice.delete") == "对节假日日历进行了“删除放假安排”操作" or \
        "节假日" in audit_sentence("calendar.notice.delete")
    for sentence in AUDIT_SENTENCES.values():
        assert not re.search(r"[A-Za-z_]", sentence), sentence


async def test_the_filing_history_names_people_and_says_what_they_did(deployment, login_as):
    filing = await filing_of(deployment, deployment["hospital_a"])
    ma = await login_as("medaffairs_a")
    page = (await ma.get(f"/filings/{filing['filing_id']}")).text
    history = re.search(r"办理记录.*?</ul>", page, flags=re.S).group(0)
    text = _visible(history)
    assert "赵医务 上传了备案材料" in text and "开启了备案" in text
    assert not CODE_WORDS.search(text), CODE_WORDS.search(text)


async def test_the_dashboard_and_the_audit_log_speak_chinese_with_names(deployment, login_as):
    await filing_of(deployment, deployment["hospital_a"])
    admin = await login_as("admin")
    for url in ("/", "/admin/audit"):
        text = _visible((await admin.get(url)).text)
        assert not CODE_WORDS.search(text), (url, CODE_WORDS.search(text))
        assert "系统管理员" in text or "赵医务" in text or "系统" in text
    ma = await login_as("medaffairs_a")
    text = _visible((await ma.get("/activity")).text)  # the institution's audit feed, off the dashboard
    assert "赵医务" in text and not CODE_WORDS.search(text)
