"""The Clusters pages: members see the list, admins add / rotate / remove, the token shows once
(post/redirect/get with a one-time reveal)."""

from __future__ import annotations

import json
import re

import pytest

from agent.protocol import hello_message
from clusters.models import Cluster
from tests.reveal_pages import no_store, revealed

pytestmark = pytest.mark.django_db

HELLO = hello_message(agent_version="0.1.0", kubernetes_version="v1.30.4", capabilities={})


def _token_on(page) -> str:
    match = re.search(r'data-testid="cluster-token">([^<]+)</code>', page.content.decode())
    assert match, "the page shows no token"
    return match.group(1)


REVEAL = re.compile(r"^/clusters/(\d+)/reveal/([A-Za-z0-9_-]{16,})/$")


def _revealed(client, response):
    """Follow a creating/rotating POST's redirect to its one-time reveal page."""
    return revealed(client, response, REVEAL)


def _hello(agent_client, org, token):
    client = agent_client(org, token)
    return client.post("/agent/v1/hello", data=json.dumps(HELLO), content_type="application/json")


# --- list ------------------------------------------------------------------------------------


def test_cluster_list_visible_to_viewer_with_status(
    org, other_org, client_for, make_member, make_cluster, agent_client
):
    _quiet, _ = make_cluster(org, "quiet-cluster")
    _live, token = make_cluster(org, "live-cluster")
    assert _hello(agent_client, org, token).status_code == 200
    make_cluster(other_org, "beta-secret-cluster")

    response = client_for(make_member(org, "viewer"), org).get("/clusters/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-cluster="quiet-cluster"' in body and 'data-cluster="live-cluster"' in body
    assert 'data-status="pending"' in body and 'data-status="connected"' in body
    assert "v1.30.4" in body
    assert "beta-secret-cluster" not in body
    assert "Add cluster" not in body  # viewers do not get the admin button
    # The second organization sees none of the first's clusters.
    other = client_for(other_org.owner, other_org).get("/clusters/").content.decode()
    assert "beta-secret-cluster" in other and "live-cluster" not in other


def test_cluster_list_empty_state_for_admin(org, client_for):
    body = client_for(org.owner, org).get("/clusters/").content.decode()
    assert "No clusters connected" in body and "/clusters/new/" in body


def test_cluster_table_partial(org, client_for, make_member, make_cluster):
    make_cluster(org, "prod")
    response = client_for(make_member(org, "viewer"), org).get("/clusters/table/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-cluster="prod"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_cluster_names_are_escaped(org, client_for, make_cluster):
    make_cluster(org, "<script>alert(1)</script>")
    body = client_for(org.owner, org).get("/clusters/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "member"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("action", ["new/", "{pk}/rotate/", "{pk}/delete/"])
def test_cluster_admin_pages_forbidden_below_admin(
    org, client_for, make_member, make_cluster, in_schema, role, method, action
):
    cluster, token = make_cluster(org, "prod")
    client = client_for(make_member(org, role), org)
    response = getattr(client, method)(
        "/clusters/" + action.format(pk=cluster.pk), {"name": "x", "transport": "http"}
    )
    assert response.status_code == 403
    with in_schema(org):  # nothing created, rotated or removed
        assert list(Cluster.objects.values_list("name", "token_hint")) == [("prod", token[:10])]


def test_cluster_detail_of_other_org_is_404(org, other_org, client_for, make_cluster):
    cluster, _ = make_cluster(other_org, "beta-prod")
    assert client_for(org.owner, org).get(f"/clusters/{cluster.pk + 1000}/").status_code == 404
    mine, _ = make_cluster(org, "alpha-prod")
    # Same primary key space per schema: alpha's page never shows beta's cluster.
    body = client_for(org.owner, org).get(f"/clusters/{mine.pk}/").content.decode()
    assert "alpha-prod" in body and "beta-prod" not in body


# --- admin flows -----------------------------------------------------------------------------


def test_cluster_create_shows_token_once_and_helm_command(org, client_for, agent_client, in_schema):
    client = client_for(org.owner, org)
    response = _revealed(client, client.post("/clusters/new/", {"name": "prod-eu-1", "transport": "http"}))
    assert no_store(response)
    token = _token_on(response)
    body = response.content.decode()
    assert f"--from-literal=token={token}" in body
    assert "helm install opsworker-agent ./agent/chart" in body
    assert "--set portal.url=http://alpha.localhost:8000" in body
    assert "secretName: opsworker-agent-token" in body
    with in_schema(org):
        cluster = Cluster.objects.get(name="prod-eu-1")
    assert token not in cluster.token_hash and cluster.token_hint == token[:10]
    # Never again: the detail and list pages show only the hint.
    for path in ("/clusters/", f"/clusters/{cluster.pk}/"):
        page = client.get(path).content.decode()
        assert token not in page and cluster.token_hint in page
    # And the token works for the agent.
    assert _hello(agent_client, org, token).status_code == 200


def test_cluster_create_duplicate_name_400(org, client_for, make_cluster):
    make_cluster(org, "prod")
    response = client_for(org.owner, org).post("/clusters/new/", {"name": "prod", "transport": "http"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_cluster_create_sqs_needs_queues(org, client_for):
    response = client_for(org.owner, org).post("/clusters/new/", {"name": "q", "transport": "sqs"})
    assert response.status_code == 400
    client = client_for(org.owner, org)
    ok = client.post(
        "/clusters/new/",
        {
            "name": "q",
            "transport": "sqs",
            "sqs_command_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/cmd",
            "sqs_result_queue_url": "https://sqs.eu-west-1.amazonaws.com/1/res",
            "sqs_region": "eu-west-1",
        },
    )
    assert "--set transport=sqs" in _revealed(client, ok).content.decode()


def test_cluster_same_name_allowed_in_other_org(org, other_org, client_for, make_cluster):
    make_cluster(other_org, "prod")
    assert (
        client_for(org.owner, org).post("/clusters/new/", {"name": "prod", "transport": "http"}).status_code
        == 302
    )


def test_cluster_rotate_confirms_then_replaces_token(org, client_for, make_cluster, agent_client):
    cluster, old = make_cluster(org, "prod")
    client = client_for(org.owner, org)
    confirm = client.get(f"/clusters/{cluster.pk}/rotate/")
    assert confirm.status_code == 200 and "Rotate token" in confirm.content.decode()
    assert _hello(agent_client, org, old).status_code == 200  # a GET changes nothing
    response = _revealed(client, client.post(f"/clusters/{cluster.pk}/rotate/"))
    new = _token_on(response)
    assert new != old
    assert _hello(agent_client, org, old).status_code == 404
    assert _hello(agent_client, org, new).status_code == 200


def test_cluster_create_reload_shows_nothing_and_creates_nothing(org, other_org, client_for, in_schema):
    # given: an admin registered a cluster and saw its token
    client = client_for(org.owner, org)
    response = client.post("/clusters/new/", {"name": "prod-eu-1", "transport": "http"})
    token = _token_on(_revealed(client, response))
    # when: the page is reloaded
    again = client.get(response["Location"])
    # then: no token, a way to get a new one, and still one cluster
    body = again.content.decode()
    assert again.status_code == 200 and no_store(again)
    assert token not in body and 'data-testid="cluster-token"' not in body
    assert "already shown" in body and 'data-testid="secret-gone"' in body
    with in_schema(org):
        cluster = Cluster.objects.get()
    assert f'href="/clusters/{cluster.pk}/rotate/"' in body
    with in_schema(other_org):
        assert not Cluster.objects.exists()


def test_cluster_reveal_keeps_no_plaintext_in_the_session(org, client_for):
    client = client_for(org.owner, org)
    response = client.post("/clusters/new/", {"name": "prod-eu-1", "transport": "http"})
    stored = json.dumps(dict(client.session.items()))
    assert _token_on(_revealed(client, response)) not in stored


def test_cluster_reveal_is_bound_to_the_session_and_the_organization(
    org, other_org, client_for, make_member, make_cluster, in_schema
):
    client = client_for(org.owner, org)
    response = client.post("/clusters/new/", {"name": "prod-eu-1", "transport": "http"})
    location = response["Location"]
    _pk, key = REVEAL.match(location).groups()
    make_cluster(other_org, "beta-prod")
    assert client_for(make_member(org, "admin"), org).get(location).status_code == 404
    assert client_for(other_org.owner, org).get(location).status_code == 403
    assert client_for(other_org.owner, other_org).get(location).status_code == 404
    other, _ = make_cluster(org, "other")
    assert client.get(f"/clusters/{other.pk}/reveal/{key}/").status_code == 404
    assert _token_on(client.get(location))  # still there for its owner, once
    with in_schema(org):
        assert Cluster.objects.count() == 2


def test_cluster_rotate_reload_does_not_rotate_again(org, client_for, make_cluster, agent_client, in_schema):
    cluster, old = make_cluster(org, "prod")
    client = client_for(org.owner, org)
    response = client.post(f"/clusters/{cluster.pk}/rotate/")
    new = _token_on(_revealed(client, response))
    again = client.get(response["Location"])
    assert again.status_code == 200 and new not in again.content.decode()
    assert "already shown" in again.content.decode()
    assert _hello(agent_client, org, new).status_code == 200
    assert _hello(agent_client, org, old).status_code == 404


def test_cluster_reveal_needs_configure(org, client_for, make_member, make_cluster):
    cluster, _ = make_cluster(org, "prod")
    path = f"/clusters/{cluster.pk}/reveal/{'k' * 22}/"
    assert client_for(make_member(org, "member"), org).get(path).status_code == 403
    assert client_for(org.owner, org).get(path).status_code == 404


def test_cluster_remove_confirms_then_deletes(org, client_for, make_cluster, agent_client, in_schema):
    cluster, token = make_cluster(org, "prod")
    client = client_for(org.owner, org)
    assert "Remove prod?" in client.get(f"/clusters/{cluster.pk}/delete/").content.decode()
    with in_schema(org):
        assert Cluster.objects.exists()
    response = client.post(f"/clusters/{cluster.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/clusters/"
    with in_schema(org):
        assert not Cluster.objects.exists()
    assert _hello(agent_client, org, token).status_code == 404
