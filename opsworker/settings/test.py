"""Test suite: the same real PostgreSQL and Redis, on their own database and Redis DB number."""

from opsworker import env
from opsworker.settings.base import *  # noqa: F403

# Redis DB 15 keeps tests apart from a `make run` on the same machine.
REDIS_URL = env.string("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "opsworker-test"  # noqa: F405
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] = REDIS_URL  # noqa: F405
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "opsworker-test:ch"  # noqa: F405
for _queue in RQ_QUEUES.values():  # noqa: F405
    _queue["URL"] = REDIS_URL
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never outside tests
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
ALLOWED_HOSTS = [".localhost", "localhost", "testserver"]
LOG_FORMAT = "console"
LOGGING["handlers"]["stderr"]["formatter"] = "console"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Every log call of our own code must execute in the suite: a record is built (and a reserved
# `extra` key raises) only when the logger's level lets it through, and a log call that never ran
# once hid a 500 on every chat question. The handler still prints only their warnings and above
# (other loggers as before: a worker's job lines are read by tests).
for _logger in PROJECT_LOGGERS:  # noqa: F405
    LOGGING["loggers"][_logger] = {"level": "DEBUG"}  # noqa: F405
LOGGING["filters"]["quiet_project_debug"] = {  # noqa: F405
    "()": "opsworker.logging.QuietBelow",
    "loggers": PROJECT_LOGGERS,  # noqa: F405
    "level": "WARNING",
}
LOGGING["handlers"]["stderr"]["filters"] = [*LOGGING["handlers"]["stderr"]["filters"], "quiet_project_debug"]  # noqa: F405
# Served straight from static/ by WhiteNoise's finders; no collectstatic needed.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Never fetch SNS certificates from the network in tests (see tests/alerts/sns_certs/README.md).
SNS_CERT_DIR = str(BASE_DIR / "tests" / "alerts" / "sns_certs")  # noqa: F405
# Parallel test runs on one machine (several checkouts, or a developer beside CI) need their own
# database: TEST_DATABASE_NAME=test_opsworker_mine make test.
DATABASES["default"]["TEST"] = {"NAME": env.string("TEST_DATABASE_NAME", "test_opsworker")}  # noqa: F405
