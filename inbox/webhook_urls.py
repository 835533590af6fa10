from django.urls import include, path

from inbox import social_webhooks, webhooks

app_name = "webhooks"

urlpatterns = [
    path("api/<slug:channel>/", webhooks.api_webhook, name="api"),
    path("meta/<slug:channel>/", social_webhooks.meta_webhook, name="meta"),
    path("telegram/<slug:channel>/", social_webhooks.telegram_webhook, name="telegram"),
    path("twilio/<slug:channel>/", social_webhooks.twilio_webhook, name="twilio"),
    path("x/<slug:channel>/", social_webhooks.x_webhook, name="x"),
    path("email/<slug:channel>/raw", webhooks.email_raw_webhook, name="email-raw"),
    # ESP inbound through django-anymail: /webhooks/esp/<esp>/inbound/ (mailgun, postmark, ...)
    path("esp/", include("anymail.urls")),
]
