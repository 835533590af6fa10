from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_page, name="inbox"),
    path("conversations/<int:pk>/", views.conversation_page, name="conversation"),
    path("contacts/<int:pk>/", views.contact_page, name="contact"),
    path("contacts/<int:pk>/merge/", views.contact_merge, name="contact-merge"),
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment-download"),
]
