"""The Jinja environment: plugin template folders first, then ours; ``default:`` reaches ours."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

from core.accounts.roles import ROLE_LABELS
from core.messages import audit_action, record_type, t
from core.tenancy.rules import LEVELS

TEMPLATES = Path(__file__).parent / "templates"


def build_environment(plugin_dirs: list[str]) -> Environment:
    ours = FileSystemLoader(str(TEMPLATES))
    env = Environment(
        loader=ChoiceLoader([*(FileSystemLoader(d) for d in plugin_dirs), ours, PrefixLoader({"default": ours}, delimiter=":")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
    env.globals.update(t=t, ROLE_LABELS=ROLE_LABELS, REGION_LEVELS=LEVELS)
    env.filters.update(audit_action=audit_action, record_type=record_type)
    return env
