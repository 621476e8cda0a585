"""`make test` installs Debian's chromium and wrk when it can, and otherwise says once, at the
end of the run, what to install (issue 16, defect 10)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import SYSTEM_TOOLS, missing_tools_advice

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install-test-tools.sh"


def test_nothing_is_said_when_everything_is_installed(tmp_path: Path) -> None:
    (tmp_path / "chromium").touch()
    (tmp_path / "wrk").touch()
    tools = {"chromium": (tmp_path / "chromium", "a"), "wrk": (tmp_path / "wrk", "b")}
    assert missing_tools_advice(tools, browser_skips=0) == []


def test_the_advice_names_each_missing_tool_and_one_command(tmp_path: Path) -> None:
    tools = {
        "chromium": (tmp_path / "chromium", "the browser tests"),
        "wrk": (tmp_path / "wrk", "bench/run.py"),
    }
    lines = missing_tools_advice(tools, browser_skips=114)
    assert lines == [
        "chromium is not installed, needed by the browser tests: 114 tests skipped.",
        "wrk is not installed, needed by bench/run.py.",
        "Install with `sudo apt-get install chromium wrk` (Debian), or run `make test` as root "
        "where apt-get works: it installs them itself.",
    ]


def test_the_tools_checked_are_those_the_browser_tests_and_bench_run() -> None:
    assert SYSTEM_TOOLS["chromium"][0] == Path("/usr/bin/chromium")
    assert SYSTEM_TOOLS["wrk"][0] == Path("/usr/bin/wrk")
    assert (
        'CHROMIUM = Path("/usr/bin/chromium")' in (ROOT / "tests/browser/conftest.py").read_text()
    )
    assert '"/usr/bin/wrk"' in (ROOT / "bench/run.py").read_text()


def run_script(tmp_path: Path, *, present: tuple[str, ...], as_user: str | None = None):
    """The script with its tool paths in tmp_path and an apt-get that only records its
    arguments."""
    for name in present:
        tool = tmp_path / name
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    log = tmp_path / "apt.log"
    apt = tmp_path / "fake-apt-get"
    apt.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    apt.chmod(0o755)
    env = {
        **os.environ,
        "HUB_CHROMIUM": str(tmp_path / "chromium"),
        "HUB_WRK": str(tmp_path / "wrk"),
        "HUB_APT_GET": str(apt),
    }
    command = ["bash", str(SCRIPT)]
    if as_user:
        command = ["setpriv", "--reuid", as_user, "--regid", as_user, "--clear-groups", *command]
        tmp_path.chmod(0o755)
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        command, env=env, capture_output=True, text=True, check=False
    )
    return result, (log.read_text().splitlines() if log.exists() else [])


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root (and setpriv)"
)


@needs_root
def test_as_root_the_script_installs_only_what_is_missing(tmp_path: Path) -> None:
    result, apt = run_script(tmp_path, present=("wrk",))
    assert result.returncode == 0, result.stderr
    assert apt == ["update -qq", "install -y -qq --no-install-recommends chromium"]


@needs_root
def test_with_everything_there_the_script_does_nothing(tmp_path: Path) -> None:
    result, apt = run_script(tmp_path, present=("chromium", "wrk"))
    assert (result.returncode, result.stdout, apt) == (0, "", [])


@needs_root
def test_as_another_user_the_script_changes_nothing_and_succeeds(tmp_path: Path) -> None:
    result, apt = run_script(tmp_path, present=(), as_user="65534")
    assert (result.returncode, result.stdout, apt) == (0, "", [])


def test_make_test_and_bench_and_ci_use_the_script() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "test: install tools" in makefile
    assert "bench: install tools" in makefile
    assert "tools:\n\t@scripts/install-test-tools.sh" in makefile
    ci = (ROOT / ".ci/run").read_text()
    assert "scripts/install-test-tools.sh" in ci
    assert "apt_install chromium" not in ci
