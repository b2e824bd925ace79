"""The live investigation page: sections from known results, escaping, feedback, list filters and
the investigation's WebSocket (auth on connect, catch-up, published fragments) over real Redis."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.utils import timezone
from django_tenants.utils import schema_context

from investigations.feedback import InvestigationFeedback, feedback_record
from investigations.llm.prompts import TAXONOMY
from investigations.models import Investigation, InvestigationStep
from investigations.presentation import CATEGORY_WORDING, category_label
from opsworker.asgi import application
from tenants.realtime import object_group
from tenants.websocket import CLOSE_FORBIDDEN
from tests.sockets import CONNECT_TIMEOUT

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"

RESULT = {
    "root_cause": {
        "category": "oom-killed",
        "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
        "contributing": [
            {
                "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
                "detail": "rollout to revision 8 lowered limits.memory [E3]",
            }
        ],
        "summary": "container indexer is OOMKilled at its 384Mi memory limit",
        "explanation": "Container indexer is OOMKilled (exit code 137) [E1]. Its memory limit is 384Mi [E2]. "
        "It changed 2 days ago [E3]. Unknown citation [E99] stays text.",
        "confidence": 0.9,
        "analyzer": "memory.oom_killed",
        "source": "analyzers",
        "evidence": ["E1", "E2", "E3"],
    },
    "alternatives": [],
    "recommendations": [
        {
            "title": "Roll back the change that lowered memory",
            "kind": "immediate",
            "rationale": "The last rollout changed the memory settings.",
            "commands": ["kubectl -n search rollout undo deployment/search-indexer"],
        },
        {
            "title": "Size memory from observed usage",
            "kind": "preventive",
            "rationale": "Alert on usage above 90% of the limit.",
            "commands": [],
        },
    ],
    "evidence": [
        {
            "id": "E1",
            "kind": "status",
            "resource": {"kind": "Pod", "namespace": "search", "name": "search-indexer-7f8c9d6b5-9q2kx"},
            "excerpt": "lastState.terminated.reason=OOMKilled exitCode=137",
        },
        {
            "id": "E2",
            "kind": "spec",
            "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
            "excerpt": "containers[indexer].resources.limits.memory=384Mi",
        },
        {
            "id": "E3",
            "kind": "change",
            "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
            "excerpt": "rollout to revision 8 2.8 days ago: limits.memory 1536Mi → 384Mi",
        },
        {
            "id": "E4",
            "kind": "previous_log",
            "resource": {"kind": "Pod", "namespace": "search", "name": "search-indexer-7f8c9d6b5-9q2kx"},
            "excerpt": "starting indexer\nERROR java.lang.OutOfMemoryError: Java heap space",
        },
        {
            "id": "E5",
            "kind": "event",
            "resource": {"kind": "Pod", "namespace": "search", "name": "search-indexer-7f8c9d6b5-9q2kx"},
            "excerpt": "BackOff(x12): Back-off restarting failed container",
        },
    ],
    "topology": {
        "nodes": [
            {
                "kind": "Pod",
                "namespace": "search",
                "name": "search-indexer-7f8c9d6b5-9q2kx",
                "role": "alerting",
            },
            {"kind": "Deployment", "namespace": "search", "name": "search-indexer", "role": "workload"},
            {
                "kind": "ReplicaSet",
                "namespace": "search",
                "name": "search-indexer-7f8c9d6b5",
                "role": "owned",
            },
            {"kind": "Node", "namespace": "", "name": "ip-10-42-1-17", "role": "node"},
            {"kind": "ConfigMap", "namespace": "search", "name": "indexer-config", "role": "config"},
        ],
        "edges": [
            {
                "from": "Deployment/search/search-indexer",
                "to": "ReplicaSet/search/search-indexer-7f8c9d6b5",
                "relation": "owns",
            },
            {
                "from": "ReplicaSet/search/search-indexer-7f8c9d6b5",
                "to": "Pod/search/search-indexer-7f8c9d6b5-9q2kx",
                "relation": "owns",
            },
            {
                "from": "Pod/search/search-indexer-7f8c9d6b5-9q2kx",
                "to": "Node/ip-10-42-1-17",
                "relation": "runs on",
            },
            {
                "from": "Pod/search/search-indexer-7f8c9d6b5-9q2kx",
                "to": "ConfigMap/search/indexer-config",
                "relation": "mounts",
            },
        ],
        "missing": [
            {
                "kind": "ConfigMap",
                "namespace": "search",
                "name": "indexer-config",
                "referenced_by": "Pod/search/search-indexer-7f8c9d6b5-9q2kx",
            }
        ],
    },
    "target": {
        "cluster": "prod",
        "namespace": "search",
        "kind": "Pod",
        "name": "search-indexer-7f8c9d6b5-9q2kx",
    },
    "timings": {"total": 3.2},
    "llm": {"provider": "builtin", "model": "", "tokens": 0, "cost": 0.0},
}

STEP_DETAIL = {
    "topology": {"rounds": [{"name": "namespace search", "asked": ["list Pod in search", "get Deployment"]}]},
}


def _completed(result=None, **fields) -> Investigation:
    now = timezone.now()
    investigation = Investigation.objects.create(
        status="completed",
        cluster="prod",
        namespace="search",
        resource_kind="Pod",
        resource_name="search-indexer-7f8c9d6b5-9q2kx",
        started_at=now - timedelta(seconds=12),
        finished_at=now,
        result=result or copy.deepcopy(RESULT),
        root_cause_category="oom-killed",
        confidence=0.9,
        summary=RESULT["root_cause"]["summary"],
        **fields,
    )
    for index, stage in enumerate(("extract", "topology", "collect", "analyze", "recommend")):
        InvestigationStep.objects.create(
            investigation=investigation,
            stage=stage,
            status="ok",
            started_at=now - timedelta(seconds=10 - index),
            finished_at=now - timedelta(seconds=9 - index),
            summary=f"{stage} summary",
            detail=STEP_DETAIL.get(stage, {}),
            tokens=120 if stage == "analyze" else 0,
        )
    return investigation


def _running() -> Investigation:
    now = timezone.now()
    investigation = Investigation.objects.create(
        status="running", cluster="prod", namespace="search", started_at=now - timedelta(seconds=5)
    )
    InvestigationStep.objects.create(
        investigation=investigation,
        stage="extract",
        status="ok",
        started_at=now - timedelta(seconds=5),
        finished_at=now - timedelta(seconds=4),
        summary="target Pod search/api-1 (from label)",
    )
    InvestigationStep.objects.create(
        investigation=investigation,
        stage="topology",
        status="running",
        started_at=now - timedelta(seconds=4),
        summary="",
    )
    return investigation


def _page(client, investigation) -> str:
    response = client.get(f"/investigations/{investigation.pk}/")
    assert response.status_code == 200
    return response.content.decode()


# -- page sections ---------------------------------------------------------------------------


def test_detail_completed_shows_every_section(org, client_for):
    with schema_context(org.schema):
        investigation = _completed()
    html = _page(client_for(org.owner, org), investigation)
    assert 'id="investigation-header"' in html
    assert "Out of memory (OOMKilled)" in html
    assert "Deployment search/search-indexer" in html
    # recommendations: immediate and preventive, commands copyable
    assert "Do now" in html and "Prevent it next time" in html
    assert re.search(r'<pre id="(cmd-[^"]+)">kubectl -n search rollout undo', html)
    assert 'data-copy-target="cmd-immediate-1-1"' in html
    # timeline: one row per stage, asked questions folded, tokens
    assert html.count('data-testid="step"') == 5
    assert "list Pod in search" in html
    assert "120 model tokens" in html
    # evidence grouped: events table, previous log with error line highlighted, specs folded
    assert '<tr id="E5" class="ev-item">' in html and "BackOff(x12)" in html
    assert "previous container" in html
    assert 'log-line log-error">ERROR java.lang.OutOfMemoryError' in html
    assert '<details id="E2"' in html
    assert "2.8 days ago" in html
    # re-run enabled for the owner
    assert re.search(r'<button class="btn" type="submit" data-rerun data-testid="rerun">', html)


CHANGES = [
    {
        "resource": {"kind": "Deployment", "namespace": "search", "name": "search-indexer"},
        "time": "2025-06-03T13:40:00Z",
        "relative": "20 min before the alert",
        "who": "Argo CD (argocd-controller)",
        "what": "rollout to revision 8 (from 7)",
        "details": [
            {"field": "container indexer resources.limits.memory", "before": "1536Mi", "after": "384Mi"}
        ],
        "touches_cause": True,
    },
    {
        "resource": {"kind": "ConfigMap", "namespace": "search", "name": "indexer-config"},
        "time": "2025-06-01T09:00:00Z",
        "relative": "2.2 days before the alert",
        "who": "kubectl edit",
        "what": f"edited data.LOG_LEVEL {HOSTILE}",
        "details": [{"field": "data.LOG_LEVEL", "before": "(not recorded)", "after": "debug"}],
        "touches_cause": False,
    },
]


def test_detail_what_changed_card_lists_changes_before_and_after(org, other_org, client_for):
    # given a completed investigation whose result lists two changes, one touching the cause
    with schema_context(org.schema):
        result = copy.deepcopy(RESULT)
        result["changes"] = CHANGES
        result["changes_relative_to"] = {"basis": "alert", "time": "2025-06-03T14:00:00Z"}
        investigation = _completed(result)
    # when its page is read
    html = _page(client_for(org.owner, org), investigation)
    # then the card lists both, newest first, with before → after, who, and the time on hover
    card = html[html.index('id="changes"') : html.index("</section>", html.index('id="changes"'))]
    assert "What changed" in card and "(2)" in card
    assert "Times are relative to the alert&#x27;s start (2025-06-03 14:00:00 UTC)" in card
    rows = re.findall(r'<tr data-testid="change"([^>]*)>', card)
    assert rows == [' class="touches-cause" data-touches-cause="1"', ""]
    assert card.index("rollout to revision 8") < card.index("edited data.LOG_LEVEL")
    assert 'title="2025-06-03 13:40:00 UTC">20 min before the alert</time>' in card
    before, after = (
        '<span class="change-before mono wrap">1536Mi</span>',
        '<span class="change-after mono wrap">384Mi</span>',
    )
    assert f"{before} → {after}" in card
    assert "Argo CD (argocd-controller)" in card and "touches the cause" in card
    assert HOSTILE not in card and "&lt;script&gt;" in card
    # and the live state (sent on every reconnect) carries the same card
    live = client_for(org.owner, org).get(f"/investigations/{investigation.pk}/live/").content.decode()
    assert '<section id="changes" hx-swap-oob="true"' in live and "rollout to revision 8" in live
    # and another organization sees nothing of it
    beta = client_for(other_org.owner, other_org)
    for path in ("", "live/"):
        response = beta.get(f"/investigations/{investigation.pk}/{path}")
        assert response.status_code == 404 and b"rollout to revision 8" not in response.content


def test_detail_what_changed_card_explains_an_empty_or_untracked_result(org, client_for):
    with schema_context(org.schema):
        untracked = _completed()
        result = copy.deepcopy(RESULT)
        result["changes"] = []
        nothing = _completed(result)
    client = client_for(org.owner, org)
    assert "computed before changes were tracked" in _page(client, untracked)
    assert "in the 7 days before the alert" in _page(client, nothing)


def test_detail_citations_link_to_evidence_anchors(org, client_for):
    with schema_context(org.schema):
        investigation = _completed()
    html = _page(client_for(org.owner, org), investigation)
    for item in ("E1", "E2", "E3"):
        assert f'<a class="cite" href="#{item}"' in html
        assert f'id="{item}"' in html
    assert "[E99]" in html and 'href="#E99"' not in html


def test_topology_svg_marks_root_alerting_and_missing(org, client_for):
    with schema_context(org.schema):
        investigation = _completed()
    html = _page(client_for(org.owner, org), investigation)
    svg = html[html.index("<svg") : html.index("</svg>")]
    root = re.search(r'<a href="#(obj-\d+)" class="topo-node is-root"[^>]*data-name="search-indexer"', svg)
    alerting = re.search(r'class="topo-node is-alerting"[^>]*data-name="search-indexer-7f8c9d6b5-9q2kx"', svg)
    missing = re.search(r'class="topo-node is-missing"[^>]*data-name="indexer-config"', svg)
    assert root and alerting and missing
    assert svg.count('class="topo-edge"') == 4
    # each node opens its collected data: a panel with that id and its evidence
    panel = html[html.index(f'<section id="{root.group(1)}"') :]
    panel = panel[: panel.index("</section>")]
    assert 'href="#E2"' in panel and 'href="#E3"' in panel


def test_category_wording_covers_the_taxonomy():
    assert set(TAXONOMY) <= set(CATEGORY_WORDING)
    assert category_label("something-new") == "Something new"


def test_detail_running_shows_steps_so_far_and_waiting_stages(org, client_for, make_member):
    with schema_context(org.schema):
        investigation = _running()
    html = _page(client_for(org.owner, org), investigation)
    assert 'data-stage="extract" data-status="ok"' in html
    assert 'data-stage="topology" data-status="running"' in html
    assert 'data-stage="analyze" data-status="waiting"' in html
    assert "root cause appears here" in html
    assert f'ws-connect="/ws/investigations/{investigation.pk}/"' in html
    assert re.search(r"data-rerun[^>]*disabled", html)


def test_detail_failed_shows_reason_and_what_was_collected(org, client_for):
    with schema_context(org.schema):
        result = {k: RESULT[k] for k in ("evidence", "topology", "target")}
        result.update(root_cause=None, recommendations=[])
        investigation = Investigation.objects.create(
            status="failed",
            cluster="prod",
            failure_reason="the cluster's agent is offline: no heartbeat for 95 s",
            result=result,
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
    html = _page(client_for(org.owner, org), investigation)
    assert "Investigation failed" in html
    assert "the cluster&#x27;s agent is offline" in html
    assert "What was collected before it stopped is kept below" in html
    assert 'data-testid="topology-svg"' in html and 'id="E1"' in html


def test_detail_partial_result_is_labelled(org, client_for):
    with schema_context(org.schema):
        investigation = _completed(partial=True)
    assert "partial result" in _page(client_for(org.owner, org), investigation)


def test_detail_escapes_hostile_cluster_text(org, client_for):
    result = copy.deepcopy(RESULT)
    result["root_cause"]["summary"] = HOSTILE
    result["root_cause"]["explanation"] = f"{HOSTILE} [E1]"
    result["recommendations"][0]["commands"] = [f"kubectl logs {HOSTILE}"]
    result["evidence"][3]["excerpt"] = f"ERROR {HOSTILE}\n<img src=x onerror=alert(2)>"
    result["topology"]["nodes"][4]["name"] = HOSTILE
    result["topology"]["missing"][0]["name"] = HOSTILE
    with schema_context(org.schema):
        investigation = _completed(result=result)
        InvestigationStep.objects.filter(investigation=investigation, stage="topology").update(
            summary=HOSTILE, detail={"rounds": [{"asked": [HOSTILE]}]}
        )
    html = _page(client_for(org.owner, org), investigation)
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a class="cite" href="#E1"' in html  # citations still link after escaping


# -- list ------------------------------------------------------------------------------------


def test_list_filters_by_status_category_and_text(org, client_for):
    with schema_context(org.schema):
        done = _completed()
        running = _running()
    client = client_for(org.owner, org)
    html = client.get("/investigations/").content.decode()
    assert f'id="investigation-row-{done.pk}"' in html and f'id="investigation-row-{running.pk}"' in html
    assert "data-live-prepend" in html
    html = client.get("/investigations/?status=running").content.decode()
    assert f'id="investigation-row-{running.pk}"' in html and f'id="investigation-row-{done.pk}"' not in html
    assert "data-live-prepend" not in html  # filtered: new rows become a refresh notice instead
    html = client.get("/investigations/?category=oom-killed").content.decode()
    assert f'id="investigation-row-{done.pk}"' in html and f'id="investigation-row-{running.pk}"' not in html
    assert ">Out of memory (OOMKilled)</option>" in html
    html = client.get("/investigations/?q=OOMKilled").content.decode()
    assert f'id="investigation-row-{done.pk}"' in html and f'id="investigation-row-{running.pk}"' not in html


# -- feedback --------------------------------------------------------------------------------


def test_feedback_create_then_change_keeps_one_per_user(org, client_for, make_member):
    member = make_member(org, "member")
    with schema_context(org.schema):
        investigation = _completed()
    client = client_for(member, org)
    url = f"/investigations/{investigation.pk}/feedback/send/"
    response = client.post(url, {"rating": "partial", "comment": "missed the HPA"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "your feedback is saved" in response.content.decode()
    response = client.post(url, {"rating": "accurate", "comment": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    with schema_context(org.schema):
        rows = list(InvestigationFeedback.objects.filter(investigation=investigation))
    assert [(r.user_id, r.email, r.rating, r.comment, r.source) for r in rows] == [
        (member.pk, member.email, "accurate", "", "page")
    ]
    html = _page(client, investigation)
    assert "Accurate: 1" in html and "Update feedback" in html


def test_feedback_rejects_unknown_rating(org, client_for):
    with schema_context(org.schema):
        investigation = _completed()
    response = client_for(org.owner, org).post(
        f"/investigations/{investigation.pk}/feedback/send/", {"rating": "great"}
    )
    assert response.status_code == 400
    with schema_context(org.schema):
        assert not InvestigationFeedback.objects.exists()


def test_feedback_viewer_sees_it_but_cannot_give_it(org, client_for, make_member):
    viewer = make_member(org, "viewer")
    with schema_context(org.schema):
        investigation = _completed()
        feedback_record(
            investigation, org.owner.pk, org.owner.email, "needs_improvement", "wrong pod", "slack"
        )
    client = client_for(viewer, org)
    html = _page(client, investigation)
    assert "wrong pod" in html and "from Slack" in html
    assert "feedback/send/" not in html and "data-rerun" not in html
    response = client.post(f"/investigations/{investigation.pk}/feedback/send/", {"rating": "accurate"})
    assert response.status_code == 403
    assert client.get(f"/investigations/{investigation.pk}/feedback/").status_code == 200


def test_other_org_gets_404_for_page_partials_and_feedback(org, other_org, client_for):
    with schema_context(org.schema):
        investigation = _completed()
    beta = client_for(other_org.owner, other_org)
    for path in ("", "live/", "feedback/"):
        assert beta.get(f"/investigations/{investigation.pk}/{path}").status_code == 404
    assert (
        beta.post(f"/investigations/{investigation.pk}/feedback/send/", {"rating": "accurate"}).status_code
        == 404
    )
    # and alpha's owner presenting a session on beta's host is no member there
    stranger = client_for(org.owner, other_org)
    assert stranger.get(f"/investigations/{investigation.pk}/").status_code == 403


def test_live_state_partial_is_all_oob_replacements(org, client_for):
    with schema_context(org.schema):
        investigation = _running()
    html = client_for(org.owner, org).get(f"/investigations/{investigation.pk}/live/").content.decode()
    ids = re.findall(r'id="([^"]+)" hx-swap-oob="true"', html)
    assert ids == [
        "investigation-header",
        "step-extract",
        "step-topology",
        "step-collect",
        "step-analyze",
        "step-recommend",
        "root-cause",
        "recommendations",
        "changes",
        "topology",
        "evidence",
    ]


# -- WebSocket -------------------------------------------------------------------------------


def _cookie(client_for, user, org_fixture) -> str:
    return client_for(user, org_fixture).cookies["sessionid"].value


def _socket(host: str, cookie: str | None, pk: int) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/investigations/{pk}/", headers=headers)


def test_investigation_socket_sends_catch_up_then_published_step(org, client_for):
    with schema_context(org.schema):
        investigation = _running()
    cookie = _cookie(client_for, org.owner, org)
    group = object_group(org.schema, "investigation", investigation.pk)

    async def scenario():
        socket = _socket(org.domain, cookie, investigation.pk)
        connected, _ = await socket.connect(timeout=CONNECT_TIMEOUT)
        assert connected
        catch_up = await socket.receive_from(timeout=5)
        from channels.layers import get_channel_layer

        await get_channel_layer().group_send(
            group, {"type": "html.fragment", "html": '<li id="step-collect" hx-swap-oob="true">collect</li>'}
        )
        fragment = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return catch_up, fragment

    catch_up, fragment = async_to_sync(scenario)()
    assert 'id="step-topology" hx-swap-oob="true"' in catch_up
    assert 'data-stage="topology" data-status="running"' in catch_up
    assert catch_up.count('data-testid="step"') == 5
    assert fragment == '<li id="step-collect" hx-swap-oob="true">collect</li>'


def test_runner_publish_renders_the_step_fragment(org, client_for, django_capture_on_commit_callbacks):
    from investigations.engine.pipeline import StepRecord
    from investigations.runner import publish_investigation

    with schema_context(org.schema):
        investigation = _running()
    cookie = _cookie(client_for, org.owner, org)

    def publish_step_done():
        with schema_context(org.schema), django_capture_on_commit_callbacks(execute=True):
            InvestigationStep.objects.filter(investigation=investigation, stage="topology").update(
                status="ok", finished_at=timezone.now(), summary="read 14 objects"
            )
            publish_investigation(investigation, step=StepRecord("topology", timezone.now(), status="ok"))

    async def scenario():
        from asgiref.sync import sync_to_async

        socket = _socket(org.domain, cookie, investigation.pk)
        assert (await socket.connect(timeout=CONNECT_TIMEOUT))[0]
        await socket.receive_from(timeout=5)  # catch-up
        await sync_to_async(publish_step_done)()
        text = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return text

    text = async_to_sync(scenario)()
    assert 'id="investigation-header" hx-swap-oob="true"' in text
    assert 'id="step-topology" hx-swap-oob="true"' in text and "read 14 objects" in text
    assert 'id="step-extract"' not in text  # only what changed


@pytest.mark.parametrize("who", ["other_org_owner", "stranger_on_host", "anonymous"])
def test_investigation_socket_refuses_non_members(org, other_org, client_for, make_member, who):
    with schema_context(org.schema):
        investigation = _completed()
    if who == "other_org_owner":
        # beta's owner on beta's host: that schema has no such investigation
        host, cookie = other_org.domain, _cookie(client_for, other_org.owner, other_org)
    elif who == "stranger_on_host":
        # a viewer of beta presenting a session on alpha's host: no membership in alpha
        viewer = make_member(other_org, "viewer")
        host, cookie = org.domain, _cookie(client_for, viewer, org)
    else:
        host, cookie = org.domain, None

    async def scenario():
        return await _socket(host, cookie, investigation.pk).connect(timeout=CONNECT_TIMEOUT)

    assert async_to_sync(scenario)() == (False, CLOSE_FORBIDDEN)


def test_investigation_socket_unknown_id_is_closed(org, client_for):
    cookie = _cookie(client_for, org.owner, org)

    async def scenario():
        return await _socket(org.domain, cookie, 987654).connect(timeout=CONNECT_TIMEOUT)

    assert async_to_sync(scenario)() == (False, CLOSE_FORBIDDEN)


def test_investigation_socket_viewer_connects_and_group_is_per_org(org, other_org, client_for, make_member):
    viewer = make_member(org, "viewer")
    with schema_context(org.schema):
        investigation = _completed()
    cookie = _cookie(client_for, viewer, org)

    async def scenario():
        socket = _socket(org.domain, cookie, investigation.pk)
        assert (await socket.connect(timeout=CONNECT_TIMEOUT))[0]
        state = await socket.receive_from(timeout=5)
        # the same id in beta's group does not reach alpha's socket
        from channels.layers import get_channel_layer

        await get_channel_layer().group_send(
            object_group(other_org.schema, "investigation", investigation.pk),
            {"type": "html.fragment", "html": "<div id='x'>beta</div>"},
        )
        nothing = await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return state, nothing

    state, nothing = async_to_sync(scenario)()
    assert "Out of memory (OOMKilled)" in state and "feedback/send/" not in state
    assert nothing


def test_list_row_fragment_replaces_by_stable_id(org):
    from investigations.presentation import render_list_row

    with schema_context(org.schema):
        investigation = _completed()
        html = render_list_row(investigation)
    assert html.startswith(f'<tr id="investigation-row-{investigation.pk}" hx-swap-oob="true"')


def test_status_change_publishes_the_list_row_to_the_org_socket(
    org, client_for, django_capture_on_commit_callbacks
):
    from asgiref.sync import sync_to_async

    from investigations.runner import publish_investigation

    with schema_context(org.schema):
        investigation = _completed()
    cookie = _cookie(client_for, org.owner, org)

    def publish():
        with schema_context(org.schema), django_capture_on_commit_callbacks(execute=True):
            publish_investigation(investigation)

    async def scenario():
        headers = [(b"host", org.domain.encode()), (b"origin", f"http://{org.domain}".encode())]
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
        socket = WebsocketCommunicator(application, "/ws/org/", headers=headers)
        assert (await socket.connect(timeout=CONNECT_TIMEOUT))[0]
        await sync_to_async(publish)()
        text = await socket.receive_from(timeout=5)
        await socket.disconnect()
        return text

    text = async_to_sync(scenario)()
    assert text.startswith(f'<tr id="investigation-row-{investigation.pk}" hx-swap-oob="true"')
    assert 'data-status="completed"' in text


def test_empty_list_has_a_hidden_table_for_the_first_live_row(org, client_for):
    html = client_for(org.owner, org).get("/investigations/").content.decode()
    assert "No investigations yet" in html
    assert '<tbody id="investigation-rows" data-live-prepend></tbody>' in html
    assert 'id="investigations-live-notice"' in html
