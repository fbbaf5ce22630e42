"""Attachments: type checked by content (magic bytes), size-limited, stored by content hash
outside the web root, read back only within the uploader's tenant."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import msgspec

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem
from core.settings import get_settings
from core.storage.tables import Attachment
from core.tenancy.service import require_institution

# Signatures at the start of the file; the name and the browser's type are not trusted.
MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class StoredFile(msgspec.Struct, frozen=True):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    kind: str
    owner_type: str
    owner_id: int
    institution_id: int


def max_bytes() -> int:
    from core.settings import get_settings

    return get_settings().max_upload_bytes


def sniff(data: bytes) -> str | None:
    """The content type recognised from the first bytes, or None when not PDF/JPG/PNG."""
    for magic, content_type, _ in MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def check_upload(filename: str, data: bytes, field: str = "file") -> list[Problem]:
    """Pure checks of one upload: not empty, under the size limit, PDF/JPG/PNG by content."""
    if not data:
        return [Problem("请选择要上传的文件", field)]
    limit = max_bytes()
    if len(data) > limit:
        return [Problem(f"文件过大（{len(data) // 1024} KB），单个文件不得超过 {limit // (1024 * 1024)} MB", field)]
    if sniff(data) is None:
        return [Problem("仅支持 PDF、JPG、PNG 文件（按文件内容识别，与扩展名无关）", field)]
    return []


def _path(sha: str) -> Path:
    return get_settings().storage_dir / sha[:2] / sha


def _write(data: bytes, sha: str) -> None:
    path = _path(sha)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _clean_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip() or "附件"
    return "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')[:200]


async def store(actor: Actor, *, institution_id: int, owner_type: str, owner_id: int, filename: str,
                data: bytes, kind: str = "other", field: str = "file") -> int:
    """Check and keep one upload; returns the attachment id. Audited.

    The caller has already checked that ``actor`` may attach to the owner record.
    Must be called inside the caller's write transaction or opens its own.
    """
    problems = check_upload(filename, data, field)
    if problems:
        raise DomainError(problems)
    content_type = sniff(data) or "application/octet-stream"
    sha = hashlib.sha256(data).hexdigest()
    _write(data, sha)
    async with write_transaction():
        rows = await Attachment.insert(Attachment(
            institution=institution_id, sha256=sha, size=len(data), content_type=content_type,
            filename=_clean_name(filename), kind=kind, owner_type=owner_type, owner_id=owner_id,
            uploaded_by=actor.id,
        )).returning(Attachment.id)
        attachment_id = rows[0]["id"]
        await audit.record(actor, "attachment.store", "attachment", attachment_id,
                           after={"sha256": sha, "size": len(data), "filename": _clean_name(filename),
                                  "owner": f"{owner_type}:{owner_id}", "kind": kind},
                           institution_id=institution_id)
    return attachment_id


def keep(filename: str, data: bytes, field: str = "file") -> tuple[str, str]:
    """Check and keep the bytes of an upload that belongs to no institution (a regulator's
    evidence, EVAL-6); the caller records the metadata in its own table and serves the
    file through its own authorised route. Returns (sha256, content type)."""
    problems = check_upload(filename, data, field)
    if problems:
        raise DomainError(problems)
    sha = hashlib.sha256(data).hexdigest()
    _write(data, sha)
    return sha, sniff(data) or "application/octet-stream"


def kept(sha: str) -> Path:
    """Where ``keep`` put the bytes of ``sha``; ``NotFound`` when they are gone."""
    path = _path(sha)
    if not path.exists():
        raise NotFound("附件文件已丢失，请联系管理员")
    return path


def clean_name(filename: str) -> str:
    return _clean_name(filename)


def _to_struct(row: dict) -> StoredFile:
    return StoredFile(id=row["id"], filename=row["filename"], content_type=row["content_type"], size=row["size"],
                      sha256=row["sha256"], kind=row["kind"], owner_type=row["owner_type"],
                      owner_id=row["owner_id"], institution_id=row["institution"])


async def get(actor: Actor, attachment_id: int) -> StoredFile:
    """The attachment if its institution lies in the actor's tenant; else NotFound."""
    row = await Attachment.select().where(Attachment.id == attachment_id).first()
    if row is None:
        raise NotFound("未找到该附件")
    await require_institution(actor, row["institution"])
    return _to_struct(row)


async def read(actor: Actor, attachment_id: int) -> tuple[StoredFile, Path]:
    """Metadata and the file path, for serving through the authorised route."""
    info = await get(actor, attachment_id)
    path = _path(info.sha256)
    if not path.exists():
        raise NotFound("附件文件已丢失，请联系管理员")
    return info, path


async def list_for(owner_type: str, owner_ids: list[int]) -> list[StoredFile]:
    """Attachments of records the caller has already scoped to the actor's tenant."""
    if not owner_ids:
        return []
    rows = await Attachment.select().where(
        (Attachment.owner_type == owner_type) & Attachment.owner_id.is_in(owner_ids)
    ).order_by(Attachment.id)
    return [_to_struct(r) for r in rows]
