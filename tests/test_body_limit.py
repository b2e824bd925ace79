"""The ASGI body guard answers 413 before Django reads an oversized body, declared or chunked."""

from asgiref.sync import async_to_sync

from opsworker.body_limit import BodyLimitMiddleware


class _App:
    def __init__(self):
        self.bodies = []

    async def __call__(self, scope, receive, send):
        message = await receive()
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _run(headers, chunks, limit=100):
    app = _App()
    guard = BodyLimitMiddleware(app, limit)
    sent, queue = (
        [],
        [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)],
    )
    received = []

    async def receive():
        message = queue.pop(0)
        received.append(message)
        return message

    async def send(message):
        sent.append(message)

    async_to_sync(guard)({"type": "http", "headers": headers}, receive, send)
    return sent[0]["status"], app.bodies, len(received)


def test_body_limit_refuses_declared_length_without_reading():
    status, bodies, read = _run([(b"content-length", b"101")], [b"x" * 101])
    assert (status, bodies, read) == (413, [], 0)


def test_body_limit_passes_body_at_the_limit():
    status, bodies, _ = _run([(b"content-length", b"100")], [b"x" * 100])
    assert (status, bodies) == (202, [b"x" * 100])


def test_body_limit_stops_reading_chunked_body_past_the_limit():
    status, bodies, read = _run([], [b"x" * 60, b"x" * 60, b"x" * 60])
    assert (status, bodies, read) == (413, [], 2)


def test_body_limit_replays_small_chunked_body():
    status, bodies, _ = _run([], [b"ab", b"cd"])
    assert (status, bodies) == (202, [b"abcd"])


def test_body_limit_refuses_malformed_length():
    status, _, _ = _run([(b"content-length", b"12abc")], [b"x"])
    assert status == 400
