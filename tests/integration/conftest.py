"""The integration tier: the driver contract, the job queue, the event hub and the N+1 guard, below HTTP.

The only tier that runs on both drivers: every test using the database runs once per driver (`[motor]` and
`[pymongo]`), as this `driver` fixture overrides the one-driver fixture of tests/conftest.py; the gateway and the
demo data are built on the driver the test runs with.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.store.driver import DRIVERS, Driver
from tests.conftest import collect_leaked_pymongo_sockets


@pytest.fixture(params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> Iterator[Driver]:
    """The database driver of this run of the test: every test using the database runs on each of them."""
    selected: Driver = request.param
    yield selected
    if selected == "pymongo":
        collect_leaked_pymongo_sockets()
