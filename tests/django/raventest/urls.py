from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from raven.django import views as raven_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("protected/", views.protected, name="protected"),
    path("staff/", views.staff, name="staff"),
    path("members/", views.members, name="members"),
    path("password-now/", views.password_now, name="password-now"),
    path("anyone/", views.anyone, name="anyone"),
    path("class-based/", views.ClassBased.as_view(), name="class-based"),
    path("class-based-staff/", views.ClassBased.as_view(require_principal={"test0002"})),
    path("async/", views.async_view, name="async"),
    path("scripts-to-wls/", views.scripts_to_wls),
    path("post/", views.post_here, name="post"),
    path("loop/", views.loop, name="loop"),
    path("accounts/raven/", include("raven.django.urls")),
    path("django-logout/", LogoutView.as_view(next_page="/")),  # Django's own, not Raven's
    path("admin/login/", raven_views.login),  # the admin logs in with Raven too
    path("admin/logout/", raven_views.logout),  # and its "Log out" is a Raven logout
    path("admin/", admin.site.urls),
]
