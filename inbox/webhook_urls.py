from django.urls import include, path

from inbox import webhooks

app_name = "webhooks"

urlpatterns = [
    path("api/<slug:channel>/", webhooks.api_webhook, name="api"),
    path("email/<slug:channel>/raw", webhooks.email_raw_webhook, name="email-raw"),
    # ESP inbound through django-anymail: /webhooks/esp/<esp>/inbound/ (mailgun, postmark, ...)
    path("esp/", include("anymail.urls")),
]
