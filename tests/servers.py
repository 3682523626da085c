"""Starting `dagster dev` through the project's entry point (`python -m engine_assets.dev`) and stopping it
with everything it started, for the tests that talk to a live server."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90
STOP_TIMEOUT = 60
# No telemetry, and no "join the community" dialog: it opens over whatever page a browser test looks at.
DAGSTER_YAML = "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"


@dataclass
class DevServer:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tree(self) -> list[psutil.Process]:
        """`dagster dev` and every process it has started so far."""
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dagster_home(path: Path) -> Path:
    """A fresh Dagster home at `path`."""
    path.mkdir(parents=True)
    (path / "dagster.yaml").write_text(DAGSTER_YAML)
    return path


def server_env(data_root: Path, home: Path) -> dict[str, str]:
    return {**os.environ, "ENGINE_PROFILE": "ci", "ENGINE_DATA_ROOT": str(data_root), "DAGSTER_HOME": str(home)}


def start(env: dict[str, str], log: Path) -> DevServer:
    """`python -m engine_assets.dev -p <free port>` started as a script's `cmd &` would: SIGINT ignored on
    entry, in a process group of its own (so a failing test can kill all of it)."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "engine_assets.dev", "-p", str(port)], cwd=REPO_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    return DevServer(proc, port, log)


def wait_until_serving(server: DevServer, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.proc.poll() is None, f"dagster dev exited with {server.proc.returncode}:\n{tail(server.log)}"
        try:
            with urllib.request.urlopen(f"{server.url}/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or the webserver is still starting
            pass
        time.sleep(0.25)
    pytest.fail(f"no answer on 127.0.0.1:{server.port} within {timeout} s:\n{tail(server.log)}")


def kill_group(server: DevServer) -> None:
    """SIGKILL whatever is left of the server's process group, and reap it."""
    try:
        os.killpg(server.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.proc.wait()


@contextmanager
def running(env: dict[str, str], log: Path) -> Iterator[DevServer]:
    """A serving `dagster dev`; on the way out, even after a failure, nothing of it is left running."""
    server = start(env, log)
    try:
        wait_until_serving(server)
        yield server
    finally:
        kill_group(server)


def alive(procs: Iterable[psutil.Process]) -> list[psutil.Process]:
    # A zombie has exited; it only waits for a parent (or init) to reap it.
    def is_running(proc):
        try:
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    return [proc for proc in procs if is_running(proc)]


def wait_gone(procs: list[psutil.Process], timeout: float = STOP_TIMEOUT) -> list[str]:
    """Wait up to `timeout` s for `procs` to end; the descriptions of those still running."""
    deadline = time.monotonic() + timeout
    while alive(procs) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [describe(p) for p in alive(procs)]


def tail(log: Path) -> str:
    return log.read_text()[-4000:]


def describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {' '.join(proc.cmdline()[:5])}"
    except psutil.Error:
        return str(proc.pid)
