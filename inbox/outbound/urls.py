from django.urls import path

from inbox.outbound.views import outbound_file

urlpatterns = [
    path("<str:token>/<str:name>", outbound_file, name="outbound-file"),
]
