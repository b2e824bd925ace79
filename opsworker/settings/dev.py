"""Local development (`make run`): readable logs, debug pages, *.localhost domains."""

from opsworker import env
from opsworker.settings.base import *  # noqa: F403

DEBUG = env.boolean("OPSWORKER_DEBUG", True)
LOG_FORMAT = env.string("OPSWORKER_LOG_FORMAT", "console")
LOGGING["handlers"]["stderr"]["formatter"] = LOG_FORMAT  # noqa: F405
# Manifest storage needs collectstatic; development serves the files as they are.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Served straight from static/ by WhiteNoise's finders; no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
