"""Writes of the chat: store a question, answer it in a job (builtin or model), stream it live."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from investigations.chat import builtin
from investigations.chat.model import answer_with_model
from investigations.chat.realtime import publish_log, publish_message
from investigations.chat.selectors import chat_history_before
from investigations.cluster_reader import agent_reader, reader_errors
from investigations.engine.collect import Answer, Ask, Reader
from investigations.llm.config import LLMSettings, budget_allows, cost_for, settings_for_org, usage_record
from investigations.llm.providers import ChatProvider, ModelError
from investigations.models import ChatAnswerer, ChatMessage, ChatRole, ChatState, Investigation
from investigations.runner import choose_cluster
from tenants.jobs import enqueue_in_tenant
from tenants.secret_box import SecretUnreadable

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000


def chat_ask(investigation: Investigation, user, question: str) -> tuple[ChatMessage, ChatMessage]:
    """Store `question` and a pending answer, publish the conversation, enqueue the answer job."""
    question = (question or "").strip()
    if not question:
        raise ValidationError("Type a question.")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValidationError(f"Keep questions under {MAX_QUESTION_CHARS} characters.")
    with transaction.atomic():
        asked = ChatMessage.objects.create(
            investigation=investigation,
            role=ChatRole.USER,
            author_id=user.pk,
            author_email=user.email,
            text=question,
        )
        pending = ChatMessage.objects.create(
            investigation=investigation, role=ChatRole.ASSISTANT, reply_to=asked, state=ChatState.PENDING
        )
        publish_log(investigation)
        enqueue_in_tenant(
            "investigations", "investigations.chat.tasks.chat_answer_job", connection.schema_name, pending.pk
        )
    logger.info(
        "investigations.chat.asked", extra={"investigation": investigation.pk, "chat_message": asked.pk}
    )
    return asked, pending


def chat_answer(
    message_id: int,
    *,
    reader: Reader | None = None,
    reader_errors: tuple[type[Exception], ...] = (),
    settings: LLMSettings | None = None,
    provider: ChatProvider | None = None,
) -> ChatMessage | None:
    """Answer a pending message: the model when configured and affordable, else from the evidence."""
    answer = (
        ChatMessage.objects.select_related("investigation", "investigation__signal", "reply_to")
        .filter(pk=message_id, role=ChatRole.ASSISTANT, state__in=[ChatState.PENDING, ChatState.STREAMING])
        .first()
    )
    if answer is None or answer.reply_to is None:
        return None  # answered already (a retried job) or gone
    answer.state = ChatState.STREAMING
    answer.save(update_fields=["state"])
    publish_message(answer)
    note = ""
    try:
        settings = settings or settings_for_org()
    except SecretUnreadable:
        settings, note = LLMSettings(), "The model key cannot be decrypted; answered from the evidence."
    if settings.uses_model:
        if budget_allows(settings, timezone.now().date()):
            done = _answer_with_model(answer, settings, reader, reader_errors, provider)
            if done:
                return answer
            note = answer.note
        else:
            note = (
                f"The daily model budget of ${settings.daily_budget_usd} is spent; "
                "answered from the evidence."
            )
    _answer_builtin(answer, note)
    return answer


def chat_answer_failed(message_id: int) -> None:
    """Mark an answer that crashed as failed, so the page stops waiting and says so."""
    answer = (
        ChatMessage.objects.filter(pk=message_id, role=ChatRole.ASSISTANT)
        .exclude(state=ChatState.DONE)
        .first()
    )
    if answer is None:
        return
    answer.state = ChatState.FAILED
    answer.note = "Answering failed on our side; the error is logged. Ask again, or rephrase the question."
    answer.save(update_fields=["state", "note"])
    publish_message(answer)


def _answer_builtin(answer: ChatMessage, note: str) -> None:
    investigation = answer.investigation
    reply = builtin.answer(investigation.result, answer.reply_to.text, status=investigation.status)
    answer.answered_by, answer.note = ChatAnswerer.BUILTIN, note[:500]
    _stream(answer, reply.text)


def _answer_with_model(answer, settings, reader, reader_errors, provider) -> bool:
    investigation = answer.investigation
    if reader is None:
        reader, reader_errors = _cluster_reader(investigation)

    def progress(calls: list[dict[str, Any]]) -> None:
        answer.tool_calls = calls
        answer.save(update_fields=["tool_calls"])
        publish_message(answer)

    today = timezone.now().date()
    try:
        reply = answer_with_model(
            settings,
            investigation=investigation,
            history=chat_history_before(answer),
            question=answer.reply_to.text,
            reader=reader,
            reader_errors=reader_errors,
            provider=provider,
            on_tool_calls=progress,
        )
    except ModelError as error:
        logger.warning(
            "investigations.chat.model_failed",
            extra={"investigation": investigation.pk, "kind": error.kind, "reason": str(error)},
        )
        spent = cost_for(settings, error.tokens_in, error.tokens_out)
        if error.tokens_in or error.tokens_out:
            usage_record(day=today, tokens_in=error.tokens_in, tokens_out=error.tokens_out, cost=spent)
        answer.tokens, answer.cost = error.tokens_in + error.tokens_out, spent
        answer.note = f"The model could not answer ({error}); answered from the evidence instead."[:500]
        answer.save(update_fields=["tokens", "cost", "note"])
        return False
    usage_record(day=today, tokens_in=reply.tokens_in, tokens_out=reply.tokens_out, cost=reply.cost)
    answer.answered_by, answer.model = ChatAnswerer.MODEL, reply.model
    answer.tool_calls, answer.tokens, answer.cost = reply.tool_calls, reply.tokens, reply.cost
    _stream(answer, reply.text)
    return True


def _cluster_reader(investigation: Investigation) -> tuple[Reader, tuple[type[Exception], ...]]:
    """The cluster's agent as the tools' Reader; without a cluster every read is an error."""
    cluster = choose_cluster(investigation)
    if cluster is None:

        def unreachable(asks: list[Ask]) -> list[Answer]:
            return [Answer(ask, False, error="no cluster is known for this investigation") for ask in asks]

        return unreachable, ()
    return agent_reader(cluster), reader_errors()


def _stream(answer: ChatMessage, text: str) -> None:
    """Publish the answer paragraph by paragraph (same element id each time), then store it whole."""
    shown = ""
    for chunk in _chunks(text):
        shown = f"{shown}\n\n{chunk}" if shown else chunk
        answer.text = shown
        publish_message(answer)
    answer.text, answer.state = text, ChatState.DONE
    answer.save(
        update_fields=["text", "state", "answered_by", "note", "model", "tool_calls", "tokens", "cost"]
    )
    publish_message(answer)


_FENCE_LINE = re.compile(r"^```")


def _chunks(text: str) -> Iterator[str]:
    """Paragraphs, never splitting a ``` fenced block."""
    current: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if _FENCE_LINE.match(line):
            fenced = not fenced
        if not line.strip() and not fenced and current:
            yield "\n".join(current)
            current = []
            continue
        current.append(line)
    if current:
        yield "\n".join(current)
