"""The pure parts of persisted operations (gateway.persisted): hashes, manifests, the APQ store and resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.persisted import (
    APOLLO_FORMAT,
    PERSISTED_QUERY_HASH_MISMATCH,
    PERSISTED_QUERY_NOT_ALLOWED,
    PERSISTED_QUERY_NOT_FOUND,
    ApqStore,
    ManifestError,
    PersistedError,
    PersistedOperations,
    load_manifest,
    parse_manifest,
    requested_hash,
    sha256_hex,
)

VIEWER = "{ viewer { orgId } }"
OTHER = "{ __typename }"


def _apq(text: str, version: int = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hex(text)}}


def _apollo(*bodies: str) -> dict[str, object]:
    return {"format": APOLLO_FORMAT, "version": 1,
            "operations": [{"id": sha256_hex(b), "name": f"Op{i}", "type": "query", "body": b}
                           for i, b in enumerate(bodies)]}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_both_manifest_formats_give_the_documents_by_their_sha256() -> None:
    assert parse_manifest(_apollo(VIEWER)) == {sha256_hex(VIEWER): ("Op0", VIEWER)}
    flat = {sha256_hex(VIEWER): VIEWER, f"sha256:{sha256_hex(OTHER).upper()}": OTHER}
    assert parse_manifest(flat) == {sha256_hex(VIEWER): (None, VIEWER), sha256_hex(OTHER): (None, OTHER)}


@pytest.mark.parametrize(("data", "says"), [
    ({"0" * 64: VIEWER}, f"id {'0' * 64} is not the SHA-256 of its document"),
    ({"abc": VIEWER}, "'abc' is not a SHA-256 hash"),
    ({"format": "relay", "operations": []}, "unknown manifest format"),
    ({"format": APOLLO_FORMAT, "version": 1, "operations": [{"id": "x"}]}, "operation #0 needs a string `id`"),
    ({}, "lists no operations"),
    ([VIEWER], "must be a JSON object"),
], ids=["wrong-id", "not-a-hash", "unknown-format", "no-body", "empty", "list"])
def test_a_manifest_whose_ids_are_not_the_hashes_of_their_documents_is_refused(data: object, says: str) -> None:
    with pytest.raises(ManifestError) as refused:
        parse_manifest(data)
    assert says in str(refused.value)


def test_loading_a_manifest_parses_every_document_and_names_the_one_that_does_not(tmp_path: Path) -> None:
    loaded = load_manifest(_write(tmp_path, _apollo(VIEWER)))
    assert loaded[sha256_hex(VIEWER)].document.definitions  # parsed once, here
    with pytest.raises(ManifestError, match=f"document {sha256_hex('{ viewer ')} does not parse"):
        load_manifest(_write(tmp_path, _apollo("{ viewer ")))
    with pytest.raises(ManifestError, match="is not valid JSON"):
        load_manifest(_write(tmp_path, "{"))
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "missing.json")


def test_a_request_names_its_document_by_apq_hash_or_document_id() -> None:
    digest = sha256_hex(VIEWER)
    assert requested_hash(_apq(VIEWER)) == digest
    assert requested_hash(None, f"sha256:{digest}") == requested_hash(None, digest) == digest
    assert requested_hash({"other": 1}) is None
    cases: list[tuple[dict[str, object], str | None, str]] = [
        (_apq(VIEWER, version=2), None, "Unsupported persisted query version"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "x"}}, None, "SHA-256"),
        ({"persistedQuery": "x"}, None, "must be an object"),
        (_apq(VIEWER), sha256_hex(OTHER), "different documents")]
    for extensions, document_id, says in cases:
        with pytest.raises(PersistedError, match=says) as refused:
            requested_hash(extensions, document_id)
        assert refused.value.code == "BAD_REQUEST"


def test_apq_not_found_then_registered_with_its_text_then_found_by_hash() -> None:
    persisted = PersistedOperations()
    with pytest.raises(PersistedError) as missing:
        persisted.resolve(None, _apq(VIEWER))
    assert (missing.value.code, str(missing.value)) == (PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
    registration = persisted.resolve(VIEWER, _apq(VIEWER))
    assert registration.text == VIEWER and registration.register == sha256_hex(VIEWER)
    with pytest.raises(PersistedError):  # remembered only once it was admitted and validated
        persisted.resolve(None, _apq(VIEWER))
    persisted.remember(registration)
    assert persisted.resolve(None, _apq(VIEWER)).text == VIEWER
    assert persisted.resolve(OTHER, None).text == OTHER  # plain requests are untouched


def test_a_hash_that_is_not_the_texts_is_refused() -> None:
    with pytest.raises(PersistedError) as refused:
        PersistedOperations().resolve(OTHER, _apq(VIEWER))
    assert refused.value.code == PERSISTED_QUERY_HASH_MISMATCH


def test_the_apq_store_is_bounded_and_drops_the_least_recently_used() -> None:
    store = ApqStore(max_entries=2, max_chars=10)
    store.put("a", "aaa")
    store.put("b", "bbb")
    assert store.get("a") == "aaa"  # now b is the least recently used
    store.put("c", "ccc")
    assert (store.get("a"), store.get("b"), store.get("c")) == ("aaa", None, "ccc")
    store.put("d", "dddddddd")  # 3 + 3 + 8 characters > 10: both older ones go
    assert (len(store), store.chars, store.get("d")) == (1, 8, "dddddddd")
    store.put("e", "e" * 11)  # larger than the whole store: not kept
    assert store.get("e") is None and len(store) == 1


def test_trusted_mode_runs_listed_documents_only(tmp_path: Path) -> None:
    persisted = PersistedOperations(load_manifest(_write(tmp_path, _apollo(VIEWER))))
    assert persisted.resolve(None, _apq(VIEWER)).text == VIEWER
    assert persisted.resolve(None, None, f"sha256:{sha256_hex(VIEWER)}").text == VIEWER
    assert persisted.resolve(VIEWER, None).text == VIEWER
    assert persisted.refusal(VIEWER) is None
    for query, extensions in [(OTHER, None), (None, _apq(OTHER)), (OTHER, _apq(OTHER))]:  # the last: registration
        with pytest.raises(PersistedError) as refused:
            persisted.resolve(query, extensions)
        assert refused.value.code == PERSISTED_QUERY_NOT_ALLOWED
    refusal = persisted.refusal(OTHER)
    assert refusal is not None and refusal.code == PERSISTED_QUERY_NOT_ALLOWED
    persisted.remember(persisted.resolve(VIEWER, _apq(VIEWER)))
    assert len(persisted.store) == 0  # nothing is registered in trusted mode
