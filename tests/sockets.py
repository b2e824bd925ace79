"""Shared settings of the WebSocket tests (Channels' `WebsocketCommunicator`)."""

# Channels waits 1 s for a socket to be accepted by default. A CI machine busy with other processes
# can take longer (the consumer reads the session, the membership and the page state in threads),
# and the test then fails on a timeout that says nothing about the product. Refusals still answer
# at once, so a longer wait costs nothing when the test passes.
CONNECT_TIMEOUT = 10
