"""A tiny hand-made road network with known travel times, and a registry placed on it.

    A(37.00,106.00) ──G6 200 s── B(37.00,106.05) ──G6 200 s── C(37.00,106.10)   (two-way)
        └──────── G20 one-way A→M→C, 50 s + 50 s ────────┘  via M(37.01,106.05)

Driving C→A takes 400 s (the one-way is the wrong way); A→C takes 100 s.
"""

import json
from datetime import date, timedelta

import networkx as nx
import pytest

from rescue.accounts import accounts
from rescue.db import utcnow
from rescue.models import (
    Capability,
    Depot,
    Enterprise,
    Equipment,
    Expert,
    IncidentType,
    Role,
    SupplyLot,
    Team,
)
from rescue.models.enums import Availability, EquipmentStatus, Industry, Level, TeamStatus
from tests.conftest import Api, make_app

A, B, C, M = (37.00, 106.00), (37.00, 106.05), (37.00, 106.10), (37.01, 106.05)
PASSWORD = "tiny-pass-123"
USERS = {"cc": Role.command_center, "reg": Role.regulator, "ent": Role.enterprise_admin}


def write_graphml(path):
    G = nx.DiGraph()
    for name, (lat, lon) in {"A": A, "B": B, "C": C, "M": M}.items():
        G.add_node(name, lat=lat, lon=lon)
    for u, v, t, ref in [
        ("A", "B", 200, "G6"),
        ("B", "A", 200, "G6"),
        ("B", "C", 200, "G6"),
        ("C", "B", 200, "G6"),
        ("A", "M", 50, "G20"),
        ("M", "C", 50, "G20"),
    ]:
        G.add_edge(u, v, length_m=4000.0, travel_time_s=float(t), highway="trunk", ref=ref)
    nx.write_graphml(G, path)


def write_places(path):
    places = [
        {"name": "甲镇", "kind": "town", "lat": A[0], "lon": A[1], "county": "乙县", "verified": True},
        {"name": "乙县", "kind": "county", "lat": A[0], "lon": A[1], "county": "乙县", "verified": True},
        {"name": "丙园区", "kind": "key_site", "lat": C[0], "lon": C[1], "county": "乙县"},
    ]
    path.write_text(json.dumps({"places": places}, ensure_ascii=False), encoding="utf-8")


class World:
    """The registry on the tiny network; ids by short name in .ids."""

    def __init__(self, session):
        self.s = session
        self.ids = {}
        now = utcnow()
        for code, name, cat in [
            ("hazmat_leak_control", "危化品泄漏处置", "hazmat"),
            ("gas_detection", "气体检测", "hazmat"),
            ("chemical_process_safety", "化工工艺安全", "hazmat"),
            ("medical_first_aid", "医疗急救", "medical"),
        ]:
            session.add(Capability(code=code, name=name, category=cat))
        session.add(
            IncidentType(
                code="tiny_leak",
                name="测试泄漏",
                industry=Industry.hazardous_chemicals,
                requirements=[
                    {"capability": "hazmat_leak_control", "quantity": 2, "unit": "team"},
                    {"capability": "gas_detection", "quantity": 3, "unit": "item"},
                    {"capability": "chemical_process_safety", "quantity": 1, "unit": "person"},
                ],
                supplies=[{"code": "2010201", "quantity": 10}],
            )
        )
        ent = Enterprise(
            name="测试化工",
            credit_code="91640000000000001X",
            industry=Industry.hazardous_chemicals,
            city="银川市",
            county="灵武市",
            lat=A[0],
            lon=A[1],
        )
        session.add(ent)
        session.flush()
        self.ids["ent"] = ent.id
        for username, role in USERS.items():
            accounts.create_user(
                session, username, PASSWORD, role, enterprise_id=ent.id if role == Role.enterprise_admin else None
            )
        old = now - timedelta(days=200)
        self.team("T1", C, 5, ["hazmat_leak_control", "medical_first_aid"])  # 300 + 400 = 700 s
        self.team("T2", B, 10, ["hazmat_leak_control", "medical_first_aid"])  # 600 + 200 = 800 s
        self.team("T3", B, 1, ["hazmat_leak_control"], status=TeamStatus.committed)
        self.team("T4", A, 1, ["hazmat_leak_control"], status=TeamStatus.out_of_service)
        self.team("T5", B, 0, ["hazmat_leak_control"], confirmed=old)  # 200 s, but unconfirmed for 200 days
        self.depot("D1", B)
        self.depot("D2", C)
        self.depot("D3", A)
        self.lot("L1", "D1", 6)  # 1800 + 200 = 2000 s
        self.lot("L2", "D2", 10)  # 1800 + 400 = 2200 s
        self.lot("L3", "D3", 100, expiry=date(2020, 1, 1))
        self.lot("L4", "D3", 0)
        self.equipment("E1", "T1", None, 2)  # with T1: 700 s
        self.equipment("E2", None, "D1", 2)  # from D1: 2000 s
        self.equipment("E3", None, "D3", 5, status=EquipmentStatus.unserviceable)
        self.expert("X1", C, remote=False)  # 1800 + 400 = 2200 s on site
        self.expert("X2", C, remote=True)  # remote consultation: 600 s
        self.expert("X3", A, remote=False, availability=Availability.busy)
        session.commit()

    def team(self, key, at, turnout, caps, *, status=TeamStatus.available, confirmed=None):
        t = Team(
            name=f"队伍{key}",
            level=Level.county,
            team_type="综合",
            lat=at[0],
            lon=at[1],
            turnout_min=turnout,
            status=status,
            headcount=20,
            capability_rows=[self.s.get(Capability, c) for c in caps],
        )
        if confirmed:
            t.last_confirmed_dt = confirmed
        self.s.add(t)
        self.s.flush()
        self.ids[key] = t.id

    def depot(self, key, at):
        d = Depot(name=f"仓库{key}", level=Level.county, lat=at[0], lon=at[1])
        self.s.add(d)
        self.s.flush()
        self.ids[key] = d.id

    def lot(self, key, depot, qty, *, expiry=None):
        lot = SupplyLot(code="2010201", name="重型防化服", unit="套", quantity=qty, depot_id=self.ids[depot], expiry_date=expiry)
        self.s.add(lot)
        self.s.flush()
        self.ids[key] = lot.id

    def equipment(self, key, team, depot, qty, *, status=EquipmentStatus.operational):
        e = Equipment(
            name=f"检测仪{key}",
            quantity=qty,
            status=status,
            team_id=self.ids.get(team),
            depot_id=self.ids.get(depot),
            capability_rows=[self.s.get(Capability, "gas_detection")],
        )
        self.s.add(e)
        self.s.flush()
        self.ids[key] = e.id

    def expert(self, key, at, *, remote, availability=Availability.available):
        x = Expert(
            name=f"专家{key}",
            phone="13800000000",
            lat=at[0],
            lon=at[1],
            remote_ok=remote,
            availability=availability,
            field_rows=[self.s.get(Capability, "chemical_process_safety")],
        )
        self.s.add(x)
        self.s.flush()
        self.ids[key] = x.id


@pytest.fixture
def tiny_files(tmp_path):
    roads, places = tmp_path / "tiny.graphml", tmp_path / "places.json"
    write_graphml(roads)
    write_places(places)
    return roads, places


@pytest.fixture
def tiny_app(backend, templates, tmp_path, tiny_files):
    roads, places = tiny_files
    app = make_app(templates.copy(backend, seeded=False), tmp_path, ROADS_FILE=str(roads), PLACES_FILE=str(places))
    yield app
    app.extensions["db"].engine.dispose()


@pytest.fixture
def world(tiny_app):
    with tiny_app.extensions["db"].session_factory() as session:
        return World(session)


@pytest.fixture
def tiny(tiny_app, world):
    """tiny("cc").get(...): a JSON client on the tiny world, signed in as cc / reg / ent."""
    client = tiny_app.test_client()

    def signed_in(username="cc"):
        api = Api(client, None)
        res = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
        assert res.status_code == 201, res.json
        api.headers = {"Authorization": f"Bearer {res.json['token']}"}
        return api

    return signed_in


@pytest.fixture
def tiny_session(tiny_app):
    with tiny_app.extensions["db"].session_factory() as session:
        yield session
