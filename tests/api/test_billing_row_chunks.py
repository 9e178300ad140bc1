"""Billing rows are stored a chunk of rows per document; they read exactly as one document per row did.

Pages (any size, across chunk edges, with their cursors), counts and the download stream give the same rows as
reports stored before chunks, which held one document per row.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.rules.pagination import PageRequest, encode_cursor
from domain.store.repositories.billing import ROW_ORDER, BillingRowRepository
from domain.workflows import billing as billing_workflow
from tests.api.billing import REPORT, Tenancy, at, rows, tenancy
from tests.conftest import Gateway

COLUMNS = [{"partnerName": "Chunk Telecom", "serviceName": f"package {i}", "quantity": i + 0.5} for i in range(7)]


def expected(report_id: str) -> list[dict[str, Any]]:
    return [{"_id": f"{report_id}:{n}", "reportId": report_id, "n": n, **c} for n, c in enumerate(COLUMNS, 1)]


async def walk(repo: BillingRowRepository, report_id: str, size: int) -> list[dict[str, Any]]:
    """Every row, a page of `size` at a time, checking each page's cursors and flags."""
    got: list[dict[str, Any]] = []
    after = None
    while True:
        page = await repo.page({"reportId": report_id}, ROW_ORDER, PageRequest(size, after))
        assert page.cursors == [encode_cursor(ROW_ORDER, d) for d in page.docs]
        assert page.has_previous is (after is not None)
        got += page.docs
        if not page.has_next:
            return got
        assert len(page.docs) == size
        after = page.cursors[-1]


async def test_chunked_rows_page_count_and_stream_like_rows_stored_one_a_document(gateway: Gateway) -> None:
    repo = gateway.repos.billing_rows
    for first, last in ((1, 3), (4, 6), (7, 7)):  # chunks of 3, 3 and 1 rows
        await repo.store("rpt_chunked", first, COLUMNS[first - 1:last])
    await repo.insert_many(expected("rpt_single"))  # as reports were stored before chunks
    for report_id in ("rpt_chunked", "rpt_single"):
        assert await repo.count({"reportId": report_id}) == len(COLUMNS)
        for size in (1, 2, 3, 4, 6, 7, 100):
            assert await walk(repo, report_id, size) == expected(report_id), (report_id, size)
        empty = await repo.page({"reportId": report_id}, ROW_ORDER, PageRequest(0))
        assert (empty.docs, empty.has_next) == ([], True)
        streamed = [batch async for batch in repo.stream(report_id, batch=2)]
        assert [row for batch in streamed for row in batch] == expected(report_id)
        assert all(len(batch) >= 2 for batch in streamed[:-1])
    assert await repo.count({"reportId": "rpt_none"}) == 0
    assert await walk(repo, "rpt_none", 5) == []


@pytest.fixture
async def t(gateway: Gateway) -> Tenancy:
    return await tenancy(gateway)


async def test_a_report_stored_in_many_chunks_reads_as_one_stored_in_one(t: Tenancy,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    customer = await t.customer(t.partner, "CHUNKS-1", at(1))
    for n in range(3):
        await t.subscriber(t.partner, customer["id"], f"user{n}@chunks.example", at(1 + n))
    token = t.token(t.partner)
    whole = rows(await t.generated(token, "2026-11-01", "2026-11-05", "USER"))
    assert len(whole) >= 3
    monkeypatch.setattr(billing_workflow, "ROW_BATCH", 2)
    report = await t.generated(token, "2026-11-01", "2026-11-06", "USER")
    docs = await t.gateway.repos.db.find("billing_rows", {"reportId": report["id"]})
    assert [len(d["rows"]) for d in docs][:1] == [2] and len(docs) == (len(whole) + 1) // 2
    assert report["rowCount"] == report["rows"]["totalCount"] == len(whole)
    # The same rows (one day longer each), page by page as in one page.
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await t.gateway.execute(token, REPORT.replace("rows(first: 100)", "rows(first: 1, after: $after)")
                                        .replace("query($id: ID!)", "query($id: ID!, $after: String)"),
                                        {"id": report["id"], "after": after}))["billingReport"]["rows"]
        paged += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == rows(report)
    assert [(r["subscriberId"], r["serviceName"]) for r in paged] == [(r["subscriberId"], r["serviceName"])
                                                                       for r in whole]
