"""`.ci/run` stops when the browser the browser tests need cannot be installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ci_copy(tmp_path: Path, apt_get: str | None) -> tuple[Path, dict[str, str]]:
    """A copy of .ci/run in an empty checkout, with a PATH holding only what it needs up to
    the browser step (and `apt-get` as given); the Python it would use records being run."""
    (tmp_path / ".ci").mkdir()
    script = tmp_path / ".ci" / "run"
    shutil.copy(ROOT / ".ci" / "run", script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "tail", "touch"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    if apt_get is not None:
        (bin_dir / "apt-get").write_text(f"#!/bin/sh\n{apt_get}\n")
        (bin_dir / "apt-get").chmod(0o755)
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\ntouch {tmp_path}/python-ran\nexit 1\n")
    python.chmod(0o755)
    env = {
        "PATH": str(bin_dir),
        "CHROMIUM": str(tmp_path / "no-chromium"),
        "PYTHON": str(python),
        "TMPDIR": str(tmp_path),
    }
    return script, env


def run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, str(script)], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_ci_fails_when_chromium_cannot_be_installed(tmp_path: Path) -> None:
    script, env = ci_copy(tmp_path, apt_get='echo "E: Unable to locate package chromium"; exit 100')
    done = run(script, env)
    assert done.returncode == 1
    assert "could not install chromium" in done.stderr
    assert "Unable to locate package chromium" in done.stderr
    assert not (tmp_path / "python-ran").exists()  # stopped before the tests


def test_ci_fails_when_the_install_succeeds_but_leaves_no_chromium(tmp_path: Path) -> None:
    script, env = ci_copy(tmp_path, apt_get="exit 0")
    done = run(script, env)
    assert done.returncode == 1
    assert "could not install chromium" in done.stderr
    assert not (tmp_path / "python-ran").exists()


def test_ci_fails_without_apt_get_when_chromium_is_missing(tmp_path: Path) -> None:
    script, env = ci_copy(tmp_path, apt_get=None)
    done = run(script, env)
    assert done.returncode == 1
    assert "apt-get is missing" in done.stderr
    assert not (tmp_path / "python-ran").exists()


def test_ci_carries_on_to_the_tests_when_chromium_is_there(tmp_path: Path) -> None:
    script, env = ci_copy(tmp_path, apt_get=None)
    chromium = tmp_path / "no-chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    done = run(script, env)
    assert (tmp_path / "python-ran").exists()  # it went on to make the virtual environment
    assert done.returncode == 1  # the stand-in Python then fails on purpose


def test_ci_runs_the_readmes_test_command_on_parallel_workers() -> None:
    """The README says what CI runs; both run the suite on pytest-xdist workers."""
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    [command] = [line for line in ci_lines if line.startswith("python -m pytest")]
    assert f'pip install -e ".[dev]" && {command}\n' in (ROOT / "README.md").read_text()
    assert " -n " in command and "--dist loadgroup" in command
