"""`python -m engine_assets.dev` (make dev) binds 127.0.0.1 and stops with all its children on SIGTERM/SIGINT,
even when started the way a script backgrounds it: with SIGINT ignored on entry."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90
STOP_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {**os.environ, "ENGINE_PROFILE": "ci", "ENGINE_DATA_ROOT": str(tmp_path / "data"), "DAGSTER_HOME": str(home)}


def _wait_until_serving(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"dagster dev exited with {proc.returncode}:\n{_tail(log)}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or the webserver is still starting
            pass
        time.sleep(0.25)
    pytest.fail(f"no answer on 127.0.0.1:{port} within {START_TIMEOUT} s:\n{_tail(log)}")


def _listening_hosts(procs: list[psutil.Process], port: int) -> set[str]:
    return {conn.laddr.ip for proc in procs for conn in proc.net_connections(kind="inet")
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port}


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    # A zombie has exited; it only waits for a parent (or init) to reap it.
    def running(proc):
        try:
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    return [proc for proc in procs if running(proc)]


def _tail(log: Path) -> str:
    return log.read_text()[-4000:]


def _describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {' '.join(proc.cmdline()[:5])}"
    except psutil.Error:
        return str(proc.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_dev_server_binds_localhost_and_stops_on_signal(tmp_path, sig):
    port = _free_port()
    log = tmp_path / "dagster-dev.log"
    with log.open("w") as out:
        # As a script's `cmd &` would: SIGINT ignored on entry, in a process group of its own.
        proc = subprocess.Popen([sys.executable, "-m", "engine_assets.dev", "-p", str(port)], cwd=REPO_ROOT,
                                env=_env(tmp_path), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        _wait_until_serving(proc, port, log)
        root = psutil.Process(proc.pid)
        tree = [root, *root.children(recursive=True)]
        cmdline = root.cmdline()
        assert cmdline[1:3] == [str(Path(sys.executable).parent / "dagster"), "dev"]
        assert " -h 127.0.0.1 " in f" {' '.join(cmdline)} "
        assert _listening_hosts(tree, port) == {"127.0.0.1"}

        proc.send_signal(sig)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(tree) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [_describe(p) for p in _alive(tree)]
        assert not survivors, f"still running {STOP_TIMEOUT} s after {sig.name}: {survivors}\n{_tail(log)}"
    finally:
        # A failing test must not leave servers behind: kill whatever is left of its process group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
