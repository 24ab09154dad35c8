"""``path("accounts/raven/", include("raven.django.urls"))``: the URL names
``raven:login``, ``raven:return`` and ``raven:logout``."""

from django.urls import path

from . import views

app_name = "raven"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("return/", views.return_, name="return"),
    path("logout/", views.logout, name="logout"),
]
