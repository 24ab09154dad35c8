from raven.django.backends import RavenBackend


class EmailBackend(RavenBackend):
    """Usernames are email addresses: spqr1 becomes spqr1@cam.ac.uk."""

    def clean_username(self, principal):
        return principal + "@cam.ac.uk"
