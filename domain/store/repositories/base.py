"""What every repository shares: paged lists, counts and batched lookups by key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, Self, TypeVar

from domain.rules.filters import all_of
from domain.rules.pagination import Order, Page, PageRequest, make_page, page_filter
from domain.store.driver import Database, Document, Session
from domain.store.recent import Recent


class Repository:
    collection: str

    def __init__(self, db: Database) -> None:
        self.db = db

    async def page(self, base: Mapping[str, Any], order: Order, request: PageRequest) -> Page:
        # One row beyond the page tells whether there is a next page (also for first: 0).
        docs = await self.db.find(
            self.collection, page_filter(order, base, request), sort=order.keys, limit=request.first + 1
        )
        return make_page(order, docs, request)

    async def count(self, filter: Mapping[str, Any]) -> int:
        return await self.db.count(self.collection, filter)

    async def by_ids(self, ids: Sequence[str], scope: Mapping[str, Any] | None = None) -> dict[str, Document]:
        """One `$in` query for a batch of ids, optionally narrowed by an owner filter."""
        filter: dict[str, Any] = {"_id": {"$in": list(set(ids))}}
        if scope is not None:
            filter = all_of(filter, scope)
        return {d["_id"]: d for d in await self.db.find(self.collection, filter)}

    async def find_doc(self, entity_id: str, *, session: Session | None = None) -> Document | None:
        doc: Document | None = await self.db.collection(self.collection).find_one({"_id": entity_id},
                                                                                  session=session)
        return doc

    async def owned_doc(self, entity_id: str, owner_org_id: str, *, session: Session | None = None
                        ) -> Document | None:
        """The entity if `owner_org_id` owns it: another org's id reads like a missing one (R-ORG-6)."""
        doc: Document | None = await self.db.collection(self.collection).find_one(
            {"_id": entity_id, "ownerOrgId": owner_org_id}, session=session)
        return doc

    async def insert(self, doc: Document, *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).insert_one(doc, session=session)

    async def insert_many(self, docs: Sequence[Document], *, session: Session | None = None) -> None:
        if docs:
            await self.db.collection(self.collection).insert_many(list(docs), session=session)

    async def set_fields(self, entity_id: str, fields: Mapping[str, Any], *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).update_one({"_id": entity_id}, {"$set": dict(fields)},
                                                             session=session)

    async def delete(self, filter: Mapping[str, Any], *, session: Session | None = None) -> int:
        result = await self.db.collection(self.collection).delete_many(dict(filter), session=session)
        n: int = result.deleted_count
        return n


class _Stored(Protocol):
    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self: ...


M = TypeVar("M", bound=_Stored)


class KeptRepository(Repository, Generic[M]):
    """A repository whose records are also kept a moment (domain.store.recent), for the reads that only show them
    or identify the caller. Its writes forget what they change (`self.recent.forget`)."""

    model: type[M]

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.recent: Recent[M] = Recent()

    async def recent_by_ids(self, ids: Sequence[str]) -> dict[str, M]:
        """Records by id as read at most a moment ago."""
        return await self.recent.read_through(ids, self._models)

    async def _models(self, ids: list[str]) -> dict[str, M]:
        return {i: self.model.from_doc(d) for i, d in (await self.by_ids(ids)).items()}
