"""``path("accounts/raven/", include("raven.django.urls"))``: the URL names
``raven:login``, ``raven:return``, ``raven:logout`` and ``raven:logged_out``."""

from django.urls import path

from . import views

app_name = "raven"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("return/", views.return_, name="return"),
    path("logout/", views.logout, name="logout"),
    path("logged-out/", views.logged_out, name="logged_out"),
]
