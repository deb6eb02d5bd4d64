"""The console served the way `make run` serves it: migrations, roles, gunicorn."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.committed, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(arguments, env):
    result = subprocess.run(
        arguments, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_four_workers_start_on_a_fresh_database_without_a_permission_race(tmp_path):
    env = {
        **os.environ,
        "FLASK_APP": "run.py",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "DTI_INSTANCE_DIR": str(tmp_path),
        "DTI_DEMO_PASSWORD": "Serve@Test2024",
    }
    _run([BIN / "flask", "db", "upgrade"], env)
    _run([BIN / "flask", "dti", "init-roles"], env)
    _run([BIN / "flask", "dti", "seed", "--if-empty"], env)

    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as output:
        server = subprocess.Popen(
            [BIN / "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}", "run:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            assert _wait_for(f"http://127.0.0.1:{port}/login/") == 200
            statuses = [
                _wait_for(f"http://127.0.0.1:{port}/login/") for _request in range(8)
            ]
        finally:
            server.terminate()
            server.wait(timeout=20)

    text = log.read_text()
    assert statuses == [200] * 8
    assert "IntegrityError" not in text
    assert "Traceback" not in text
