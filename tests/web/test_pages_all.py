"""Every page renders in both languages, and the nav only offers what the role may open."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Policy
from supervision.policy import ensure_default_policies
from tests.web.conftest import Seed, Web, make_app
from web.i18n import STRINGS, translate
from web.views.common import JINJA

PAGES = (
    "/",
    "/items",
    "/items/new",
    "/reviews",
    "/import",
    "/people",
    "/people/new",
    "/units",
    "/units/new",
    "/robots",
    "/robots/new",
    "/templates",
    "/templates/remind/email/en/html",
    "/policies",
    "/calendar",
    "/deliveries",
)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_page_renders(as_admin: Web, seed: Seed, sessions, lang: str) -> None:
    async with sessions() as s, s.begin():
        await ensure_default_policies(s)
        policy_id = await s.scalar(select(Policy.id))
    await as_admin.get(f"/lang/{lang}")
    paths = [*PAGES, f"/items/{seed.item_a}", f"/items/{seed.item_a}/edit", f"/people/{seed.admin}"]
    paths.append(f"/units/{seed.unit_a}")
    paths.append(f"/policies/{policy_id}")
    for path in paths:
        response = await as_admin.get(path)
        assert response.status == 200, path
        html = await response.text()
        assert translate("nav.items", lang) in html, path


def test_every_string_has_both_languages() -> None:
    for key, (zh, en) in STRINGS.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


async def test_nav_follows_the_role(as_liaison: Web, as_supervisor: Web, seed: Seed) -> None:
    html = await (await as_liaison.get("/")).text()
    nav = html.split('<nav class="main">')[1].split("</nav>")[0]
    assert 'href="/items"' in nav and 'href="/people"' not in nav and 'href="/reviews"' not in nav
    html = await (await as_supervisor.get("/")).text()
    nav = html.split('<nav class="main">')[1].split("</nav>")[0]
    assert 'href="/reviews"' in nav and 'href="/templates"' not in nav


def test_apps_of_one_process_share_the_compiled_page_templates(sessions, clock) -> None:
    first, second = make_app(sessions, clock), make_app(sessions, clock)
    assert first[JINJA] is second[JINJA]
    template = first[JINJA].get_template("login.html")
    assert second[JINJA].get_template("login.html") is template
