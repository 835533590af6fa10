from django.urls import path

from workspace import views

app_name = "ui"

urlpatterns = [
    path("", views.inbox_page, name="inbox"),
    path("bulk/", views.bulk_action, name="bulk"),
    path("sidebar/", views.sidebar, name="sidebar"),
    path("tags.css", views.tags_css, name="tags-css"),
    path("availability/", views.set_my_availability, name="availability"),
    path("board/", views.lead_board, name="board"),
    path("product/", views.product_view, name="product"),
    path("rows/<int:pk>/", views.conversation_row, name="row"),
    path("conversations/<int:pk>/", views.conversation_page, name="conversation"),
    path("conversations/<int:pk>/thread/", views.conversation_thread, name="thread"),
    path("conversations/<int:pk>/reply/", views.reply, name="reply"),
    path("conversations/<int:pk>/note/", views.note, name="note"),
    path("conversations/<int:pk>/tags/", views.add_tags, name="tags"),
    path("conversations/<int:pk>/tags/<slug:slug>/remove/", views.remove_tag, name="untag"),
    path("conversations/<int:pk>/severity/", views.set_severity, name="severity"),
    path("conversations/<int:pk>/assign/", views.assign, name="assign"),
    path("conversations/<int:pk>/status/", views.set_status, name="status"),
    path("messages/<int:pk>/body/", views.message_body, name="message-body"),
]
