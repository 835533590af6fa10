"""Browser pages for integrations: admins manage outbound webhook endpoints, every user manages
their own API tokens. Thin: parse the form, call the same services as the REST API
(integrations.services, accounts.services), render or redirect. Non-admins get 403 on the
endpoint pages, as on the rest of the UI."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import services as account_services
from accounts.models import ApiToken
from integrations import schemas, services
from integrations.models import WebhookDelivery, WebhookEndpoint

LOG_SIZE = 50


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [f"{field}: {p}" for field, problems in exc.message_dict.items() for p in problems]
    return list(exc.messages)


def _admin_only(request) -> None:
    if not request.user.is_admin_role:
        raise PermissionDenied("Webhook endpoints are for admins.")


def _endpoints_page(request, *, form=None, errors=(), status=200):
    return render(
        request,
        "integrations/endpoints.html",
        {
            "endpoints": WebhookEndpoint.objects.order_by("id"),
            "event_types": schemas.EVENT_TYPES,
            "form": form or {"events": []},
            "errors": list(errors),
        },
        status=status,
    )


@never_cache
@login_required
def endpoints_page(request):
    """GET: the endpoints with a create form. POST: create one; the secret is shown on this
    answer only."""
    _admin_only(request)
    if request.method != "POST":
        return _endpoints_page(request)
    form = {
        "url": request.POST.get("url", "").strip(),
        "events": request.POST.getlist("events"),
        "description": request.POST.get("description", "").strip(),
    }
    if not form["url"]:
        return _endpoints_page(request, form=form, errors=[_("url: Enter a URL.")], status=400)
    if len(form["url"]) > 2000 or len(form["description"]) > 255:
        return _endpoints_page(
            request, form=form, errors=[_("The URL or the description is too long.")], status=400
        )
    try:
        endpoint, secret = services.endpoint_create(
            actor=request.user,
            url=form["url"],
            event_types=form["events"],
            description=form["description"],
        )
    except ValidationError as exc:
        return _endpoints_page(request, form=form, errors=_errors(exc), status=400)
    return render(
        request, "integrations/endpoint_created.html", {"endpoint": endpoint, "secret": secret}
    )


@login_required
@require_GET
def endpoint_page(request, pk):
    """One endpoint with its delivery log (newest first, every attempt)."""
    _admin_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related("log")
        .order_by("-id")[:LOG_SIZE]
    )
    return render(
        request,
        "integrations/endpoint.html",
        {"endpoint": endpoint, "deliveries": deliveries, "now": timezone.localtime()},
    )


@login_required
@require_POST
def endpoint_enable(request, pk):
    _admin_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    services.endpoint_update(endpoint_id=endpoint.pk, actor=request.user, enabled=enabled)
    done = _("%(url)s enabled.") if enabled else _("%(url)s disabled.")
    flash.success(request, done % {"url": endpoint.url})
    return redirect("integrations-ui:endpoints")


@login_required
@require_POST
def endpoint_delete(request, pk):
    _admin_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_delete(endpoint_id=endpoint.pk, actor=request.user)
    flash.success(request, _("%(url)s deleted with its delivery log.") % {"url": endpoint.url})
    return redirect("integrations-ui:endpoints")


@login_required
@require_POST
def endpoint_test(request, pk):
    """Send a signed test body now; only the status code is shown."""
    _admin_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    status_code = services.send_test(endpoint_id=endpoint.pk)
    if status_code is None:
        flash.error(request, _("Test sent: no answer."))
    else:
        flash.info(request, _("Test sent: the endpoint answered %(code)s.") % {"code": status_code})
    return redirect("integrations-ui:endpoint", pk=endpoint.pk)


@login_required
@require_POST
def delivery_replay(request, pk):
    _admin_only(request)
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    services.replay_delivery(delivery_id=delivery.pk, actor=request.user)
    flash.success(request, _("Delivery %(id)s queued again.") % {"id": delivery.webhook_id})
    return redirect("integrations-ui:endpoint", pk=delivery.endpoint_id)


def _when(raw: str):
    value = parse_datetime(raw.strip()) if raw else None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


@login_required
@require_POST
def endpoint_replay(request, pk):
    """Replay every event of the endpoint's types in [since, until)."""
    _admin_only(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    since, until = _when(request.POST.get("since", "")), _when(request.POST.get("until", ""))
    if since is None or until is None:
        flash.error(request, _("Give both times of the range, e.g. 2026-01-31 14:00."))
        return redirect("integrations-ui:endpoint", pk=endpoint.pk)
    try:
        queued = services.replay_range(
            endpoint_id=endpoint.pk, actor=request.user, since=since, until=until
        )
    except ValidationError as exc:
        for problem in _errors(exc):
            flash.error(request, problem)
    else:
        flash.success(
            request,
            ngettext("%(n)s delivery queued.", "%(n)s deliveries queued.", queued) % {"n": queued},
        )
    return redirect("integrations-ui:endpoint", pk=endpoint.pk)


# --- personal API tokens ----------------------------------------------------------------------


def _tokens_page(request, *, created=None, key=None, errors=(), status=200):
    return render(
        request,
        "integrations/tokens.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user).order_by("-id"),
            "scopes": ApiToken.Scope.choices,
            "created": created,
            "key": key,
            "errors": list(errors),
        },
        status=status,
    )


@never_cache
@login_required
def tokens_page(request):
    """GET: your tokens with a create form. POST: create one; the key is shown on this answer
    only (only its hash is stored)."""
    if request.method != "POST":
        return _tokens_page(request)
    name = request.POST.get("name", "").strip()
    chosen = set(request.POST.getlist("scopes"))
    errors = []
    if not name or len(name) > 120:
        errors.append(_("name: Give the token a name of at most 120 characters."))
    if not chosen or chosen - set(ApiToken.Scope.values):
        errors.append(_("scopes: Choose at least one of read, write, admin."))
    if errors:
        return _tokens_page(request, errors=errors, status=400)
    token, key = account_services.create_api_token(
        user=request.user, name=name, scopes=[s.value for s in ApiToken.Scope if s.value in chosen]
    )
    return _tokens_page(request, created=token, key=key)


@login_required
@require_POST
def token_revoke(request, pk):
    try:
        token = account_services.revoke_api_token(token_id=pk, actor=request.user)
    except ApiToken.DoesNotExist as exc:
        raise Http404("No such token.") from exc
    flash.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("integrations-ui:tokens")
