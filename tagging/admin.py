from django.contrib import admin

from tagging.models import ConversationTag, Tag


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
