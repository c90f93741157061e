"""Benchmark: N concurrent clients for S seconds against the running service, in both layouts.

    python -m tests.bench.bench_load [--clients 8] [--seconds 30] [--layout embedded|gunicorn|both]
                                     [--postgres postgresql+psycopg://user@127.0.0.1:5433/postgres] [--write]

(a) embedded: ``python app.py`` as shipped (SQLite in a temporary instance folder, threaded Flask server,
    scheduler thread, seeded demo data);
(b) production: ``gunicorn -w 4 'app:create_app()'`` on a fresh PostgreSQL database (created on the server
    given by --postgres, dropped afterwards) plus one ``flask --app app worker``.

Every client signs in as the demo dispatcher and loops over a mix a command center produces: a new incident
(1 in 3 requests), the ranking of its last incident, the team list and the incident list. Everything talks only
to 127.0.0.1 and stops by itself. Reports requests/s, latency p50/p95/p99 and errors (5xx or refused
connections) per layout; with --write the table goes into the "Load" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "BENCHMARKS.md"
INCIDENT = {"type": "confined_space_asphyxiation", "level": "larger", "lat": 38.48, "lon": 106.28}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def wait_healthy(base: str, procs: list[subprocess.Popen], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"service exited early with {p.returncode}")
        try:
            if requests.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("service did not become healthy")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def client(base: str, token: str, deadline: float, number: int, out: list) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    incident_id, i = None, number
    while time.monotonic() < deadline:
        i += 1
        step = i % 4
        started = time.perf_counter()
        try:
            if step == 0 or incident_id is None:
                kind = "create"
                res = http.post(f"{base}/api/v1/incidents", json=INCIDENT | {"description": f"压测 {number}-{i}"}, timeout=60)
                if res.status_code == 201:
                    incident_id = res.json()["id"]
            elif step == 1:
                kind, res = "rank", http.get(f"{base}/api/v1/incidents/{incident_id}/candidates", timeout=60)
            elif step == 2:
                kind, res = "teams", http.get(f"{base}/api/v1/teams?limit=20", timeout=60)
            else:
                kind, res = "incidents", http.get(f"{base}/api/v1/incidents?limit=20", timeout=60)
            status = res.status_code
        except requests.RequestException:
            kind, status = "error", 0
        out.append((kind, status, time.perf_counter() - started))


def run_clients(base: str, token: str, clients: int, seconds: float) -> list:
    results: list = []
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(base, token, deadline, n, results)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def drive(base: str, clients: int, seconds: float) -> dict:
    res = requests.post(f"{base}/api/v1/tokens", json={"username": "dispatcher", "password": "ningxia-demo"}, timeout=30)
    res.raise_for_status()
    token = res.json()["token"]
    # a warm-up with every client (each gunicorn worker loads the road network on its first ranking), not measured
    run_clients(base, token, clients, 5.0)
    started = time.monotonic()
    results = run_clients(base, token, clients, seconds)
    elapsed = time.monotonic() - started
    lat = [r[2] * 1000 for r in results]
    errors = [r for r in results if r[1] == 0 or r[1] >= 500]
    return {
        "requests": len(results),
        "rps": len(results) / elapsed,
        "p50": pct(lat, 50),
        "p95": pct(lat, 95),
        "p99": pct(lat, 99),
        "errors": len(errors),
        "created": sum(1 for r in results if r[:2] == ("create", 201)),
        "statuses": dict(Counter(r[1] for r in results)),
        "create_p95": pct([r[2] * 1000 for r in results if r[0] == "create"], 95),
    }


def run_embedded(clients: int, seconds: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_load_"))
    port = free_port()
    env = os.environ | {"RESCUE_INSTANCE_PATH": str(tmp), "RESCUE_PORT": str(port)}
    for key in ("RESCUE_DATABASE_URL", "RESCUE_SECRET_KEY"):
        env.pop(key, None)
    procs = [
        subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ]
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, procs)
        return drive(base, clients, seconds)
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


def run_gunicorn(clients: int, seconds: float, admin_url: str, workers: int) -> dict:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="bench_load_"))
    port = free_port()
    env = os.environ | {
        "RESCUE_INSTANCE_PATH": str(tmp),
        "RESCUE_DATABASE_URL": url,
        "RESCUE_DEMO": "1",
        "RESCUE_SECRET_KEY": uuid.uuid4().hex,
    }
    for key in ("RESCUE_AUTO_MIGRATE", "RESCUE_SEED_ON_START", "RESCUE_RUN_SCHEDULER"):
        env.pop(key, None)
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed"], cwd=ROOT, env=env, check=True, capture_output=True)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "app:create_app()"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen([*flask, "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, procs)
        return drive(base, clients, seconds)
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table(rows: dict[str, dict]) -> str:
    out = [
        "| layout | requests | req/s | p50 ms | p95 ms | p99 ms | new-incident p95 ms | incidents created | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        out.append(
            f"| {name} | {r['requests']} | **{r['rps']:.1f}** | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} "
            f"| {r['create_p95']:.0f} | {r['created']} | **{r['errors']}** |"
        )
    return "\n".join(out)


def write_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    pattern = re.compile(r"## Load\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--layout", choices=["embedded", "gunicorn", "both"], default="both")
    parser.add_argument("--postgres", default=os.environ.get("RESCUE_TEST_POSTGRES_URL"))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="update the Load section of docs/BENCHMARKS.md")
    args = parser.parse_args()
    load_before = loadavg()
    rows = {}
    if args.layout in ("embedded", "both"):
        rows["embedded default (`python app.py`: SQLite, threaded Flask)"] = run_embedded(args.clients, args.seconds)
    if args.layout in ("gunicorn", "both"):
        if not args.postgres:
            raise SystemExit("--postgres (or RESCUE_TEST_POSTGRES_URL) is needed for the gunicorn layout")
        rows[f"gunicorn -w {args.workers} + PostgreSQL + 1 worker"] = run_gunicorn(
            args.clients, args.seconds, args.postgres, args.workers
        )
    load_after = loadavg()
    print(table(rows))
    for name, r in rows.items():
        print(name, r["statuses"])
    values = list(rows.values())
    ratio = values[0]["rps"] / values[1]["rps"] if len(values) == 2 else None
    if ratio is not None:
        print(f"embedded / gunicorn throughput: {ratio:.0%}")
    if args.write:
        command = f"python -m tests.bench.bench_load --clients {args.clients} --seconds {args.seconds:g} --layout {args.layout}"
        if args.layout != "embedded":
            command += " --postgres postgresql+psycopg://…"
        section = (
            f"## Load\n\nCommand: `{command}` ({platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; load average (1/5/15 min) {load_before} at the start, {load_after} at "
            "the end: the machine is shared, so absolute figures move with the load).\n\n"
            f"{args.clients} clients, each signed in as the demo dispatcher, loop for {args.seconds:g} s over: a new "
            "incident, the ranking of its last incident, the team list, the incident list (1 write in 4 "
            "requests). Errors are 5xx answers or refused connections.\n\n" + table(rows) + "\n"
        )
        if ratio is not None:
            section += f"\nThe embedded default reaches **{ratio:.0%}** of the PostgreSQL layout's throughput.\n"
        write_doc(section)


if __name__ == "__main__":
    main()
