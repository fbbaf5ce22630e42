"""The demo's evaluation in progress (``clintech demo``): the province evaluates a technology
on EVAL-5 (一), has gathered an expert consensus, called clinical data from hospital A
(not yet answered), seated a panel of 7, and its first sitting gave no valid conclusion
(4 of 7) — the panel sits again. Demo data, not a real evaluation. Idempotent; through
the services, audited as the demo users. Run by the CLI after ``core.demo.load``."""

from __future__ import annotations

from core import clock
from core.errors import DomainError
from core.evaluation import service
from core.evaluation.tables import Evaluation
from core.lifecycle.demo import _actor
from core.plugins import HookView
from core.tenancy.tables import Institution

NAME = "演示：富血小板血浆（PRP）注射治疗技术"
# A one-page PDF the demo keeps as the gathered consensus (EVAL-6).
PDF = b"%" + b"PDF" + b"-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"
PANEL = [("王临床", "clinical"), ("李临床", "clinical"), ("张临床", "clinical"), ("赵管理", "management"),
         ("钱管理", "management"), ("孙伦理", "ethics"), ("周伦理", "ethics")]


async def load(hooks: HookView) -> list[str]:
    """Create the evaluation in progress if missing; one line saying where it stands."""
    if await Evaluation.exists().where(Evaluation.technology_name == NAME):
        return [f"评估进行中：{NAME}（专家论证，第1次会议未形成有效结论）"]
    today = clock.today()
    regulator = await _actor("regulator_province")
    hospital = await Institution.select(Institution.id).where(Institution.licence_no == "DEMO-A-0001").first()
    try:
        evaluation_id = await service.start(regulator, hooks, service.StartInput(
            trigger=1, domain="medical", technology_code="", technology_name=NAME,
            situation="演示数据：多个学会对该技术的适应证与疗效存在较大争议，需开展临床应用情况评估"), today)
        await service.add_file(regulator, evaluation_id, kind="consensus", title="演示：相关专家共识（示例文件）",
                               filename="专家共识.pdf", data=PDF)
        if hospital:
            await service.request_data(regulator, hooks, evaluation_id, [hospital["id"]],
                                       "演示数据：请报送近两年该技术全部病例的适应证、疗效评价与不良事件", today)
        version = (await Evaluation.select(Evaluation.version).where(Evaluation.id == evaluation_id).first())["version"]
        await service.seat_panel(regulator, evaluation_id, version, [
            service.ExpertInput(name=name, field=field, affiliation="演示省医学会") for name, field in PANEL])
        experts = [e["id"] for e in (await service.view(regulator, evaluation_id)).experts]
        votes = {e: ("agree", "同意") if i < 4 else ("disagree", "疗效证据不足") for i, e in enumerate(experts)}
        version = (await Evaluation.select(Evaluation.version).where(Evaluation.id == evaluation_id).first())["version"]
        await service.record_sitting(regulator, hooks, evaluation_id, version, service.SittingInput(
            held_on=today, outcome="strengthened", effective_on=today, votes=votes,
            recommendation="演示数据：建议制订该技术临床应用管理规范，明确适应证并加强质量控制",
            qc_indicators="适应证符合率\n术后并发症发生率"), today)
    except DomainError as exc:
        return [f"未能创建评估演示数据：{exc}"]
    return [f"评估进行中：{NAME}（专家论证，第1次会议未形成有效结论）"]
