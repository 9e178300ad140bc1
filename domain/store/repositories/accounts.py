"""The directory of existing free Webex accounts (R-SUB-3): who must consent before joining an org, and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.store.driver import Document
from domain.store.repositories.base import Repository


class AccountRepository(Repository):
    collection = "accounts"

    async def by_email(self, email: str) -> Document | None:
        """The free account of this address (`consentAt`: when its owner consents), None when there is none."""
        return await self.find_doc(email)

    async def load(self, accounts: Sequence[tuple[str, datetime | None]]) -> None:
        await self.insert_many([{"_id": email, "consentAt": consent} for email, consent in accounts])
