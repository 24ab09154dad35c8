"""The Django test project: a site protected with raven.django.

In-process tests (tests/django/conftest.py) configure Django from these
names; the served tests run it under gunicorn with
DJANGO_SETTINGS_MODULE=raventest.settings and the RAVENTEST_* variables.
"""

import os
import tempfile

SECRET_KEY = "raven django test project: not a secret"
DEBUG = False
ALLOWED_HOSTS = os.environ.get("RAVENTEST_HOSTS", "www.example.cam.ac.uk").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "raven.django",
    "raventest",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "raven.django.middleware.RavenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "raven.django.backends.RavenBackend",
    "django.contrib.auth.backends.ModelBackend",
]
ROOT_URLCONF = "raventest.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("RAVENTEST_DB") or os.path.join(tempfile.gettempdir(), "raventest.db"),
}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only

LOGIN_URL = "raven:login"
LOGIN_REDIRECT_URL = "/"

# The site's Raven settings: the same names as the Flask glue's.
RAVEN_WLS = os.environ.get("RAVENTEST_WLS", "http://127.0.0.1:5001")
RAVEN_ORIGIN = os.environ.get("RAVENTEST_ORIGIN", "https://www.example.cam.ac.uk")
RAVEN = {"DESC": "Django test site"}
# The same site moved to Entra ID by settings alone (the local OpenID provider).
if os.environ.get("RAVENTEST_OIDC_AUTHORITY"):
    from raven.oidc.testprovider import site_settings

    globals().update(site_settings(os.environ["RAVENTEST_OIDC_AUTHORITY"]))
    RAVEN_OIDC_REDIRECT_PATH = "/accounts/raven/return/"  # the app's return view
# The project's origin looks public but is never served: the local test WLS is fine.
SILENCED_SYSTEM_CHECKS = ["raven.W007"]
