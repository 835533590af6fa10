from django.urls import include, path

from inbox.intake.doors import http
from inbox.intake.doors.email import anymail_inbound_patterns

app_name = "webhooks"

urlpatterns = [
    path("api/<slug:channel>/", http.api_webhook, name="api"),
    path("meta/<slug:channel>/", http.meta_webhook, name="meta"),
    path("telegram/<slug:channel>/", http.telegram_webhook, name="telegram"),
    path("twilio/<slug:channel>/", http.twilio_webhook, name="twilio"),
    path("x/<slug:channel>/", http.x_webhook, name="x"),
    path("email/<slug:channel>/raw", http.email_raw_webhook, name="email-raw"),
    # ESP inbound through django-anymail: /webhooks/esp/<esp>/inbound/ (mailgun, postmark, ...)
    path("esp/", include((anymail_inbound_patterns(), "anymail"))),
]


def _exempt(patterns):
    """Providers authenticate with signatures, never with our session cookie: no route here may
    ever answer a provider with a CSRF 403, whoever adds it."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            continue  # included apps (anymail) exempt their own views
        pattern.callback.csrf_exempt = True
    return patterns


urlpatterns = _exempt(urlpatterns)
