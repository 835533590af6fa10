from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _

from inbox import channel_settings
from inbox.models import (
    Activity,
    Attachment,
    CannedResponse,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Event,
    InboundEvent,
    Message,
    SavedView,
)


class ChannelAdminForm(forms.ModelForm):
    """The Django admin keeps working, but may not save what breaks delivery (Settings >
    Channels, inbox.channel_settings, is the guided way)."""

    class Meta:
        model = Channel
        fields = "__all__"  # noqa: DJ007 (every field, as the admin showed before)

    def clean(self):
        data = super().clean()
        if data.get("kind") in channel_settings.SIGNED_KINDS and not data.get("secret"):
            self.add_error(
                "secret",
                _("Every webhook to this kind of channel would fail without its secret."),
            )
        return data


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ["slug", "name", "kind", "address", "default_team", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["slug", "name", "address"]


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "email", "phone", "created_at"]
    search_fields = ["name", "email", "phone"]
    inlines = [IdentityInline]


@admin.register(ContactIdentity)
class ContactIdentityAdmin(admin.ModelAdmin):
    list_display = ["kind", "external_id", "contact", "verified"]
    search_fields = ["external_id"]
    raw_id_fields = ["contact"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "subject",
        "channel",
        "status",
        "severity",
        "team",
        "assignee",
        "last_message_at",
    ]
    list_filter = ["status", "severity", "channel", "team", "sla_breached"]
    search_fields = ["subject"]
    raw_id_fields = ["contact", "assignee", "previous"]
    readonly_fields = ["reply_token", "created_at", "updated_at"]
    show_full_result_count = False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    readonly_fields = ["name", "content_type", "size", "content_id", "is_inline"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "conversation",
        "direction",
        "kind",
        "auto_kind",
        "delivery_status",
        "created_at",
    ]
    list_filter = ["direction", "kind", "auto_kind", "delivery_status"]
    raw_id_fields = ["conversation", "sender_contact", "sender_user", "inbound_event"]
    inlines = [AttachmentInline]
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "content_type", "size", "is_inline"]
    raw_id_fields = ["message"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["conversation", "actor", "verb", "from_value", "to_value", "created_at"]
    list_filter = ["verb"]
    raw_id_fields = ["conversation", "actor"]


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["id", "provider", "channel", "status", "attempts", "received_at"]
    list_filter = ["status", "provider"]
    readonly_fields = ["body", "headers", "query", "received_at", "processed_at"]
    show_full_result_count = False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "conversation_id", "created_at", "dispatched_at"]
    list_filter = ["type"]
    show_full_result_count = False


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "team", "position"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "team", "created_at"]
    list_filter = ["team"]
    search_fields = ["title", "text"]
    raw_id_fields = ["owner"]
