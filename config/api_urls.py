from django.urls import path

from accounts import api as accounts_api
from accounts.api import TeamListApi, UserListApi
from inbox import api as inbox_api
from inbox import canned_api, channel_api, contact_api
from inbox.chat import views as chat_views
from inbox.outbound import api as outbound_api
from routing import after_hours_api, macro_api, rules_api
from routing import api as routing_api
from routing import settings_api as routing_settings_api
from tagging import alerts_api, classification_api, ugc_api
from tagging import api as tagging_api

urlpatterns = [
    path("conversations/", inbox_api.ConversationListApi.as_view(), name="conversation-list"),
    path(
        "conversations/export.csv",
        inbox_api.ConversationExportApi.as_view(),
        name="conversation-export",
    ),
    path("conversations/bulk/", routing_api.BulkApi.as_view(), name="conversation-bulk"),
    path(
        "conversations/<int:pk>/", routing_api.ConversationApi.as_view(), name="conversation-detail"
    ),
    path(
        "conversations/<int:pk>/messages/",
        outbound_api.ConversationMessagesCreateApi.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<int:pk>/messages/<int:message_id>/retry/",
        outbound_api.MessageRetryApi.as_view(),
        name="message-retry",
    ),
    path(
        "conversations/<int:pk>/templates/",
        outbound_api.ConversationTemplatesApi.as_view(),
        name="conversation-templates",
    ),
    path(
        "conversations/<int:pk>/tags/",
        tagging_api.ConversationTagsApi.as_view(),
        name="conversation-tags",
    ),
    path(
        "conversations/<int:pk>/tags/<slug:slug>/",
        tagging_api.ConversationTagDeleteApi.as_view(),
        name="conversation-tag",
    ),
    path(
        "conversations/<int:pk>/suggested-tags/<slug:slug>/accept/",
        tagging_api.SuggestedTagAcceptApi.as_view(),
        name="conversation-suggested-tag-accept",
    ),
    path(
        "conversations/<int:pk>/suggested-tags/<slug:slug>/dismiss/",
        tagging_api.SuggestedTagDismissApi.as_view(),
        name="conversation-suggested-tag-dismiss",
    ),
    path(
        "conversations/<int:pk>/assign/",
        routing_api.ConversationAssignApi.as_view(),
        name="conversation-assign",
    ),
    path(
        "conversations/<int:pk>/activity/",
        inbox_api.ConversationActivityApi.as_view(),
        name="conversation-activity",
    ),
    path("views/", inbox_api.SavedViewListApi.as_view(), name="view-list"),
    path("views/<int:pk>/", inbox_api.SavedViewDetailApi.as_view(), name="view-detail"),
    path("contacts/<int:pk>/", contact_api.ContactDetailApi.as_view(), name="contact-detail"),
    path("contacts/<int:pk>/merge/", contact_api.ContactMergeApi.as_view(), name="contact-merge"),
    path("contacts/<int:pk>/block/", contact_api.ContactBlockApi.as_view(), name="contact-block"),
    path(
        "conversations/<int:pk>/typing/",
        chat_views.ConversationTypingApi.as_view(),
        name="conversation-typing",
    ),
    path("macros/", macro_api.MacroListApi.as_view(), name="macro-list"),
    path("macros/<int:pk>/", macro_api.MacroDetailApi.as_view(), name="macro-detail"),
    path("macros/<int:macro_id>/run/", macro_api.MacroBulkRunApi.as_view(), name="macro-bulk-run"),
    path(
        "conversations/<int:pk>/macros/<int:macro_id>/run/",
        macro_api.MacroRunApi.as_view(),
        name="macro-run",
    ),
    path("canned-responses/", canned_api.CannedListApi.as_view(), name="canned-list"),
    path(
        "canned-responses/preview/",
        canned_api.CannedPreviewApi.as_view(),
        name="canned-preview",
    ),
    path("canned-responses/<int:pk>/", canned_api.CannedDetailApi.as_view(), name="canned-detail"),
    path("channels/", channel_api.ChannelListApi.as_view(), name="channel-list"),
    path("channels/<int:pk>/", channel_api.ChannelDetailApi.as_view(), name="channel-detail"),
    path(
        "channels/<int:pk>/rotate-secret/",
        channel_api.ChannelRotateSecretApi.as_view(),
        name="channel-rotate-secret",
    ),
    path(
        "channels/<int:pk>/after-hours/",
        after_hours_api.ChannelAfterHoursApi.as_view(),
        name="channel-after-hours",
    ),
    path("channels/<int:pk>/test/", channel_api.ChannelTestApi.as_view(), name="channel-test"),
    path(
        "channels/<int:pk>/disable/",
        channel_api.ChannelDisableApi.as_view(),
        name="channel-disable",
    ),
    path(
        "channels/<int:pk>/enable/", channel_api.ChannelEnableApi.as_view(), name="channel-enable"
    ),
    path(
        "messages/<int:pk>/original",
        inbox_api.MessageOriginalApi.as_view(),
        name="message-original",
    ),
    path(
        "attachments/<int:pk>/download/",
        ugc_api.AttachmentDownloadApi.as_view(),  # inbox.api's, with the UGC library's rule
        name="attachment-download",
    ),
    path("inbound-events/", inbox_api.InboundEventListApi.as_view(), name="inbound-event-list"),
    path("tags/", tagging_api.TagListApi.as_view(), name="tag-list"),
    path(
        "feature-requests/",
        tagging_api.FeatureRequestListApi.as_view(),
        name="feature-request-list",
    ),
    path(
        "feature-requests/export.csv",
        tagging_api.FeatureRequestExportApi.as_view(),
        name="feature-request-export",
    ),
    path(
        "feature-requests/<int:key>/",
        tagging_api.FeatureRequestDetailApi.as_view(),
        name="feature-request-detail",
    ),
    path(
        "feature-requests/<int:key>/merge/",
        tagging_api.FeatureRequestMergeApi.as_view(),
        name="feature-request-merge",
    ),
    path(
        "feature-requests/<int:key>/split/",
        tagging_api.FeatureRequestSplitApi.as_view(),
        name="feature-request-split",
    ),
    path(
        "feature-requests/<int:key>/message/",
        tagging_api.FeatureRequestMessageApi.as_view(),
        name="feature-request-message",
    ),
    path("ugc/", ugc_api.UgcListApi.as_view(), name="ugc-list"),
    path("ugc/<int:pk>/ask/", ugc_api.UgcAskApi.as_view(), name="ugc-ask"),
    path("ugc/<int:pk>/permission/", ugc_api.UgcPermissionApi.as_view(), name="ugc-permission"),
    path("teams/", TeamListApi.as_view(), name="team-list"),
    path("teams/<int:pk>/", accounts_api.TeamDetailApi.as_view(), name="team-detail"),
    path("users/", UserListApi.as_view(), name="user-list"),
    path(
        "business-hours/",
        routing_settings_api.BusinessHoursListApi.as_view(),
        name="business-hours-list",
    ),
    path(
        "business-hours/<int:pk>/",
        routing_settings_api.BusinessHoursDetailApi.as_view(),
        name="business-hours-detail",
    ),
    path("sla-policies/", routing_settings_api.SLAPolicyListApi.as_view(), name="sla-policy-list"),
    path(
        "sla-policies/preview/",
        routing_settings_api.SLAPolicyDraftPreviewApi.as_view(),
        name="sla-policy-preview-new",
    ),
    path(
        "sla-policies/<int:pk>/",
        routing_settings_api.SLAPolicyDetailApi.as_view(),
        name="sla-policy-detail",
    ),
    path(
        "sla-policies/<int:pk>/preview/",
        routing_settings_api.SLAPolicyPreviewApi.as_view(),
        name="sla-policy-preview",
    ),
    path(
        "business-hours/<int:pk>/public-holidays/",
        routing_settings_api.BusinessHoursPublicHolidaysApi.as_view(),
        name="business-hours-public-holidays",
    ),
    path("users/<int:pk>/", accounts_api.UserDetailApi.as_view(), name="user-detail"),
    path(
        "users/<int:pk>/resend-invitation/",
        accounts_api.ResendInvitationApi.as_view(),
        name="user-resend-invitation",
    ),
    path("memberships/", accounts_api.MembershipListApi.as_view(), name="membership-list"),
    path(
        "memberships/<int:pk>/",
        accounts_api.MembershipDetailApi.as_view(),
        name="membership-detail",
    ),
    path("users/me/", routing_api.MeApi.as_view(), name="user-me"),
    path("sla-alerts/", routing_api.SLAAlertListApi.as_view(), name="sla-alert-list"),
    path("alerts/", alerts_api.SpikeAlertListApi.as_view(), name="alert-list"),
    path("alerts/watch-words/", alerts_api.WatchWordListApi.as_view(), name="watch-word-list"),
    path(
        "alerts/watch-words/<int:pk>/",
        alerts_api.WatchWordDetailApi.as_view(),
        name="watch-word-detail",
    ),
    path(
        "routing-rules/<int:pk>/dry-run/",
        routing_api.RoutingRuleDryRunApi.as_view(),
        name="routing-rule-dry-run",
    ),
    path("routing-rules/", rules_api.RoutingRuleListApi.as_view(), name="routing-rule-list"),
    path(
        "routing-rules/preview/",
        rules_api.RoutingRuleDraftPreviewApi.as_view(),
        name="routing-rule-preview",
    ),
    path(
        "routing-rules/<int:pk>/",
        rules_api.RoutingRuleDetailApi.as_view(),
        name="routing-rule-detail",
    ),
    path(
        "classification-rules/",
        classification_api.ClassificationRuleListApi.as_view(),
        name="classification-rule-list",
    ),
    path(
        "classification-rules/<int:pk>/",
        classification_api.ClassificationRuleDetailApi.as_view(),
        name="classification-rule-detail",
    ),
]

from integrations import api as integrations_api  # noqa: E402

urlpatterns += [
    path(
        "webhook-endpoints/",
        integrations_api.EndpointListApi.as_view(),
        name="webhook-endpoint-list",
    ),
    path(
        "webhook-endpoints/<int:pk>/",
        integrations_api.EndpointDetailApi.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<int:pk>/deliveries/",
        integrations_api.DeliveryListApi.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    path(
        "webhook-endpoints/<int:pk>/replay/",
        integrations_api.EndpointReplayApi.as_view(),
        name="webhook-endpoint-replay",
    ),
    path(
        "webhook-endpoints/<int:pk>/test/",
        integrations_api.EndpointTestApi.as_view(),
        name="webhook-endpoint-test",
    ),
    path(
        "webhook-deliveries/<int:pk>/replay/",
        integrations_api.DeliveryReplayApi.as_view(),
        name="webhook-delivery-replay",
    ),
    path("webhook-events/", integrations_api.WebhookEventListApi.as_view(), name="webhook-events"),
]

from integrations import tokens as integrations_tokens  # noqa: E402

urlpatterns += [
    path("tokens/", integrations_tokens.TokenListApi.as_view(), name="token-list"),
    path("tokens/<int:pk>/", integrations_tokens.TokenDetailApi.as_view(), name="token-detail"),
]

from reports.api_urls import urlpatterns as report_urls  # noqa: E402

urlpatterns += report_urls
