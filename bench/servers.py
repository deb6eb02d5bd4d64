"""Start and stop gunicorn instances of the console for the load benchmark.

Each server is a gunicorn master with sync workers serving `run:app` on a free
port of 127.0.0.1, started in its own process group so that stopping it stops
its workers too, and nothing else.
"""

import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from config import BASE_DIR

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
GUNICORN = Path(sys.executable).with_name("gunicorn")
READY_SECONDS = 60
STOP_SECONDS = 15

# Variables of the caller's shell that would change what the servers do.
_CLEARED = (
    "DTI_HTTPS",
    "DTI_PROXY_COUNT",
    "MAIL_SERVER",
    "RATELIMIT_ENABLED",
    "DTI_LOCKOUT_AFTER",
)


def process_cpu_seconds(pid):
    """Return the CPU time of a process and of its children it waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 of proc(5), 12-15 here.
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def children_of(pid):
    """Return the ids of a process's children."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(value) for value in text.split()]


def free_port():
    """Return a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_environment(
    database_url, secret_key, evidence_root, instance_dir, redis_url, rate_limit
):
    """Return the environment every server of one run shares."""
    environment = {
        key: value for key, value in os.environ.items() if key not in _CLEARED
    }
    environment.update(
        {
            "DATABASE_URL": database_url,
            # One key for every server: a session cookie signed by one is
            # accepted by the others.
            "SECRET_KEY": secret_key,
            "DTI_EVIDENCE_ROOT": str(evidence_root),
            "DTI_INSTANCE_DIR": str(instance_dir),
            "REDIS_URL": redis_url,
            "AUTH_RATE_LIMIT": rate_limit,
            # bench.generate synced the permissions; workers only read them.
            "FAB_UPDATE_PERMS": "False",
            "DTI_ENV": "development",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return environment


@dataclass
class Server:
    """One gunicorn master and where it listens and logs."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def address(self):
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self):
        """Return the CPU time of the master and its workers (PDF checks included)."""
        pid = self.process.pid
        return process_cpu_seconds(pid) + sum(
            process_cpu_seconds(child) for child in children_of(pid)
        )

    def log_tail(self, lines=20):
        """Return the last lines of the server's log, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def start_server(name, environment, workers, log_dir):
    """Start one gunicorn master on a free port and return it (not yet ready)."""
    port = free_port()
    log_path = Path(log_dir) / f"{name}.log"
    command = [
        str(GUNICORN),
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "run:app",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches this script, which stops
            # the servers in order, and stop_server can signal the workers too.
            start_new_session=True,
        )
    logger.info("server %s: gunicorn pid %s on port %s", name, process.pid, port)
    return Server(name, port, process, log_path)


def _answers(server):
    connection = http.client.HTTPConnection(HOST, server.port, timeout=5)
    try:
        connection.request("GET", "/login/")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def wait_until_ready(server, seconds=READY_SECONDS):
    """Wait until the server answers its login page.

    :raises RuntimeError: when gunicorn exits or does not answer in time.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server {server.name} exited with {server.process.returncode}:\n"
                f"{server.log_tail()}"
            )
        if _answers(server):
            logger.info(
                "server %s ready in %.1f s",
                server.name,
                time.monotonic() - server.started,
            )
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"server {server.name} did not answer within {seconds} s:\n{server.log_tail()}"
    )


def stop_server(server):
    """Stop a server and its workers: TERM to its process group, KILL if stuck."""
    process = server.process
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        logger.warning("server %s ignored TERM; killing it", server.name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_SECONDS)
    except ProcessLookupError:
        pass
    logger.info("server %s stopped", server.name)


class ServerGroup:
    """Servers started together and always stopped together (a context manager)."""

    def __init__(self, names, environment, workers, log_dir):
        self.names = names
        self.environment = environment
        self.workers = workers
        self.log_dir = log_dir
        self.servers = []

    def __enter__(self):
        try:
            for name in self.names:
                self.servers.append(
                    start_server(name, self.environment, self.workers, self.log_dir)
                )
            for server in self.servers:
                wait_until_ready(server)
        except BaseException:
            self.stop()
            raise
        return self.servers

    def __exit__(self, *_exc_info):
        self.stop()
        return False

    def stop(self):
        """Stop every server started so far."""
        for server in self.servers:
            try:
                stop_server(server)
            except OSError as error:
                logger.warning("server %s: could not stop it: %s", server.name, error)
