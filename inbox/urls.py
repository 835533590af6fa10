from django.urls import path

from inbox import views

app_name = "inbox"

# The pages themselves live in routing.urls (namespace "ui"): they call tagging and routing.
urlpatterns = [
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment-download"),
]
