"""Reporting channels (报送渠道): what plugins declare, and how a deployment reaches them.

A plugin's ``reporting_channels()`` answers a list of dicts (see ``Channel``); the
endpoint URL, token and timeout are deployment settings read from the environment:

    CLINTECH_CHANNEL_JILIN_PLATFORM_URL      https://…/api/deliveries   (the channel's endpoint_setting)
    CLINTECH_CHANNEL_JILIN_PLATFORM_TOKEN    sent as ``Authorization: Bearer …``
    CLINTECH_CHANNEL_JILIN_PLATFORM_TIMEOUT  seconds, default 10

A channel without a configured URL (or declared with ``transport="package"``) delivers a
package (zip + manifest) that medical affairs downloads and uploads by hand.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import msgspec

from core.contract import CHANNEL_KINDS, CHANNEL_TRANSPORTS, Channel, ChannelMaterial
from core.errors import DomainError, Problem
from core.plugins import HookView

# The kinds of payload a channel may accept.
KINDS = CHANNEL_KINDS
KIND_LABELS = {"filing": "备案", "case": "病例报送", "report": "报告", "admission": "准入备案",
               "evaluation": "评估结论报告"}
TRANSPORTS = CHANNEL_TRANSPORTS
DEFAULT_TIMEOUT = 10.0


__all__ = ["KINDS", "KIND_LABELS", "TRANSPORTS", "Channel", "ChannelMaterial"]


class Endpoint(msgspec.Struct, frozen=True):
    """Where and how a channel is reached in this deployment (from the environment)."""

    url: str
    token: str
    timeout: float
    url_setting: str
    token_setting: str
    timeout_setting: str

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def token_hint(self) -> str:
        """The token for display: never the token itself."""
        return f"已配置（…{self.token[-4:]}）" if len(self.token) >= 8 else ("已配置" if self.token else "未配置")


def endpoint(channel: Channel) -> Endpoint:
    """The channel's endpoint settings, read now (so a changed setting applies at once)."""
    url_setting = channel.setting
    base = url_setting[: -len("_URL")] if url_setting.endswith("_URL") else url_setting
    token_setting, timeout_setting = f"{base}_TOKEN", f"{base}_TIMEOUT"
    from core.settings import get_settings

    settings = get_settings()
    try:
        timeout = float(settings.setting(timeout_setting) or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = DEFAULT_TIMEOUT
    return Endpoint(
        url=settings.setting(url_setting).strip(),
        token=settings.setting(token_setting).strip(),
        timeout=timeout if timeout > 0 else DEFAULT_TIMEOUT,
        url_setting=url_setting,
        token_setting=token_setting,
        timeout_setting=timeout_setting,
    )


def uses_package(channel: Channel) -> bool:
    """True when deliveries of ``channel`` become a package for manual upload."""
    return channel.transport == "package" or not endpoint(channel).configured


def _convert(channel: Channel, plugin: str) -> Channel:
    """A channel as the contract converted it (``core.contract.Channel``), with its plugin."""
    bad_kinds = [k for k in channel.kinds if k not in KINDS]
    if bad_kinds or channel.transport not in TRANSPORTS or not channel.key:
        raise ValueError(f"插件 {plugin} 的报送渠道 {channel.key!r} 不合规：类型 {bad_kinds}、传输 {channel.transport!r}")
    return msgspec.structs.replace(channel, plugin=plugin)


def channels(hooks: HookView) -> list[Channel]:
    """Every reporting channel of the enabled plugins, in hook order.

    Two plugins declaring the same key: the first answer wins, so a hospital plugin
    marked ``tryfirst=True`` replaces the default's channel of the same key.
    """
    found: dict[str, Channel] = {}
    for plugin, answer in hooks.answers("reporting_channels"):
        for declared in answer:
            channel = _convert(declared, plugin)
            found.setdefault(channel.key, channel)
    return list(found.values())


def channel(hooks: HookView, key: str) -> Channel | None:
    """The enabled channel with ``key``, or ``None``."""
    return next((c for c in channels(hooks) if c.key == key), None)


def channels_for(hooks: HookView, kind: str) -> list[Channel]:
    """The channels that accept ``kind`` — e.g. ``channels_for(hooks, "admission")``
    gives the hospital's university channel (HOSP-11), ``"filing"`` the province's
    platform, ``"case"`` the case-reporting platform (NAT-37)."""
    if kind not in KINDS:
        raise DomainError(Problem(f"未知的报送类型：{kind}", "kind"))
    return [c for c in channels(hooks) if c.accepts(kind)]


# ---------------------------------------------------------------- attachments and packages


class Attachment(msgspec.Struct, frozen=True):
    """A file that goes with a delivery: a material of the authority's list.

    Name the file by ``sha256`` alone for an upload kept by ``core.storage`` (stored at
    ``<storage>/<sha[:2]>/<sha>``), or by ``path`` (absolute, or relative to the storage
    directory ``CLINTECH_STORAGE``). ``sha256`` and ``size`` are checked or filled in at
    enqueue time; the bytes are read again, and verified, when sent or packaged.
    """

    key: str
    filename: str
    path: str = ""
    title: str = ""
    content_type: str = "application/octet-stream"
    sha256: str = ""
    size: int = 0


def resolve(attachment: Attachment) -> Path:
    from core.settings import get_settings

    storage = get_settings().storage_dir
    if not attachment.path:
        return storage / attachment.sha256[:2] / attachment.sha256
    p = Path(attachment.path)
    return p if p.is_absolute() else storage / p


def describe(attachment: Attachment) -> Attachment:
    """The attachment with its content hash and size; ``DomainError`` if the file is
    missing or does not match the hash it was named by."""
    if not attachment.path and len(attachment.sha256) != 64:
        raise DomainError(Problem(f"附件缺少存储位置：{attachment.filename}", "attachments"))
    file = resolve(attachment)
    if not file.is_file():
        raise DomainError(Problem(f"附件文件不存在：{attachment.filename}", "attachments"))
    data = file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if attachment.sha256 and attachment.sha256 != digest:
        raise DomainError(Problem(f"附件内容与登记的校验值不符：{attachment.filename}", "attachments"))
    return msgspec.structs.replace(attachment, sha256=digest, size=len(data))


def read(attachment: Attachment) -> bytes:
    """The attachment's bytes, checked against the hash taken at enqueue time."""
    file = resolve(attachment)
    if not file.is_file():
        raise FileNotFoundError(f"附件文件已丢失：{attachment.filename}")
    data = file.read_bytes()
    if attachment.sha256 and hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise FileNotFoundError(f"附件文件在入队后被更改：{attachment.filename}")
    return data


def ordered(channel: Channel | None, attachments: list[Attachment]) -> list[Attachment]:
    """Attachments in the channel's material order (a province's scans in the
    order of its text); several files of one material keep their given order, and
    materials the channel does not list come last."""
    order = {m.key: i for i, m in enumerate(channel.materials)} if channel else {}
    return sorted(attachments, key=lambda a: order.get(a.key, len(order)))


def manifest(delivery: dict, channel: Channel | None, institution: dict | None) -> dict:
    """The package's manifest: who sends what to whom, and the materials in order.

    The order is the province's; a required material the channel
    lists but the delivery lacks is named under ``missing_required``.
    """
    attachments = ordered(channel, [msgspec.convert(a, Attachment) for a in delivery["attachments"]])
    titles = {m.key: m.title for m in channel.materials} if channel else {}
    materials = []
    for i, a in enumerate(attachments, start=1):
        materials.append({
            "order": i, "key": a.key, "title": a.title or titles.get(a.key, a.key), "filename": a.filename,
            "file": f"materials/{i:02d}_{a.key}_{a.filename}", "sha256": a.sha256, "size": a.size,
            "content_type": a.content_type,
        })
    present = {a.key for a in attachments}
    # The channel's materials are those of a filing; other kinds (a report, the filing
    # department's push) carry no materials and so miss none.
    missing = [{"key": m.key, "title": m.title} for m in (channel.materials if channel else ())
               if m.required and m.key not in present] if delivery["kind"] == "filing" else []
    return {
        "format": "clintech-outbox-package/1",
        "delivery_id": delivery["id"],
        "idempotency_key": delivery["idempotency_key"],
        "channel": delivery["channel"],
        "channel_name": channel.name if channel else delivery["channel"],
        "authority": channel.authority if channel else "",
        "rules": list(channel.rules) if channel else [],
        "kind": delivery["kind"],
        "subject": {"type": delivery["subject_type"], "id": delivery["subject_id"]},
        "institution": {"id": delivery["institution_id"], "name": (institution or {}).get("name", ""),
                        "licence_no": (institution or {}).get("licence_no", "")},
        "created_at": str(delivery["created_at"]),
        "materials": materials,
        "missing_required": missing,
    }


def package(delivery: dict, channel: Channel | None, institution: dict | None) -> bytes:
    """A zip for manual upload: ``manifest.json``, ``payload.json`` and the materials
    numbered in the channel's order (``materials/01_form_….pdf`` …)."""
    info = manifest(delivery, channel, institution)
    attachments = ordered(channel, [msgspec.convert(a, Attachment) for a in delivery["attachments"]])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(info, ensure_ascii=False, indent=2))
        zf.writestr("payload.json", json.dumps(delivery["payload"], ensure_ascii=False, indent=2))
        for entry, attachment in zip(info["materials"], attachments, strict=True):
            zf.writestr(entry["file"], read(attachment))
    return buffer.getvalue()
