#!/usr/bin/env python3
"""The two commands of the README: ``python3 dev.py run`` and ``python3 dev.py test``.

Runs with nothing but Python 3.11: it creates ``.venv`` when missing, installs the
project into it (again only when ``setup.cfg`` changed), then hands over to
``core.devserver`` inside that virtualenv, which starts the embedded servers when no
URLs are configured.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".turumba-installed"
EXTRAS = {"run": "", "test": "[test]"}


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "setup.cfg").read_bytes() + extras.encode())
    return digest.hexdigest()


def ensure_virtualenv(extras: str) -> None:
    if not PYTHON.exists():
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = _fingerprint(extras)
    if STAMP.exists() and STAMP.read_text() in {wanted, _fingerprint("[test]")}:
        return
    print("dev.py: installing turumba into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}{extras}"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in EXTRAS:
        print("usage: python3 dev.py run|test [extra arguments]", file=sys.stderr)
        return 2
    if sys.version_info[:2] != (3, 11):
        print("dev.py: Python 3.11 is required", file=sys.stderr)
        return 2
    command = argv[1]
    ensure_virtualenv(EXTRAS[command])
    os.chdir(ROOT)
    args = [str(PYTHON), "-m", "core.devserver", command, *argv[2:]]
    os.execv(args[0], args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
