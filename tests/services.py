"""PostgreSQL, Redis, an S3 server and Celery workers on 127.0.0.1, each started on a free port for one test and
stopped afterwards with every process it started, also when the test fails.

PostgreSQL and Redis are Debian's packages (postgresql, redis-server); the S3 server is moto's, in this process.
Nothing is downloaded.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
from servers import REPO_ROOT, alive, describe, free_port, tail

START_TIMEOUT = 60
STOP_TIMEOUT = 30
PACKAGES = "postgresql redis-server"
REDIS_SERVER = "/usr/bin/redis-server"
# A bucket name for the tests; moto accepts any credentials, but boto needs some.
BUCKET = "engine-test"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries of Debian's packages, if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def missing() -> list[str]:
    """What this machine lacks to run the services."""
    return [what for what, ok in (("postgresql", pg_bin() is not None), ("redis-server", Path(REDIS_SERVER).exists()))
            if not ok]


@dataclass
class Service:
    proc: subprocess.Popen
    log: Path

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None, user: str | None = None) -> Service:
    """`args` in a process group of its own, so that stopping it reaches everything it starts."""
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, user=user, group=user and pwd.getpwnam(user).pw_gid)
    return Service(proc, log)


def stop(service: Service, sig: int = signal.SIGTERM) -> list[str]:
    """Ask the group to stop with `sig`, SIGKILL what is left after STOP_TIMEOUT; the processes still running."""
    procs = service.tree()
    for how in (sig, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(service.proc.pid, how)
        with suppress(subprocess.TimeoutExpired):
            service.proc.wait(STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while alive(procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not alive(procs):
            break
    return [describe(p) for p in alive(procs)]


def wait_for(ready, service: Service, what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll `ready()` until true; fail with the service's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {service.proc.returncode}:\n{tail(service.log)}")
        with suppress(Exception):  # not accepting connections yet
            if ready():
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready within {timeout} s:\n{tail(service.log)}")


@contextmanager
def stopped_at_exit(service: Service, leftovers: list[str], sig: int = signal.SIGTERM) -> Iterator[Service]:
    """Yield `service`; on the way out, stop it and add whatever survived to `leftovers`."""
    try:
        yield service
    finally:
        leftovers.extend(stop(service, sig))


# PostgreSQL --------------------------------------------------------------------------------------------------------

def _pg_user() -> str | None:
    # The server refuses to run as root: run it as the packages' `postgres` user then.
    return "postgres" if os.geteuid() == 0 else None


@contextmanager
def postgres(log_dir: Path, leftovers: list[str]) -> Iterator[dict[str, str]]:
    """A throw-away PostgreSQL cluster with trust authentication on 127.0.0.1; yields its connection settings."""
    user = _pg_user()
    # Under /tmp, not pytest's tmp_path: that sits in root's private directory, which `postgres` cannot enter.
    data = Path(tempfile.mkdtemp(prefix="engine-pg-"))
    try:
        if user:
            shutil.chown(data, user, user)
        subprocess.run([str(pg_bin() / "initdb"), "-D", str(data / "db"), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync"], check=True, capture_output=True, user=user,
                       group=user and pwd.getpwnam(user).pw_gid, cwd=data)
        port = free_port()
        # No fsync: the cluster lives for one test.
        args = [str(pg_bin() / "postgres"), "-D", str(data / "db"), "-h", "127.0.0.1", "-p", str(port),
                "-k", str(data), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        # SIGINT is PostgreSQL's fast shutdown: end sessions, stop now.
        with stopped_at_exit(spawn(args, log_dir / "postgres.log", user=user), leftovers, signal.SIGINT) as server:
            settings = {"host": "127.0.0.1", "port": str(port), "user": "postgres", "password": "", "db": "dagster"}
            wait_for(lambda: _create_database(settings), server, "postgres")
            yield settings
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _create_database(settings: dict[str, str]) -> bool:
    import psycopg2

    conn = psycopg2.connect(host=settings["host"], port=settings["port"], user=settings["user"], dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {settings['db']}")
    finally:
        conn.close()
    return True


# Redis -------------------------------------------------------------------------------------------------------------

@contextmanager
def redis(log_dir: Path, leftovers: list[str]) -> Iterator[str]:
    """A Redis server that keeps nothing on disk; yields its URL."""
    import redis as redis_client

    port = free_port()
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(log_dir)]
    with stopped_at_exit(spawn(args, log_dir / "redis.log"), leftovers) as server:
        url = f"redis://127.0.0.1:{port}"
        wait_for(lambda: redis_client.Redis.from_url(url).ping(), server, "redis-server")
        yield url


# S3 ----------------------------------------------------------------------------------------------------------------

@contextmanager
def s3() -> Iterator[str]:
    """moto's S3 server in this process with bucket BUCKET; yields its endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=url, **_boto_credentials()).create_bucket(Bucket=BUCKET)
        yield url
    finally:
        server.stop()


def upload(local: Path, endpoint: str, prefix: str) -> str:
    """Copy the data root `local` (reference links followed, writers' lock files left out) to `prefix` of BUCKET;
    returns the URL of the copy, a data root as `ENGINE_DATA_ROOT` names it."""
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=endpoint, key=AWS_ENV["AWS_ACCESS_KEY_ID"],
                           secret=AWS_ENV["AWS_SECRET_ACCESS_KEY"], skip_instance_cache=True)
    files = [Path(d) / name for d, _, names in os.walk(local, followlinks=True) for name in names
             if not name.endswith(".lock")]
    fs.put([str(f) for f in files], [f"{BUCKET}/{prefix}/{f.relative_to(local)}" for f in files])
    return f"s3://{BUCKET}/{prefix}"


def object_keys(endpoint: str, prefix: str) -> list[str]:
    """The keys under `prefix` in BUCKET (the first thousand)."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, **_boto_credentials())
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def _boto_credentials() -> dict[str, str]:
    return {"aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            "region_name": AWS_ENV["AWS_DEFAULT_REGION"]}


# Celery workers ----------------------------------------------------------------------------------------------------

@contextmanager
def celery_workers(names: list[str], config_yaml: Path, env: dict[str, str], log_dir: Path,
                   leftovers: list[str]) -> Iterator[list[Service]]:
    """`dagster-celery worker start` once per name, one task at a time each, all stopped on the way out."""
    workers: list[Service] = []
    try:
        for name in names:
            args = [str(Path(sys.executable).parent / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                    "-y", str(config_yaml), "-n", name, "--", "--concurrency=1", "--without-heartbeat",
                    "--without-gossip", "--without-mingle"]
            workers.append(spawn(args, log_dir / f"worker-{name}.log", env=env))
        for worker, name in zip(workers, names):
            wait_for(lambda w=worker: "ready." in w.log.read_text(), worker, f"celery worker {name}")
        yield workers
    finally:
        for worker in workers:
            leftovers.extend(stop(worker))
