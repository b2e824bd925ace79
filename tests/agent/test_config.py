"""The agent's configuration: typed, validated, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import Config, ConfigError

BASE = {"OPSWORKER_PORTAL_URL": "https://opsworker.example.com", "OPSWORKER_CLUSTER_TOKEN": "tok"}


def test_config_defaults_for_http() -> None:
    config = Config.from_env(BASE)

    assert config.transport == "http"
    assert config.portal_url == "https://opsworker.example.com"
    assert config.cluster_token == "tok"
    assert config.poll_wait_seconds == 20
    assert config.limits.max_list_items == 500
    assert config.kube.api_url is None and config.kube.kubeconfig is None  # in-cluster


def test_config_token_is_not_in_repr() -> None:
    assert "tok" not in repr(Config.from_env(BASE | {"OPSWORKER_CLUSTER_TOKEN": "s3cret-token"}))


def test_config_reads_token_from_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    env = {
        "OPSWORKER_PORTAL_URL": BASE["OPSWORKER_PORTAL_URL"],
        "OPSWORKER_CLUSTER_TOKEN_FILE": str(token_file),
    }

    assert Config.from_env(env).cluster_token == "from-file"


def test_config_reports_every_problem_at_once() -> None:
    env = {
        "OPSWORKER_PORTAL_URL": "ftp://x",
        "OPSWORKER_POLL_WAIT_SECONDS": "soon",
        "OPSWORKER_MAX_LOG_LINES": "0",
        "OPSWORKER_TRANSPORT": "carrier-pigeon",
    }

    with pytest.raises(ConfigError) as info:
        Config.from_env(env)

    text = str(info.value)
    for fragment in (
        "OPSWORKER_TRANSPORT must be one of http, sqs",
        "OPSWORKER_PORTAL_URL must be an http(s) URL",
        "OPSWORKER_POLL_WAIT_SECONDS must be an integer",
        "OPSWORKER_MAX_LOG_LINES must be between 1 and 100000",
    ):
        assert fragment in text


def test_config_requires_token_for_http() -> None:
    with pytest.raises(ConfigError, match="OPSWORKER_CLUSTER_TOKEN"):
        Config.from_env({"OPSWORKER_PORTAL_URL": BASE["OPSWORKER_PORTAL_URL"]})


def test_config_refuses_plain_http_to_a_remote_portal() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        Config.from_env(BASE | {"OPSWORKER_PORTAL_URL": "http://opsworker.example.com"})


def test_config_allows_plain_http_on_loopback() -> None:
    assert Config.from_env(BASE | {"OPSWORKER_PORTAL_URL": "http://127.0.0.1:8000"}).portal_url


def test_config_sqs_needs_queues_and_region() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_env({"OPSWORKER_TRANSPORT": "sqs"})

    assert "SQS_COMMAND_QUEUE_URL" in str(info.value)
    assert "SQS_REGION" in str(info.value)


def test_config_sqs_complete() -> None:
    config = Config.from_env(
        {
            "OPSWORKER_TRANSPORT": "sqs",
            "OPSWORKER_SQS_COMMAND_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/c",
            "OPSWORKER_SQS_RESULT_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/r",
            "OPSWORKER_SQS_REGION": "eu-west-1",
        }
    )

    assert config.sqs is not None and config.sqs.region == "eu-west-1"
    assert config.portal_url is None


def test_config_sqs_caps_result_size() -> None:
    env = {
        "OPSWORKER_TRANSPORT": "sqs",
        "OPSWORKER_SQS_COMMAND_QUEUE_URL": "c",
        "OPSWORKER_SQS_RESULT_QUEUE_URL": "r",
        "OPSWORKER_SQS_REGION": "eu-west-1",
        "OPSWORKER_MAX_RESULT_BYTES": "1000000",
    }

    with pytest.raises(ConfigError, match="256 KiB"):
        Config.from_env(env)


def test_config_kube_api_url_for_the_simulator() -> None:
    config = Config.from_env(BASE | {"OPSWORKER_KUBE_API_URL": "http://127.0.0.1:6443"})

    assert config.kube.api_url == "http://127.0.0.1:6443"


def test_config_portal_host_overrides_host_header():
    env = {
        "OPSWORKER_PORTAL_URL": "http://127.0.0.1:8000",
        "OPSWORKER_CLUSTER_TOKEN": "t" * 40,
        "OPSWORKER_PORTAL_HOST": "demo.localhost:8000",
    }
    assert Config.from_env(env).portal_host == "demo.localhost:8000"
    with pytest.raises(ConfigError, match="PORTAL_HOST must be a host name"):
        Config.from_env({**env, "OPSWORKER_PORTAL_HOST": "evil.example/path"})
