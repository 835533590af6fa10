from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_page, name="inbox"),
    path("conversations/<int:pk>/", views.conversation_page, name="conversation"),
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment-download"),
]
