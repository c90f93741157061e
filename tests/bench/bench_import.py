"""Benchmark: import a synthetic Ningxia-sized ``.osm.pbf`` of >= 1M directed edges with routing.io.

    python -m tests.bench.bench_import [--side 510] [--no-write]

Writes the file with pyosmium's SimpleWriter (a perturbed grid of two-way residential streets,
primary roads every 20th line, one way per grid line), then imports it with ``routing.import_file``
in a child process so its peak memory (ru_maxrss) is the import's alone. Writes the "Road import"
section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import osmium

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "BENCHMARKS.md"
AREA = (35.2, 104.2, 39.4, 107.7)


def write_pbf(path: Path, side: int, seed: int = 7) -> tuple[int, int]:
    """A side×side grid around Yinchuan as OSM nodes and ways; returns (nodes, ways)."""
    rng = np.random.default_rng(seed)
    step_lat, step_lon = 150 / 111_195, 150 / (111_195 * math.cos(math.radians(38.4)))
    ii, jj = np.divmod(np.arange(side * side), side)
    lat = 38.0 + ii * step_lat + rng.uniform(-0.3, 0.3, side * side) * step_lat
    lon = 105.9 + jj * step_lon + rng.uniform(-0.3, 0.3, side * side) * step_lon
    ways = 0
    with osmium.SimpleWriter(str(path)) as w:
        for nid in range(side * side):
            w.add_node(osmium.osm.mutable.Node(id=nid + 1, location=(float(lon[nid]), float(lat[nid])), version=1))
        for line in range(side):
            tags = {"highway": "primary" if line % 20 == 0 else "residential"}
            row = [line * side + j + 1 for j in range(side)]
            col = [i * side + line + 1 for i in range(side)]
            w.add_way(osmium.osm.mutable.Way(id=2 * line + 1, nodes=row, tags=tags, version=1))
            w.add_way(osmium.osm.mutable.Way(id=2 * line + 2, nodes=col, tags=tags, version=1))
            ways += 2
    return side * side, ways


def _child(path: str) -> None:
    """Import in this (child) process and print the figures as JSON."""
    import resource

    from routing import import_file

    t0 = time.perf_counter()
    net = import_file(path, area=AREA)
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_mb": peak_mb,
                "nodes": net.n_nodes,
                "edges": net.n_edges,
                "bytes_per_edge": net.nbytes / net.n_edges,
            }
        )
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=510)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    cmd = "python -m tests.bench.bench_import" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    load0 = Path("/proc/loadavg").read_text().split()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.osm.pbf"
        t0 = time.perf_counter()
        nodes, ways = write_pbf(path, args.side)
        write_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_import", "--child", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(out.stdout.strip().splitlines()[-1])
    load1 = Path("/proc/loadavg").read_text().split()[0]
    rows = [
        (
            "file",
            f"{nodes:,} nodes, {ways:,} ways ({args.side}×{args.side} grid), {size_mb:.0f} MB .osm.pbf, written in {write_s:.1f} s",
        ),
        ("network", f"{got['nodes']:,} nodes, **{got['edges']:,} directed edges**, {got['bytes_per_edge']:.0f} B/edge"),
        ("`import_file(path, area=...)` (read, build CSR, largest component, area check)", f"**{got['seconds']:.1f} s**"),
        ("peak memory of the importing process (ru_maxrss)", f"**{got['peak_mb']:.0f} MB**"),
    ]
    table = "| measure | result |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    section = (
        "## Road import\n\n"
        f"Command: `{cmd}` ({platform.machine()}, {os.cpu_count()} CPUs shared, load average {load0} at the start, "
        f"{load1} at the end, Python {platform.python_version()}).\n\n"
        "A synthetic `.osm.pbf` written with pyosmium in the benchmark, imported as `flask --app app roads import`\n"
        "does (``routing.import_file``), in a child process so the peak memory is the import's own.\n\n" + table + "\n"
    )
    print(table)
    if not args.no_write:
        text = DOC.read_text(encoding="utf-8")
        pattern = re.compile(r"^## Road import\n.*?(?=^## |\Z)", re.S | re.M)
        text = pattern.sub(lambda _: section + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + section
        DOC.write_text(text.rstrip() + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
