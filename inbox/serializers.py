"""Output shapes. They read only what the selectors fetched: no query per row."""

from django.db import models
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Team
from inbox.models import Attachment, Channel, Conversation, InboundEvent, Message, Severity
from inbox.quoting import folded
from inbox.sanitize import resolve_cid_images


class ContactRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class ConversationOutputSerializer(serializers.ModelSerializer):
    severity = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    channel_kind = serializers.CharField(source="channel.kind", read_only=True)
    contact = ContactRefSerializer(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "status",
            "severity",
            "tags",
            "team",
            "assignee",
            "channel",
            "channel_kind",
            "contact",
            "subject",
            "snippet",
            "message_count",
            "created_at",
            "last_message_at",
            "last_inbound_at",
            "first_response_at",
            "first_response_due",
            "next_response_due",
            "resolution_due",
            "resolved_at",
            "snoozed_until",
            "sla_breached",
        ]
        read_only_fields = fields

    def get_severity(self, obj) -> str:
        return Severity(obj.severity).label

    def get_tags(self, obj) -> list[str]:
        return sorted(tag.slug for tag in obj.tags.all())


class SatisfactionSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="csat (score 1-5), nps (0-10) or ces (1-7).")
    score = serializers.IntegerField(
        allow_null=True, help_text="In the kind's scale; null until answered."
    )
    comment = serializers.CharField()
    sent_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)


class ConversationDetailSerializer(ConversationOutputSerializer):
    """One conversation: the list fields and its satisfaction survey (one query)."""

    satisfaction = serializers.SerializerMethodField()

    class Meta(ConversationOutputSerializer.Meta):
        fields = [*ConversationOutputSerializer.Meta.fields, "satisfaction"]
        read_only_fields = fields

    @extend_schema_field(SatisfactionSerializer(allow_null=True))
    def get_satisfaction(self, obj) -> dict | None:
        # The survey belongs to the reports app; inbox reads it through the reverse accessor
        # only (no import), and a missing app or row both read as None.
        survey = getattr(obj, "satisfaction_survey", None)
        return SatisfactionSerializer(survey).data if survey is not None else None


# The conversation list's columns, read with .values() (no model instances, no joined rows'
# other columns, never the search vector): building and serializing 25 to 100 model instances
# per page cost more CPU than the query itself. The team's, agent's and channel's names are
# scalar subqueries (list_lookups), not joins: PostgreSQL spent longer choosing an order for four
# joins (about 1 ms) than running the whole query.
CONVERSATION_LIST_VALUES = (
    "id",
    "status",
    "severity",
    "contact_id",
    "contact__name",
    "contact__email",
    "contact__phone",
    "subject",
    "snippet",
    "message_count",
    "created_at",
    "last_message_at",
    "last_inbound_at",
    "first_response_at",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "resolved_at",
    "snoozed_until",
    "sla_breached",
)


def list_lookups() -> dict:
    """The list's other names by id, each a scalar subquery on a primary key: team_slug,
    assignee_username, channel_slug, channel_kind. Written as SQL: Django compiled four Subquery
    expressions in more time than the joins they replace had cost."""
    names = {
        "team_slug": "SELECT slug FROM accounts_team t WHERE t.id = inbox_conversation.team_id",
        "assignee_username": (
            "SELECT username FROM accounts_user u WHERE u.id = inbox_conversation.assignee_id"
        ),
        "channel_slug": "SELECT slug FROM inbox_channel c WHERE c.id = inbox_conversation.channel_id",
        "channel_kind": "SELECT kind FROM inbox_channel c WHERE c.id = inbox_conversation.channel_id",
    }
    # Fixed SQL, no parameters: nothing from the request reaches it.
    return {
        name: RawSQL(sql, (), output_field=models.CharField())  # noqa: S611
        for name, sql in names.items()
    }


_DATETIMES = (
    "created_at",
    "last_message_at",
    "last_inbound_at",
    "first_response_at",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "resolved_at",
    "snoozed_until",
)
_SEVERITY_LABELS = {s.value: s.label for s in Severity}


def _iso(value, tz):
    """What DRF's DateTimeField writes: the current time zone, ISO 8601, +00:00 as Z."""
    if not value:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def conversation_list_data(rows: list[dict], tags: dict[int, list[str]]) -> list[dict]:
    """Fast twin of ConversationOutputSerializer, held to it by tests/inbox/test_list_output.py.

    ConversationOutputSerializer's output, field for field and value for value, built from
    CONVERSATION_LIST_VALUES rows and each conversation's tag slugs (`tags`, by id)."""
    tz = timezone.get_current_timezone()
    out = []
    for row in rows:
        item = {
            "id": row["id"],
            "status": row["status"],
            "severity": _SEVERITY_LABELS[row["severity"]],
            "tags": sorted(tags.get(row["id"], ())),
            "team": row["team_slug"],
            "assignee": row["assignee_username"],
            "channel": row["channel_slug"],
            "channel_kind": row["channel_kind"],
            "contact": {
                "id": row["contact_id"],
                "name": row["contact__name"],
                "email": row["contact__email"],
                "phone": row["contact__phone"],
            },
            "subject": row["subject"],
            "snippet": row["snippet"],
            "message_count": row["message_count"],
        }
        for name in _DATETIMES:
            item[name] = _iso(row[name], tz)
        item["sla_breached"] = row["sla_breached"]
        out.append(item)
    return out


class AttachmentOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "url", "state", "unavailable_reason"]
        extra_kwargs = {
            "state": {
                "help_text": "stored; pending: the provider's file is being downloaded (the "
                "url answers 409 until then); unavailable: it could not be (see "
                "unavailable_reason)."
            }
        }

    def get_url(self, obj) -> str:
        # The API's own download (token or session), not the agents' page URL (session only).
        path = reverse("api:attachment-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class SenderSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["contact", "agent", "system"])
    name = serializers.CharField()
    email = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    username = serializers.CharField(required=False)


class MessageOutputSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="text_for_agents", read_only=True)
    sender = serializers.SerializerMethodField()
    html = serializers.SerializerMethodField()
    attachments = AttachmentOutputSerializer(many=True, read_only=True)
    folded = serializers.SerializerMethodField(
        help_text="Email replies: the new text and the quoted history/signature folded in display."
    )
    template = serializers.SerializerMethodField(
        help_text="A WhatsApp template message: its name, language and parameters (the text is "
        "the rendered template); null otherwise."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "kind",
            "sender",
            "text",
            "html",
            "attachments",
            "auto_kind",
            "delivery_status",
            "created_at",
            "edited_at",
            "folded",
            "template",
        ]

    def get_template(self, obj) -> dict | None:
        template = (obj.headers or {}).get("template")
        return template if isinstance(template, dict) else None

    def get_html(self, obj) -> str:
        if "cid:" not in obj.html:
            return obj.html
        attachment_field = AttachmentOutputSerializer(context=self.context)
        urls = {
            a.content_id: attachment_field.get_url(a)
            for a in obj.attachments.all()  # prefetched by the selector
            if a.content_id
        }
        return resolve_cid_images(obj.html, urls)

    def get_folded(self, obj) -> dict:
        return folded(obj)

    def get_sender(self, obj) -> dict:
        if obj.sender_user_id:
            user = obj.sender_user
            return {"type": "agent", "name": user.display_name, "username": user.username}
        if obj.sent_by_system:  # the acknowledgement, the survey: the product wrote them
            return {"type": "system", "name": obj.system_sender_name}
        contact = obj.sender_contact
        if contact is None:
            return {"type": "contact", "name": ""}
        sender = {"type": "contact", "name": contact.name}
        if contact.email:
            sender["email"] = contact.email
        if contact.phone:
            sender["phone"] = contact.phone
        return sender


class ChannelOutputSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(
        source="default_team", slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = Channel
        fields = ["id", "kind", "slug", "name", "address", "team", "is_active", "public_key"]


class ChannelInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=120)
    secret = serializers.CharField(
        max_length=255,
        required=False,
        default="",
        allow_blank=True,
        write_only=True,
        help_text="Write-only. The provider's secret for meta (app secret), twilio (auth token) "
        "and x (consumer secret); left out for api, telegram and email, a strong one is "
        "generated and returned once.",
    )
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    address = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)
    config = serializers.DictField(required=False, default=dict)


class InboundEventOutputSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    size = serializers.SerializerMethodField()

    class Meta:
        model = InboundEvent
        fields = [
            "id",
            "provider",
            "channel",
            "status",
            "error",
            "attempts",
            "received_at",
            "processed_at",
            "size",
        ]

    def get_size(self, obj) -> int:
        # Lists annotate the size in SQL (body_size) rather than loading every body.
        size = getattr(obj, "body_size", None)
        return size if size is not None else len(obj.body or b"")
