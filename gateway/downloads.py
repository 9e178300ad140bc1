"""Signed CSV downloads of billing reports (R-BIL-5), served by the gateway itself.

`downloadUrl` hands out `/billing/reports/<id>.csv?expires=<unix>&signature=<hmac>`, valid 30 minutes
from that read. The link needs no bearer token (it is meant for a browser or `curl`); the signature is
the credential. A forged, expired or revoked link (the report was deleted) gets the same bare 404, so
a probe learns nothing about which reports exist.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from domain.rules.billing import COLUMNS, DOWNLOAD_TTL, ReportStatus, ReportType
from domain.store.driver import Document
from gateway.runtime import Runtime

PATH = "/billing/reports/{report_id}.csv"

def _signature(key: bytes, report_id: str, expires: int) -> str:
    return hmac.new(key, f"{report_id}.{expires}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LinkSigner:
    """HMAC-SHA256 over the report id and the expiry; the key is derived from the gateway's signing secret."""

    key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> LinkSigner:
        return cls(hashlib.sha256(b"billing-download\0" + secret.encode()).digest())

    def sign(self, report_id: str, now: datetime) -> tuple[int, str]:
        expires = int((now + DOWNLOAD_TTL).timestamp())
        return expires, _signature(self.key, report_id, expires)

    def valid(self, report_id: str, expires: str, signature: str, now: datetime) -> bool:
        """Whether the link is genuine and not expired (compared in constant time).

        Whatever a stranger puts in the link is an answer of False, never an error: only ASCII digits make an
        expiry (`str.isdigit` also accepts "²" and "①"), and only ASCII text can be compared in constant time.
        """
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
            return False
        if not (signature.isascii() and report_id.isascii()):
            return False
        expected = _signature(self.key, report_id, int(expires))
        return hmac.compare_digest(expected, signature) and now.timestamp() < int(expires)


def _cell(value: object) -> object:
    return "" if value is None else value


class BillingDownloads:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.signer = LinkSigner.from_secret(runtime.jwt_secret)

    def _base(self, connection: HTTPConnection) -> str:
        if self.runtime.settings.public_url:
            return self.runtime.settings.public_url.rstrip("/")
        url = connection.base_url
        scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
        return str(url.replace(scheme=scheme)).rstrip("/")

    def url(self, connection: HTTPConnection, report_id: str) -> str:
        expires, signature = self.signer.sign(report_id, self.runtime.clock.now())
        query = urlencode({"expires": expires, "signature": signature})
        return f"{self._base(connection)}{PATH.format(report_id=report_id)}?{query}"

    async def serve(self, request: Request) -> Response:
        report_id = request.path_params["report_id"]
        expires = request.query_params.get("expires", "")
        signature = request.query_params.get("signature", "")
        repos = self.runtime.repos
        if not self.signer.valid(report_id, expires, signature, self.runtime.clock.now()):
            return _not_found()
        report = await repos.billing_reports.find_doc(report_id)
        if report is None or report["status"] != ReportStatus.COMPLETED.value:
            return _not_found()
        name = f"billing-{report['type'].lower()}-{report['billingStartDate']}-{report['billingEndDate']}.csv"
        return StreamingResponse(
            self._csv(report), media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "private, no-store"})

    async def _csv(self, report: Document) -> AsyncIterator[str]:
        columns = COLUMNS[ReportType(report["type"])]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        async for rows in self.runtime.repos.billing_rows.stream(report["_id"]):
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in columns])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404, headers={"cache-control": "no-store"})
