from django.urls import path

from inbox.consumers import AgentFeedConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentFeedConsumer.as_asgi()),
]
