"""The handler package: a deterministic zip of ``handler/``.

Same sources, same bytes: entries sorted, timestamps and permissions fixed, no caches. The
content hash then names the object in the artifact bucket, and a new hash means new code.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
FILE_MODE = 0o100644
HANDLER_DIR = Path(__file__).resolve().parent.parent / "handler"
PACKAGE_NAME = "handler"


def handler_files(source: Path = HANDLER_DIR) -> list[Path]:
    """The Python sources of the handler package, sorted (caches and bytecode excluded)."""
    return sorted(
        path for path in source.rglob("*.py") if "__pycache__" not in path.parts and path.is_file()
    )


def build_zip(source: Path = HANDLER_DIR) -> bytes:
    files = handler_files(source)
    if not any(path.name == "__init__.py" for path in files):
        raise FileNotFoundError(f"{source} is not a Python package (no __init__.py)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            arcname = f"{PACKAGE_NAME}/{path.relative_to(source).as_posix()}"
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIMESTAMP)
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode above is honoured everywhere
            zf.writestr(info, path.read_bytes())
    return buffer.getvalue()


def content_key(zip_bytes: bytes) -> str:
    """The artifact object key: named by content, so new code is always a new key."""
    return f"handlers/payment_processor-{hashlib.sha256(zip_bytes).hexdigest()}.zip"
