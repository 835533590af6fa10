from django.urls import path

from inbox import views

app_name = "inbox"

# The pages themselves live in routing.urls (namespace "ui"): they call tagging and routing.
urlpatterns = [
    path("contacts/<int:pk>/", views.contact_page, name="contact"),
    path("contacts/<int:pk>/merge/", views.contact_merge, name="contact-merge"),
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment-download"),
]
