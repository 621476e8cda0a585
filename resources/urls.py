from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.home, name="home"),
    path("resources/", views.resource_list, name="list"),
    path("resources/<slug:slug>/", views.resource_detail, name="detail"),
    path("safety/", views.safety, name="safety"),
    path("about/", views.about, name="about"),
]
