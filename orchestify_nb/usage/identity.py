"""Who spent it and for what: the ``user`` and ``project`` every ledger row carries.

On JupyterHub every kernel runs as the hub's user, whose name is ``JUPYTERHUB_USER``; elsewhere
the OS account names the person. A project is what the config's ``project:`` says, else the
folder of the notebook that made the call (the working directory when that is unknown), which
is how teams usually lay out their work.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

HUB_USER_ENV = "JUPYTERHUB_USER"


def current_user() -> str | None:
    """``JUPYTERHUB_USER``, else the OS user (``None`` if neither can be found)."""
    hub_user = os.environ.get(HUB_USER_ENV)
    if hub_user:
        return hub_user
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return None


def project_for(configured: str | None, notebook_path: str | None) -> str | None:
    """The configured project, else the notebook's folder name, else the working directory's."""
    if configured:
        return configured
    folder = Path(notebook_path).parent if notebook_path else Path.cwd()
    return folder.resolve().name or None
