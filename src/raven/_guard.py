"""Tell this package from another one called ``raven``.

Sentry's old error-reporting client is also imported as ``raven``. Both
distributions write ``raven/__init__.py``, so installing that one after
ours leaves its ``__init__`` in front of our modules: ``import raven``
then gives the wrong package, and our code fails in puzzling ways. The
modules people start from (the command, through :mod:`raven._entry`, the pytest plugin,
``raven.testing``, ``raven.flask_glue``) first import ``raven._check``,
which calls :func:`ensure_ours`, so the failure says what happened and
how to mend it.
"""

from __future__ import annotations

import sys
from importlib import metadata

DISTRIBUTION = "ucam-raven"


class WrongRavenError(ImportError):
    """``import raven`` gives some other package than this one."""


def ensure_ours() -> None:
    """Raise :class:`WrongRavenError` unless ``raven`` is this package."""
    package = sys.modules.get("raven")
    if package is None:  # imported by file, outside the package: nothing to check
        return
    if getattr(package, "__ucam_raven__", False):
        return
    raise WrongRavenError(_explain(package))


def _explain(package: object) -> str:
    where = getattr(package, "__file__", None) or "an unknown place"
    version = getattr(package, "VERSION", None) or getattr(package, "__version__", None)
    try:
        other = metadata.version("raven")
    except metadata.PackageNotFoundError:
        other = None
    if other is not None:
        who = f"Sentry's old 'raven' client ({other}) is installed too"
    else:
        seen = f" (version {version})" if version else ""
        who = f"another package called 'raven'{seen} comes first on sys.path"
    return (
        f"'import raven' gives {where}, which is not {DISTRIBUTION} (Raven web login): "
        f"{who}, and both use the name 'raven'. Keep them in separate environments: "
        f"here, run 'pip uninstall raven', then 'pip install --force-reinstall {DISTRIBUTION}'."
    )

