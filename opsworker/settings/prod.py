"""Production: secrets from the environment, HTTPS everywhere, JSON logs."""

from django.core.exceptions import ImproperlyConfigured

from opsworker import env
from opsworker.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env.string("OPSWORKER_SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-insecure"):
    raise ImproperlyConfigured("OPSWORKER_SECRET_KEY must be a random string of at least 50 characters")

PUBLIC_URL_SCHEME = "https"
PUBLIC_URL_PORT = env.string("OPSWORKER_URL_PORT", "")
# TLS usually ends at a load balancer or ingress in front of us.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("OPSWORKER_SSL_REDIRECT", True)
# Probes reach /healthz over plain HTTP from inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.integer("OPSWORKER_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.boolean("OPSWORKER_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.string_list("OPSWORKER_CSRF_TRUSTED_ORIGINS", [f"https://*.{BASE_DOMAIN}"])  # noqa: F405

if not ENCRYPTION_KEYS:  # noqa: F405
    raise ImproperlyConfigured(
        "OPSWORKER_ENCRYPTION_KEYS is required in production: "
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )
