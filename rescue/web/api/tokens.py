"""Exchanging a username and password for a bearer token."""

from flask import current_app

from rescue.accounts import accounts
from rescue.accounts.schemas import TokenIn, TokenOut
from rescue.validation import parse
from rescue.web.api import bp, json_body
from rescue.web.api.openapi import documented
from rescue.web.extensions import get_session


@bp.post("/tokens")
@documented("用户名密码换取令牌", body=TokenIn, response=TokenOut, status=201)
def create_token() -> tuple[dict, int]:
    creds = parse(TokenIn, json_body())
    session = get_session()
    user = accounts.authenticate(session, creds.username, creds.password)
    token, row = accounts.issue_token(session, user, ttl_hours=current_app.config["TOKEN_TTL_HOURS"])
    session.commit()
    return {"token": token, "expires_at": row.expires_dt.isoformat(), "role": user.role.value,
            "enterprise_id": user.enterprise_id}, 201
