from django.contrib import admin

from tagging.models import (
    ClassificationRule,
    ConversationTag,
    SpikeAlert,
    SuggestionDecision,
    Tag,
    TagSuggestion,
    WatchWord,
)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "color", "is_default"]
    search_fields = ["slug", "name"]
    prepopulated_fields = {"slug": ["name"]}
    exclude = ["conversations"]


@admin.register(ConversationTag)
class ConversationTagAdmin(admin.ModelAdmin):
    list_display = ["conversation", "tag", "added_by", "added_at"]
    list_filter = ["tag"]
    raw_id_fields = ["conversation", "added_by"]


@admin.register(ClassificationRule)
class ClassificationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "mode", "is_active", "severity"]
    list_editable = ["position", "is_active"]
    filter_horizontal = ["tags"]


@admin.register(TagSuggestion)
class TagSuggestionAdmin(admin.ModelAdmin):
    list_display = ["conversation", "tag", "rule", "created_at"]
    raw_id_fields = ["conversation"]


@admin.register(SuggestionDecision)
class SuggestionDecisionAdmin(admin.ModelAdmin):
    list_display = ["conversation", "tag", "source", "decision", "score", "actor", "created_at"]
    list_filter = ["source", "decision"]
    raw_id_fields = ["conversation", "actor"]


@admin.register(WatchWord)
class WatchWordAdmin(admin.ModelAdmin):
    list_display = ["word", "is_active", "created_at"]
    list_editable = ["is_active"]


@admin.register(SpikeAlert)
class SpikeAlertAdmin(admin.ModelAdmin):
    list_display = ["kind", "watch", "count", "peak", "baseline", "opened_at", "closed_at"]
    list_filter = ["kind"]
    readonly_fields = ["samples"]
