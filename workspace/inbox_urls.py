from django.urls import path

from workspace.views import contacts, conversation

app_name = "inbox"

# The contact page and downloads, under the "inbox" namespace they have always had; the other
# agents' pages are in workspace.urls (namespace "ui").
urlpatterns = [
    path("contacts/<int:pk>/", contacts.contact_page, name="contact"),
    path("contacts/<int:pk>/merge/", contacts.contact_merge, name="contact-merge"),
    path("contacts/<int:pk>/block/", contacts.contact_block, name="contact-block"),
    path(
        "contacts/<int:pk>/merge-duplicate/",
        contacts.contact_merge_duplicate,
        name="contact-merge-duplicate",
    ),
    path(
        "attachments/<int:pk>/download/",
        conversation.attachment_download,
        name="attachment-download",
    ),
]
