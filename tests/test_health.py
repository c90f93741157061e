"""The service starts on both databases and reports its health."""


def test_health_reports_database_and_schema(empty_app, backend):
    client = empty_app.test_client()
    res = client.get("/health")
    assert res.status_code == 200
    assert res.json["status"] == "ok"
    assert res.json["database"]["dialect"] == ("sqlite" if backend == "sqlite" else "postgresql")
    assert res.json["schema"]["up_to_date"] is True
