"""`uvicorn investigations.gateway.asgi:application`: the portal's ASGI app with the agents' long
poll served in the event loop (see `longpoll`). Once opsworker/asgi.py wraps its HTTP app with
`AgentLongPollMiddleware` itself, this module is only a shortcut."""

from investigations.gateway.longpoll import AgentLongPollMiddleware
from opsworker.asgi import application as portal_application  # sets Django up first

application = AgentLongPollMiddleware(portal_application)
