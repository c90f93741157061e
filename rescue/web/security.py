"""Security headers on every response (CSP, nosniff, frame and referrer policy) and the session cookie's Secure flag.

A small after-request hook rather than a library: the policy is fixed, and the pages are built for it
(no inline script, style or event handler; data reaches scripts through `<script type="application/json">`
blocks, which are never executed, and user text is set as text, never parsed as HTML).
"""

from urllib.parse import urlsplit

from flask import Flask, Response

# headers set on every response unless a view set its own
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def tile_origin(tile_url: str) -> str | None:
    """The scheme and host of a tile URL template ("https://t{s}.example.cn/{z}/{x}/{y}.png" → its origin).

    A subdomain placeholder ({s}) becomes a wildcard host so every tile server of the set is allowed.
    """
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}", "s-placeholder"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.split("@")[-1]
    if "s-placeholder" in host:
        host = "*." + host.split(".", 1)[1] if "." in host else host
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str = "") -> str:
    """Only this service's own scripts, styles and connections; images also from the configured tile server."""
    img = ["'self'", "data:"]
    tiles = tile_origin(tile_url)
    if tiles:
        img.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": img,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def init_app(app: Flask) -> None:
    """Add the headers to every response; mark the session cookie Secure when the public URL is https."""
    explicit = app.config.get("SESSION_COOKIE_SECURE")
    if isinstance(explicit, str):  # from RESCUE_SESSION_COOKIE_SECURE
        explicit = explicit.strip().lower() in {"1", "true", "yes", "on"}
    public_https = str(app.config.get("PUBLIC_URL") or "").lower().startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = bool(explicit) or public_https
    policy = content_security_policy(app.config.get("MAP_TILE_URL", "") or "")

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", policy)
        return response
