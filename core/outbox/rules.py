"""Pure rules of delivery: how an authority's answer is read, and when to try again.

The authority protocol (what a channel endpoint must do) — documented for the
provinces' and the university's integrators:

- request: ``POST <endpoint>`` with a JSON envelope (see ``service.envelope``), headers
  ``Idempotency-Key: <key>`` (the same key on every retry of one delivery) and, when a
  token is configured, ``Authorization: Bearer <token>``;
- answer 2xx JSON ``{"receipt_id": "…", "status": "accepted" | "received"}``: accepted,
  or (``received``) delivered and awaiting the authority's review; a repeat of a key
  must answer the first receipt;
- answer 400/409/422 with ``{"message": "…"}`` (or ``errors``): the authority refuses the
  content — recorded as rejected with its message, never retried blindly;
- anything else (5xx, 401/403/404/408/429, HTML, a 2xx without receipt, no answer in
  time, connection refused) is a failure with a Chinese reason, retried with backoff.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import random

import msgspec

# Retry schedule: 1 min, 2, 4 … capped at 6 hours; each delay jittered by up to +25 %.
BASE_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=6)
JITTER = 0.25
# After this many failed attempts a delivery "needs attention" (shown to people); the
# worker still tries it again at the capped delay, so nothing is ever dropped.
MAX_ATTEMPTS = 8

REJECT_STATUSES = frozenset({400, 409, 422})
MESSAGE_LIMIT = 500


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands (``Delivery.status``); the Chinese label is in core.messages."""

    queued = "queued"
    sending = "sending"
    sent = "sent"  # received, the authority's decision pending
    accepted = "accepted"
    failed = "failed"  # retried with backoff
    needs_attention = "needs_attention"  # retries used up
    rejected = "rejected"
    package_ready = "package_ready"  # for manual upload

    @property
    def label(self) -> str:
        from core.messages import t

        return t(f"outbox.status.{self.value}")


class Outcome(msgspec.Struct, frozen=True):
    """What one attempt led to: the new status and why."""

    status: DeliveryStatus  # accepted / sent / failed / rejected / package_ready
    receipt_id: str = ""
    error: str = ""  # Chinese reason for people
    http_status: int | None = None
    authority_message: str = ""


def backoff(attempt: int, rng: random.Random | None = None) -> dt.timedelta:
    """The delay before attempt ``attempt + 1`` after ``attempt`` failures: exponential
    from ``BASE_DELAY``, capped at ``MAX_DELAY``, plus up to 25 % jitter so that many
    deliveries failing together do not all come back at the same second."""
    exponent = max(attempt - 1, 0)
    delay = min(BASE_DELAY * (2 ** min(exponent, 30)), MAX_DELAY)
    return delay * (1 + (rng or random).uniform(0, JITTER))


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").strip()[:MESSAGE_LIMIT]


def _authority_message(data: object, body: bytes) -> str:
    if isinstance(data, dict):
        for key in ("message", "msg", "error", "errors", "detail"):
            if data.get(key):
                value = data[key]
                return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:MESSAGE_LIMIT]
    return _text(body)


def read_answer(status_code: int, content_type: str, body: bytes) -> Outcome:
    """Read an authority's HTTP answer (see the module docstring for the protocol)."""
    data: object = None
    is_json = "json" in (content_type or "").lower()
    if is_json:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
    if 200 <= status_code < 300:
        if data is None:
            kind = "JSON 无法解析" if is_json else f"非 JSON 内容（{(content_type or '无类型').split(';')[0]}）"
            return Outcome(DeliveryStatus.failed, error=f"对方系统返回了无法识别的应答：{kind}", http_status=status_code,
                           authority_message=_text(body))
        receipt = data.get("receipt_id") if isinstance(data, dict) else None
        if not isinstance(receipt, str | int) or not str(receipt).strip():
            return Outcome(DeliveryStatus.failed, error="对方系统的应答格式不正确：缺少回执号（receipt_id）",
                           http_status=status_code, authority_message=_text(body))
        state = str(data.get("status") or "accepted").lower()
        if state in ("rejected", "refused"):
            message = _authority_message(data, body)
            return Outcome(DeliveryStatus.rejected, receipt_id=str(receipt), error=f"对方系统退回：{message}",
                           http_status=status_code, authority_message=message)
        status = DeliveryStatus.sent if state in ("received", "pending", "processing") else DeliveryStatus.accepted
        return Outcome(status, receipt_id=str(receipt), http_status=status_code)
    if status_code in REJECT_STATUSES:
        message = _authority_message(data, body) or f"HTTP {status_code}"
        return Outcome(DeliveryStatus.rejected, error=f"对方系统退回（HTTP {status_code}）：{message}",
                       http_status=status_code,
                       authority_message=message)
    reasons = {
        401: "对方系统拒绝了认证，请检查令牌配置",
        403: "对方系统拒绝访问，请检查令牌配置",
        404: "接收地址不存在，请检查地址配置",
        408: "对方系统等待请求超时",
        429: "对方系统限流，稍后重试",
    }
    if status_code >= 500:
        reason = f"对方系统内部错误（HTTP {status_code}）"
    else:
        reason = reasons.get(status_code, f"对方系统返回了意外的状态（HTTP {status_code}）")
    return Outcome(DeliveryStatus.failed, error=reason, http_status=status_code, authority_message=_text(body))


def timeout_outcome(seconds: float) -> Outcome:
    return Outcome(DeliveryStatus.failed, error=f"对方系统未在 {seconds:g} 秒内应答（超时）")


def unreachable_outcome(detail: str) -> Outcome:
    return Outcome(DeliveryStatus.failed, error=f"无法连接对方系统：{detail[:200]}")


def after_failure(attempts: int, now: dt.datetime, rng: random.Random | None = None) -> tuple[str, dt.datetime]:
    """Status and next attempt time after the ``attempts``-th failed attempt."""
    status = DeliveryStatus.needs_attention if attempts >= MAX_ATTEMPTS else DeliveryStatus.failed
    return status, now + backoff(attempts, rng)
