"""Hostile input never gives a 5xx: integers, nulls, NUL characters and deep nesting, on every route at once."""

import json
import re

import pytest

# path integers the database cannot hold or that only look like digits
BAD_PATH_INTS = ["\u0661\u0662", "\uff11\uff12", "\u00b2", str(2**31), str(2**63), str(2**64 + 1), "-1", "1_0"]
# query integers that must be refused with 422 where the parameter is parsed as an integer
BAD_QUERY_INTS = ["\u0661\u0662", "\uff11\uff12", " 12", "1_0", str(2**31), str(2**70), "-5", "abc"]


def _url(rule, value: str) -> str:
    """The rule's URL with every int argument set to `value` and other arguments to a plausible one."""

    def sub(m):
        conv, args = m.group(1), m.group(2)
        if conv == "int":
            return value
        if conv == "any":
            return re.findall(r'"([^"]+)"', args)[0]
        return "1"

    return re.sub(r"<(?:(\w+)(\([^)]*\))?:)?(\w+)>", sub, rule.rule)


def _int_rules(app):
    rules = [
        r
        for r in app.url_map.iter_rules()
        if any(type(c).__name__.lower().startswith(("int", "ascii")) for c in r._converters.values())
    ]
    assert len(rules) > 30
    return rules


def test_int_path_arguments_never_give_5xx(app, api):
    d = api("dispatcher")
    seen = []
    for rule in _int_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for value in BAD_PATH_INTS:
                url = _url(rule, value)
                res = getattr(d, method.lower())(url, json={})
                seen.append((res.status_code, method, url))
    bad = [s for s in seen if s[0] >= 500 or s[0] == 200 or s[0] == 201]
    assert not bad, bad[:20]


@pytest.mark.parametrize("value", BAD_PATH_INTS)
def test_registry_keys_that_are_not_int32_are_refused(api, value):
    d = api("dispatcher")
    for method in ("get", "patch", "delete"):
        res = getattr(d, method)(f"/api/v1/teams/{value}", json={"name": "x"})
        assert res.status_code in (404, 422), (method, value, res.status_code)


@pytest.mark.parametrize("value", BAD_QUERY_INTS)
@pytest.mark.parametrize(
    "path", ["/api/v1/teams", "/api/v1/incidents", "/api/v1/inbound-messages", "/api/v1/drills", "/api/v1/places?q=银川"]
)
def test_integer_query_parameters_are_ascii_and_bounded(api, path, value):
    sep = "&" if "?" in path else "?"
    res = api("dispatcher").get(f"{path}{sep}limit={value}")
    assert res.status_code == 422, (path, value, res.status_code)
    assert "limit" in res.json["fields"]


def test_null_where_a_list_or_object_is_expected(api):
    d = api("dispatcher")
    bodies = [
        (
            "post",
            "/api/v1/teams",
            {"name": "队", "level": "county", "team_type": "hazmat", "capabilities": None, "lat": 38.4, "lon": 106.2},
        ),
        ("post", "/api/v1/incident-types", {"code": "nulls", "name": "空", "industry": "fire", "requirements": None}),
        ("post", "/api/v1/incidents", {"type_code": "fire", "lat": 38.4, "lon": 106.2, "needs": None}),
        ("post", "/api/v1/incidents", {"type_code": "fire", "lat": 38.4, "lon": 106.2, "needs": [None]}),
        ("post", "/api/v1/drills", None),
        ("post", "/api/v1/road-closures", {"geometry": None}),
        ("post", "/api/v1/cards", {"title": "卡", "steps": None, "sections": None}),
        ("post", "/api/v1/drills/1/record", {"attendance": None, "teams": None}),
    ]
    for method, path, body in bodies:
        res = getattr(d, method)(path, data=json.dumps(body), content_type="application/json")
        assert res.status_code in (400, 404, 409, 422), (path, body, res.status_code, res.json)


@pytest.mark.parametrize("where", ["name", "nested", "key"])
def test_nul_characters_in_json_are_refused_naming_the_field(api, where):
    d = api("dispatcher")
    body = {
        "name": "测试队",
        "level": "county",
        "team_type": "hazmat",
        "capabilities": ["firefighting"],
        "lat": 38.48,
        "lon": 106.28,
    }
    if where == "name":
        body["name"] = "测试\x00队"
        field = "name"
    elif where == "nested":
        body["capabilities"] = ["fire\x00fighting"]
        field = "capabilities.0"
    else:
        body["na\x00me"] = "x"
        field = "na\\u0000me"
    res = d.post("/api/v1/teams", json=body)
    assert res.status_code == 422, res.json
    assert field in res.json["fields"], res.json
    assert "\x00" not in json.dumps(res.json["fields"], ensure_ascii=False)


def test_nul_characters_in_query_path_and_form_are_refused(api, client):
    d = api("dispatcher")
    assert d.get("/api/v1/teams?q=%00").status_code == 422
    assert d.get("/api/v1/teams?q=%00").json["fields"] == {"q": "不能包含空字符 (NUL)"}
    assert d.get("/api/v1/places?q=%E9%93%B6%00").status_code == 422
    for path in ("/api/v1/capabilities/fire%00fighting", "/api/v1/incident-types/%00"):
        assert d.get(path).status_code in (404, 422), path
        assert d.patch(path, json={"name": "x"}).status_code in (404, 422), path
        assert d.delete(path).status_code in (404, 422), path
    res = client.post("/login", data={"username": "dispatcher\x00", "password": "x"})
    assert res.status_code < 500


@pytest.mark.parametrize("depth", [200, 3000, 100_000])
def test_deeply_nested_json_is_a_client_error(api, depth):
    d = api("dispatcher")
    for path in ("/api/v1/teams", "/api/v1/incidents", "/api/v1/drills/1/start"):
        body = '{"name": ' + "[" * depth + "]" * depth + "}"
        res = d.post(path, data=body, content_type="application/json")
        assert res.status_code in (400, 404, 413, 422), (path, depth, res.status_code)


def test_integers_beyond_the_database_range_in_bodies(api):
    d = api("dispatcher")
    for value in (2**31, 2**63, 2**64, -(2**63) - 1, 10**30):
        for path, body in (
            (
                "/api/v1/teams",
                {"name": "队", "level": "county", "team_type": "hazmat", "lat": 38.4, "lon": 106.2, "headcount": value},
            ),
            (
                "/api/v1/incidents",
                {"type_code": "fire", "lat": 38.4, "lon": 106.2, "needs": [{"capability": "firefighting", "quantity": value}]},
            ),
            ("/api/v1/equipment", {"name": "x", "depot_id": value, "quantity": 1}),
            ("/api/v1/drills/1/start", {"run_id": value}),
        ):
            res = d.post(path, json=body)
            assert res.status_code < 500, (path, value, res.status_code)


def test_documented_responses_match_their_schema(app, api):
    """Answers that the fuzzer rarely reaches with valid input, checked against the OpenAPI document directly."""
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    d = api("dispatcher")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    incident = d.post(
        "/api/v1/incidents", json={"type": "confined_space_asphyxiation", "level": "larger", "lat": 38.48, "lon": 106.28}
    ).json
    calls = [
        ("/api/v1/coverage", "GET", {"query": {"capability": "firefighting"}}),
        ("/api/v1/incidents/{incident_id}", "GET", {"path_parameters": {"incident_id": incident["id"]}}),
        ("/api/v1/incidents/{incident_id}/candidates", "GET", {"path_parameters": {"incident_id": incident["id"]}}),
        ("/api/v1/incidents", "GET", {}),
        ("/api/v1/teams", "GET", {}),
        ("/api/v1/statistics", "GET", {}),
    ]
    failures = {}
    for path, method, kwargs in calls:
        case = schema[path][method].Case(**kwargs)
        response = case.call(headers=d.headers)
        assert response.status_code == 200, (path, response.status_code)
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=d.headers)
        except BaseException as exc:  # noqa: BLE001 - a FailureGroup; report every path at once
            failures[path] = [str(e).strip().splitlines()[:3] for e in getattr(exc, "exceptions", [exc])]
    assert not failures, failures
