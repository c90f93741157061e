"""Shared fixtures: the app on SQLite and on a real PostgreSQL, from migrated (and seeded) templates."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rescue import migrations
from rescue.config import DEFAULTS
from rescue.db import make_engine

PG_URL = os.environ.get("RESCUE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


def pytest_collection_modifyitems(config, items):
    if PG_URL or not any("postgres" in item.name for item in items):
        return
    if os.environ.get("CI"):
        pytest.exit("RESCUE_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI (see .ci/run)", returncode=3)
    skip = pytest.mark.skip(reason='no PostgreSQL: run `eval "$(bash .ci/postgres.sh)"` first')
    for item in items:
        if "[postgres" in item.name or "-postgres" in item.name:
            item.add_marker(skip)


class Templates:
    """Migrated databases made once per run and copied for every test (cheap on both backends)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.made: dict[tuple[str, bool, bool], str] = {}

    def template(self, backend: str, seeded: bool, past_incident: bool = False) -> str:
        key = (backend, seeded, past_incident)
        if key not in self.made:
            name = f"tmpl_{'seeded' if seeded else 'empty'}{'_story' if past_incident else ''}_{uuid.uuid4().hex[:6]}"
            url = self._fresh(backend, name)
            engine = make_engine(url)
            migrations.upgrade(engine)
            if seeded:
                from seed import loader

                with engine.connect() as conn, conn.begin():
                    from sqlalchemy.orm import Session

                    session = Session(bind=conn)
                    # the demo's past incident only where a test asks for it: other tests count incidents and SMS
                    loader.seed(session, area=DEFAULTS["SERVICE_AREA"], demo=True, past_incident=past_incident)
                    session.flush()
            engine.dispose()
            self.made[key] = url
        return self.made[key]

    def copy(self, backend: str, *, seeded: bool, past_incident: bool = False) -> str:
        source = self.template(backend, seeded, past_incident)
        name = f"t_{uuid.uuid4().hex[:10]}"
        if backend == "sqlite":
            target = self.tmp / f"{name}.sqlite"
            shutil.copy(make_url(source).database, target)
            return f"sqlite:///{target}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source).database}"')
        return str(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))

    def _fresh(self, backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / name}.sqlite"
        self._admin(f'CREATE DATABASE "{name}"')
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def empty(self, backend: str) -> str:
        """A new database with no schema at all (for migration tests)."""
        return self._fresh(backend, f"e_{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    return Templates(tmp_path_factory.mktemp("db"))


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


def make_app(url: str, tmp_path: Path, **overrides):
    from app import create_app

    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "DEMO": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SMS_BACKEND": "console",
        # the shipped default is on; tests that count SMS segments and pages assume the short text unless they ask
        "RESPONDER_LINKS": False,
    } | overrides
    app = create_app(config)
    return app


@pytest.fixture
def app(backend, templates, tmp_path):
    """The app on a seeded database of the current backend."""
    app = make_app(templates.copy(backend, seeded=True), tmp_path)
    yield app
    app.extensions["db"].engine.dispose()


@pytest.fixture
def empty_app(backend, templates, tmp_path):
    """The app on a migrated but empty database."""
    app = make_app(templates.copy(backend, seeded=False), tmp_path)
    yield app
    app.extensions["db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """A test client that signs in as a demo user and speaks JSON."""

    def __init__(self, client, username: str | None):
        self.client = client
        self.headers = {}
        if username:
            res = client.post("/api/v1/tokens", json={"username": username, "password": "ningxia-demo"})
            assert res.status_code == 201, res.json
            self.headers = {"Authorization": f"Bearer {res.json['token']}"}

    def __getattr__(self, method):
        call = getattr(self.client, method)
        return lambda path, **kw: call(path, headers=self.headers | kw.pop("headers", {}), **kw)


@pytest.fixture
def api(client):
    """api("dispatcher").get(...): a JSON client signed in as that demo user."""
    return lambda username="dispatcher": Api(client, username)


@pytest.fixture
def session(app):
    """A session of its own (no app context kept pushed: requests must not share `g`)."""
    with app.extensions["db"].session_factory() as session:
        yield session
