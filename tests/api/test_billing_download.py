"""R-BIL-5: a completed report downloads as CSV through a signed link, valid 30 minutes from its hand-out."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from domain.rules.billing import COLUMNS, ReportType
from tests.api.billing import DELETE_REPORT, REPORT, Tenancy, at, rows, tenancy
from tests.conftest import NOW, Gateway


@pytest.fixture
async def t(gateway: Gateway) -> Tenancy:
    t = await tenancy(gateway)
    for n, external_id in enumerate(("CSV-1", "CSV-2")):
        customer = await t.customer(t.partner, external_id, at(1))
        await t.subscriber(t.partner, customer["id"], f"u{n}@csv.example", at(1, 6 * n))
        await t.subscriber(t.partner, customer["id"], f"m{n}@csv.example", at(2), package="webex_meetings")
    return t


async def fetch(gateway: Gateway, url: str) -> httpx.Response:
    """GET a link as a browser would: no bearer token, only what the link carries."""
    parts = urlsplit(url)
    return await gateway.http.get(f"{parts.path}?{parts.query}")


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


async def test_r_bil_5_the_link_serves_the_rows_as_csv_with_a_header(t: Tenancy) -> None:
    token = t.token(t.partner)
    report = await t.generated(token, "2026-11-01", "2026-11-03", "USER")
    assert report["downloadUrl"].startswith("http://gateway.test/billing/reports/")

    response = await fetch(t.gateway, report["downloadUrl"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(response.text)))
    header, lines = table[0], table[1:]
    assert tuple(header) == COLUMNS[ReportType.USER]
    expected = [[str(r[c]) if r[c] is not None else "" for c in header] for r in rows(report)]
    assert lines == expected and len(lines) == 4
    # u0: 1 Nov 00:00 → end of 3 Nov; u1 from 06:00; the meetings users from 2 Nov.
    assert sorted(float(line[header.index("quantity")]) for line in lines) == [2.0, 2.0, 2.75, 3.0]


async def test_r_bil_5_a_link_expires_30_minutes_after_it_was_handed_out(t: Tenancy) -> None:
    token = t.token(t.partner)
    report = await t.generated(token, "2026-11-01", "2026-11-03")
    link = report["downloadUrl"]
    t.gateway.clock.set(NOW + timedelta(minutes=29, seconds=59))
    assert (await fetch(t.gateway, link)).status_code == 200
    t.gateway.clock.set(NOW + timedelta(minutes=30))
    expired = await fetch(t.gateway, link)
    assert expired.status_code == 404 and expired.text == "not found"
    # Reading the report again hands out a new link, valid from now.
    fresh = (await t.gateway.execute(token, REPORT, {"id": report["id"]}))["billingReport"]["downloadUrl"]
    assert fresh != link and (await fetch(t.gateway, fresh)).status_code == 200


async def test_r_bil_5_a_forged_link_reveals_nothing(t: Tenancy) -> None:
    token = t.token(t.partner)
    report = await t.generated(token, "2026-11-01", "2026-11-03")
    other = await t.generated(token, "2026-11-01", "2026-11-02")
    link = report["downloadUrl"]
    expires = parse_qs(urlsplit(link).query)["expires"][0]
    forged = [
        tampered(link, signature="0" * 64),
        tampered(link, expires=str(int(expires) + 3600)),  # a longer life is not in the signature
        link.replace(report["id"], other["id"]),  # another report's id under this signature
        tampered(link, expires="soon"),
        link.split("?")[0],
        # Non-ASCII where the link has hex and digits (issue #13: these answered 500).
        link.replace("signature=", "signature=%C3%A9"),
        tampered(link, signature="é" * 64),
        tampered(link, expires="\u00b2"),  # SUPERSCRIPT TWO: str.isdigit() says yes, int() says no
        tampered(link, expires="\u2460"),  # CIRCLED DIGIT ONE
        tampered(link, expires="\u0661" * 10),  # ARABIC-INDIC digits, which int() would accept
        link.replace(report["id"], "rpt_%C3%A9"),
        link.replace(report["id"], "rpt_%ED%A0%80"),  # not UTF-8 at all
    ]
    unknown = await fetch(t.gateway, link.replace(report["id"], "rpt_000000000000000000000000"))
    for url in forged:
        response = await fetch(t.gateway, url)
        assert (response.status_code, response.text) == (404, "not found") == (unknown.status_code, unknown.text)


async def test_r_bil_5_deleting_the_report_revokes_its_links(t: Tenancy) -> None:
    token = t.token(t.partner)
    report = await t.generated(token, "2026-11-01", "2026-11-03")
    link = report["downloadUrl"]
    assert (await fetch(t.gateway, link)).status_code == 200
    await t.gateway.execute(token, DELETE_REPORT, {"id": report["id"]})
    response = await fetch(t.gateway, link)
    assert (response.status_code, response.text) == (404, "not found")
    await t.gateway.settle()  # the rows go too
    assert await t.gateway.repos.billing_rows.count({"reportId": report["id"]}) == 0


async def test_r_bil_5_no_link_until_the_report_is_completed(t: Tenancy) -> None:
    report = await t.create(t.token(t.partner), "2026-11-01", "2026-11-03")
    assert report["status"] == "IN_PROGRESS" and report["downloadUrl"] is None


@pytest.mark.settings(public_url="https://billing.telco.example/")
async def test_links_use_the_configured_public_address(t: Tenancy) -> None:
    report = await t.generated(t.token(t.partner), "2026-11-01", "2026-11-03")
    assert report["downloadUrl"].startswith(f"https://billing.telco.example/billing/reports/{report['id']}.csv?")
    assert (await fetch(t.gateway, report["downloadUrl"])).status_code == 200
