"""The console's own unit tests (Vitest, ``web/src/**/*.test.ts``) pass, and there are some."""

from __future__ import annotations

import json
import subprocess

from core import console


def test_the_consoles_vitest_suite_passes(built, tmp_path):
    tools = console.node()
    report = tmp_path / "vitest.json"
    run = subprocess.run(
        [*tools.npx, "vitest", "run", "--reporter=json", f"--outputFile={report}"],
        cwd=console.WEB,
        env=tools.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = json.loads(report.read_text()) if report.exists() else {}
    failed = [
        f"{suite['name']}: {test['fullName']}: {' '.join(test.get('failureMessages', []))[:500]}"
        for suite in results.get("testResults", [])
        for test in suite.get("assertionResults", [])
        if test["status"] != "passed"
    ]
    assert run.returncode == 0, failed or run.stdout[-3000:] + run.stderr[-3000:]
    assert failed == []
    assert results["numPassedTests"] >= 10, "the console's logic has too few unit tests"
