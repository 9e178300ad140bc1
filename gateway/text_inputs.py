"""Text that is not Unicode text: refused before an operation runs, naming the argument it was found in.

A JSON body may carry lone UTF-16 surrogates (`"\\ud800"`): JSON's escapes allow them, Python decodes them, but they
are not characters, cannot be encoded as UTF-8 and so can be neither stored (BSON), logged, exported (CSV) nor
compared. The document itself cannot carry one (graphql-core's lexer refuses them in strings: a syntax error), so
they are looked for in every variable (keys included), before validation: an operation carrying one is refused with
VALIDATION_FAILED and `extensions.field` naming the path of the argument the variable is used in (plus the path
inside the variable's value), and nothing runs. The walk is iterative (JSON may nest deep) and costs one `isascii()`
per ASCII string.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)

VALIDATION_FAILED = "VALIDATION_FAILED"
Path = list[str]


def is_text(value: str) -> bool:
    """True when `value` is a sequence of Unicode characters (no lone surrogate), i.e. encodable as UTF-8."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def written_arguments(operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
               ) -> Iterator[tuple[Path, ValueNode]]:
    """Every argument written in the operation and the fragments (each fragment once), with its name."""
    pending: list[SelectionSetNode | None] = [operation.selection_set, *(f.selection_set for f in fragments.values())]
    while pending:
        current = pending.pop()
        if current is None:
            continue
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    yield [argument.name.value], argument.value
                pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)


def _variable_uses(value: ValueNode, path: Path, uses: dict[str, Path]) -> None:
    """Records the argument path where each variable in a literal is used (the first use wins)."""
    pending: list[tuple[ValueNode, Path]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, VariableNode):
            uses.setdefault(current.name.value, where)
        elif isinstance(current, ListValueNode):
            pending.extend((item, [*where, str(i)]) for i, item in enumerate(current.values))
        elif isinstance(current, ObjectValueNode):
            pending.extend((f.value, [*where, f.name.value]) for f in current.fields)


def _json_problem(value: Any, path: Path) -> Path | None:
    """The path of a non-text string (or object key) in a variable's JSON value."""
    pending: list[tuple[Any, Path]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, str):
            if not is_text(current):
                return where
        elif isinstance(current, list):
            pending.extend((item, [*where, str(i)]) for i, item in enumerate(current))
        elif isinstance(current, dict):
            for key, item in current.items():
                if isinstance(key, str) and not is_text(key):
                    return where
                pending.append((item, [*where, str(key)]))
    return None


def check_text(document: DocumentNode, operation: OperationDefinitionNode,
               variables: Mapping[str, Any] | None) -> GraphQLError | None:
    """VALIDATION_FAILED for the first variable holding a lone surrogate, named by the argument it is used in."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    uses: dict[str, Path] = {}
    for path, literal in written_arguments(operation, fragments):
        _variable_uses(literal, path, uses)
    for name, value in (variables or {}).items():
        where = uses.get(name) or ([name] if isinstance(name, str) and is_text(name) else ["variables"])
        found = _json_problem(value, where)
        if found is not None:
            return _refusal(found)
    return None


def _refusal(path: Path) -> GraphQLError:
    return GraphQLError(f"`{'.'.join(path)}` is not valid Unicode text (it holds a lone UTF-16 surrogate)",
                        extensions={"code": VALIDATION_FAILED, "field": path})
