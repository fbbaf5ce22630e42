"""The province's policy: which rule each page cites, who puts 备注三 on the licence copy,
what the regulator's desk says — answered by the plugins (``province_policy``), never
written in core.

Every enabled plugin may answer with a (partial) dict; core merges the answers key by
key, the first answer for a key winning (``tryfirst`` plugins first, the built-in
national plugin last), and converts the result to ``core.contract.ProvincePolicy``. So
the national plugin gives the national rules (NAT-*) and a province plugin replaces only
what its own text says differently. The filing *form* (layout: fields, staff table,
pledge, printable template) stays ``filing_form``; this is the filing *policy*.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.contract import (
    Annotation,
    CasesPolicy,
    ContractError,
    FilingCheck,
    FilingPolicy,
    Labelled,
    PersonCheck,
    ProvincePolicy,
)

__all__ = ["Annotation", "CasesPolicy", "FilingCheck", "FilingPolicy", "Labelled", "PersonCheck", "ProvincePolicy",
           "merge", "policy"]


def _merge(answers: list[Any]) -> dict:
    """First answer for a key wins; nested dicts merge the same way."""
    out: dict = {}
    for answer in answers:
        if answer is None:
            continue
        for key, value in answer.items():
            if key not in out:
                out[key] = value
            elif isinstance(out[key], dict) and isinstance(value, dict):
                out[key] = _merge([out[key], value])
    return out


def _as_dict(plugin: str, answer: Any) -> dict:
    """One plugin's answer as a dict, checked against the contract on its own (an unknown
    key or a wrong type is an error naming the plugin)."""
    if isinstance(answer, msgspec.Struct):
        answer = msgspec.to_builtins(answer)
    if not isinstance(answer, dict):
        raise ContractError(plugin, "province_policy", "", "应为 dict（ProvincePolicy 的部分字段）")
    try:
        msgspec.convert(answer, ProvincePolicy)
    except msgspec.ValidationError as exc:
        raise ContractError(plugin, "province_policy", "", str(exc)) from None
    return answer


def merge(answers: list[Any], plugins: list[str] | None = None) -> ProvincePolicy:
    """The deployment's policy from the plugins' answers (in call order)."""
    names = plugins or ["?"] * len(answers)
    return msgspec.convert(_merge([_as_dict(p, a) for p, a in zip(names, answers, strict=True) if a is not None]),
                           ProvincePolicy)


def policy(hooks: Any) -> ProvincePolicy:
    """The deployment's policy, memoised on the hook view (one request or job run)."""
    found = hooks.memo.get("province_policy")
    if found is None:
        answers = hooks.answers("province_policy")
        found = merge([a.value for a in answers], [a.plugin for a in answers])
        hooks.memo["province_policy"] = found
    return found
