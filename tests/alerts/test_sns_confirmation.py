"""SNS SubscriptionConfirmation when the SNS host may be out of reach: verified, stored, answered
202, confirmed by a job in a real `rqworker` (retries with backoff), shown on the integration's
page with a retry button for admins.

A local HTTP server stands in for the SNS host (`OPSWORKER_SNS_ENDPOINT_URL`, the setting an
install behind an SNS VPC endpoint uses); a closed local port stands in for an unreachable one.
Certificates come from a temporary SNS_CERT_DIR, as in test_webhooks_sns.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.alerts import sns_signing as signing

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class FakeSns:
    """Answers every GET with 200 (a confirmation receipt), recording the query strings."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.queries.append(parse_qs(urlsplit(self.path).query))
                body = b"<ConfirmSubscriptionResponse/>"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeSns:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens once the socket is closed


@pytest.fixture
def committed(_orgs, django_db_blocker):
    """Committed rows, so the worker process sees them; the test's integration is deleted after."""
    with django_db_blocker.unblock():
        yield _orgs
        from django.db import connection

        connection.set_schema_to_public()


@pytest.fixture
def default_queue(committed):
    import django_rq

    queue = django_rq.get_queue("default")
    queue.empty()
    yield queue
    queue.empty()


@pytest.fixture
def signer(tmp_path, settings):
    key, cert_url = signing.make_test_cert(tmp_path)
    settings.SNS_CERT_DIR = str(tmp_path)
    # The web process enqueues the job with its retry schedule; no delay, so a burst worker runs all.
    settings.SNS_CONFIRM_RETRY_DELAYS = [0, 0]
    return key, cert_url


@pytest.fixture
def cloudwatch(committed):
    """A CloudWatch integration in alpha (committed), deleted afterwards: (integration, token)."""
    from alerts.models import RawPayload
    from alerts.services.integrations import integration_create

    alpha = committed["alpha"]
    with schema_context(alpha.schema):
        made = integration_create(name="sns confirm test", source="cloudwatch")
    yield made.integration, made.token
    with schema_context(alpha.schema):
        RawPayload.objects.filter(integration=made.integration).delete()
        made.integration.delete()


def _run_worker(endpoint: str, delays: str = "0,0") -> subprocess.CompletedProcess:
    from django.db import connection

    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="opsworker.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        OPSWORKER_SNS_ENDPOINT_URL=endpoint,
        OPSWORKER_SNS_CONFIRM_RETRY_DELAYS=delays,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "rqworker", "default", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _post_confirmation(alpha, token, key, cert_url):
    envelope = signing.sign_envelope(signing.subscription_confirmation_envelope(cert_url), key, "2")
    return Client(HTTP_HOST=alpha.domain).post(
        f"/hooks/cloudwatch/{token}/",
        data=signing.envelope_bytes(envelope),
        content_type="text/plain; charset=UTF-8",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE="SubscriptionConfirmation",
    )


def _page(alpha, integration, user) -> str:
    client = Client(HTTP_HOST=alpha.domain)
    client.force_login(user)
    return client.get(f"/integrations/{integration.pk}/").content.decode()


def test_sns_confirmation_is_stored_answered_202_and_confirmed_by_the_worker(
    committed, default_queue, signer, cloudwatch, settings
):
    alpha, beta = committed["alpha"], committed["beta"]
    integration, token = cloudwatch
    key, cert_url = signer
    # given an SNS host that cannot be reached from the web process
    settings.SNS_ENDPOINT_URL = _closed_port_url()
    # when SNS sends the signed confirmation
    response = _post_confirmation(alpha, token, key, cert_url)
    # then it is accepted and stored, waiting for the job
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "waiting"
    from alerts.models import RawPayload, SnsSubscription

    with schema_context(alpha.schema):
        subscription = SnsSubscription.objects.get(integration=integration)
        assert (subscription.status, subscription.topic_arn) == ("waiting", signing.TOPIC_ARN)
        assert "waiting for confirmation" in RawPayload.objects.get(integration=integration).note
    assert "waiting for confirmation" in _page(alpha, integration, alpha.owner)
    # when a worker runs the job with the SNS host reachable (a local stand-in)
    with FakeSns() as fake:
        worker = _run_worker(fake.url)
    # then SNS was asked once, with the token of the confirmation, and the page says confirmed
    assert worker.returncode == 0, worker.stderr[-3000:]
    expected = parse_qs(urlsplit(signing.SUBSCRIBE_URL).query)
    assert fake.queries == [expected]
    with schema_context(alpha.schema):
        subscription.refresh_from_db()
        assert (subscription.status, subscription.attempts) == ("confirmed", 1)
        assert subscription.confirmed_at is not None
    page = _page(alpha, integration, alpha.owner)
    assert '<span class="badge ok">confirmed</span>' in page
    # and the other organization sees none of it
    with schema_context(beta.schema):
        assert SnsSubscription.objects.count() == 0


@pytest.fixture
def viewer(committed):
    """A viewer of alpha (committed), deleted afterwards."""
    import secrets

    from tenants.models import User
    from tenants.roles import Role
    from tenants.services import membership_grant

    alpha = committed["alpha"]
    user = User.objects.create_user(f"viewer-{secrets.token_hex(4)}@alpha.test", "not-used-here-1")
    membership_grant(user=user, organization=alpha.organization, role=Role.VIEWER)
    yield user
    user.delete()


def test_sns_confirmation_fails_after_retries_and_an_admin_retries_it(
    committed, default_queue, signer, cloudwatch, viewer
):
    from alerts.models import SnsSubscription

    alpha = committed["alpha"]
    integration, token = cloudwatch
    key, cert_url = signer
    assert _post_confirmation(alpha, token, key, cert_url).status_code == 202
    # when the worker cannot reach SNS on any of its three attempts (two retries, no delay)
    worker = _run_worker(_closed_port_url(), delays="0,0")
    assert worker.returncode == 0, worker.stderr[-3000:]
    with schema_context(alpha.schema):
        subscription = SnsSubscription.objects.get(integration=integration)
        assert (subscription.status, subscription.attempts) == ("failed", 3)
        assert "could not reach SNS" in subscription.last_error
    # then the page says failed with the reason, and offers admins a retry button
    page = _page(alpha, integration, alpha.owner)
    assert '<span class="badge danger">failed</span>' in page
    assert "could not reach SNS" in page
    assert f"/integrations/{integration.pk}/sns-retry/" in page
    assert f"/integrations/{integration.pk}/sns-retry/" not in _page(alpha, integration, viewer)
    # a viewer's POST is refused; without a CSRF token even an admin's is
    viewer_client = Client(HTTP_HOST=alpha.domain)
    viewer_client.force_login(viewer)
    assert viewer_client.post(f"/integrations/{integration.pk}/sns-retry/").status_code == 403
    strict = Client(HTTP_HOST=alpha.domain, enforce_csrf_checks=True)
    strict.force_login(alpha.owner)
    assert strict.post(f"/integrations/{integration.pk}/sns-retry/").status_code == 403
    # when the owner retries and SNS is reachable again
    owner = Client(HTTP_HOST=alpha.domain)
    owner.force_login(alpha.owner)
    retried = owner.post(f"/integrations/{integration.pk}/sns-retry/")
    assert retried.status_code == 302
    with schema_context(alpha.schema):
        subscription.refresh_from_db()
        assert (subscription.status, subscription.attempts) == ("waiting", 0)
    with FakeSns() as fake:
        worker = _run_worker(fake.url)
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert len(fake.queries) == 1
    with schema_context(alpha.schema):
        subscription.refresh_from_db()
        assert subscription.status == "confirmed"


def test_sns_confirmation_job_does_not_retry_a_definite_refusal(committed, default_queue, signer, cloudwatch):
    """SNS answering 4xx (expired token) is final: failed at once, no retries."""
    from alerts.models import SnsSubscription

    alpha = committed["alpha"]
    integration, token = cloudwatch
    key, cert_url = signer
    assert _post_confirmation(alpha, token, key, cert_url).status_code == 202

    class Refusing(FakeSns):
        def __init__(self) -> None:
            super().__init__()
            outer = self

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self) -> None:
                    outer.queries.append({})
                    self.send_response(403)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

                def log_message(self, *args) -> None:
                    pass

            self.httpd.RequestHandlerClass = Handler

    with Refusing() as refusing:
        worker = _run_worker(refusing.url, delays="0,0")
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert len(refusing.queries) == 1
    with schema_context(alpha.schema):
        subscription = SnsSubscription.objects.get(integration=integration)
        assert (subscription.status, subscription.attempts) == ("failed", 1)
        assert "HTTP 403" in subscription.last_error
