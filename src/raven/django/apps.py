from django.apps import AppConfig


class RavenConfig(AppConfig):
    name = "raven.django"
    label = "raven"
    verbose_name = "Raven login"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from . import checks, conf, glue

        checks.register()
        setting_changed.connect(conf.clear_cache, dispatch_uid="raven.django.conf")
        setting_changed.connect(glue.clear_cache, dispatch_uid="raven.django.glue")
