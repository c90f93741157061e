"""Eight clients at once against a real threaded server: new incidents, rankings and reads, and not one 5xx.

On SQLite this is the embedded default's busy command center: a write transaction that first read and then
wanted to write could not wait for another writer and answered 500 "database is locked".
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from werkzeug.serving import make_server

CLIENTS = 8
SECONDS = 6.0
INCIDENT = {"type": "confined_space_asphyxiation", "level": "larger", "lat": 38.48, "lon": 106.28}


def _client(base: str, token: str, deadline: float, number: int) -> list[tuple[str, int, str]]:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    seen, incident_id, i = [], None, 0
    while time.monotonic() < deadline:
        i += 1
        step = (i + number) % 3
        if step == 0 or incident_id is None:
            res = http.post(f"{base}/api/v1/incidents", json=INCIDENT | {"description": f"客户端{number} 第{i}次"})
            if res.status_code == 201:
                incident_id = res.json()["id"]
            seen.append(("create", res.status_code, res.text[:200]))
        elif step == 1:
            res = http.get(f"{base}/api/v1/incidents/{incident_id}/candidates")
            seen.append(("rank", res.status_code, res.text[:200]))
        else:
            res = http.get(f"{base}/api/v1/teams?limit=20")
            seen.append(("read", res.status_code, res.text[:200]))
    return seen


def test_eight_clients_get_no_server_error(app, client):
    token = client.post("/api/v1/tokens", json={"username": "dispatcher", "password": "ningxia-demo"}).json["token"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        deadline = time.monotonic() + SECONDS
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [r for f in [pool.submit(_client, base, token, deadline, n) for n in range(CLIENTS)] for r in f.result()]
    finally:
        server.shutdown()
        thread.join(10)
    created = [r for r in results if r[0] == "create" and r[1] == 201]
    errors = [r for r in results if r[1] >= 500]
    assert not errors, f"{len(errors)} of {len(results)} answers were 5xx, e.g. {errors[:3]}"
    assert len(created) >= CLIENTS  # every client got incidents in, so writes really did overlap
    assert all(r[1] in (200, 201) for r in results), [r for r in results if r[1] not in (200, 201)][:3]
