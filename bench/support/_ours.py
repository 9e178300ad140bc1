"""Our enums, whose values the stock baselines mirror (only their values: the baselines use none of our code)."""

from domain.model.changes import EntityType
from domain.model.entities import OrgKind
from domain.model.status import CustomerStatus, PackageStatus
from resolvers.enums import PackageName

__all__ = ["CustomerStatus", "EntityType", "OrgKind", "PackageName", "PackageStatus"]
