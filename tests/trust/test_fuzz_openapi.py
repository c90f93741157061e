"""A bounded schemathesis run over every documented operation: no 5xx, and every answer matches its schema.

Both roles that use the API (dispatcher, enterprise admin) and both backends; a few examples per operation with a
fixed seed, so a new server error fails the suite without making it slow or flaky.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

MAX_EXAMPLES = 6
CHECKS = [not_a_server_error, response_schema_conformance]


def _token(client, username: str) -> str:
    res = client.post("/api/v1/tokens", json={"username": username, "password": "ningxia-demo"})
    assert res.status_code == 201, res.json
    return res.json["token"]


@pytest.mark.parametrize("username", ["dispatcher", "enterprise-a"])
def test_no_server_error_and_answers_match_schema(app, client, username):
    headers = {"Authorization": f"Bearer {_token(client, username)}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: dict[str, str] = {}
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) > 50  # the whole API is documented, not a stub

    for operation in operations:
        if operation.path.startswith("/api/v1/tokens"):
            # signing in with random passwords is the throttling tests' business, and revoking the run's own
            # token would leave every later operation a 401 (tests/accounts cover both)
            continue

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers, failures)
    assert not failures, "\n\n".join(f"{label}\n{reason}" for label, reason in sorted(failures.items()))


def _fuzz(operation, mode: GenerationMode, headers: dict, failures: dict[str, str]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, report them together
            failures.setdefault(operation.label, f"{type(exc).__name__}: {str(exc)[:800]}")

    run()
