"""Who did what (R-AUD-1): the actor of every change and the kind of change an event records.

The actor of the request (or of the timer) being served is ambient: the GraphQL context sets it for a
request, the worker for a job (a background step keeps the actor of the request that asked for it), and
the unit of work stamps it on every event and every job it writes. Code that records a change never
passes it along by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any


class EventAction(str, Enum):
    """What an event records: a status change (the v1 meaning), field changes, batch progress, a consent email."""

    STATUS_CHANGE = "STATUS_CHANGE"
    UPDATE = "UPDATE"
    PROGRESS = "PROGRESS"
    CONSENT_EMAIL = "CONSENT_EMAIL"


class ActorKind(str, Enum):
    USER = "USER"
    SYSTEM = "SYSTEM"
    CUSTOMER_ADMIN = "CUSTOMER_ADMIN"
    PARENT_PARTNER = "PARENT_PARTNER"  # only ever shown to a sub-partner, never stored
    PLATFORM = "PLATFORM"  # only ever shown: a platform role's actor with its role alone


@dataclass(frozen=True)
class Actor:
    """The one who caused a change: a token's user, a timer of the system, or a customer's own admin."""

    kind: ActorKind
    sub: str | None = None
    org_id: str | None = None
    roles: tuple[str, ...] = ()
    on_behalf_of: str | None = None
    system: str | None = None  # SYSTEM: which timer or background step
    request_id: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "sub": self.sub, "orgId": self.org_id, "roles": list(self.roles),
                "onBehalfOf": self.on_behalf_of, "system": self.system, "requestId": self.request_id}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Actor:
        return cls(ActorKind(doc["kind"]), doc.get("sub"), doc.get("orgId"), tuple(doc.get("roles") or ()),
                   doc.get("onBehalfOf"), doc.get("system"), doc.get("requestId"))

    def on_behalf(self, org_id: str | None) -> Actor:
        return self if org_id is None or org_id == self.on_behalf_of else replace(self, on_behalf_of=org_id)


def system_actor(what: str) -> Actor:
    return Actor(ActorKind.SYSTEM, system=what)


def user_actor(subject: str, org_id: str | None, roles: Iterable[str], request_id: str | None = None) -> Actor:
    """The actor of a request made with a token: its `sub`, org and roles, and the gateway's id of the request."""
    return Actor(ActorKind.USER, sub=subject, org_id=org_id, roles=tuple(sorted(roles)), request_id=request_id)


def stamped(actor: Actor, owner_org_id: str) -> Actor:
    """The actor as an event owned by `owner_org_id` records it: a partner's user changing what another org owns
    (a parent acting for its sub-partner, R-ORG-4) acted on behalf of that org."""
    if actor.kind is ActorKind.USER and actor.org_id is not None and actor.org_id != owner_org_id:
        return actor.on_behalf(owner_org_id)
    return actor


def presented(actor: Actor, viewer_org_id: str | None, viewer_is_sub_partner: bool) -> Actor:
    """The actor as one viewer may see it (R-AUD-1, R-ORG-6).

    A platform viewer (no org) sees every actor whole. A partner's viewer sees its own org's users and its
    sub-partners' whole, a platform user by role alone (`PLATFORM`), and a sub-partner sees any other org's user —
    its parent — as `PARENT_PARTNER`, with no id, role or request of it. Timers and customer admins show as stored.
    """
    if viewer_org_id is None or actor.kind is not ActorKind.USER:
        return actor
    if actor.org_id is None:
        return Actor(ActorKind.PLATFORM, roles=actor.roles)
    if actor.org_id != viewer_org_id and viewer_is_sub_partner:
        return Actor(ActorKind.PARENT_PARTNER)
    return actor


# No request and no job: the gateway itself (start-up, seeding, maintenance).
GATEWAY = system_actor("gateway")

_current: ContextVar[Actor] = ContextVar("actor", default=GATEWAY)


def current_actor() -> Actor:
    return _current.get()


def set_actor(actor: Actor) -> None:
    """Make `actor` the one acting for the rest of this task (and the tasks it starts)."""
    _current.set(actor)


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


@dataclass(frozen=True)
class FieldChange:
    """One field an UPDATE changed; values are JSON-encoded (R-AUD-1)."""

    field: str
    before: Any = None
    after: Any = None

    def to_doc(self) -> dict[str, Any]:
        return {"field": self.field, "from": _encode(self.before), "to": _encode(self.after)}


def _encode(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def field_changes(before: Mapping[str, Any], after: Mapping[str, Any],
                  fields: Sequence[str] | None = None) -> list[FieldChange]:
    """The fields whose values differ between two documents (all keys of both, or just `fields`), in order."""
    names = fields if fields is not None else sorted(set(before) | set(after))
    return [FieldChange(name, before.get(name), after.get(name)) for name in names
            if before.get(name) != after.get(name)]


__all__ = [
    "GATEWAY",
    "Actor",
    "ActorKind",
    "EventAction",
    "FieldChange",
    "acting",
    "current_actor",
    "field_changes",
    "presented",
    "set_actor",
    "stamped",
    "system_actor",
    "user_actor",
]

