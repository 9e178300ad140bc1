"""The per-request context: who is calling, the repositories, and fresh DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry

from domain.model.principal import Principal
from domain.rules.tenancy import Caller
from domain.store.event_hub import EventHub
from domain.store.repositories import Repositories
from resolvers.errors import Unauthenticated
from resolvers.loaders import Loaders


@dataclass
class Context:
    repos: Repositories
    principal: Principal | None
    request: Any = None
    response: Any = None
    hub: EventHub | None = None
    # graphql-transport-ws: the connection_init payload ({"authorization": "Bearer ..."}).
    connection_params: dict[str, Any] | None = None
    # Signs a billing report's CSV link (R-BIL-5); set by the gateway, which serves the link.
    download_url: Callable[[str], str] | None = None
    # Signs a subscriber batch's result CSV link (R-BULK-4); set by the gateway, which serves the link.
    batch_result_url: Callable[[str], str] | None = None
    # The id the gateway gave this request (X-Request-Id): unexpected errors carry it to the client and the log.
    request_id: str | None = None
    _loaders: Loaders | None = field(default=None, init=False)
    _caller: Caller | None = field(default=None, init=False)

    @property
    def loaders(self) -> Loaders:
        # Built per request (on first use), never shared: a loader's cache must not leak one caller's data.
        if self._loaders is None:
            self._loaders = Loaders(self.repos, self.caller)
        return self._loaders

    def fresh_loaders(self) -> None:
        """A long-lived context (a websocket) takes new loaders for each event, so nothing stale is served.

        Lazily: a subscriber whose result is shared with others (resolvers.events.sharing) never builds any,
        which keeps thousands of subscribers from creating thousands of short-lived loaders per event.
        """
        self._loaders = None

    async def caller(self) -> Caller:
        if self.principal is None:
            raise Unauthenticated("an `Authorization: Bearer <token>` header is required")
        if self._caller is None:
            org = None
            if self.principal.org_id is not None:
                org = await self.repos.partners.recent_one(self.principal.org_id)  # read a moment ago at most
                if org is None:
                    raise Unauthenticated("the token's org does not exist")
            self._caller = Caller(self.principal, org)
        return self._caller


Info = strawberry.Info[Context, None]
