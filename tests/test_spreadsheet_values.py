"""Issue 11 point 2: the case spreadsheet never coerces a value. Every coded column takes
only its listed values (or their codes), else the row is refused with a Chinese message
naming the row and the column; the template carries dropdowns and date formats."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from core import clock
from core.cases.rules import Indicator
from core.cases.spreadsheet import COLUMNS, row_to_case, template_xlsx
from core.cases.tables import CaseImport, CaseRecord
from tests.case_helpers import admitted, release_obligations


def values(**overrides: str) -> dict[str, str]:
    row = {"医院病例号": "SV-1", "患者匿名编号": "PK-77", "入院日期": "2026-03-09", "手术日期": "2026-03-10",
           "出院日期": "2026-03-16", "术者工号": "clinician_a", "助手工号": "", "适应症": "冠心病", "转归": "好转",
           "有无并发症": "否", "并发症情况": "", "有无不良事件": "否", "不良事件情况": "", "随访情况": "",
           "已签署知情同意书": "是"}
    return row | overrides


def problem_fields(**overrides: str) -> set[str]:
    case, problems = row_to_case(values(**overrides), "P1")
    assert (case is None) == bool(problems)
    return {p.field for p in problems}


@pytest.mark.rule("NAT-37")
@pytest.mark.parametrize("outcome", ["很好", "痊愈", "better", "其它"])
def test_nat37_an_outcome_outside_the_list_is_a_row_error_not_other(outcome):
    case, problems = row_to_case(values(转归=outcome), "P1")
    assert case is None
    assert [p.field for p in problems] == ["outcome"]
    assert f"现为“{outcome}”" in problems[0].message and "治愈" in problems[0].message


@pytest.mark.rule("NAT-37")
@pytest.mark.parametrize(("text", "code"), [("好转", "improved"), ("improved", "improved"), ("死亡", "death"),
                                            ("其他", "other"), ("", "")])
def test_nat37_listed_outcomes_and_their_codes_are_taken(text, code):
    case, problems = row_to_case(values(转归=text), "P1")
    assert problems == [] and case.outcome == code


@pytest.mark.rule("HOSP-15")
@pytest.mark.parametrize("header", ["有无并发症", "有无不良事件"])
@pytest.mark.parametrize("text", ["也许", "不详", "", "yes", "N"])
def test_hosp15_a_yes_no_column_takes_only_yes_or_no(header, text):
    field = next(f for h, f, _ in COLUMNS if h == header)
    assert problem_fields(**{header: text}) == {field}


@pytest.mark.rule("HOSP-15")
@pytest.mark.parametrize(("text", "flag"), [("是", True), ("有", True), ("1", True), ("否", False), ("无", False),
                                            ("0", False)])
def test_hosp15_yes_no_and_their_codes_are_taken(text, flag):
    case, problems = row_to_case(values(有无并发症=text, 并发症情况="血肿"), "P1")
    assert problems == [] and case.complication is flag


@pytest.mark.rule("HOSP-18")
def test_hosp18_consent_must_be_given_as_yes_or_no():
    assert problem_fields(已签署知情同意书="已签") == {"consent"}
    assert problem_fields(已签署知情同意书="") == {"consent"}


@pytest.mark.rule("NAT-37")
@pytest.mark.parametrize("text", ["2026-03-10 上午", "2026-03-10xyz", "10/03/2026", "2026-3", "昨天", "2026-02-30"])
def test_nat37_a_date_is_a_date_and_nothing_is_cut_away(text):
    assert problem_fields(手术日期=text) == {"operated_on"}


def test_slashed_dates_are_dates():
    case, problems = row_to_case(values(手术日期="2026/3/10"), "P1")
    assert problems == [] and case.operated_on == dt.date(2026, 3, 10)


def test_the_template_carries_dropdowns_and_date_formats():
    indicators = [Indicator(name="并发症发生率", kind="rate"), Indicator(name="手术时间", kind="number")]
    wb = load_workbook(io.BytesIO(template_xlsx(indicators, "测试技术")))
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    column = {h: ws.cell(row=1, column=i + 1).column_letter for i, h in enumerate(head)}
    lists = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            lists[rng.coord.split(":")[0]] = (dv.type, dv.formula1)
    assert lists[f"{column['转归']}2"] == ("list", '"治愈,好转,未愈,恶化,死亡,其他"')
    for header in ("有无并发症", "有无不良事件", "已签署知情同意书", "质控:并发症发生率"):
        assert lists[f"{column[header]}2"] == ("list", '"是,否"'), header
    for header in ("入院日期", "手术日期", "出院日期"):
        assert lists[f"{column[header]}2"][0] == "date", header
        assert ws[f"{column[header]}2"].number_format == "yyyy-mm-dd"
    assert f"{column['质控:手术时间']}2" not in lists and f"{column['适应症']}2" not in lists


# ---------------------------------------------------------------- the upload, end to end


@pytest.fixture(scope="module")
async def project(deployment):
    yield await admitted(deployment["host"].view(), tech_index=11)
    await release_obligations()


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    head = [h for h, _, _ in COLUMNS]
    writer.writerow(head)
    for row in rows:
        writer.writerow([row.get(h, "") for h in head])
    return out.getvalue().encode("utf-8-sig")


async def test_an_upload_with_a_value_outside_the_list_imports_nothing(deployment, login_as, project):
    client = await login_as("clinician_a")
    today = clock.today()
    dates = {"入院日期": (today - dt.timedelta(days=12)).isoformat(),
             "手术日期": (today - dt.timedelta(days=11)).isoformat(),
             "出院日期": (today - dt.timedelta(days=5)).isoformat()}
    data = _csv([values(医院病例号="SV-OK", **dates), values(医院病例号="SV-VERY-GOOD", 转归="很好", **dates),
                 values(医院病例号="SV-MAYBE", 患者匿名编号="PK-78", 有无并发症="也许", **dates)])
    response = await client.post("/cases/upload", data={"technology_code": f"P{project}"},
                                 files={"file": ("病例.csv", data, "text/csv")})
    assert response.status_code == 303
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = (await client.get(f"/cases/imports/{job_id}")).text
    assert "文件未导入" in page
    assert "第 3 行" in page and "很好" in page and "第 4 行" in page and "也许" in page
    assert (await CaseImport.select(CaseImport.status).where(CaseImport.id == job_id).first())["status"] == "failed"
    assert not await CaseRecord.exists().where(CaseRecord.external_id.is_in(["SV-OK", "SV-VERY-GOOD", "SV-MAYBE"]))
