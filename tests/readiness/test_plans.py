"""Emergency plans: ownership, the PDF document, filing with the regulator, evaluation due dates."""

import io
from datetime import date

from rescue.models import EmergencyPlan

PLAN = {"level": "special_plan", "title": "液氯泄漏专项应急预案", "version": "2.1", "review_date": "2025-03-10"}


def _upload(client, plan_id, data: bytes, name="plan.pdf"):
    return client.post(
        f"/api/v1/emergency-plans/{plan_id}/document", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_enterprise_files_a_plan_and_the_regulator_returns_then_accepts_it(api, pdf, enterprise_ids):
    a, regulator = api("enterprise-a"), api("regulator")
    res = a.post("/api/v1/emergency-plans", json=PLAN)
    assert res.status_code == 201, res.json
    plan = res.json
    assert plan["enterprise_id"] == enterprise_ids["enterprise-a"]
    assert plan["filing_state"] == "draft" and plan["has_document"] is False

    # no document yet: submitting names what is missing
    res = a.post(f"/api/v1/emergency-plans/{plan['id']}/submit")
    assert res.status_code == 422 and "document" in res.json["fields"]

    res = _upload(a, plan["id"], pdf, "液氯预案.pdf")
    assert res.status_code == 200, res.json
    assert res.json["has_document"] and res.json["document_name"] == "液氯预案.pdf"
    assert res.json["document_size"] == len(pdf)

    assert a.post(f"/api/v1/emergency-plans/{plan['id']}/submit").json["filing_state"] == "submitted"
    # while submitted the owner cannot change it, and the enterprise cannot decide on it
    assert a.patch(f"/api/v1/emergency-plans/{plan['id']}", json={"version": "2.2"}).status_code == 409
    assert a.post(f"/api/v1/emergency-plans/{plan['id']}/decision", json={"decision": "accept"}).status_code == 403

    # a return needs comments
    res = regulator.post(f"/api/v1/emergency-plans/{plan['id']}/decision", json={"decision": "return"})
    assert res.status_code == 422 and res.json["fields"]
    res = regulator.post(
        f"/api/v1/emergency-plans/{plan['id']}/decision", json={"decision": "return", "comment": "缺少周边企业联动内容"}
    )
    assert res.status_code == 200 and res.json["filing_state"] == "returned"
    assert res.json["filing_comment"] == "缺少周边企业联动内容"

    a.patch(f"/api/v1/emergency-plans/{plan['id']}", json={"version": "2.2"})
    assert a.post(f"/api/v1/emergency-plans/{plan['id']}/submit").json["filing_state"] == "submitted"
    res = regulator.post(f"/api/v1/emergency-plans/{plan['id']}/decision", json={"decision": "accept"})
    assert res.json["filing_state"] == "accepted" and res.json["filing_number"]
    # regulator is read-only otherwise
    assert regulator.patch(f"/api/v1/emergency-plans/{plan['id']}", json={"version": "9"}).status_code == 403
    assert regulator.post("/api/v1/emergency-plans", json=PLAN).status_code == 403

    # an accepted plan that changes must be filed again
    res = a.patch(f"/api/v1/emergency-plans/{plan['id']}", json={"version": "3.0"})
    assert res.status_code == 200 and res.json["filing_state"] == "draft"


def _document(client, plan_id):
    """The served document (status, body, response), the file closed as a WSGI server would."""
    with client.get(f"/api/v1/emergency-plans/{plan_id}/document") as res:
        return res.status_code, res.data, res


def test_document_is_served_only_to_readers_of_the_enterprise(api, pdf):
    a, b = api("enterprise-a"), api("enterprise-b")
    plan = a.post("/api/v1/emergency-plans", json=PLAN).json
    _upload(a, plan["id"], pdf)
    status, body, res = _document(a, plan["id"])
    assert status == 200 and body == pdf and res.mimetype == "application/pdf"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert _document(api("regulator"), plan["id"])[1] == pdf
    assert _document(api("dispatcher"), plan["id"])[1] == pdf
    # another enterprise: not found, neither the record nor its file
    assert _document(b, plan["id"])[0] == 404
    assert b.get(f"/api/v1/emergency-plans/{plan['id']}").status_code == 404
    assert plan["id"] not in [p["id"] for p in b.get("/api/v1/emergency-plans").json["items"]]
    assert b.patch(f"/api/v1/emergency-plans/{plan['id']}", json={"title": "x"}).status_code == 404
    assert _upload(b, plan["id"], pdf).status_code == 404


def test_bad_documents_are_field_errors_not_server_errors(api, app, pdf):
    a = api("enterprise-a")
    plan = a.post("/api/v1/emergency-plans", json=PLAN).json
    # named .pdf but not a PDF
    res = _upload(a, plan["id"], b"MZ\x90\x00 this is an executable", "plan.pdf")
    assert res.status_code == 422 and "PDF" in res.json["fields"]["file"]
    res = _upload(a, plan["id"], b"", "plan.pdf")
    assert res.status_code == 422 and res.json["fields"]["file"]
    res = a.post(f"/api/v1/emergency-plans/{plan['id']}/document", data={}, content_type="multipart/form-data")
    assert res.status_code == 422 and "file" in res.json["fields"]
    # 200 MB: refused by its declared length before the body is read
    res = a.post(
        f"/api/v1/emergency-plans/{plan['id']}/document",
        data=b"%PDF-",
        content_type="application/pdf",
        environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)},
    )
    assert res.status_code == 413 and res.json["error"] == "too_large"
    # a real body just over the limit, streamed as a PDF
    big = b"%PDF-" + b"0" * (21 * 1024 * 1024)
    res = a.post(f"/api/v1/emergency-plans/{plan['id']}/document", data=big, content_type="application/pdf")
    assert res.status_code == 413
    # nothing was kept of the refused uploads
    folder = app.instance_path + "/uploads/plans"
    import os

    assert not os.path.isdir(folder) or os.listdir(folder) == []
    assert a.get(f"/api/v1/emergency-plans/{plan['id']}").json["has_document"] is False
    # a replaced document leaves one file behind, the new one
    _upload(a, plan["id"], pdf)
    _upload(a, plan["id"], pdf + b"%v2")
    assert len(os.listdir(folder)) == 1
    assert _document(a, plan["id"])[1] == pdf + b"%v2"


def test_field_errors_all_at_once(api):
    a = api("enterprise-a")
    res = a.post(
        "/api/v1/emergency-plans", json={"level": "weekly", "title": "", "review_date": "yesterday", "evaluation_cycle_years": 40}
    )
    assert res.status_code == 422
    assert set(res.json["fields"]) >= {"level", "title", "review_date", "evaluation_cycle_years"}
    # another enterprise's id is refused
    res = a.post("/api/v1/emergency-plans", json=PLAN | {"enterprise_id": 2})
    assert res.status_code in (403, 422)


def test_evaluation_cycle_and_compliance(api, session, enterprise_ids):
    a = api("enterprise-a")  # 宁夏石化: hazardous chemicals, a three-year cycle
    old = a.post(
        "/api/v1/emergency-plans", json=PLAN | {"title": "综合预案", "level": "comprehensive_plan", "review_date": "2020-05-01"}
    ).json
    assert old["cycle_years"] == 3 and old["evaluation_due"] == "2023-05-01" and old["evaluation_overdue"] is True
    fresh = a.post("/api/v1/emergency-plans", json=PLAN | {"review_date": date.today().isoformat()}).json
    assert fresh["evaluation_overdue"] is False
    # an evaluation restarts the cycle
    res = a.patch(f"/api/v1/emergency-plans/{old['id']}", json={"evaluated_on": "2024-01-10"})
    assert res.json["evaluation_due"] == "2027-01-10"
    a.patch(f"/api/v1/emergency-plans/{old['id']}", json={"evaluated_on": None, "evaluation_cycle_years": 1})
    report = api("regulator").get("/api/v1/emergency-plans/compliance").json
    assert old["id"] in [p["id"] for p in report["overdue"]]
    assert fresh["id"] not in [p["id"] for p in report["overdue"]]
    assert {old["id"], fresh["id"]} <= {p["id"] for p in report["unfiled"]}
    # enterprise-b sees none of a's plans in its report
    report_b = api("enterprise-b").get("/api/v1/emergency-plans/compliance").json
    assert old["id"] not in [p["id"] for p in report_b["overdue"] + report_b["unfiled"]]
    session.rollback()  # a fresh snapshot: the fixture's transaction began before the requests
    assert session.get(EmergencyPlan, old["id"]).evaluation_cycle_years == 1
