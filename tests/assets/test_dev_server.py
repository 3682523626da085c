"""`python -m engine_assets.dev` (make dev) binds 127.0.0.1 and stops with all its children on SIGTERM/SIGINT,
even when started the way a script backgrounds it: with SIGINT ignored on entry."""

import signal
import sys
from pathlib import Path

import psutil
import pytest
from servers import STOP_TIMEOUT, dagster_home, running, server_env, tail, wait_gone


def _listening_hosts(procs: list[psutil.Process], port: int) -> set[str]:
    return {conn.laddr.ip for proc in procs for conn in proc.net_connections(kind="inet")
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_dev_server_binds_localhost_and_stops_on_signal(tmp_path, sig):
    env = server_env(tmp_path / "data", dagster_home(tmp_path / "home"))
    with running(env, tmp_path / "dagster-dev.log") as server:
        tree = server.tree()
        cmdline = tree[0].cmdline()
        assert cmdline[1:3] == [str(Path(sys.executable).parent / "dagster"), "dev"]
        assert " -h 127.0.0.1 " in f" {' '.join(cmdline)} "
        assert _listening_hosts(tree, server.port) == {"127.0.0.1"}

        server.proc.send_signal(sig)
        survivors = wait_gone(tree)
        assert not survivors, f"still running {STOP_TIMEOUT} s after {sig.name}: {survivors}\n{tail(server.log)}"
