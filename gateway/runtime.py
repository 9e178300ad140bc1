"""What a running gateway holds open: the database (embedded or not), repositories and schema."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import strawberry
from pymongo.monitoring import CommandListener

from domain.clock import Clock, SystemClock
from domain.driver import Database
from domain.indexes import ensure_indexes
from domain.repositories import Repositories
from gateway.embedded import EmbeddedDatabase
from gateway.settings import Settings
from resolvers.schema import build_schema

log = logging.getLogger("gateway")


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    listeners: Sequence[CommandListener] = ()
    schema: strawberry.Schema = field(init=False)
    jwt_secret: str = field(init=False, repr=False)
    embedded: EmbeddedDatabase | None = field(default=None, init=False)
    db: Database | None = field(default=None, init=False)
    _repos: Repositories | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.schema = build_schema(mask_errors=self.settings.env == "prod")
        self.jwt_secret = self.settings.signing_secret()

    @property
    def repos(self) -> Repositories:
        if self._repos is None:
            raise RuntimeError("the gateway is not started")
        return self._repos

    async def start(self) -> None:
        """Open the database (starting the embedded one if no URI is set); a no-op when already started."""
        if self._repos is not None:
            return
        uri = self.settings.mongodb_uri
        if not uri:
            self.embedded = EmbeddedDatabase(self.settings.data_dir)
            uri = await self.embedded.start()
        try:
            self.db = Database(uri, self.settings.database, listeners=self.listeners)
            await self.db.ping()
            await ensure_indexes(self.db)
        except BaseException:
            await self.stop()
            raise
        self._repos = Repositories.over(self.db, self.clock)

    async def stop(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        self._repos = None
        if self.embedded is not None:
            await self.embedded.stop()
            self.embedded = None
