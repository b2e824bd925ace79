"""Setup snippets are valid for the tool they are pasted into."""

import pytest
import yaml

from alerts.models import AuthKind, Integration
from alerts.setup_guides import setup_snippet


@pytest.mark.parametrize("auth_kind", [AuthKind.NONE, AuthKind.BEARER, AuthKind.BASIC, AuthKind.HEADER])
def test_alertmanager_snippet_is_valid_alertmanager_yaml(auth_kind):
    integration = Integration(
        source="alertmanager", auth_kind=auth_kind, auth_username="am", auth_header="X-Token"
    )
    config = yaml.safe_load(setup_snippet(integration, "https://acme.example/hooks/alertmanager/t/")["code"])
    webhook = config["receivers"][0]["webhook_configs"][0]
    assert webhook["url"] == "https://acme.example/hooks/alertmanager/t/"
    assert webhook["send_resolved"] is True
    assert config["route"]["routes"][0]["receiver"] == config["receivers"][0]["name"]
    expected = {
        AuthKind.NONE: None,
        AuthKind.BEARER: "authorization",
        AuthKind.BASIC: "basic_auth",
        AuthKind.HEADER: "http_headers",
    }[auth_kind]
    if expected:
        assert expected in webhook["http_config"]
    else:
        assert "http_config" not in webhook
