"""Django's error reports (the debug page, mailed reports) without credentials from the URL.

Django's `SafeExceptionReporterFilter` hides settings and headers named like secrets, but not the
request path, the query string or a view's `token` argument, and the report prints all three.
The filter here also cleanses frame variables named like secrets and scrubs path-like request
metadata; the reporter scrubs the rendered report as a last pass (`opsworker.logging.scrub_secrets`).
"""

from __future__ import annotations

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from opsworker.logging import request_secrets, scrub_literals, scrub_secrets

_PATH_META = ("PATH_INFO", "QUERY_STRING", "REQUEST_URI", "RAW_URI", "HTTP_REFERER", "SCRIPT_NAME")


class SecretScrubbingReporterFilter(SafeExceptionReporterFilter):
    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in _PATH_META:
            if isinstance(meta.get(key), str):
                meta[key] = scrub_secrets(meta[key])
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if self.hidden_settings.search(name):
                value = self.cleansed_substitute
            elif isinstance(value, str):
                value = scrub_secrets(value)
            cleansed.append((name, value))
        return cleansed


class SecretScrubbingExceptionReporter(ExceptionReporter):
    def _scrub(self, text: str) -> str:
        literals = request_secrets(self.request) if self.request is not None else []
        return scrub_secrets(scrub_literals(str(text), literals))

    def get_traceback_html(self):
        return self._scrub(super().get_traceback_html())

    def get_traceback_text(self):
        return self._scrub(super().get_traceback_text())
