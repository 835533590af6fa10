from django.urls import path

from accounts.api import TeamListApi, UserListApi
from inbox import api as inbox_api
from inbox import chat_views
from tagging.api import TagListApi

urlpatterns = [
    path("conversations/", inbox_api.ConversationListApi.as_view(), name="conversation-list"),
    path(
        "conversations/<int:pk>/",
        inbox_api.ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<int:pk>/messages/",
        inbox_api.ConversationMessagesApi.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<int:pk>/typing/",
        chat_views.ConversationTypingApi.as_view(),
        name="conversation-typing",
    ),
    path("channels/", inbox_api.ChannelListApi.as_view(), name="channel-list"),
    path("inbound-events/", inbox_api.InboundEventListApi.as_view(), name="inbound-event-list"),
    path("tags/", TagListApi.as_view(), name="tag-list"),
    path("teams/", TeamListApi.as_view(), name="team-list"),
    path("users/", UserListApi.as_view(), name="user-list"),
]
