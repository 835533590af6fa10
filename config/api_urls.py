from django.urls import path

from accounts.api import TeamListApi, UserListApi
from inbox import api as inbox_api
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
    path("channels/", inbox_api.ChannelListApi.as_view(), name="channel-list"),
    path(
        "messages/<int:pk>/original",
        inbox_api.MessageOriginalApi.as_view(),
        name="message-original",
    ),
    path("inbound-events/", inbox_api.InboundEventListApi.as_view(), name="inbound-event-list"),
    path("tags/", TagListApi.as_view(), name="tag-list"),
    path("teams/", TeamListApi.as_view(), name="team-list"),
    path("users/", UserListApi.as_view(), name="user-list"),
]
