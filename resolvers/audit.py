"""Who did what, as the API shows it (R-AUD-1): the `Actor` of a change and the `FieldChange`s of an UPDATE."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

from domain.model import audit
from domain.model.entities import OrgKind
from domain.rules.tenancy import Caller
from resolvers.enums import ActorKind


@strawberry.type(name="Actor", description="Who caused a change: a token's user (USER), a timer or background step "
                                          "of the gateway (SYSTEM), a customer's own admin (CUSTOMER_ADMIN); shown "
                                          "to a sub-partner as PARENT_PARTNER when its parent acted, and as "
                                          "PLATFORM (role only) when the operator's staff did.")
class ActorType:
    kind: ActorKind
    sub: str | None
    org_id: strawberry.ID | None
    roles: list[str]
    on_behalf_of_sub_partner_org_id: strawberry.ID | None
    system: str | None = strawberry.field(description="SYSTEM: which timer or step, e.g. `rpl.timeout`.")
    request_id: str | None = strawberry.field(description="The gateway's X-Request-Id of the request that did it.")

    @classmethod
    def of(cls, actor: audit.Actor, viewer: Caller | None) -> ActorType:
        """The actor as `viewer` may see it (None: shown whole, for the operator's own views)."""
        if viewer is not None:
            is_sub = viewer.org is not None and viewer.org.kind is OrgKind.SUB_PARTNER
            actor = audit.presented(actor, viewer.org.id if viewer.org else None, is_sub)
        return cls(kind=actor.kind, sub=actor.sub,
                   org_id=strawberry.ID(actor.org_id) if actor.org_id else None, roles=list(actor.roles),
                   on_behalf_of_sub_partner_org_id=strawberry.ID(actor.on_behalf_of) if actor.on_behalf_of else None,
                   system=actor.system, request_id=actor.request_id)

    @classmethod
    def of_doc(cls, doc: Mapping[str, Any] | None, viewer: Caller | None) -> ActorType:
        """From a stored actor; a document written before actors were recorded shows the gateway itself."""
        return cls.of(audit.Actor.from_doc(doc) if doc else audit.GATEWAY, viewer)


@strawberry.type(name="FieldChange", description="One field an UPDATE changed; `from`/`to` are JSON-encoded.")
class FieldChangeType:
    field: str
    from_: str | None = strawberry.field(name="from")
    to: str | None

    @classmethod
    def of_doc(cls, doc: Mapping[str, Any]) -> FieldChangeType:
        return cls(field=doc["field"], from_=doc.get("from"), to=doc.get("to"))
