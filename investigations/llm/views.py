"""The model settings page (admins): provider, endpoint, write-only key, models, budget, test."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from investigations.llm.config import model_config_get, model_config_save, model_usage_recent
from investigations.llm.connection import connection_test
from investigations.llm.forms import EDITABLE, ModelConfigForm
from tenants.permissions import require
from tenants.roles import Capability


def _context(form: ModelConfigForm, config, test=None) -> dict:
    return {
        "section": "settings",
        "form": form,
        "config": config,
        "usage": model_usage_recent(),
        "test": test,
    }


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@require(Capability.CONFIGURE)
@require_http_methods(["GET", "POST"])
def model_settings(request: HttpRequest) -> HttpResponse:
    config = model_config_get()
    form = ModelConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in EDITABLE}
        changes["updated_by"] = request.user.email
        try:
            model_config_save(
                changes=changes,
                api_key=form.cleaned_data["api_key"] or None,
                clear_key=form.cleaned_data["clear_key"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Model settings saved.")
            return redirect("llm:settings")
    status = 400 if form.is_bound else 200
    return _no_store(
        render(request, "investigations/llm/settings.html", _context(form, config), status=status)
    )


@require(Capability.CONFIGURE)
@require_POST
def model_test(request: HttpRequest) -> HttpResponse:
    """A tiny completion through the saved provider; the reason is shown when it fails."""
    test = connection_test()
    if request.htmx:
        return _no_store(render(request, "investigations/llm/partials/_test_result.html", {"test": test}))
    config = model_config_get()
    form = ModelConfigForm(instance=config)
    return _no_store(render(request, "investigations/llm/settings.html", _context(form, config, test)))
