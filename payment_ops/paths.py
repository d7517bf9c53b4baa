"""Where the tools keep their files: the checkout they run from (``build/``, beside
``setup.cfg``), or, for an installed copy, the working directory."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def project_dir() -> Path:
    """The checkout holding this package, else (installed in site-packages) the working
    directory: ``build/`` and the tools' state go there."""
    return _CHECKOUT if (_CHECKOUT / "setup.cfg").is_file() else Path.cwd()
