"""Exchanging a username and password for a bearer token, and revoking it."""

from flask import current_app, jsonify
from werkzeug.wrappers import Response

from rescue.accounts import accounts, throttle
from rescue.accounts.schemas import TokenIn, TokenOut
from rescue.errors import AuthError
from rescue.validation import parse
from rescue.web.api import bp, json_body
from rescue.web.api.openapi import documented
from rescue.web.auth import client_address, end_credential, now, roles_required
from rescue.web.extensions import get_session


@bp.post("/tokens")
@documented("用户名密码换取令牌 (连续失败过多时返回 429 与 Retry-After)", body=TokenIn, response=TokenOut, status=201)
def create_token() -> tuple[dict, int] | tuple[Response, int, dict]:
    creds = parse(TokenIn, json_body())
    session = get_session()
    try:
        user = throttle.sign_in(session, creds.username, creds.password, client_address(), now=now())
    except throttle.ThrottledError as exc:
        body = {"error": exc.code, "message": exc.message, "fields": {}} | exc.extra
        return jsonify(body), exc.status, {"Retry-After": str(exc.retry_after)}
    except AuthError:
        session.commit()  # the failure counts although the request fails
        raise
    token, row = accounts.issue_token(session, user, ttl_hours=current_app.config["TOKEN_TTL_HOURS"], now=now())
    session.commit()
    return {
        "token": token,
        "expires_at": row.expires_dt.isoformat(),
        "role": user.role.value,
        "enterprise_id": user.enterprise_id,
    }, 201


@bp.delete("/tokens/current")
@documented("吊销本次请求所用的令牌 (或结束本浏览器的登录会话)", status=204)
@roles_required()
def revoke_current_token() -> tuple[str, int]:
    end_credential()
    get_session().commit()
    return "", 204
