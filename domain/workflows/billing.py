"""The background half of billing reports (R-BIL-2…5): generating the rows, discarding those of deleted reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from domain.model.entities import Partner
from domain.model.jobs import JobKind
from domain.rules.billing import Period, ReportStatus, ReportType, report_moved
from domain.store.jobs import GiveUp, Handler, Job, JobQueue
from domain.store.repositories import Repositories, Tx

ROW_BATCH = 1000  # rows stored per document (a chunk) while a report is generated


@dataclass
class BillingJobs:
    repos: Repositories
    queue: JobQueue

    def handlers(self) -> dict[str, Handler]:
        return {JobKind.GENERATE_REPORT: self.generate, JobKind.DISCARD_REPORT: self.discard}

    def give_ups(self) -> dict[str, GiveUp]:
        return {JobKind.GENERATE_REPORT: self.give_up}

    async def _orgs(self, root_id: str) -> Mapping[str, Partner]:
        return {p.id: p for p in await self.repos.partners.family(root_id)}

    async def generate(self, job: Job) -> None:
        repos = self.repos
        report = await repos.billing_reports.find_doc(job.entity_id)
        if report is None or report["status"] != ReportStatus.IN_PROGRESS.value:
            return await self.discard(job)
        # A previous attempt (a crash, a lost lease) may have stored some rows: start clean.
        await repos.billing_rows.delete({"reportId": report["_id"]})
        scope = {"ownerOrgId": report["subPartnerOrgId"]} if report["subPartnerOrgId"] else \
            {"rootOrgId": report["rootOrgId"]}
        period = Period(date.fromisoformat(report["billingStartDate"]), date.fromisoformat(report["billingEndDate"]))
        rows = 0
        async for batch in repos.usage.report_rows(scope, period, ReportType(report["type"]), repos.clock.now(),
                                                   await self._orgs(report["rootOrgId"]), ROW_BATCH):
            await repos.billing_rows.store(report["_id"], rows + 1, batch)  # rows numbered from 1, in report order
            rows += len(batch)

        async def write(tx: Tx) -> bool:
            current = await repos.billing_reports.find_doc(report["_id"], session=tx.session)
            await self.queue.finish(tx, job)
            if current is None or current["version"] != report["version"]:
                return False  # deleted while it ran
            done, change = report_moved(current, ReportStatus.COMPLETED, rowCount=rows, completedAt=tx.now)
            await repos.billing_reports.replace(done, session=tx.session)
            tx.record(change)
            return True

        if not await repos.atomic(write):
            await repos.billing_rows.delete({"reportId": report["_id"]})
        return None

    async def discard(self, job: Job) -> None:
        """The rows of a deleted report (or of one deleted while it was generated)."""
        if await self.repos.billing_reports.find_doc(job.entity_id) is None:
            await self.repos.billing_rows.delete({"reportId": job.entity_id})

        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def give_up(self, job: Job, error: str) -> None:
        """A report that kept failing ends FAILED with the reason; it no longer blocks a new one (R-BIL-3)."""
        async def write(tx: Tx) -> None:
            current = await self.repos.billing_reports.find_doc(job.entity_id, session=tx.session)
            if current is not None and current["status"] == ReportStatus.IN_PROGRESS.value:
                failed, change = report_moved(current, ReportStatus.FAILED, errors=[
                    {"code": "INTERNAL", "message": f"report generation failed: {error}"[:500]}])
                await self.repos.billing_reports.replace(failed, session=tx.session)
                tx.record(change)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
        await self.repos.billing_rows.delete({"reportId": job.entity_id})
