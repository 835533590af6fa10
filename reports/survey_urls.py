from django.urls import path

from reports import views

app_name = "survey"

urlpatterns = [
    path("<str:token>/", views.survey_page, name="answer"),
]
