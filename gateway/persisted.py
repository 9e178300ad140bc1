"""Persisted operations: Apollo's automatic persisted queries (APQ) and a trusted-documents mode for production.

A request may name its document by hash instead of (or besides) sending its text:
- APQ: `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`, over POST or GET;
- the GraphQL-over-HTTP draft's `documentId` (`"sha256:<hex>"` or the bare hex).

Without `GATEWAY_TRUSTED_DOCUMENTS` (APQ): a hash this process has not seen is PERSISTED_QUERY_NOT_FOUND and the
client sends the text with the hash; the hash must be the text's SHA-256 (PERSISTED_QUERY_HASH_MISMATCH otherwise),
and once the operation was admitted, parsed and validated, the text is remembered in a bounded in-memory LRU
(`ApqStore`, per process: a miss in another process only costs the client one more round trip with the text).

With `GATEWAY_TRUSTED_DOCUMENTS=manifest.json`: only the manifest's documents run, named by hash or sent as text
whose SHA-256 is listed; anything else is PERSISTED_QUERY_NOT_ALLOWED before it is parsed, and nothing is registered.
Each listed document is parsed and validated once at start-up (a document that does not validate stops the start);
executions reuse that parsed document (the schema extension `TrustedOperations`), so they are never parsed again.

Whatever names the document, the resolved text then goes through the same limits (rate, tokens, cost) as any other.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, NoSchemaIntrospectionCustomRule, parse, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
BAD_REQUEST = "BAD_REQUEST"
APOLLO_FORMAT = "apollo-persisted-query-manifest"
# The APQ store's bounds: entries, and characters of text in all (a document is at most GATEWAY_MAX_BODY_BYTES).
APQ_MAX_ENTRIES = 1000
APQ_MAX_CHARS = 8 * 1024 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PersistedError(Exception):
    """A request naming a document that cannot run; `code` is the error's extensions.code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def formatted(self) -> dict[str, Any]:
        return {"message": str(self), "extensions": {"code": self.code}}


class ManifestError(ValueError):
    """The trusted-documents manifest cannot be used (the message says why, naming the document when there is one)."""


def _hash_of(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise PersistedError(BAD_REQUEST, f"`{where}` must be a string")
    digest = value.strip().lower().removeprefix("sha256:")
    if not _HEX.fullmatch(digest):
        raise PersistedError(BAD_REQUEST, f"`{where}` must be a SHA-256 hash (64 hexadecimal digits)")
    return digest


def requested_hash(extensions: Mapping[str, Any] | None, document_id: object = None) -> str | None:
    """The document hash a request names (APQ's `extensions.persistedQuery`, or `documentId`); None without one."""
    found: str | None = None
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is not None:
        if not isinstance(persisted, Mapping):
            raise PersistedError(BAD_REQUEST, "`extensions.persistedQuery` must be an object")
        if persisted.get("version") != 1:
            raise PersistedError(BAD_REQUEST, "Unsupported persisted query version: only version 1 is known")
        found = _hash_of(persisted.get("sha256Hash"), "extensions.persistedQuery.sha256Hash")
    if document_id is not None:
        named = _hash_of(document_id, "documentId")
        if found is not None and named != found:
            raise PersistedError(BAD_REQUEST, "`documentId` and `extensions.persistedQuery` name different documents")
        found = named
    return found


# --- the trusted documents' manifest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedDocument:
    id: str  # the SHA-256 of `text`, lower-case hex
    name: str | None
    text: str
    document: DocumentNode


def manifest_entries(data: object) -> list[tuple[str, str | None, str]]:
    """(id, name, body) of each operation of a manifest: Apollo's persisted query manifest, or a flat map of
    `{"<sha256>": "<document>"}` (graphql-codegen's client preset with `hashAlgorithm: "sha256"`, Relay)."""
    if not isinstance(data, dict):
        raise ManifestError("the manifest must be a JSON object")
    if "format" in data or "operations" in data:
        if data.get("format") != APOLLO_FORMAT or data.get("version") != 1:
            raise ManifestError(f'unknown manifest format: expected "format": "{APOLLO_FORMAT}", "version": 1')
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise ManifestError("`operations` must be a list")
        entries: list[tuple[str, str | None, str]] = []
        for index, operation in enumerate(operations):
            if not isinstance(operation, dict) or not isinstance(operation.get("id"), str) \
                    or not isinstance(operation.get("body"), str):
                raise ManifestError(f"operation #{index} needs a string `id` and a string `body`")
            name = operation.get("name")
            entries.append((operation["id"], name if isinstance(name, str) else None, operation["body"]))
        return entries
    if not all(isinstance(body, str) for body in data.values()):
        raise ManifestError('a flat manifest maps each "<sha256>" id to its document text')
    return [(key, None, body) for key, body in data.items()]


def parse_manifest(data: object) -> dict[str, tuple[str | None, str]]:
    """The manifest's documents by id: {sha256: (name, text)}. Every id must be the SHA-256 of its text."""
    documents: dict[str, tuple[str | None, str]] = {}
    for raw_id, name, body in manifest_entries(data):
        digest = raw_id.strip().lower().removeprefix("sha256:")
        if not _HEX.fullmatch(digest):
            raise ManifestError(f"id {raw_id!r} is not a SHA-256 hash (64 hexadecimal digits)")
        if sha256_hex(body) != digest:
            raise ManifestError(f"id {raw_id} is not the SHA-256 of its document ({sha256_hex(body)})")
        documents[digest] = (name, body)
    if not documents:
        raise ManifestError("the manifest lists no operations")
    return documents


def load_manifest(path: Path) -> dict[str, TrustedDocument]:
    """Read, check and parse a manifest file; ManifestError says what is wrong (and with which document)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError):
        raise ManifestError(f"{path} is not valid JSON") from None
    trusted: dict[str, TrustedDocument] = {}
    for digest, (name, text) in parse_manifest(data).items():
        try:
            document = parse(text)
        except GraphQLError as exc:
            raise ManifestError(f"document {digest} does not parse: {exc.message}") from None
        trusted[digest] = TrustedDocument(digest, name, text, document)
    return trusted


def validation_problems(schema: GraphQLSchema, documents: Mapping[str, TrustedDocument], *,
                        introspection: bool = True) -> Iterator[str]:
    """Why each document that does not validate against `schema` fails (naming its id and name)."""
    rules = tuple(specified_rules) + (() if introspection else (NoSchemaIntrospectionCustomRule,))
    for digest, trusted in documents.items():
        errors = validate_document(schema, trusted.document, rules)
        if errors:
            label = f"{digest} ({trusted.name})" if trusted.name else digest
            yield f"document {label} does not validate: {errors[0].message}"


# --- automatic persisted queries -----------------------------------------------------------------------------


class ApqStore:
    """Texts by SHA-256, least recently used first out, bounded in entries and in characters."""

    def __init__(self, max_entries: int = APQ_MAX_ENTRIES, max_chars: int = APQ_MAX_CHARS) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.chars = 0
        self._texts: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._texts)

    def get(self, digest: str) -> str | None:
        text = self._texts.get(digest)
        if text is not None:
            self._texts.move_to_end(digest)
        return text

    def put(self, digest: str, text: str) -> None:
        if len(text) > self.max_chars:
            return
        old = self._texts.pop(digest, None)
        if old is not None:
            self.chars -= len(old)
        self._texts[digest] = text
        self.chars += len(text)
        while len(self._texts) > self.max_entries or self.chars > self.max_chars:
            _, dropped = self._texts.popitem(last=False)
            self.chars -= len(dropped)


@dataclass(frozen=True)
class Resolved:
    """The text to run, and the hash to remember it under once it was admitted and validated (APQ registration)."""

    text: str
    register: str | None = None


class PersistedOperations:
    """What a process knows of persisted operations: its APQ store, or the trusted documents (then only those run)."""

    def __init__(self, trusted: Mapping[str, TrustedDocument] | None = None, store: ApqStore | None = None) -> None:
        self.trusted = dict(trusted) if trusted is not None else None
        self.store = store or ApqStore()
        self._by_text = {t.text: t.document for t in (self.trusted or {}).values()}

    @classmethod
    def from_manifest(cls, path: Path | None) -> PersistedOperations:
        return cls(load_manifest(path) if path is not None else None)

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None, document_id: object = None
                ) -> Resolved:
        """The text a request runs; PersistedError when it names an unknown document, a wrong hash, or (in trusted
        mode) anything not listed. A request with neither text nor hash is the caller's to refuse (`text` is "")."""
        digest = requested_hash(extensions, document_id)
        if query is not None and digest is not None and sha256_hex(query) != digest:
            raise PersistedError(PERSISTED_QUERY_HASH_MISMATCH,
                                 "The persisted query hash is not the SHA-256 of the query sent with it")
        if self.trusted is not None:
            listed = self.trusted.get(digest if digest is not None else sha256_hex(query or ""))
            if listed is None:
                if query is None and digest is None:
                    return Resolved("")
                raise _not_allowed()
            return Resolved(listed.text)
        if query is not None:
            return Resolved(query, register=digest)
        if digest is None:
            return Resolved("")
        text = self.store.get(digest)
        if text is None:
            raise PersistedError(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
        return Resolved(text)

    def remember(self, resolved: Resolved) -> None:
        if resolved.register is not None and self.trusted is None:
            self.store.put(resolved.register, resolved.text)

    def refusal(self, query: object) -> PersistedError | None:
        """For transports that always carry the text (websockets): in trusted mode, refuse a text not listed."""
        if self.trusted is None or (isinstance(query, str) and query in self._by_text):
            return None
        return _not_allowed()

    def schema_extensions(self) -> list[type[SchemaExtension]]:
        """In trusted mode, the extension that runs only listed documents, reusing their parse; else none.

        Listed before `gateway.limits.operation_limits`, which then finds the document already parsed."""
        return [] if self.trusted is None else [_trusted_operations(self._by_text)]


def _not_allowed() -> PersistedError:
    return PersistedError(PERSISTED_QUERY_NOT_ALLOWED,
                          "This gateway runs only its trusted documents, and this operation is not one of them")


def _trusted_operations(documents: Mapping[str, DocumentNode]) -> type[SchemaExtension]:
    class TrustedOperations(SchemaExtension):
        """Listed documents run from their start-up parse (the same object each time, so the validation cache of
        gateway.limits hits after its first use); any other text is refused, whichever transport brought it."""

        def on_parse(self) -> Iterator[None]:
            ctx = self.execution_context
            if ctx.graphql_document is None and ctx.query is not None and ctx.query in documents:
                ctx.graphql_document = documents[ctx.query]
            yield

        def on_validate(self) -> Iterator[None]:
            ctx = self.execution_context
            if ctx.pre_execution_errors is None and ctx.query not in documents:
                refused = _not_allowed()
                ctx.pre_execution_errors = [GraphQLError(str(refused), extensions={"code": refused.code})]
            yield

    return TrustedOperations
