"""The icon: every page links an SVG favicon, and `/favicon.ico` (asked for by browsers and tools on
their own) leads to it on organization hosts and the public host, without signing in."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ICON_LINK = re.compile(r'<link rel="icon" href="(/static/[^"]*favicon[^"]*\.svg)" type="image/svg\+xml">')


def _assert_is_the_svg_icon(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert response["Content-Type"].startswith("image/svg+xml")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.lstrip().startswith(b"<svg") and b"</svg>" in body


def test_favicon_linked_from_pages_on_both_hosts(org, client_for):
    for client, path in (
        (Client(HTTP_HOST=org.domain), "/accounts/login/"),  # anonymous, organization host
        (client_for(org.owner, org), "/settings/"),  # a member's page
        (Client(HTTP_HOST="localhost"), "/accounts/login/"),  # the public host
    ):
        body = client.get(path).content.decode()
        match = ICON_LINK.search(body)
        assert match, f"no icon link on {path}"
        _assert_is_the_svg_icon(client, match.group(1))


@pytest.mark.parametrize("who", ["anonymous", "non-member", "member"])
def test_favicon_ico_on_an_organization_host_leads_to_the_icon(org, other_org, client_for, who):
    user = {"anonymous": None, "non-member": other_org.owner, "member": org.owner}[who]
    client = client_for(user, org)
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302), response.status_code
    assert not response["Location"].startswith("/accounts/login/")
    _assert_is_the_svg_icon(client, response["Location"])


def test_favicon_ico_on_the_public_host_leads_to_the_icon(org):
    client = Client(HTTP_HOST="localhost")
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302), response.status_code
    _assert_is_the_svg_icon(client, response["Location"])


def test_favicon_ico_on_a_suspended_organization_host_still_answers(org, client_for):
    org.organization.is_active = False
    org.organization.save(update_fields=["is_active"])
    response = Client(HTTP_HOST=org.domain).get("/favicon.ico")
    assert response.status_code in (301, 302)
