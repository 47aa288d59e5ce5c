"""Issue 2's acceptance: `python -m simulator --users 3 --days 7 --port P` serves, and the client
fetches every catalogue type for every user and every day through it over real HTTP (and the parser
reads every page it gets)."""

from datetime import timedelta

import pytest

from fitbit.catalogue import ACCOUNT_READS, DATA_TYPES
from fitbit.parse import PageContext, parse_page
from fitbit.plan import call_for
from tools import demo
from helper.compose import adapters, client_factory
from fitbit.messages import Unit

pytestmark = pytest.mark.slow
USERS, DAYS = 3, 7


def test_the_cli_simulator_serves_every_catalogue_read_for_every_user_and_day(tmp_path):
    state = demo.fresh_state_dir(tmp_path / "state")
    participants = [f"user{i}" for i in range(1, USERS + 1)]
    days = [demo.DEFAULT_END_DATE - timedelta(days=i) for i in range(DAYS)]
    fetched, rows = 0, 0
    with demo.simulator_process(USERS, DAYS) as sim:
        demo.enrol(state, sim.base_url, participants)
        clients = client_factory(adapters(demo.demo_settings(state, sim.base_url)))
        for participant in participants:
            client, zone = clients(participant)
            for account in ACCOUNT_READS:
                unit = Unit(participant, account.name, "get", days[0], days[0] + timedelta(days=1), "daily")
                for page in client.pages(call_for(unit, zone)):
                    fetched += 1
                    rows += len(next(iter(_parse(unit, page).rows.values())))
            for dt in DATA_TYPES:
                for read in dt.reads:
                    for day in days:
                        unit = Unit(participant, dt.path_id, read.method, day, day + timedelta(days=1), "daily")
                        for page in client.pages(call_for(unit, zone)):
                            fetched += 1
                            rows += len(next(iter(_parse(unit, page).rows.values())))
    reads = sum(len(dt.reads) for dt in DATA_TYPES)
    assert fetched >= USERS * (len(ACCOUNT_READS) + reads * DAYS)
    assert rows > USERS * DAYS * 1000


def _parse(unit, page):
    ctx = PageContext(unit.participant, unit.data_type, unit.method, "raw/test", "2026-11-06T00:00:00Z",
                      time_zone="UTC", civil_date=unit.start)
    return parse_page(ctx, page.body)
