"""The API walkthrough (docs/api-walkthrough.md), run the way its reader runs it.

Every ``sh`` block of the walkthrough, in order, as one ``bash -euo pipefail`` script from
the repository root against a freshly started system with the demo data, with only the
variables the walkthrough tells its reader to set (``GW``, ``CREDS``, ``NATS``). Each block
checks its own answers, so the script's exit code says whether the walkthrough is true;
on failure the test names the step and shows its code and output.

A second test holds the walkthrough to its promise of covering every capability: every
operation of the gateway's OpenAPI document (docs/openapi.json) is called somewhere in it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from vfu_devrun.launcher import DEV_CREDENTIALS_FILE, LaunchConfig, Launcher

from tests.e2e.conftest import running_system

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "docs" / "api-walkthrough.md"
OPENAPI_DOC = ROOT / "docs" / "openapi.json"
# Printed before each block, on stdout and stderr, so a failure can be traced to its step.
MARKER = "### walkthrough step"
TIMEOUT_SECONDS = 240
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Step:
    """One ``sh`` block of the walkthrough, under its section heading."""

    number: int
    heading: str
    code: str


def walkthrough_steps(text: str) -> list[Step]:
    """The ``sh`` blocks in order, each with the ``##`` heading it stands under."""
    steps: list[Step] = []
    for match in _BLOCK.finditer(text):
        headings = re.findall(r"^## (.+)$", text[: match.start()], flags=re.MULTILINE)
        heading = headings[-1] if headings else "(introduction)"
        steps.append(Step(len(steps) + 1, heading, match.group(1)))
    return steps


def walkthrough_script(steps: list[Step]) -> str:
    """One bash script of every step, each announced on stdout and stderr."""
    parts = []
    for step in steps:
        marker = shlex.quote(f"{MARKER} {step.number}: {step.heading}")
        parts.append(f"printf '%s\\n' {marker}; printf '%s\\n' {marker} >&2\n{step.code}")
    return "\n".join(parts)


@pytest.fixture
def system(tmp_path: Path, database_urls: dict[str, str]) -> Iterator[Launcher]:
    with running_system(tmp_path / "data", database_urls) as launcher:
        yield launcher


def _since_last_marker(output: str) -> tuple[int, str]:
    """The number of the last step that started, and what was printed since."""
    starts = [m for m in re.finditer(rf"^{MARKER} (\d+):.*$", output, flags=re.MULTILINE)]
    if not starts:
        return 0, output
    last = starts[-1]
    return int(last.group(1)), output[last.end() :].strip("\n")


def _failure_report(steps: list[Step], why: str, stdout: str, stderr: str) -> str:
    number, out = _since_last_marker(stdout)
    _, err = _since_last_marker(stderr)
    if number == 0:
        return f"the walkthrough {why} before its first step:\n{stdout}\n{stderr}"
    step = steps[number - 1]
    return (
        f"the walkthrough {why} in step {number} of {len(steps)} ({step.heading}).\n"
        f"--- the step:\n{step.code}\n--- its output:\n{out[-6000:]}\n"
        f"--- its errors:\n{err[-6000:]}"
    )


def _run_bash(script: str, env: dict[str, str]) -> tuple[int | None, str, str]:
    """(exit code, stdout, stderr) of the script; None as the code if it timed out, when
    the whole process group (curl, sleep, python) is killed."""
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return None, stdout, stderr
    return proc.returncode, stdout, stderr


def test_the_walkthrough_runs_on_a_fresh_system(system: Launcher) -> None:
    """The reader's bash, from the repository root, with GW, CREDS and NATS set."""
    steps = walkthrough_steps(WALKTHROUGH.read_text())
    env = {
        **os.environ,
        "GW": system.config.gateway_url,
        "CREDS": str(system.credentials_file),
        "NATS": system.nats_url(),
        # The project's interpreter first: python3 is then the real one, not a version
        # manager's shim that takes a tenth of a second to start each helper call.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    code, stdout, stderr = _run_bash(walkthrough_script(steps), env)
    if code is None:
        pytest.fail(_failure_report(steps, f"timed out after {TIMEOUT_SECONDS} s", stdout, stderr))
    assert code == 0, _failure_report(steps, f"failed (exit code {code})", stdout, stderr)
    assert _since_last_marker(stdout)[0] == len(steps), "every step ran"


def test_the_walkthrough_names_make_runs_defaults() -> None:
    """What the reader is told to set defaults to what ``make run`` uses."""
    setup = walkthrough_steps(WALKTHROUGH.read_text())[0].code
    defaults = LaunchConfig(data_dir=Path("data"))
    assert f"GW=${{GW:-{defaults.gateway_url}}}" in setup
    assert f"CREDS=${{CREDS:-data/{DEV_CREDENTIALS_FILE}}}" in setup
    assert f"NATS=${{NATS:-nats://127.0.0.1:{defaults.nats_port}}}" in setup


def _normalised(path: str) -> str:
    """A path with its parameters ({booking_id}, $BOOKING, ${A}) as ``{}``."""
    return re.sub(r"\{[^}/]+\}|\$\{?\w+\}?", "{}", path)


def called_operations(text: str) -> set[tuple[str, str]]:
    """(method, normalised path) of every call in the walkthrough's ``sh`` blocks: the
    helpers' ``METHOD /api/...`` and plain ``curl ... "$GW/api/..."`` (a POST when it
    sends a body or a form)."""
    code = "\n".join(step.code for step in walkthrough_steps(text)).replace("\\\n", " ")
    called: set[tuple[str, str]] = set()
    for line in code.splitlines():
        for match in re.finditer(rf"\b({'|'.join(_METHODS)})\s+\"?(/api/v1/[^\s\"?]*)", line):
            called.add((match.group(1), _normalised(match.group(2))))
        for match in re.finditer(r"\"\$GW(/api/v1/[^\s\"?]*)", line):
            command = line[: match.start()].rsplit("curl", 1)[-1]
            sends = re.search(r"\s(-F|--form|-d|--data|--data-binary)\s", command)
            called.add(("POST" if sends else "GET", _normalised(match.group(1))))
    return called


def test_the_walkthrough_calls_every_operation() -> None:
    spec = json.loads(OPENAPI_DOC.read_text())
    operations = {
        (method.upper(), _normalised(path))
        for path, item in spec["paths"].items()
        for method in item
        if method.upper() in _METHODS
    }
    called = called_operations(WALKTHROUGH.read_text())
    assert sorted(operations - called) == [], "operations the walkthrough never calls"
    assert sorted(called - operations) == [], "calls of operations the API does not have"
