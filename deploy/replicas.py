"""Start N replicas of the app behind HAProxy: `make replicas N=4` or

    .venv/bin/python deploy/replicas.py --replicas 4 --port 8501 [--address 0.0.0.0]

Each replica is `lstm-viz app` (streamlit run app.py) on 127.0.0.1 at its own port (the
balancer's port + 1, + 2, ...); HAProxy (deploy/haproxy.cfg) listens on --address:--port and
keeps each visitor on one replica with a cookie. The replicas share one cookie secret, so
Streamlit's XSRF cookie from one is good on another after a failover. Replicas on one machine
split its cores (LSTM_VIZ_CORES, OMP_NUM_THREADS) and the folder where pasted texts are kept
for links (ui/session/texts.py: LSTM_VIZ_TEXTS, by default one per machine), so a visitor moved to another
replica gets their own text back. On several machines, run one replica per machine with
`lstm-viz app`, give them LSTM_VIZ_TEXTS on a shared disk and one STREAMLIT_SERVER_COOKIE_SECRET,
and list them in the backend by hand. Ctrl+C stops everything.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstm_viz.serve.launch import app_command, stop, wait_until_up
from lstm_viz.serve.service import cores

CONFIG = Path(__file__).with_name("haproxy.cfg")


def haproxy() -> str:
    """The haproxy executable (Debian puts it in /usr/sbin)."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise SystemExit("haproxy is missing: apt-get install -y haproxy (make browser does it)")
    return found


def balancer_config(ports: dict[str, int]) -> str:
    """deploy/haproxy.cfg with one server line per replica (name -> port on 127.0.0.1)."""
    lines = [f"    server {name} 127.0.0.1:{port} cookie {name}" for name, port in ports.items()]
    return CONFIG.read_text().rstrip("\n") + "\n" + "\n".join(lines) + "\n"


@dataclass
class Cluster:
    url: str  # the balancer
    ports: dict[str, int]  # replica name -> port
    procs: dict[str, subprocess.Popen] = field(repr=False)
    logs: Path

    def stop(self, name: str) -> None:
        """Stop one replica (as a crash or a redeploy would)."""
        stop(self.procs[name])


@contextmanager
def cluster(
    replicas: int = 2,
    port: int = 8501,
    address: str = "127.0.0.1",
    replica_ports: list[int] | None = None,
    env: dict | None = None,
    timeout: float = 180.0,
):
    """Start `replicas` app servers (at `replica_ports`, else the ports after `port`) and HAProxy in
    front of them at address:port; yield a `Cluster` once all answer."""
    replica_ports = replica_ports or [port + 1 + i for i in range(replicas)]
    ports = {f"r{i + 1}": replica_ports[i] for i in range(replicas)}
    share = str(max(1, cores() // replicas))
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lstm-viz-replicas-")))
        procs: dict[str, subprocess.Popen] = {}
        stack.callback(lambda: [stop(p) for p in procs.values()])
        secret = secrets.token_hex(32)
        for name, p in ports.items():
            argv, app_env, folder = app_command([], p, "127.0.0.1")
            app_env.update(
                {
                    "STREAMLIT_SERVER_COOKIE_SECRET": secret,
                    "STREAMLIT_SERVER_HEADLESS": "true",
                    "LSTM_VIZ_CORES": share,
                    "OMP_NUM_THREADS": share,
                    **(env or {}),
                }
            )
            log = (logs / f"{name}.log").open("w")
            stack.callback(log.close)
            procs[name] = subprocess.Popen(argv, env=app_env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        for name, p in ports.items():
            health = f"http://127.0.0.1:{p}/_stcore/health"
            wait_until_up(health, procs[name], (logs / f"{name}.log").read_text, timeout)
        cfg = logs / "haproxy.cfg"
        cfg.write_text(balancer_config(ports))
        log = (logs / "haproxy.log").open("w")
        stack.callback(log.close)
        procs["haproxy"] = subprocess.Popen(
            [haproxy(), "-db", "-f", str(cfg)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "LSTM_VIZ_BIND": f"{address}:{port}"},
        )
        host = "127.0.0.1" if address in ("0.0.0.0", "::") else address
        url = f"http://{host}:{port}"
        wait_until_up(url + "/_stcore/health", procs["haproxy"], (logs / "haproxy.log").read_text, 30)
        yield Cluster(url, ports, procs, logs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--port", type=int, default=8501, help="the balancer's port; replicas take the next ones")
    ap.add_argument("--address", default="127.0.0.1", help="the balancer's address (0.0.0.0: every interface)")
    a = ap.parse_args()
    with cluster(a.replicas, a.port, a.address) as c:
        print(
            f"{a.replicas} replicas ({', '.join(f'{n} on :{p}' for n, p in c.ports.items())}) behind HAProxy at "
            f"{c.url}; logs in {c.logs}. Ctrl+C stops them.",
            flush=True,
        )
        try:
            while all(p.poll() is None for p in c.procs.values()):
                time.sleep(1)
            gone = [n for n, p in c.procs.items() if p.poll() is not None]
            raise SystemExit(f"stopped: {', '.join(gone)} exited (logs in {c.logs})")
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
