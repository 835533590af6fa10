from django.urls import path

from inbox.chat import views as chat_views

app_name = "chat"

urlpatterns = [
    path("<str:public_key>/session/", chat_views.session_start, name="session"),
    path("<str:public_key>/messages/", chat_views.session_messages, name="messages"),
    path("<str:public_key>/files/", chat_views.session_files, name="files"),
    path("<str:public_key>/typing/", chat_views.session_typing, name="typing"),
]
