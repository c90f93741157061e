"""The tiny world of tests/dispatch (A–B–C with the one-way A→M→C), reused; and a variant with a short off-road limit."""

import pytest

from tests.conftest import Api, make_app
from tests.dispatch.conftest import PASSWORD, World, tiny, tiny_app, tiny_files, tiny_session, world  # noqa: F401


@pytest.fixture
def capped(backend, templates, tmp_path, tiny_files):  # noqa: F811
    """A signed-in dispatcher on the tiny world where no straight off-road leg may exceed 3 km."""
    roads, places = tiny_files
    app = make_app(
        templates.copy(backend, seeded=False), tmp_path, ROADS_FILE=str(roads), PLACES_FILE=str(places), MAX_OFFROAD_M=3000.0
    )
    with app.extensions["db"].session_factory() as session:
        w = World(session)
    client = app.test_client()
    res = client.post("/api/v1/tokens", json={"username": "cc", "password": PASSWORD})
    api = Api(client, None)
    api.headers = {"Authorization": f"Bearer {res.json['token']}"}
    api.world = w
    yield api
    app.extensions["db"].engine.dispose()
