"""Where the Alerts page accepts live new rows: only the unfiltered first page."""

import pytest

from tests.alerts.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def test_live_rows_target_exists_only_on_unfiltered_first_page(org, make_hook, client_for):
    make_hook(org, "alertmanager").post(fixture_bytes("alertmanager", "single_crashloop"))
    client = client_for(org.owner, org)
    assert 'id="signal-rows-live"' in client.get("/alerts/").content.decode()
    assert 'id="signal-rows-live"' not in client.get("/alerts/?status=firing").content.decode()
    assert 'id="signal-rows-live"' not in client.get("/alerts/?sort=name").content.decode()
