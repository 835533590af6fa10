from django.urls import path

from inbox.chat.consumer import ChatConsumer
from inbox.consumers import AgentFeedConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentFeedConsumer.as_asgi()),
]

# Opened from customers' websites: each chat channel checks its own allowed origins, so these
# routes sit outside the site-wide AllowedHostsOriginValidator (see config/asgi.py).
chat_websocket_urlpatterns = [
    path("ws/chat/<slug:channel>/<str:session>/", ChatConsumer.as_asgi()),
]
