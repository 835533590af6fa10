from django.urls import path

from inbox import webhooks

app_name = "webhooks"

urlpatterns = [
    path("api/<slug:channel>/", webhooks.api_webhook, name="api"),
    path("email/<slug:channel>/raw", webhooks.email_raw_webhook, name="email-raw"),
]
