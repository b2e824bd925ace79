"""“Test connection”: one tiny completion through the organization's saved provider."""

from __future__ import annotations

import dataclasses
import time

from investigations.llm.config import model_config_get
from investigations.llm.providers import ModelError, provider_for
from tenants.secret_box import SecretUnreadable

TEST_TIMEOUT_SECONDS = 20.0


@dataclasses.dataclass
class ConnectionTest:
    ok: bool
    message: str
    provider: str = ""
    model: str = ""
    seconds: float = 0.0
    tokens: int = 0


def connection_test() -> ConnectionTest:
    config = model_config_get()
    if config.provider == "builtin":
        return ConnectionTest(
            False, "The provider is “built-in”: there is no model to test. Save a provider first."
        )
    try:
        settings = config.resolved()
    except SecretUnreadable:
        return ConnectionTest(
            False,
            "The stored key cannot be decrypted with the configured encryption keys: enter the key again.",
            config.provider,
        )
    model = settings.model_for("analysis")
    started = time.perf_counter()
    try:
        turn = provider_for(settings).chat(
            [
                {"role": "system", "content": "You are a connectivity check. Reply with the word OK."},
                {"role": "user", "content": "ping"},
            ],
            [],
            model,
            max_tokens=8,
            timeout=TEST_TIMEOUT_SECONDS,
        )
    except ModelError as error:
        return ConnectionTest(False, str(error), settings.provider, model, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    reply = (turn.text or "").strip()[:80] or "(empty reply)"
    return ConnectionTest(
        True,
        f"Connected: {model} answered “{reply}” in {seconds:.1f} s.",
        settings.provider,
        model,
        seconds,
        turn.tokens_in + turn.tokens_out,
    )
