"""Settings of the real rqworker in test_worker.py: the test settings, Slack pointed at the local server."""

import os

from opsworker.settings.test import *  # noqa: F403

SLACK_API_BASE_URL = os.environ["NOTIFY_TEST_SLACK_API_BASE_URL"]
