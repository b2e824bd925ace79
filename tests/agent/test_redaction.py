"""Credentials are masked before leaving the cluster; innocent data is left alone; counts are exact."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from agent.redaction import MASK, Redactor, is_credential_name


def pod_with_env(env: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "api-1", "namespace": "shop"},
        "spec": {"containers": [{"name": "api", "image": "shop/api:1.4.2", "env": env}]},
    }


def env_values(obj: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in obj["spec"]["containers"][0]["env"]}


# --- env vars ------------------------------------------------------------------------------


def test_redaction_masks_credential_env_vars_and_keeps_harmless_ones() -> None:
    # given a realistic container environment
    pod = pod_with_env(
        [
            {"name": "DATABASE_URL", "value": "postgres://orders:Sup3rS3cret@db.shop.svc:5432/orders"},
            {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
            {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
            {"name": "JWT_SECRET", "value": "a-very-long-signing-secret"},
            {"name": "STRIPE_API_KEY", "value": "sk_live_51HqLyjWDarjtT1zdp7dc"},
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "DB_HOST", "value": "db.shop.svc"},
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "PORT", "value": "8080"},
            {"name": "JAVA_OPTS", "value": "-Xms256m -Xmx512m -XX:+UseG1GC"},
            {
                "name": "DB_PASSWORD_FROM_SECRET",
                "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
            },
            {"name": "EMPTY_TOKEN", "value": ""},
        ]
    )
    redactor = Redactor()

    # when it is redacted
    values = env_values(redactor.obj(pod))

    # then credentials are masked, structure and harmless values are kept
    assert values["DATABASE_URL"] == f"postgres://orders:{MASK}@db.shop.svc:5432/orders"
    assert values["AWS_ACCESS_KEY_ID"] == f"AKIA{MASK}"
    assert values["AWS_SECRET_ACCESS_KEY"] == MASK
    assert values["JWT_SECRET"] == MASK
    assert values["STRIPE_API_KEY"] == MASK
    assert values["DB_PASSWORD"] == MASK
    assert values["DB_HOST"] == "db.shop.svc"
    assert values["LOG_LEVEL"] == "info"
    assert values["PORT"] == "8080"
    assert values["JAVA_OPTS"] == "-Xms256m -Xmx512m -XX:+UseG1GC"
    assert values["DB_PASSWORD_FROM_SECRET"] is None  # a reference, not a value: kept as is
    assert values["EMPTY_TOKEN"] == ""
    assert pod["spec"]["containers"][0]["env"][10]["valueFrom"]["secretKeyRef"]["name"] == "db"
    assert redactor.count == 6


def test_redaction_masks_credentials_in_last_applied_annotation() -> None:
    # kubectl apply copies the whole manifest, env values included, into an annotation
    manifest = pod_with_env([{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "PORT", "value": "80"}])
    obj = pod_with_env([{"name": "DB_PASSWORD", "value": "hunter2"}])
    obj["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(manifest)
    }
    redactor = Redactor()

    redactor.obj(obj)

    annotation = json.loads(
        obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert env_values(annotation) == {"DB_PASSWORD": MASK, "PORT": "80"}
    assert "hunter2" not in json.dumps(obj)
    assert redactor.count == 2


def test_redaction_masks_password_flags_in_container_args() -> None:
    pod = pod_with_env([])
    pod["spec"]["containers"][0]["args"] = ["--db-password=hunter2", "--port=8080", "--verbose"]
    redactor = Redactor()

    redactor.obj(pod)

    assert pod["spec"]["containers"][0]["args"] == [f"--db-password={MASK}", "--port=8080", "--verbose"]
    assert redactor.count == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DB_PASSWORD", True),
        ("JWT_SECRET", True),
        ("STRIPE_API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GITHUB_TOKEN", True),
        ("SENTRY_DSN", True),
        ("SQL_CONNECTION_STRING", True),
        ("clientSecret", True),
        ("spring.datasource.password", True),
        ("DB_HOST", False),
        ("LOG_LEVEL", False),
        ("PORT", False),
        ("JAVA_OPTS", False),
        ("TOKEN_TTL_SECONDS", False),
        ("SECRET_NAME", False),
        ("CACHE_KEY_PREFIX", False),
        ("PASSWORD_FILE", False),
        ("PWD", False),
    ],
)
def test_redaction_credential_names(name: str, expected: bool) -> None:
    assert is_credential_name(name) is expected


# --- ConfigMaps ----------------------------------------------------------------------------

APPLICATION_PROPERTIES = """\
server.port=8080
spring.datasource.url=jdbc:postgresql://db.shop.svc:5432/orders
spring.datasource.username=orders
spring.datasource.password=Sup3rS3cret
logging.level.root=INFO
"""

NGINX_CONF = """\
server {
    listen 80;
    server_name shop.example.com;
    location / {
        proxy_pass http://api.shop.svc:8080;
        proxy_set_header Authorization $http_authorization;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}
"""


def configmap(data: dict[str, str], binary: dict[str, str] | None = None) -> dict[str, Any]:
    cm: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "api-config", "namespace": "shop"},
        "data": data,
    }
    if binary is not None:
        cm["binaryData"] = binary
    return cm


def test_redaction_masks_password_inside_application_properties() -> None:
    redactor = Redactor()

    cm = redactor.obj(configmap({"application.properties": APPLICATION_PROPERTIES}))

    text = cm["data"]["application.properties"]
    assert f"spring.datasource.password={MASK}\n" in text
    assert "spring.datasource.url=jdbc:postgresql://db.shop.svc:5432/orders\n" in text
    assert "spring.datasource.username=orders\n" in text
    assert "Sup3rS3cret" not in text
    assert redactor.count == 1


def test_redaction_leaves_plain_nginx_conf_untouched() -> None:
    redactor = Redactor()

    cm = redactor.obj(configmap({"nginx.conf": NGINX_CONF, "LOG_LEVEL": "debug"}))

    assert cm["data"] == {"nginx.conf": NGINX_CONF, "LOG_LEVEL": "debug"}
    assert redactor.count == 0


def test_redaction_masks_configmap_keys_named_like_credentials() -> None:
    redactor = Redactor()

    cm = redactor.obj(
        configmap({"API_TOKEN": "abc123", "api_url": "https://api.example.com", "db.password": "x"})
    )

    assert cm["data"] == {"API_TOKEN": MASK, "api_url": "https://api.example.com", "db.password": MASK}
    assert redactor.count == 2


def test_redaction_masks_binary_data_holding_a_private_key() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    logo = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00binary").decode()
    redactor = Redactor()

    cm = redactor.obj(configmap({}, {"tls.pem": base64.b64encode(pem.encode()).decode(), "logo.png": logo}))

    decoded = base64.b64decode(cm["binaryData"]["tls.pem"]).decode()
    assert "MIIEvQ" not in decoded
    assert decoded.startswith("-----BEGIN PRIVATE KEY-----")
    assert cm["binaryData"]["logo.png"] == logo
    assert redactor.count == 1


# --- log lines -----------------------------------------------------------------------------

STACK_TRACE = """\
2025-03-15T10:24:30.382Z ERROR 1 --- [nio-8080-exec-3] o.a.c.c.C.[.[.[/].[dispatcherServlet] : Servlet failed
java.lang.IllegalStateException: token cache not initialised
\tat com.acme.auth.TokenService.validate(TokenService.java:42)
\tat com.acme.auth.AuthFilter.doFilter(AuthFilter.java:88)
Caused by: com.acme.InvalidTokenException: token expired
\t... 42 common frames omitted
"""


def test_redaction_leaves_stack_traces_and_ordinary_lines_untouched() -> None:
    ordinary = (
        STACK_TRACE
        + 'level=info msg="request done" status=200 path=/api/token duration=3ms\n'
        + "[2025-03-15T10:24:26.989+0000] GC(21) Pause Young (Normal) 429M->381M(445M) 18.651ms\n"
        + 'FATAL: password authentication failed for user "orders"\n'
        + "Connecting to db.shop.svc:5432 as orders\n"
    )
    redactor = Redactor()

    assert redactor.text(ordinary) == ordinary
    assert redactor.count == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET /api/orders Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig123456",
            f"GET /api/orders Authorization: Bearer {MASK}",
        ),
        (
            "connecting to postgres://orders:Sup3rS3cret@db.shop.svc:5432/orders",
            f"connecting to postgres://orders:{MASK}@db.shop.svc:5432/orders",
        ),
        (
            "using aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEX",
            f"using aws_secret_access_key={MASK}",
        ),
        ("s3 client with AKIAIOSFODNN7EXAMPLE", f"s3 client with AKIA{MASK}"),
        ('login {"user": "bob", "password": "hunter2"}', f'login {{"user": "bob", "password": "{MASK}"}}'),
        ("webhook token ghp_abcdefghijklmnopqrstuvwxyz0123456789", f"webhook token ghp_{MASK}"),
        ("slack xoxb-1234567890-0987654321-abcdefABCDEF", f"slack xoxb-{MASK}"),
        ("charging with sk_live_51HqLyjWDarjtT1zdp7dc", f"charging with sk_live_{MASK}"),
        ("session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", f"session eyJ{MASK}"),
        ("config api_key: 8f9a7b6c5d4e3f2a1b0c9d8e", f"config api_key: {MASK}"),
        ("retrying with password=hunter2 user=bob", f"retrying with password={MASK} user=bob"),
    ],
)
def test_redaction_masks_credentials_in_log_lines(line: str, expected: str) -> None:
    redactor = Redactor()

    assert redactor.text(line) == expected
    assert redactor.count == 1


def test_redaction_masks_pem_private_key_block_in_logs() -> None:
    log = (
        "loading key\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
        "4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n"
        "-----END RSA PRIVATE KEY-----\nkey loaded\n"
    )
    redactor = Redactor()

    out = redactor.text(log)

    assert (
        out
        == f"loading key\n-----BEGIN RSA PRIVATE KEY-----{MASK}-----END RSA PRIVATE KEY-----\nkey loaded\n"
    )
    assert redactor.count == 1


def test_redaction_masks_a_truncated_private_key_block_to_the_end() -> None:
    redactor = Redactor()

    out = redactor.text("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY")

    assert out == f"-----BEGIN EC PRIVATE KEY-----{MASK}"
    assert redactor.count == 1


def test_redaction_counts_every_mask_in_a_log() -> None:
    log = "\n".join(
        [
            "start",
            "db postgres://a:b1@h/db and postgres://c:d2@h/db",
            "Bearer abcdefghijklmnop",
            "nothing here",
            "token=zzzzzzzz",
        ]
    )
    redactor = Redactor()

    redactor.text(log)

    assert redactor.count == 4


def test_redaction_masks_the_end_of_a_key_block_whose_start_was_cut_off() -> None:
    # a log tail can start in the middle of a key the application printed
    tail = (
        "4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n"
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
        "-----END RSA PRIVATE KEY-----\nkey loaded\n"
    )
    redactor = Redactor()

    assert redactor.text(tail) == f"{MASK}-----END RSA PRIVATE KEY-----\nkey loaded\n"
    assert redactor.count == 1
