"""Storage of each entity over MongoDB; the only place that writes Mongo queries."""

from __future__ import annotations

from dataclasses import dataclass

from domain.clock import Clock
from domain.driver import Database
from domain.repositories.customers import CustomerRepository
from domain.repositories.locations import LocationRepository
from domain.repositories.partners import PartnerRepository
from domain.repositories.subscribers import SubscriberRepository
from domain.repositories.templates import TemplateRepository


@dataclass(frozen=True)
class Repositories:
    db: Database
    clock: Clock
    partners: PartnerRepository
    templates: TemplateRepository
    customers: CustomerRepository
    locations: LocationRepository
    subscribers: SubscriberRepository

    @classmethod
    def over(cls, db: Database, clock: Clock) -> Repositories:
        return cls(
            db=db,
            clock=clock,
            partners=PartnerRepository(db),
            templates=TemplateRepository(db),
            customers=CustomerRepository(db),
            locations=LocationRepository(db),
            subscribers=SubscriberRepository(db),
        )
