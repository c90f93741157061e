"""Every same-site link a signed-in person is shown answers: a crawler per role (Flask test client, both databases)."""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.pages.test_pages import sign_in

ROLES = ("dispatcher", "regulator", "enterprise-a")
MAX_PAGES = 160
# pages a role is shown no link to but may type in: the refusal is the intended answer
INTENDED_403 = {"enterprise-a": ("/regulator/", "/console/")}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name) and tag in ("a", "link", "script", "img"):
                self.found.append(attrs[name])


def same_site(base: str, href: str) -> str | None:
    if href.startswith(("#", "tel:", "mailto:", "javascript:", "data:")):
        return None
    target = urljoin(base, href)
    parts = urlsplit(target)
    if parts.netloc not in ("", "localhost"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.mark.parametrize("username", ROLES)
def test_every_link_a_role_is_shown_answers(client, username):
    sign_in(client, username)
    seen: dict[str, int] = {}
    queue, shown_by = ["/"], {"/": "(start)"}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        res = client.get(path)
        seen[path] = res.status_code
        body = res.get_data(as_text=True) if "text/html" in (res.content_type or "") else ""
        res.close()  # static files are streamed from open files
        if res.status_code in (301, 302, 303):
            location = same_site("http://localhost" + path, res.location)
            if location and location not in seen:
                queue.append(location)
                shown_by.setdefault(location, path)
            continue
        if "text/html" not in (res.content_type or "") or res.status_code >= 400:
            continue
        parser = Links()
        parser.feed(body)
        for href in parser.found:
            target = same_site("http://localhost" + path, href)
            # the export links produce files: fetch them (they must answer) but do not parse them
            if target and target not in seen and target not in queue and "/logout" not in target:
                queue.append(target)
                shown_by.setdefault(target, path)
    broken = {p: (code, shown_by.get(p)) for p, code in seen.items() if code >= 400}
    assert not broken, broken
    assert len(seen) > 10, seen  # the crawl reached the role's pages
    if username == "regulator":
        assert seen.get("/api/v1/drills/compliance?format=xlsx") == 200


@pytest.mark.parametrize(("username", "path"), [(u, p) for u, prefixes in INTENDED_403.items() for p in prefixes])
def test_pages_of_other_roles_refuse_with_403(client, username, path):
    sign_in(client, username)
    res = client.get(path + ("compliance" if path == "/regulator/" else ""), headers={"Accept": "text/html"})
    assert res.status_code == 403
    assert "无权" in res.text
