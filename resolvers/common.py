"""Types shared by every area of the API: Node, PageInfo, connections, UserError, Address; mutation refusals."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Generic, ParamSpec, TypeVar

import strawberry

from domain.model import entities as models
from domain.model.errors import DomainError, FieldError
from domain.rules.pagination import Page
from domain.services.reads import Listing
from domain.store.driver import Document
from resolvers.enums import ErrorCode

T = TypeVar("T")
P = TypeVar("P")
Args = ParamSpec("Args")


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int] | int]]  # an int when it is known already

    @strawberry.field(description="Every row of the list the caller may see, across all pages.")
    def total_count(self) -> int:
        # The count, or an awaitable of it (the executor awaits it): a count already known costs no task.
        return self.count()  # type: ignore[return-value]


C = TypeVar("C", bound=Connection)  # type: ignore[type-arg]


def connection_of(cls: type[C], page: Page, nodes: Sequence[object], count: Callable[[], Awaitable[int] | int]
                  ) -> C:
    """A connection of type `cls` over one page; `nodes` are the API objects of `page.docs`, in order."""
    return cls(
        edges=[Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        count=count,
    )


def listing_connection(cls: type[C], listing: Listing, to_node: Callable[[Document], object]) -> C:
    """A connection of type `cls` over a domain listing, each stored document mapped by `to_node`."""
    return connection_of(cls, listing.page, [to_node(d) for d in listing.page.docs], listing.count)


@strawberry.type
class UserError:
    code: ErrorCode
    message: str
    field: list[str] | None

    @classmethod
    def of(cls, error: FieldError) -> UserError:
        return cls(code=error.code, message=error.message, field=list(error.field) if error.field else None)


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError.of(e) for e in error.errors]


def refusal(payload: Callable[..., P], error: DomainError) -> P:
    """A payload answering a refused mutation: every field null (nothing was written) but `errors`, the reasons."""
    nothing = {name: None for name in inspect.signature(payload).parameters if name != "errors"}
    return payload(**nothing, errors=user_errors(error))


def refused_as(
    payload: Callable[..., P],
) -> Callable[[Callable[Args, Awaitable[P]]], Callable[Args, Coroutine[Any, Any, P]]]:
    """Makes a mutation answer a DomainError it raises with `refusal(payload, error)`.

    The one refusal path of the mutations: any other exception stays a top-level GraphQL error.
    """
    def decorate(mutation: Callable[Args, Awaitable[P]]) -> Callable[Args, Coroutine[Any, Any, P]]:
        @functools.wraps(mutation)
        async def run(*args: Args.args, **kwargs: Args.kwargs) -> P:
            try:
                return await mutation(*args, **kwargs)
            except DomainError as error:
                return refusal(payload, error)
        return run
    return decorate


@strawberry.type
class ProvisioningError:
    code: str
    message: str

    @classmethod
    def of(cls, error: models.ProvisioningError) -> ProvisioningError:
        return cls(code=error.code, message=error.message)


@strawberry.type
class Address:
    address_line1: str
    address_line2: str | None
    city: str
    state_or_province: str | None
    zip_or_postal_code: str | None
    country: str

    @classmethod
    def of(cls, a: models.Address) -> Address:
        return cls(address_line1=a.address_line1, address_line2=a.address_line2, city=a.city,
                   state_or_province=a.state_or_province, zip_or_postal_code=a.zip_or_postal_code,
                   country=a.country)
