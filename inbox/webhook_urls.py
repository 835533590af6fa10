from django.urls import path

from inbox import webhooks

app_name = "webhooks"

urlpatterns = [
    path("api/<slug:channel>/", webhooks.api_webhook, name="api"),
]
