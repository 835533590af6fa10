from django.urls import path

from workspace.views import (
    actions,
    base,
    board,
    conversation,
    drafts,
    inbox,
    notifications,
    product,
    settings_canned,
    settings_channels,
)

app_name = "ui"

urlpatterns = [
    path("", inbox.inbox_page, name="inbox"),
    path("bulk/", actions.bulk_action, name="bulk"),
    path("sidebar/", inbox.sidebar, name="sidebar"),
    path("tags.css", base.tags_css, name="tags-css"),
    path("availability/", base.set_my_availability, name="availability"),
    path("board/", board.lead_board, name="board"),
    path("product/", product.product_view, name="product"),
    path(
        "product/requests/<int:key>/status/",
        product.set_feature_request_status,
        name="feature-request-status",
    ),
    path("rows/<int:pk>/", inbox.conversation_row, name="row"),
    path("conversations/<int:pk>/", conversation.conversation_page, name="conversation"),
    path("conversations/<int:pk>/thread/", conversation.conversation_thread, name="thread"),
    path("conversations/<int:pk>/reply/", actions.reply, name="reply"),
    path("conversations/<int:pk>/note/", actions.note, name="note"),
    path("conversations/<int:pk>/draft/", drafts.draft, name="draft"),
    path("session/", drafts.session_state, name="session"),
    path("conversations/<int:pk>/tags/", actions.add_tags, name="tags"),
    path("conversations/<int:pk>/tags/<slug:slug>/remove/", actions.remove_tag, name="untag"),
    path(
        "conversations/<int:pk>/suggested-tags/<slug:slug>/accept/",
        actions.accept_suggested_tag,
        name="suggestion-accept",
    ),
    path(
        "conversations/<int:pk>/suggested-tags/<slug:slug>/dismiss/",
        actions.dismiss_suggested_tag,
        name="suggestion-dismiss",
    ),
    path("conversations/<int:pk>/severity/", actions.set_severity, name="severity"),
    path("conversations/<int:pk>/assign/", actions.assign, name="assign"),
    path("conversations/<int:pk>/status/", actions.set_status, name="status"),
    path("messages/<int:pk>/body/", conversation.message_body, name="message-body"),
    path("settings/canned/", settings_canned.canned_page, name="settings-canned"),
    path("settings/canned/<int:pk>/", settings_canned.canned_page, name="settings-canned-edit"),
    path(
        "settings/canned/<int:pk>/delete/",
        settings_canned.canned_delete,
        name="settings-canned-delete",
    ),
    path("settings/channels/", settings_channels.channel_list, name="settings-channels"),
    path(
        "settings/channels/add/<slug:kind>/",
        settings_channels.channel_add,
        name="settings-channel-add",
    ),
    path("settings/channels/<int:pk>/", settings_channels.channel_page, name="settings-channel"),
    path(
        "settings/channels/<int:pk>/test/",
        settings_channels.channel_test,
        name="settings-channel-test",
    ),
    path(
        "settings/channels/<int:pk>/rotate/",
        settings_channels.channel_rotate,
        name="settings-channel-rotate",
    ),
    path(
        "settings/channels/<int:pk>/active/",
        settings_channels.channel_active,
        name="settings-channel-active",
    ),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification-read"),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notifications-read-all",
    ),
]
