"""RQ job of the chat: answer one stored question (schema name first, see tenants.jobs)."""

from __future__ import annotations

from investigations.chat.services import chat_answer, chat_answer_failed
from tenants.jobs import tenant_job


@tenant_job
def chat_answer_job(schema_name: str, message_id: int) -> dict:
    try:
        message = chat_answer(message_id)
    except Exception:
        # Not swallowed: RQ records the failure; the conversation must not show "Thinking…" forever.
        chat_answer_failed(message_id)
        raise
    return {"message": message_id, "state": message.state if message else "skipped"}
