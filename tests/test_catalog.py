"""Catalogues: the data as the seeds give it, loading and its errors, citing, switching
plugins, the Henan deployment and the admin import (service level, both databases)."""

from __future__ import annotations

import datetime as dt
import secrets
import types

import pytest

from core import hookimpl
from core.accounts.schemas import SYSTEM
from core.catalog import files, rules
from core.catalog import service as catalog
from core.catalog.loader import CatalogLoadError, load_dir
from core.catalog.tables import CatalogEdition, CatalogTechnology
from core.errors import DomainError, NotFound
from core.plugins import PluginHost
from core.system import service as system

TODAY = dt.date(2026, 11, 25)
BEFORE_2022 = dt.date(2021, 6, 1)


def by_code(items, edition_key):
    return {t.code: t for t in items if t.edition_key == edition_key}


async def edition_items(hooks, uid):
    return await catalog.search(hooks, catalog.CatalogQuery(edition=uid), on=TODAY)


# ---------------------------------------------------------------- the data, per edition


@pytest.mark.rule("HOSP-2")
async def test_national_2022_edition_is_g01_to_g12_as_seed_000_lists_it_HOSP_2(deployment):
    hooks = deployment["host"].view()
    items = await edition_items(hooks, "national:national-restricted-2022")
    assert [t.code for t in items] == [f"G{i:02d}" for i in range(1, 13)]
    g = {t.code: t for t in items}
    assert g["G01"].name == "异基因造血干细胞移植技术"
    assert g["G05"].name == "性别重置技术"
    assert g["G08"].name == "肿瘤消融治疗技术"
    assert g["G11"].name == "体外膜肺氧合（ECMO）技术"
    assert g["G12"].name == "自体器官移植技术"
    assert all(t.tech_class == "restricted" and t.scope == "national" for t in items)
    assert g["G01"].effective_on == dt.date(2022, 4, 20) and g["G01"].superseded_on is None
    assert "2022年版" in g["G01"].specification


@pytest.mark.rule("JL-11")
async def test_national_2017_edition_is_jilin_annex_1_g01_to_g15_JL_11(deployment):
    hooks = deployment["host"].view()
    items = await edition_items(hooks, "national:national-restricted-2017")
    assert [t.code for t in items] == [f"G{i:02d}" for i in range(1, 16)]
    g = {t.code: t for t in items}
    assert g["G01"].name == "造血干细胞移植技术"
    assert g["G05"].name == "同种异体皮肤移植技术"
    assert g["G09"].name == "肿瘤深部热疗和全身热疗技术"
    assert g["G15"].name == "口腔颌面部肿瘤颅颌联合根治技术"
    assert g["G01"].superseded_on == dt.date(2022, 4, 20) and not g["G01"].current


@pytest.mark.rule("JL-11")
async def test_jilin_provincial_2021_has_s1_to_s21_with_s1_s17_limited_to_grade_3_and_4_JL_11(deployment):
    hooks = deployment["host"].view()
    items = await edition_items(hooks, "provincial:jilin-provincial-2021")
    assert [t.code for t in items] == [f"S{i}" for i in range(1, 22)]
    s = {t.code: t for t in items}
    assert s["S1"].name == "心血管疾病介入诊疗技术" and s["S12"].name == "脊柱内镜诊疗技术"
    assert s["S21"].name == "医用高压氧治疗技术"
    assert all(s[f"S{i}"].surgery_levels == (3, 4) for i in range(1, 18))
    assert all(s[f"S{i}"].surgery_levels == () for i in range(18, 22))
    assert all(t.scope == "provincial" and t.tech_class == "restricted" and t.current for t in items)


@pytest.mark.rule("NAT-9")
@pytest.mark.rule("NAT-5")
async def test_prohibited_technologies_the_sources_name_NAT_9_HOSP_2(deployment):
    """NAT-5 negative list: a prohibited technology cannot be cited for new work."""
    hooks = deployment["host"].view()
    items = await edition_items(hooks, "national:national-prohibited")
    names = {t.name for t in items}
    for name in ("克隆治疗技术", "代孕技术", "基因治疗技术", "中枢神经系统手术戒毒", "立体定向手术治疗精神病技术",
                 "瘤苗治疗技术", "除医疗目的以外的肢体延长术", "角膜放射状切开术"):
        assert name in names
    assert all(t.tech_class == "prohibited" for t in items)
    surrogacy = next(t for t in items if t.name == "代孕技术")
    with pytest.raises(DomainError) as refused:
        await catalog.cite(hooks, surrogacy.id, on=TODAY)
    assert any(p.rule == "NAT-9" for p in refused.value.problems)
    assert (await catalog.cite(hooks, surrogacy.id, on=TODAY, allow_prohibited=True)).name == "代孕技术"


# ---------------------------------------------------------------- editions over time


async def test_2022_supersedes_2017_for_new_work_while_a_record_citing_2017_keeps_it(deployment):
    hooks = deployment["host"].view()
    now = by_code(await catalog.choices(hooks, on=TODAY), "national-restricted-2022")
    assert now["G01"].name == "异基因造血干细胞移植技术"
    assert not [t for t in await catalog.choices(hooks, on=TODAY) if t.edition_key == "national-restricted-2017"]
    # A record made in 2021 cited the 2017 edition's G01 …
    then = by_code(await catalog.choices(hooks, on=BEFORE_2022), "national-restricted-2017")
    cited = await catalog.cite(hooks, then["G01"].id, on=BEFORE_2022)
    assert not [t for t in await catalog.choices(hooks, on=BEFORE_2022) if t.edition_key == "national-restricted-2022"]
    # … new work may no longer cite it, and the record still shows what it cited.
    with pytest.raises(DomainError):
        await catalog.cite(hooks, cited.id, on=TODAY)
    shown = await catalog.get_cited(cited.id, hooks, on=TODAY)
    assert (shown.code, shown.name, shown.edition_key) == ("G01", "造血干细胞移植技术", "national-restricted-2017")
    assert not shown.current
    history = await catalog.history(cited.id)
    assert [h.edition_title for h in history if h.same_code] == ["国家限制类技术目录（2017年版，15项）",
                                                                  "国家限制类技术目录（2022年版）"]


@pytest.mark.rule("JL-11")
async def test_switching_jilin_off_removes_s_items_from_choices_and_on_brings_them_back_JL_11(deployment):
    host = deployment["host"]
    s_codes = lambda items: {t.code for t in items if t.edition_key == "jilin-provincial-2021"}  # noqa: E731
    before = await catalog.choices(host.view(await system.disabled_plugins()), on=TODAY)
    assert len(s_codes(before)) == 21
    s5 = next(t for t in before if t.code == "S5")
    await system.set_plugin_enabled(SYSTEM, host, "jilin", False)
    off = host.view(await system.disabled_plugins())
    assert s_codes(await catalog.choices(off, on=TODAY)) == set()
    assert {t.code for t in await catalog.choices(off, on=TODAY)} >= {"G01", "G12"}  # hospital_default's
    with pytest.raises(DomainError):
        await catalog.cite(off, s5.id, on=TODAY)
    kept = await catalog.get_cited(s5.id, off)
    assert kept.name == "呼吸内镜诊疗技术" and not kept.available
    await system.set_plugin_enabled(SYSTEM, host, "jilin", True)
    on = host.view(await system.disabled_plugins())
    assert len(s_codes(await catalog.choices(on, on=TODAY))) == 21
    assert (await catalog.cite(on, s5.id, on=TODAY)).code == "S5"


async def test_choices_filter_by_class_and_text(deployment):
    hooks = deployment["host"].view()
    restricted = await catalog.choices(hooks, classes=("restricted",), on=TODAY)
    assert restricted and all(t.tech_class == "restricted" for t in restricted)
    found = await catalog.choices(hooks, q="内镜", on=TODAY)
    assert {t.code for t in found} >= {"S5", "S17"} and all("内镜" in t.name for t in found)
    assert [t.name for t in await catalog.choices(hooks, q="g11", on=TODAY)] == ["体外膜肺氧合（ECMO）技术"]


async def test_get_cited_of_an_unknown_id_is_not_found(deployment):
    with pytest.raises(NotFound):
        await catalog.get_cited(987654321)


async def test_sync_is_idempotent_and_national_editions_come_from_the_national_plugin(deployment):
    henan = PluginHost(("henan", "hospital_default"))
    report = await catalog.sync(henan)
    # The built-in national plugin ships them; no province or hospital plugin re-ships them.
    assert report.suppliers["national:national-restricted-2022"] == ["national"]
    count = await CatalogEdition.count().where(CatalogEdition.uid == "national:national-restricted-2022")
    assert count == 1
    before = await CatalogTechnology.count()
    await catalog.sync(deployment["host"])
    assert await CatalogTechnology.count() == before


@pytest.mark.rule("HN-2.1")
async def test_henan_deployment_shows_the_national_list_HN_2_1(deployment):
    henan = PluginHost(("henan", "hospital_default"))
    hooks = henan.view()
    items = await catalog.choices(hooks, classes=("restricted",), on=TODAY)
    assert [t.code for t in items if t.edition_key == "national-restricted-2022"] == [f"G{i:02d}" for i in range(1, 13)]
    assert not [t for t in items if t.edition_key.startswith("jilin")]
    slots = await catalog.import_slots(hooks)
    assert [(p, s.key, s.rule) for p, s in slots] == [("henan", "henan-provincial", "HN-2.1")]
    # The national list stays while henan is off, because hospital_default ships it too.
    assert {t.code for t in await catalog.choices(henan.view(frozenset({"henan"})), on=TODAY)} >= {"G01"}


# ---------------------------------------------------------------- bad catalogue files

BAD_DUPLICATE = """[edition]
key = "broken-hospital-1"
scope = "hospital"
title = "坏目录"
default_class = "routine"

[[technology]]
code = "H1"
name = "甲技术"

[[technology]]
code = "H1"
name = "乙技术"

[[technology]]
code = "H3"
name = ""
class = "experimental"
"""

GOOD = """[edition]
key = "broken-hospital-2"
scope = "hospital"
title = "好目录"
effective = "2023-13-01"

[[technology]]
code = "K1"
name = "丙技术"
class = "routine"
"""


def _plugin(folder) -> types.ModuleType:
    module = types.ModuleType("broken_catalog_plugin")

    @hookimpl
    def register_catalogs():
        return load_dir(folder)

    module.register_catalogs = register_catalogs
    return module


async def test_bad_catalogue_files_name_file_row_and_field_and_load_nothing(tmp_path, deployment):
    (tmp_path / "a-bad.toml").write_text(BAD_DUPLICATE, encoding="utf-8")
    (tmp_path / "b-date.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(CatalogLoadError) as failed:
        load_dir(tmp_path)
    text = [str(p) for p in failed.value.problems]
    assert any("a-bad.toml 第 11 行" in t and "编码" in t and "重复" in t for t in text), text
    assert any("a-bad.toml 第 15 行" in t and "技术名称" in t for t in text), text
    assert any("a-bad.toml 第 15 行" in t and "类别" in t and "experimental" in t for t in text), text
    assert any("b-date.toml" in t and "施行日期" in t and "2023-13-01" in t for t in text), text

    host = PluginHost(("jilin", "hospital_default", "broken"), extra={"broken": _plugin(tmp_path)})
    report = await catalog.sync(host)
    assert set(report.failures()) == {"broken"}
    assert not await CatalogEdition.exists().where(CatalogEdition.key.like("broken-hospital-%"))
    # The other plugins still work in that deployment.
    assert {t.code for t in await catalog.choices(host.view(), on=TODAY)} >= {"G01", "S21"}


async def test_conflicting_editions_from_two_plugins_refuse_the_later_plugin(tmp_path, deployment):
    (tmp_path / "national-restricted-2022.toml").write_text(
        (deployment_file := __import__("pathlib").Path("plugins/national/catalog/national-restricted-2022.toml")
         ).read_text(encoding="utf-8").replace("自体器官移植技术", "自体器官移植技术（改）"), encoding="utf-8")
    assert deployment_file.exists()
    host = PluginHost(("jilin", "hospital_default", "broken"), extra={"broken": _plugin(tmp_path)})
    report = await catalog.load(host)
    assert set(report.failures()) == {"broken"}
    assert "内容不一致" in str(report.failures()["broken"][0])
    assert report.suppliers["national:national-restricted-2022"] == ["national"]


def test_entry_rules_are_pure_and_name_the_field():
    entry, problems = rules.validate_entry({"code": "X1", "name": "某技术", "class": "限制类",
                                            "surgery_levels": "三、四级"})
    assert problems == [] and entry.tech_class == "restricted" and entry.surgery_levels == (3, 4)
    _, problems = rules.validate_entry({"code": "X1", "name": "", "class": "新奇类"})
    assert {p.field for p in problems} == {"name", "class"}
    assert rules.is_current(dt.date(2022, 4, 20), None, dt.date(2022, 4, 20))
    assert not rules.is_current(None, dt.date(2022, 4, 20), dt.date(2022, 4, 20))


# ---------------------------------------------------------------- admin import (Henan)


def _csv(rows: list[list[str]]) -> bytes:
    lines = [",".join(files.IMPORT_HEADERS)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.rule("HN-2.1")
async def test_henan_import_is_all_or_nothing_and_supersedes_the_previous_import_HN_2_1(deployment):
    henan = PluginHost(("henan", "hospital_default"))
    hooks = henan.view()
    label = f"t{secrets.token_hex(3)}"
    rows = await CatalogEdition.select(CatalogEdition.effective_on).where(CatalogEdition.key.like("henan-provincial-%"))
    start = max([r["effective_on"] for r in rows if r["effective_on"]], default=dt.date(2023, 1, 1))
    first_day, second_day = start + dt.timedelta(days=1), start + dt.timedelta(days=2)
    bad = files.read_table("henan.csv", _csv([
        ["H01", "甲技术", "限制类", "", "", "", ""],
        ["H02", "", "限制类", "", "", "", ""],
        ["H01", "丙技术", "新奇类", "", "", "", ""],
    ]))
    with pytest.raises(DomainError) as refused:
        await catalog.import_edition(SYSTEM, hooks, catalog.ImportInput(
            slot="henan/henan-provincial", label=label, effective_on=first_day), bad, filename="henan.csv")
    messages = [p.message for p in refused.value.problems]
    assert any(m.startswith("第 3 行「技术名称」") for m in messages), messages
    assert any(m.startswith("第 4 行「编码」") and "重复" in m for m in messages), messages
    assert any(m.startswith("第 4 行「类别」") for m in messages), messages
    assert not await CatalogEdition.exists().where(CatalogEdition.key == f"henan-provincial-{label}")

    good = files.read_table("henan.csv", _csv([
        ["H01", "甲技术", "限制类", "三、四级", "河南省甲技术管理规范", "指标一；指标二", ""],
        ["H02", "乙技术", "", "", "", "", ""],
    ]))
    first = await catalog.import_edition(SYSTEM, hooks, catalog.ImportInput(
        slot="henan/henan-provincial", label=label, effective_on=first_day), good, filename="henan.csv")
    items = [t for t in await catalog.choices(hooks, on=TODAY) if t.edition_id == first]
    assert [(t.code, t.tech_class, t.scope) for t in items] == [("H01", "restricted", "provincial"),
                                                                ("H02", "restricted", "provincial")]
    assert [i.name for i in items[0].qc_indicators] == ["指标一", "指标二"] and items[0].surgery_levels == (3, 4)
    # A Jilin deployment never sees Henan's provincial list.
    assert not [t for t in await catalog.choices(deployment["host"].view(), on=TODAY) if t.edition_id == first]
    second = await catalog.import_edition(SYSTEM, hooks, catalog.ImportInput(
        slot="henan/henan-provincial", label=label + "b", effective_on=second_day),
        good[:1], filename="henan2.csv")
    now = [t for t in await catalog.choices(hooks, on=TODAY) if t.edition_key.startswith("henan-provincial")]
    assert {t.edition_id for t in now} == {second}
    assert (await catalog.get_cited(items[1].id)).name == "乙技术"
    with pytest.raises(DomainError):  # an imported edition is never overwritten
        await catalog.import_edition(SYSTEM, hooks, catalog.ImportInput(
            slot="henan/henan-provincial", label=label, effective_on=second_day + dt.timedelta(days=1)), good, filename="x.csv")
