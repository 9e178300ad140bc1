"""A cached execution plan: plain fields answered without graphql-core's per-field dispatch.

graphql-core executes every field of every object the same way: it looks the field up, builds a `GraphQLResolveInfo`,
calls the resolver Strawberry wrapped around it (which builds its own `Info`, converts the arguments and runs field
extensions), then completes the value through `complete_value`'s chain of type checks. For the dashboard's 1,400
fields that dispatch, not the data, is most of the time a request spends in Python.

Most of those fields are plain: a Strawberry attribute with no resolver, on an object type, whose value is a scalar,
an enum, another object, or a list of those. For a selection set the executor has collected (its `GroupedFieldSet`),
`plan_fields` compiles once, per (parent type, field nodes), what each field needs:

* `BASIC`: a plain attribute. Read with `getattr`, completed by `_complete`: leaves coerced with the type's own
  `coerce_output_value`, objects executed on through `collect_and_execute_subfields` (so their own plain fields take
  this path too), lists item by item — no `GraphQLResolveInfo`, no resolver wrapper, no `complete_value` dispatch;
* `DIRECT`: a resolver method taking at most `self` and `info`, no GraphQL argument, no field extension: called
  directly (Strawberry's argument conversion and extension chain have nothing to do), its value completed as above;
* `SLOW`: anything else (arguments, field extensions, abstract types, directives): graphql-core's `execute_field`.

A leaf whose value is still on its way (a `Later`: a count the database is computing) does not hold up the object
around it. The object is completed without it, and the outermost object of that synchronous completion is handed to
the executor as one awaitable which waits for every such value, then fills each in, coerced. So the fifty customers
of a dashboard's page are built while the database counts their subscribers, not after. When one of those values
fails or would not coerce, that object is executed again without deferring (its values are there by then), so the
executor meets the failure where it would have and the answer stays its answer.

The answer is the same as the executor's, byte for byte, errors included: every case the fast path does not cover
exactly (a null for a non-null field, a coercion that fails, an `is_type_of` that answers no or must be awaited, a list
that is not a list, an exception) is handed to the executor's own methods at the point where it would have met it,
with the same path, so the message, the path and the null propagation are the executor's. The documents are the
parsed ones `gateway.limits` caches, so the plans of a dashboard's few operations are compiled once and reused.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.executor import invalid_return_type_error, to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.types.info import Info

from resolvers.events.sharing import SharingExecutionContext

BASIC, DIRECT, SLOW = 0, 1, 2
PLAN_CACHE_SIZE = 4096  # compiled selection sets (parent type + field nodes), least recently used out
DEFINITION = "strawberry-definition"
_GENERATED_IS_TYPE_OF = "_get_is_type_of.<locals>.is_type_of"  # Strawberry's own: an isinstance check, no info


@dataclass(frozen=True, slots=True)
class Completion:
    """How a value of one output type is completed: `kind` is leaf, object, list or None (not covered)."""

    kind: str | None
    non_null: bool
    type: GraphQLOutputType  # without its non-null wrapper
    output: GraphQLOutputType  # as declared (what the executor's messages and null propagation look at)
    of: Completion | None = None  # a list's items
    coerce: Callable[[Any], Any] | None = None  # a leaf's
    is_type_of: Callable[[Any, Any], Any] | None = None  # an object's, when it has one
    is_type_of_needs_info: bool = False


@dataclass(frozen=True, slots=True)
class FieldPlan:
    name: str  # the response name
    kind: int
    field_details: Any  # the FieldDetailsList the executor collected
    field_def: Any
    completion: Completion
    read: Callable[[Any], Any] | None = None  # BASIC: source -> value
    resolver: Callable[..., Any] | None = None  # DIRECT
    wants_info: bool = False
    strawberry_field: StrawberryField | None = None
    where: str = ""  # "Parent.field", for the executor's messages
    has_arguments: bool = False  # DIRECT: converted once per execution (the same nodes and variables for every item)
    leaf: Callable[[Any], Any] | None = None  # BASIC with a scalar or enum value: its coercion (answered inline)


def _same(value: Any) -> Any:
    return value


class Later(Awaitable[Any]):
    """A value on its way: `convert` of what `future` resolves to (a DataLoader's future, a count's task).

    Awaitable, as any resolver's awaitable: the executor awaits it. A planned execution does better with a leaf's:
    it completes the rest of the object meanwhile (see the module's docstring). Awaiting it never cancels the
    future, which other fields may share."""

    __slots__ = ("convert", "future")

    def __init__(self, future: Awaitable[Any], convert: Callable[[Any], Any] = _same) -> None:
        self.future = asyncio.ensure_future(future)  # a future already (a loader's, a task): itself
        self.convert = convert

    def __await__(self) -> Generator[Any, None, Any]:
        return self._value().__await__()

    async def _value(self) -> Any:
        await asyncio.wait((self.future,))
        return self.convert(self.future.result())


def completion_of(output_type: GraphQLOutputType) -> Completion:
    non_null = is_non_null_type(output_type)
    inner = output_type.of_type if isinstance(output_type, GraphQLNonNull) else output_type
    if is_leaf_type(inner):
        return Completion("leaf", non_null, inner, output_type,
                          coerce=inner.coerce_output_value)
    if is_list_type(inner):
        assert isinstance(inner, GraphQLList)
        items = completion_of(inner.of_type)
        return Completion("list" if items.kind is not None else None, non_null, inner, output_type, of=items)
    if is_object_type(inner):
        assert isinstance(inner, GraphQLObjectType)
        check = inner.is_type_of
        needs_info = check is not None and not getattr(check, "__qualname__", "").endswith(_GENERATED_IS_TYPE_OF)
        return Completion("object", non_null, inner, output_type, is_type_of=check,
                          is_type_of_needs_info=needs_info)
    return Completion(None, non_null, inner, output_type)  # interfaces, unions: the executor finds the runtime type


def _direct_resolver(field: StrawberryField) -> tuple[Callable[..., Any], bool] | None:
    """The function to call for a resolver method taking `self`, maybe `info`, then its GraphQL arguments by name;
    and whether it wants info."""
    resolver = field.base_resolver
    if not isinstance(resolver, StrawberryResolver) or field.extensions:
        return None
    function = resolver.wrapped_func
    if not inspect.isfunction(function):  # a staticmethod, classmethod, partial, callable object…
        return None
    parameters = list(inspect.signature(function).parameters.values())
    own = resolver.self_parameter
    if own is None or not parameters or parameters[0].name != own.name:
        return None
    info = resolver.info_parameter
    rest = parameters[1:]
    wants_info = bool(rest) and info is not None and rest[0].name == info.name and rest[0].kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY)
    if wants_info:
        rest = rest[1:]
    arguments = {argument.python_name for argument in field.arguments}
    if {p.name for p in rest} != arguments or any(p.kind not in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY) for p in rest):
        return None
    return function, wants_info


def plan_field(parent_type: GraphQLObjectType, name: str, field_details: Any, schema: Any) -> FieldPlan:
    first = field_details[0]
    node = first.node
    field_def = schema.get_field(parent_type, node.name.value)
    where = f"{parent_type.name}.{node.name.value}"
    slow = FieldPlan(name, SLOW, field_details, field_def, Completion(None, False, parent_type, parent_type),
                     where=where)
    if field_def is None or any(d.node.directives or d.fragment_variable_values is not None for d in field_details):
        return slow
    field = (field_def.extensions or {}).get(DEFINITION)
    if type(field) is not StrawberryField:
        return slow
    completion = completion_of(field_def.type)
    if completion.kind is None:
        return slow
    if (getattr(field_def.resolve, "_is_default", False) and field.base_resolver is None and field.is_basic_field
            and not node.arguments and not field_def.args):
        reader = field.default_resolver
        python_name = field.python_name
        read = attrgetter(python_name) if reader is getattr else (lambda source: reader(source, python_name))
        return FieldPlan(name, BASIC, field_details, field_def, completion, read=read, where=where,
                         leaf=completion.coerce if completion.kind == "leaf" else None)
    # Only where `resolve` is Strawberry's own wrapper of the resolver (a subscription field's `resolve` hands on the
    # event, its resolver is the `subscribe` generator; anything custom stays with the executor).
    wrapped = getattr(field_def.resolve, "_is_default", None) is False and not field.is_subscription
    direct = _direct_resolver(field) if field.base_resolver is not None and wrapped else None
    if direct is None:
        return slow
    return FieldPlan(name, DIRECT, field_details, field_def, completion, resolver=direct[0], wants_info=direct[1],
                     strawberry_field=field, where=where, has_arguments=bool(field.arguments))


class _Plans:
    """Compiled plans by (parent type, the field nodes of each response name), least recently used out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], tuple[Any, tuple[FieldPlan, ...]]] = OrderedDict()
        self.compiled = 0

    def get(self, parent_type: GraphQLObjectType, grouped: Any, schema: Any) -> tuple[FieldPlan, ...]:
        nodes = tuple((name, *(id(d.node) for d in details)) for name, details in grouped.items())
        key = (parent_type, nodes)
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
            plans = entry[1]
            if all(p.field_details is grouped[p.name] for p in plans):
                return plans
            # The same nodes collected again by another execution: the plan holds, with this execution's details.
            return tuple(_rebind(p, grouped[p.name]) for p in plans)
        plans = tuple(plan_field(parent_type, name, details, schema) for name, details in grouped.items())
        # The value keeps the nodes alive, so that their ids are not reused while the key is cached.
        self.entries[key] = ([[d.node for d in details] for details in grouped.values()], plans)
        self.compiled += 1
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return plans


def _rebind(plan: FieldPlan, field_details: Any) -> FieldPlan:
    return FieldPlan(plan.name, plan.kind, field_details, plan.field_def, plan.completion, plan.read, plan.resolver,
                     plan.wants_info, plan.strawberry_field, plan.where, plan.has_arguments, plan.leaf)


def _filled(values: dict[str, Any], plan: FieldPlan, later: Later) -> bool:
    """Put a deferred leaf's coerced value in its object's results; False (nothing put) where the executor would
    meet an error: the future failed, the value does not coerce, or it is null for a non-null field."""
    future = later.future
    if future.cancelled() or future.exception() is not None:
        return False
    completion = plan.completion
    try:
        value = later.convert(future.result())
        if value is None or value is Undefined:
            if completion.non_null:
                return False
            values[plan.name] = None
            return True
        assert completion.coerce is not None
        coerced = completion.coerce(value)
    except Exception:
        return False
    if coerced is None or coerced is Undefined:
        return False
    values[plan.name] = coerced
    return True


PLANS = _Plans(PLAN_CACHE_SIZE)


class PlannedExecutionContext(SharingExecutionContext):
    """graphql-core's executor (with the sharing of subscription results), answering plain fields by plan."""

    _planned: dict[int, tuple[Any, tuple[FieldPlan, ...]]]
    _converted: dict[int, tuple[FieldPlan, dict[str, Any]]]
    # Leaves left for later by the synchronous completion in progress: (the object's results, the field, its value).
    # None: no completion is in progress; the outermost `execute_fields` of one starts the list.
    _deferred: list[tuple[dict[str, Any], FieldPlan, Later]] | None = None
    _deferring = True  # False while an object is executed again after a deferred value failed

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: Any, position_context: Any) -> Any:
        middleware = self.middleware_manager  # Strawberry passes one per request, empty without `resolve` hooks
        if (middleware is not None and middleware.middlewares) or position_context is not None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        if self._deferred is not None or not self._deferring:
            return self._execute_fields(parent_type, source_value, path, grouped_field_set)
        deferred = self._deferred = []
        try:
            results = self._execute_fields(parent_type, source_value, path, grouped_field_set)
        finally:
            self._deferred = None
        if not deferred:
            return results
        return self._fill_in(deferred, results, (parent_type, source_value, path, grouped_field_set))

    def _execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                        grouped_field_set: Any) -> Any:
        try:
            planned = self._planned
        except AttributeError:
            planned = self._planned = {}
        entry = planned.get(id(grouped_field_set))
        if entry is None or entry[0] is not grouped_field_set:
            entry = planned[id(grouped_field_set)] = (grouped_field_set,
                                                      PLANS.get(parent_type, grouped_field_set, self.schema))
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for plan in entry[1]:
                coerce = plan.leaf
                if coerce is not None:  # the commonest field: a scalar attribute, answered here when all is well
                    try:
                        value = plan.read(source_value)  # type: ignore[misc]
                        if value is not None and value is not Undefined and not isinstance(value, Exception):
                            coerced = coerce(value)
                            if coerced is not None and coerced is not Undefined:
                                results[plan.name] = coerced
                                continue
                    except Exception:  # answered again below, where the error is reported as the executor does
                        pass
                field_path = Path(path, plan.name, parent_type.name)
                if plan.kind == SLOW:
                    result = self.execute_field(parent_type, source_value, plan.field_details, field_path, None)
                    if result is Undefined:
                        continue
                else:
                    result = self._planned_field(plan, parent_type, source_value, field_path)
                    if type(result) is Later:  # a leaf on its way (only while deferring): filled in by `_fill_in`
                        results[plan.name] = result
                        self._deferred.append((results, plan, result))  # type: ignore[union-attr]
                        continue
                results[plan.name] = result
                if is_awaitable(result):
                    awaitable_fields.append(plan.name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                name = awaitable_fields[0]
                results[name] = await results[name]
            else:
                awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    async def _fill_in(self, deferred: list[tuple[dict[str, Any], FieldPlan, Later]], results: Any,
                       again: tuple[GraphQLObjectType, Any, Path | None, Any]) -> Any:
        """The object's results once its deferred leaves are in; the executor's answer if one of them fails."""
        rest = asyncio.ensure_future(results) if self.is_awaitable(results) else None  # its other awaited fields
        try:
            await asyncio.wait({later.future for _, _, later in deferred})
        except BaseException:
            if rest is not None:
                rest.cancel()
            raise
        if all(_filled(values, plan, later) for values, plan, later in deferred):
            return await rest if rest is not None else results
        if rest is not None:  # let it end, not cancelled: it may be awaiting a loader's future the retry shares
            await asyncio.wait((rest,))
            if not rest.cancelled():
                rest.exception()  # its result is thrown away with the rest of this attempt
        # The errors the first attempt recorded stay: this one meets them again at the same positions, which
        # graphql-core's CollectedErrors records once.
        parent_type, source_value, path, grouped_field_set = again
        self._deferring = False
        try:
            retried = self.execute_fields(parent_type, source_value, path, grouped_field_set, None)
        finally:
            self._deferring = True
        return await retried if self.is_awaitable(retried) else retried

    # --- one field ------------------------------------------------------------------------------------------------

    def _info(self, plan: FieldPlan, parent_type: GraphQLObjectType, path: Path) -> GraphQLResolveInfo[Any]:
        return self.build_resolve_info(plan.field_def, to_nodes(plan.field_details), parent_type, path)

    def _planned_field(self, plan: FieldPlan, parent_type: GraphQLObjectType, source: Any, path: Path) -> Any:
        """`execute_field` for a BASIC or DIRECT field: its value, an awaitable of it, or None after a field error."""
        completion = plan.completion
        try:
            if plan.kind == BASIC:
                result = plan.read(source)  # type: ignore[misc]
            else:
                assert plan.resolver is not None and plan.strawberry_field is not None
                info = (Info(_raw_info=self._info(plan, parent_type, path), _field=plan.strawberry_field)
                        if plan.wants_info or plan.has_arguments else None)
                kwargs = self._arguments(plan, info) if plan.has_arguments else {}
                result = plan.resolver(source, info, **kwargs) if plan.wants_info else plan.resolver(source, **kwargs)
                if type(result) is Later and completion.kind == "leaf" and self._deferred is not None:
                    return result
                if self.is_awaitable(result):
                    return self.complete_awaitable_value(plan.field_def.type, plan.field_details,
                                                         self._info(plan, parent_type, path), path, result, None)
            completed = self._complete(plan, completion, parent_type, path, result)
            if self.is_awaitable(completed):
                return self._guarded(plan, path, completed)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.field_def.type, plan.field_details, path)
            return None

    def _arguments(self, plan: FieldPlan, info: Any) -> dict[str, Any]:
        """The field's arguments as its resolver takes them (Strawberry's conversion), once per execution."""
        try:
            converted = self._converted
        except AttributeError:
            converted = self._converted = {}
        entry = converted.get(id(plan))
        if entry is not None and entry[0] is plan:
            return entry[1]
        first = plan.field_details[0]
        values = get_argument_values(plan.field_def, first.node, self.variable_values, first.fragment_variable_values,
                                     self.hide_suggestions)
        strawberry_schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        converter = strawberry_schema.schema_converter
        assert plan.strawberry_field is not None
        kwargs = convert_arguments(values, plan.strawberry_field.arguments, scalar_registry=converter.scalar_registry,
                                   config=converter.config, info=info)
        converted[id(plan)] = (plan, kwargs)
        return kwargs

    async def _guarded(self, plan: FieldPlan, path: Path, completed: Awaitable[Any]) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, plan.field_def.type, plan.field_details, path)
            return None

    def _complete(self, plan: FieldPlan, completion: Completion, parent_type: GraphQLObjectType, path: Path,
                  value: Any) -> Any:
        """`complete_value` for a covered type (leaf, object, list of them); raises as the executor would."""
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if completion.non_null:
                raise TypeError(f"Cannot return null for non-nullable field {plan.where}.")
            return None
        kind = completion.kind
        if kind == "leaf":
            assert completion.coerce is not None
            coerced = completion.coerce(value)
            if coerced is None or coerced is Undefined:
                return self.complete_leaf_value(completion.type, value)  # type: ignore[arg-type]  # raises
            return coerced
        if kind == "object":
            object_type = completion.type
            assert isinstance(object_type, GraphQLObjectType)
            check = completion.is_type_of
            if check is not None:
                if completion.is_type_of_needs_info:  # the executor's own, with the info it would pass
                    return self.complete_object_value(object_type, plan.field_details,
                                                      self._info(plan, parent_type, path), path, value, None)
                if not check(value, None):
                    raise invalid_return_type_error(object_type, value, plan.field_details)
            return self.collect_and_execute_subfields(object_type, plan.field_details, path, value, None)
        # a list
        if not isinstance(value, list | tuple):  # iterables, async iterables: the executor's own checks
            return self.complete_list_value(completion.type, plan.field_details,  # type: ignore[arg-type]
                                            self._info(plan, parent_type, path), path, value, None)
        items = completion.of
        assert items is not None
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        awaitable: list[int] = []
        try:
            for index, item in enumerate(value):
                item_path = path.add_key(index, None)
                if is_awaitable(item):
                    completed.append(self.complete_awaitable_list_item_value(
                        item, items.output, plan.field_details, self._info(plan, parent_type, path), item_path, None))
                    awaitable.append(index)
                    continue
                try:
                    done = self._complete(plan, items, parent_type, item_path, item)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, items.output, plan.field_details, item_path)
                    done = None
                else:
                    if is_awaitable(done):
                        done = self._guarded_item(plan, items, item_path, done)
                        awaitable.append(index)
                completed.append(done)
        except Exception:
            if awaitable:
                self.settle_in_background([completed[i] for i in awaitable])
            raise
        if not awaitable:
            return completed

        async def get_completed() -> list[Any]:
            if len(awaitable) == 1:
                completed[awaitable[0]] = await completed[awaitable[0]]
            else:
                for index, result in zip(awaitable, await gather_with_cancel(*(completed[i] for i in awaitable)),
                                         strict=True):
                    completed[index] = result
            return completed

        return get_completed()

    async def _guarded_item(self, plan: FieldPlan, items: Completion, item_path: Path, done: Awaitable[Any]) -> Any:
        try:
            return await done
        except Exception as raw_error:
            self.handle_field_error(raw_error, items.output, plan.field_details, item_path)
            return None
