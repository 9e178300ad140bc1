"""CSV files for subscriber imports (R-BULK-1) and the result files of subscriber batches (R-BULK-4).

`POST /uploads`: a bearer token with `wholesale_subscribers_write` of a partner or sub-partner, `Content-Type:
text/csv`, a body of at most 5 MiB. Answers 201 `{"uploadId": "upl_…"}`; `importSubscribers(input: {uploadId})`
may use it once, within 24 hours, and only with a token of the same org. The file is judged by the import, not
here (a file that is not UTF-8 is the import's CSV_INVALID).

`GET /subscriber-batches/<id>.csv?expires=…&signature=…`: a finished batch's rows and results, behind a link
signed like a billing report's (gateway/downloads.py's HMAC signer, valid 30 minutes, no token needed) but with a
key of its own, so that a signature made for one kind of file is worth nothing for the other. Anything wrong with
the link is the same bare 404.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from domain.model.batches import FINISHED, BatchStatus
from domain.model.errors import DomainError, Forbidden
from domain.rules.bulk import MAX_CSV_BYTES, RESULT_COLUMNS, result_cells
from domain.rules.tenancy import Caller
from domain.services.batches import store_upload
from gateway.auth import InvalidToken
from gateway.downloads import LinkSigner
from gateway.runtime import Runtime

UPLOAD_PATH = "/uploads"
RESULT_PATH = "/subscriber-batches/{batch_id}.csv"


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status,
                        headers=headers)


class Uploads:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.signer = LinkSigner(hashlib.sha256(b"batch-result\0" + runtime.jwt_secret.encode()).digest())

    def url(self, connection: HTTPConnection, batch_id: str) -> str:
        """A signed link to a batch's result file, valid 30 minutes from now (R-BULK-4, like R-BIL-5)."""
        expires, signature = self.signer.sign(batch_id, self.runtime.clock.now())
        if self.runtime.settings.public_url:
            base = self.runtime.settings.public_url.rstrip("/")
        else:
            url = connection.base_url
            base = str(url.replace(scheme={"ws": "http", "wss": "https"}.get(url.scheme, url.scheme))).rstrip("/")
        query = urlencode({"expires": expires, "signature": signature})
        return f"{base}{RESULT_PATH.format(batch_id=batch_id)}?{query}"

    async def upload(self, request: Request) -> Response:
        try:
            principal = await self.runtime.authenticator.authenticate(request.headers.get("authorization"))
        except InvalidToken as exc:
            return _error(401, "UNAUTHENTICATED", str(exc), **{"www-authenticate": 'Bearer realm="wholesale-gateway"'})
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "text/csv":
            return _error(415, "UNSUPPORTED_MEDIA_TYPE", "send the file as `Content-Type: text/csv`")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_CSV_BYTES:
            return _too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_CSV_BYTES:
                return _too_large()
            chunks.append(chunk)
        repos = self.runtime.repos
        org = await repos.partners.get(principal.org_id) if principal.org_id else None
        try:
            upload_id = await store_upload(repos, Caller(principal, org), b"".join(chunks))
        except Forbidden as exc:
            return _error(403, "FORBIDDEN", str(exc))
        except DomainError as exc:
            return _error(400, exc.errors[0].code.value, exc.errors[0].message)
        return JSONResponse({"uploadId": upload_id}, status_code=201)

    async def result(self, request: Request) -> Response:
        batch_id = request.path_params["batch_id"]
        expires = request.query_params.get("expires", "")
        signature = request.query_params.get("signature", "")
        if not self.signer.valid(batch_id, expires, signature, self.runtime.clock.now()):
            return _not_found()
        batch = await self.runtime.repos.batches.find_doc(batch_id)
        if batch is None or BatchStatus(batch["status"]) not in FINISHED:
            return _not_found()
        return StreamingResponse(
            self._csv(batch_id), media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="subscriber-batch-{batch_id}.csv"',
                     "cache-control": "private, no-store"})

    async def _csv(self, batch_id: str) -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(RESULT_COLUMNS)
        async for rows in self.runtime.repos.batch_rows.stream(batch_id):
            for row in rows:
                writer.writerow(result_cells(row))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()


def _too_large() -> Response:
    return _error(413, "CSV_INVALID", f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB")


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404, headers={"cache-control": "no-store"})
