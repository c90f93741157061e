"""Readiness pages: an enterprise registers, uploads and files a plan; the regulator returns and accepts it."""

import io
import re

from sqlalchemy import select

from rescue.models import EmergencyPlan
from tests.pages.test_pages import csrf_of, sign_in


def _post(client, path, data, **kw):
    page = client.get(kw.pop("page", "/readiness/"))
    return client.post(path, data=data | {"csrf_token": csrf_of(page.text)}, **kw)


def test_plan_flow_through_the_pages(app, client, session, pdf):
    sign_in(client, "enterprise-a")
    page = client.get("/readiness/")
    assert page.status_code == 200 and "应急预案" in page.text and "<script>" not in page.text
    res = _post(
        client,
        "/readiness/plans",
        {"level": "onsite_plan", "title": "装车栈台泄漏现场处置方案", "version": "1.0", "review_date": "2026-03-01"},
    )
    assert res.status_code == 302
    plan = session.scalars(select(EmergencyPlan).where(EmergencyPlan.title == "装车栈台泄漏现场处置方案")).one()
    # a file that is not a PDF is refused with the reason shown
    res = _post(
        client,
        f"/readiness/plans/{plan.id}/document",
        {"file": (io.BytesIO(b"GIF89a..."), "x.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "只接受 PDF 文件" in res.text
    res = _post(
        client,
        f"/readiness/plans/{plan.id}/document",
        {"file": (io.BytesIO(pdf), "现场处置方案.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "预案文件已上传" in res.text and "现场处置方案.pdf" in res.text
    res = _post(client, f"/readiness/plans/{plan.id}/submit", {}, follow_redirects=True)
    assert "已提交监管部门备案" in res.text

    assert _post(client, "/logout", {}).status_code == 302
    sign_in(client, "regulator")
    desk = client.get("/readiness/regulator")
    assert desk.status_code == 200 and "装车栈台泄漏现场处置方案" in desk.text
    assert re.search(rf'data-plan-id="{plan.id}"', desk.text)
    res = _post(
        client,
        f"/readiness/plans/{plan.id}/decision",
        {"decision": "return", "comment": ""},
        page="/readiness/regulator",
        follow_redirects=True,
    )
    assert "退回时须填写意见" in res.text
    res = _post(
        client,
        f"/readiness/plans/{plan.id}/decision",
        {"decision": "return", "comment": "补充疏散路线"},
        page="/readiness/regulator",
        follow_redirects=True,
    )
    assert "已退回" in res.text
    session.rollback()
    assert session.get(EmergencyPlan, plan.id).filing_comment == "补充疏散路线"
    # the regulator cannot use the enterprise's page
    assert client.get("/readiness/").status_code == 403
