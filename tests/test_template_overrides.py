"""A plugin's template replaces a core page only where the plugin says so
(``template_overrides``); an undeclared clash stops the start naming plugin and template."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from core import hookimpl
from core.plugins import PluginConfigError, PluginHost
from web.templating import TemplateClashError, build_environment, plugin_template_dirs


def _folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def _plugin(name: str, folder: Path, overrides=None) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.template_dirs = hookimpl(lambda: [str(folder)])
    if overrides is not None:
        mod.template_overrides = hookimpl(lambda: overrides)
    return mod


def _host(*plugins: types.ModuleType) -> PluginHost:
    return PluginHost(tuple(p.__name__ for p in plugins), extra={p.__name__: p for p in plugins})


def test_an_undeclared_core_page_name_is_an_error_at_start_naming_plugin_and_template(tmp_path):
    from web.app import create_app

    folder = _folder(tmp_path, {"obligations/detail.html": "mine", "third/about.html": "ok"})
    host = _host(_plugin("third_province", folder))
    with pytest.raises(PluginConfigError) as exc:
        create_app(host)
    assert "third_province" in str(exc.value) and "obligations/detail.html" in str(exc.value)
    assert "third/about.html" not in str(exc.value)


def test_hook_template_overrides_replaces_a_declared_page_only_and_the_core_page_stays_reachable(tmp_path):
    folder = _folder(tmp_path, {"obligations/detail.html": "省里的版本", "third/about.html": "ok"})
    host = _host(_plugin("third_province", folder, ["obligations/detail.html"]))
    env = build_environment(plugin_template_dirs(host))
    assert env.get_template("obligations/detail.html").render() == "省里的版本"
    assert env.get_template("default:obligations/detail.html").filename.startswith(
        str(Path(__file__).parent.parent / "web" / "templates"))
    assert not env.get_template("obligations/index.html").filename.startswith(str(tmp_path))


def test_two_plugins_serving_the_same_name_clash(tmp_path):
    a = _plugin("plugin_a", _folder(tmp_path / "a", {"shared/page.html": "a"}))
    b = _plugin("plugin_b", _folder(tmp_path / "b", {"shared/page.html": "b"}))
    with pytest.raises(TemplateClashError, match="shared/page.html") as exc:
        plugin_template_dirs(_host(a, b))
    assert "plugin_a" in str(exc.value) and "plugin_b" in str(exc.value)


@pytest.mark.parametrize("declared, files, text", [
    (["obligations/detial.html"], {"obligations/detial.html": "x"}, "不是系统页面"),  # a typo
    (["obligations/detail.html"], {"third/about.html": "x"}, "没有该文件"),
])
def test_a_declaration_that_overrides_nothing_is_an_error(tmp_path, declared, files, text):
    host = _host(_plugin("third_province", _folder(tmp_path, files), declared))
    with pytest.raises(TemplateClashError, match=text) as exc:
        plugin_template_dirs(host)
    assert "third_province" in str(exc.value) and declared[0] in str(exc.value)


def test_the_shipped_province_plugins_override_no_core_page():
    for deployment in (("jilin", "hospital_default"), ("henan", "hospital_default")):
        dirs = plugin_template_dirs(PluginHost(deployment))
        assert dirs and all(Path(d).is_dir() for d in dirs)


# ---------------------------------------------------------------- compiled templates shared by a process


def test_environments_of_a_process_share_compiled_templates_but_a_changed_file_or_an_override_compiles_afresh(tmp_path):
    """web.templating.SharedCompiledTemplates (issue 9): a second environment reuses the
    first one's compiled template; a plugin's own file of the same name, or a file changed
    on disk, is never served from what was compiled before."""
    first = build_environment([]).get_template("base.html")
    again = build_environment([]).get_template("base.html")
    assert again.root_render_func.__code__ is first.root_render_func.__code__

    mine = _folder(tmp_path / "mine", {"third/page.html": "第一版"})
    assert build_environment([str(mine)]).get_template("third/page.html").render() == "第一版"
    (mine / "third" / "page.html").write_text("第二版", encoding="utf-8")
    assert build_environment([str(mine)]).get_template("third/page.html").render() == "第二版"

    # Another folder with a template of the same name: its own file, its own code.
    other = _folder(tmp_path / "other", {"third/page.html": "另一插件"})
    assert build_environment([str(other)]).get_template("third/page.html").render() == "另一插件"
    assert build_environment([str(mine)]).get_template("third/page.html").render() == "第二版"
