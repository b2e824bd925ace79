"""ASGI guard: refuse oversized request bodies before Django reads (and spools) them.

Django's ASGI handler reads the whole body before any view runs, so a view's own size check comes
too late to protect memory and disk. This wrapper answers 413 when Content-Length is over the cap,
and for chunked bodies stops reading as soon as the running total passes it. Views still apply
their own, smaller per-endpoint limits with more specific messages.
"""

from __future__ import annotations

import json


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await self._refuse(send, 400, "Content-Length is not a number")
            if int(declared) > self.max_bytes:
                return await self._refuse(send)
            return await self.app(scope, receive, send)
        # No length given (chunked): buffer up to the cap, then replay to Django.
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                return await self._refuse(send)
            chunks.append(body)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _refuse(self, send, status: int = 413, message: str = "") -> None:
        message = message or f"request body is larger than this server accepts ({self.max_bytes} bytes)"
        body = json.dumps({"error": message, "status": status}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
