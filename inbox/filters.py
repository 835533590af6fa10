import copy
import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Team
from inbox import search
from inbox.models import AGENT_STATUSES, HIDDEN_STATUSES, Channel, Conversation, Severity, Status
from inbox.orderings import DEFAULT_ORDERING, ORDERINGS

SLA_AT_RISK = dt.timedelta(hours=1)


# The filters' conditions as expressions, shared with the inbox sidebar's counts so a view's
# count and the list its link opens cannot drift apart.


def overnight_q() -> Q:
    """Arrived outside the team's business hours and still waiting for an agent."""
    return Q(arrived_outside_hours=True, assignee__isnull=True, status=Status.OPEN)


def sla_at_risk_q(now=None) -> Q:
    """Open, not yet breached, and a response due within the next hour (SLA_AT_RISK). Each half
    of the OR is a range on its own partial index, so the planner ORs two index scans."""
    now = now or timezone.now()
    soon = now + SLA_AT_RISK
    return Q(status=Status.OPEN, sla_breached=False) & (
        Q(first_response_due__gt=now, first_response_due__lte=soon)
        | Q(next_response_due__gt=now, next_response_due__lte=soon)
    )


def tag_exists(tags) -> Exists:
    """Has one of `tags` (Tag objects or ids): an EXISTS probe on the (conversation, tag) unique
    index per row, or a walk of the (tag, conversation) index when the tag is rare."""
    from django.apps import apps

    link = apps.get_model("tagging", "ConversationTag")
    return Exists(link.objects.filter(conversation=OuterRef("pk"), tag__in=tags))


class IsoDateTimeOrDateField(forms.CharField):
    """ISO 8601 date or date-time; a date means its midnight UTC; naive times are UTC."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        parsed = None
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                parsed = dt.datetime.combine(dt.date.fromisoformat(value), dt.time.min)
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError("Enter an ISO 8601 date or date-time, e.g. 2026-11-24T09:00:00Z.")
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed


class IsoDateTimeOrDateFilter(django_filters.Filter):
    field_class = IsoDateTimeOrDateField


class StrictBooleanField(forms.CharField):
    """true/false (also 1/0, yes/no); anything else is an error, not silently ignored."""

    TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if value.lower() in self.TRUE:
            return True
        if value.lower() in self.FALSE:
            return False
        raise ValidationError("Enter true or false.")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class AssigneeField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value and value != "me" and not get_user_model().objects.filter(username=value).exists():
            raise ValidationError(f"Unknown user {value!r}; give a username or me.")
        return value


class AssigneeFilter(django_filters.CharFilter):
    field_class = AssigneeField


class SlugChoicesField(django_filters.fields.ModelMultipleChoiceField):
    """Resolves slugs from a table read once per request (tags, teams, channels are small), so
    that many filtersets in one request (the saved views' counts) do not each query for them."""

    shared: dict | None = None  # per request: model label -> {slug: object}

    def clean(self, value):
        # Django answers an absent parameter with `queryset.none()`, which each filter then
        # tests for truth: a query built and compiled (if not sent) per filter, per request.
        if not value and not self.required:
            return []
        return super().clean(value)

    def _check_values(self, value):
        if self.shared is None:
            return super()._check_values(value)
        label = self.queryset.model._meta.label
        if label not in self.shared:
            self.shared[label] = {str(getattr(o, self.to_field_name)): o for o in self.queryset}
        known = self.shared[label]
        found = []
        for slug in dict.fromkeys(value):
            if str(slug) not in known:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": slug},
                )
            found.append(known[str(slug)])
        return found


class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    """Repeatable slug parameter; an unknown slug is a 400 naming the field."""

    field_class = SlugChoicesField

    @property
    def field(self):
        field = super().field
        request = self.get_request()
        if request is not None:
            field.shared = request.__dict__.setdefault("_slug_choices", {})
        return field

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("distinct", False)  # foreign-key ids and EXISTS never duplicate rows
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        # Filter on the foreign key's ids (index-backed), not a join on the slug.
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def tag_queryset(request):
    from django.apps import apps

    return apps.get_model("tagging", "Tag").objects.all()


REVERSED_RANGE = (
    "must be later than the start of the range (created_after): the dates are reversed; swap them."
)


class ConversationFilterForm(forms.Form):
    """A range whose end is not after its start is refused (a 400 naming created_before), not
    answered with an empty list."""

    def __init__(self, *args, **kwargs):
        # Django deep-copies every field (widgets, validators, messages) for each form: a third
        # of a millisecond a list request. This form is never rendered and its fields are not
        # changed but for SlugChoicesField.shared, set on the copy; a shallow copy each is
        # enough, with a fresh queryset so that no evaluated rows are shared between requests.
        base, self.base_fields = self.base_fields, {}
        super().__init__(*args, **kwargs)
        del self.base_fields
        for name, field in base.items():
            field = copy.copy(field)
            if getattr(field, "queryset", None) is not None:
                field.queryset = field.queryset.all()
            self.fields[name] = field

    def clean(self):
        data = super().clean()
        after, before = data.get("created_after"), data.get("created_before")
        if after is not None and before is not None and before <= after:
            self.add_error("created_before", REVERSED_RANGE)
        return data


class ConversationFilter(django_filters.FilterSet):
    # django-filter adds DISTINCT to multiple-choice filters by default; these filters never
    # duplicate rows, and DISTINCT over whole rows costs a sort of everything that matches.
    status = django_filters.MultipleChoiceFilter(choices=AGENT_STATUSES, distinct=False)
    severity = django_filters.MultipleChoiceFilter(
        choices=[(s.label, s.label) for s in Severity], method="filter_severity"
    )
    channel = SlugsFilter(queryset=Channel.objects.all())
    team = SlugsFilter(queryset=Team.objects.all())
    tag = SlugsFilter(queryset=tag_queryset, method="filter_tag_all")
    tag_any = SlugsFilter(queryset=tag_queryset, method="filter_tag_any")
    assignee = AssigneeFilter(method="filter_assignee")
    unassigned = StrictBooleanFilter(method="filter_unassigned")
    sla_breached = StrictBooleanFilter()
    sla_at_risk = StrictBooleanFilter(method="filter_sla_at_risk")
    overnight = StrictBooleanFilter(method="filter_overnight")
    created_after = IsoDateTimeOrDateFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeOrDateFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_q", max_length=200)
    alert = IdFilter(method="filter_alert", min_value=1)
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in ORDERINGS], method="filter_ordering", empty_label=None
    )

    class Meta:
        model = Conversation
        fields = []
        form = ConversationFilterForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django-filter deep-copies every filter (with its choices and querysets) for each
        # filterset. A filter's own state is its model, its parent and the FilterMethod bound to
        # it: a shallow copy with those set anew costs a tenth as much.
        base, self.base_filters = self.base_filters, {}
        super().__init__(data, queryset, request=request, prefix=prefix)
        del self.base_filters
        model = self.queryset.model
        for name, base_filter in base.items():
            copied = copy.copy(base_filter)
            if copied.method is not None:
                copied.method = copied.method  # a FilterMethod bound to the copy, not the base
            copied.model, copied.parent = model, self
            self.filters[name] = copied

    # The form class, built once per process: django-filter builds a new class, and a form field
    # per filter, on every request, which cost more CPU than the list's query. Its fields hold no
    # request state but the slug cache (SlugChoicesField.shared), which `form` sets per request.
    _form_class = None

    def get_form_class(self):
        cls = type(self)
        if cls.__dict__.get("_form_class") is None:
            form_class = super().get_form_class()
            for field in form_class.base_fields.values():
                if isinstance(field, SlugChoicesField):
                    field.shared = None
            cls._form_class = form_class
        return cls._form_class

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            request = self.request
            shared = request.__dict__.setdefault("_slug_choices", {}) if request else None
            for field in form.fields.values():
                if isinstance(field, SlugChoicesField):
                    field.shared = shared
        return self._form

    def filter_queryset(self, queryset):
        """The filters, and without a status asked for, nothing marked as spam (the Spam view
        asks for status=spam) nor held from a blocked contact (no view lists those)."""
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status__in=HIDDEN_STATUSES)
        return queryset

    def filter_severity(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(severity__in=[Severity.from_name(v) for v in value])

    def _tag_exists(self, tags):
        return tag_exists(tags)

    def filter_tag_all(self, queryset, name, value):
        for tag in value:
            queryset = queryset.filter(self._tag_exists([tag]))
        return queryset

    def filter_tag_any(self, queryset, name, value):
        return queryset.filter(self._tag_exists(value)) if value else queryset

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee_id=getattr(user, "pk", None))
        return queryset.filter(assignee__username=value)

    def filter_unassigned(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(assignee__isnull=value)

    def filter_overnight(self, queryset, name, value):
        """Arrived outside the team's business hours and still waiting for an agent."""
        if value is None:
            return queryset
        return queryset.filter(overnight_q() if value else ~overnight_q())

    def filter_sla_at_risk(self, queryset, name, value):
        """Open, not yet breached, and a response due within the next hour (SLA_AT_RISK). Each
        half of the OR is a range on its own partial index, so the planner ORs two index scans."""
        if value is None:
            return queryset
        at_risk = sla_at_risk_q()
        return queryset.filter(at_risk if value else ~at_risk)

    def filter_alert(self, queryset, name, value):
        """The conversations of one incident spike alert (tagging.spikes), as its banner links."""
        if value is None:
            return queryset
        from django.apps import apps

        member = apps.get_model("tagging", "SpikeAlertConversation")
        return queryset.filter(
            Exists(member.objects.filter(conversation=OuterRef("pk"), alert_id=int(value)))
        )

    def filter_q(self, queryset, name, value):
        return search.search(queryset, value)

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied by the selector, which the paginator reads back

    @property
    def ordering_key(self) -> str:
        return (
            (self.form.cleaned_data.get("ordering") or DEFAULT_ORDERING)
            if self.is_bound
            else DEFAULT_ORDERING
        )


# Query parameters every list endpoint takes besides its filters (pagination, DRF's ?format=).
PAGING_PARAMS = frozenset({"cursor", "page_size", "format"})


def refuse_unknown_params(params, filterset_class, *, extra=PAGING_PARAMS) -> None:
    """400 naming each query parameter that is not a filter of `filterset_class`: a misspelt
    filter or an operator we do not offer (`status__in`, `created_at__gt`, `severity[$ne]`) must
    not be silently ignored and answer with everything."""
    known = set(filterset_class.base_filters) | set(extra)
    unknown = sorted(name for name in params if name not in known)
    if unknown:
        from rest_framework.exceptions import ValidationError

        raise ValidationError(
            {
                name[:100]: [f"Unknown filter. Known: {', '.join(sorted(known - set(extra)))}."]
                for name in unknown[:20]
            }
        )
