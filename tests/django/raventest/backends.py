from raven.django.backends import RavenBackend


class EmailBackend(RavenBackend):
    """Usernames are email addresses: spqr1 becomes spqr1@cam.ac.uk."""

    def clean_username(self, principal):
        return principal + "@cam.ac.uk"


class CaseBlindBackend(RavenBackend):
    """Finds accounts as a database that compares names without case would
    (MySQL's default collation, citext): the CRSid test0001 finds TEST0001."""

    def authenticate(self, request, raven_login=None):
        from django.contrib.auth import get_user_model

        if raven_login is None:
            return None
        model = get_user_model()
        try:
            user = model._default_manager.get(username__iexact=raven_login.principal)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
