"""Error pages (403, 404, a stale form, 500) in the layout, in the reader's language; the API
and other non-browser clients keep the bare status and text."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web

from tests.web.conftest import Seed, Web, make_app
from web.i18n import translate

HTML = {"Accept": "text/html"}


def _said(html: str, key: str, lang: str) -> bool:
    return translate(key, lang) in html and translate(f"{key}.hint", lang) in html


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_missing_item_and_a_forbidden_page_are_said_in_the_readers_language(
    as_liaison: Web, seed: Seed, lang: str
) -> None:
    await as_liaison.get(f"/lang/{lang}")
    response = await as_liaison.get(f"/items/{seed.item_b}", headers=HTML)
    html = await response.text()
    assert response.status == 404 and "<main>" in html and "联络员甲" in html
    assert _said(html, "error.404", lang) and "no such item" not in html
    response = await as_liaison.get("/people", headers=HTML)
    html = await response.text()
    assert response.status == 403 and _said(html, "error.403", lang)
    assert "your role may not" not in html


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_stale_form_says_the_page_expired_and_changes_nothing(
    as_admin: Web, seed: Seed, lang: str
) -> None:
    await as_admin.get(f"/lang/{lang}")
    response = await as_admin.post(
        f"/items/{seed.item_a}/cancel", {"reason": "重复"}, csrf=False, headers=HTML
    )
    html = await response.text()
    assert response.status == 403 and _said(html, "error.csrf", lang)
    assert "CSRF" not in html
    page = await (await as_admin.get(f"/items/{seed.item_a}")).text()
    assert translate("error.csrf", lang) not in page and "重复" not in page


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_unexpected_error_is_a_page_and_a_log_line_not_a_trace(
    sessions, clock, aiohttp_client_factory, seed: Seed, caplog, lang: str
) -> None:
    app = make_app(sessions, clock)

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app.router.add_get("/broken", broken)
    client = Web(await aiohttp_client_factory(app))
    assert (await client.login("admin@example.gov.cn", person_id=seed.admin)).status == 303
    await client.get(f"/lang/{lang}")
    with caplog.at_level(logging.ERROR, logger="web.admin"):
        response = await client.get("/broken", headers=HTML)
    html = await response.text()
    assert response.status == 500 and _said(html, "error.500", lang)
    assert "secret internals" not in html and "Traceback" not in html
    assert any("GET /broken failed" in r.getMessage() for r in caplog.records)


async def test_clients_that_are_not_browsers_keep_the_bare_status(
    as_liaison: Web, seed: Seed
) -> None:
    response = await as_liaison.get(f"/items/{seed.item_b}", headers={"Accept": "*/*"})
    assert response.status == 404 and "<main>" not in await response.text()


@pytest.mark.parametrize(
    ("lang", "said"),
    [("zh", "请勾选确认后再退回重办"), ("en", "Tick the confirmation to send it back")],
)
async def test_a_form_error_is_said_in_the_readers_language(
    as_admin: Web, seed: Seed, lang: str, said: str
) -> None:
    await as_admin.get(f"/lang/{lang}")
    response = await as_admin.post(
        f"/items/{seed.item_a}/reopen", {"reason": "核查不符", "due_on": "2027-01-29"}
    )
    html = await response.text()
    assert response.status == 400 and said in html
    assert "tick the confirmation" not in html  # no inline pair of the other language
