"""`make dev`: run `dagster dev` on this repository's workspace, bound to 127.0.0.1 unless told otherwise.

A process started in the background by a script (`cmd &` in a non-interactive shell) inherits
SIGINT ignored. Dagster's CLI maps SIGTERM onto whatever the SIGINT handler is, so such a
`dagster dev` ignores both SIGTERM and SIGINT and leaves its webserver, daemon and code server
running. A shell cannot undo a signal ignored on entry, so this entry point restores the default
dispositions and then replaces itself with `dagster dev`. Extra arguments pass through, e.g.
`python -m engine_assets.dev -p 3001`.
"""

import os
import signal
import sys
from pathlib import Path

WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"
HOST_OPTIONS = ("-h", "--host", "--dagit-host")
DEFAULT_HOST = "127.0.0.1"


def _has_host(args: list[str]) -> bool:
    """Whether the caller chose a host: `-h X`, `-hX`, `--host X` or `--host=X`."""
    return any(arg.split("=", 1)[0] in HOST_OPTIONS or (arg.startswith("-h") and not arg.startswith("--"))
               for arg in args)


def dagster_dev_argv(args: list[str]) -> list[str]:
    """The `dagster dev` command line for the caller's extra arguments."""
    host = [] if _has_host(args) else ["-h", DEFAULT_HOST]
    return [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(WORKSPACE), *host, *args]


def _restore_signals() -> None:
    # Ignored and blocked signals survive exec; default ones let Python install its
    # KeyboardInterrupt handler again, which Dagster then also uses for SIGTERM.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def main() -> None:
    argv = dagster_dev_argv(sys.argv[1:])
    _restore_signals()
    # exec keeps the pid, so whoever started us signals `dagster dev` itself.
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
