from tests.browser.conftest import login


def test_probe(page, live):
    msgs = []
    page.on("console", lambda m: msgs.append(f"{m.type}: {m.text} {m.location}"))
    page.on("response", lambda r: msgs.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    login(page, live, "dispatcher")
    page.goto(live.url + "/api/v1/docs")
    page.wait_for_timeout(5000)
    print(page.evaluate("() => document.querySelectorAll('.opblock-tag').length"))
    print(page.evaluate("() => { const h = document.getElementById('ui').innerHTML; const i = h.indexOf('operations-tag-cards'); return h.slice(i - 300, i + 2500); }"))
    text = page.inner_text("#ui")
    i = text.find("\ncards")
    print(text[i:i+1500])
    print("\n".join(msgs[:30]))
