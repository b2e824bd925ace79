"""Slack notifications: connection, routing, investigation messages, feedback buttons, daily digest."""
