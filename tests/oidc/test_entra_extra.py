"""Without the ``entra`` extra (joserfc), a site set to Entra ID stops at
start-up with a ConfigurationError saying what to install; a Raven site
and ``import raven.oidc`` are unaffected. Run in a fresh interpreter where
``import joserfc`` really fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

INSTALL = "pip install 'ucam-raven[entra]'"


def run_without_joserfc(code: str) -> subprocess.CompletedProcess:
    program = "import sys\nsys.modules['joserfc'] = None  # import joserfc: ImportError\n" + (
        textwrap.dedent(code))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RAVEN_DEBUG")}
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env=env, timeout=60)


def test_entra_without_joserfc_is_a_configuration_error_at_start_up():
    done = run_without_joserfc("""
        import raven.oidc  # imports without it
        from raven.oidc import jws
        assert not jws.available()
        from raven.settings import ConfigurationError, Settings
        Settings.from_config({"RAVEN_WLS": "live", "RAVEN_ORIGIN": "https://a.example"})
        try:
            Settings.from_config({
                "RAVEN_WLS": "entra", "RAVEN_OIDC_CLIENT_ID": "c",
                "RAVEN_OIDC_CLIENT_SECRET": "s", "RAVEN_ORIGIN": "https://a.example"})
        except ConfigurationError as exc:
            print("refused:", exc)
        else:
            print("accepted")
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused: RAVEN_WLS = 'entra': "), done.stdout
    assert INSTALL in done.stdout


def test_the_local_provider_without_joserfc_says_what_to_install():
    done = run_without_joserfc("""
        from raven.oidc.testprovider import create_app
        try:
            create_app()
        except ValueError as exc:
            print(exc)
    """)
    assert done.returncode == 0, done.stderr
    assert INSTALL in done.stdout


def test_with_joserfc_the_same_settings_start():
    from raven.settings import Settings

    settings = Settings.from_config({
        "RAVEN_WLS": "entra", "RAVEN_OIDC_CLIENT_ID": "c", "RAVEN_OIDC_CLIENT_SECRET": "s",
        "RAVEN_ORIGIN": "https://a.example"})
    assert settings.wls.protocol == "oidc"
