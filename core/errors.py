"""Errors that services raise; web turns them into Chinese pages or JSON."""

from __future__ import annotations

import msgspec


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with an input: the field, the Chinese message, the rule id."""

    message: str
    field: str | None = None
    rule: str | None = None


class DomainError(Exception):
    """A request the domain refuses; nothing has been changed."""

    status_code = 422

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))

    def for_field(self, field: str) -> list[str]:
        return [p.message for p in self.problems if p.field == field]


class NotFound(DomainError):
    """The record does not exist or lies outside the actor's tenant: the same answer."""

    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The record moved on since the actor read it."""

    status_code = 409


class DatabaseUnavailable(Exception):
    """The configured database does not answer."""
