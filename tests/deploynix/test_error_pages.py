"""403 and 404 are pages of the panel (the base layout, a way back), with DEBUG off."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("debug_off")]


@pytest.fixture
def debug_off():
    with override_settings(DEBUG=False):
        yield


def test_an_outsider_gets_the_panels_not_found_page(cast, client_for):
    response = client_for(cast.outsider).get("/o/acme/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'class="topbar"' in page and "Page not found" in page
    assert 'href="/"' in page
    assert "Acme" not in page  # nothing about the organization it may not see


def test_a_member_without_the_capability_gets_the_panels_forbidden_page(cast, client_for):
    response = client_for(cast.viewer).get("/o/acme/audit/")
    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="topbar"' in page and "Not allowed" in page
    assert 'href="/o/acme/"' in page  # back to the organization's dashboard


def test_an_unknown_address_is_the_panels_not_found_page_for_anyone(client_for):
    response = client_for(None).get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_api_tokens_page_is_in_the_organizations_navigation(cast, client_for):
    page = client_for(cast.viewer).get("/o/acme/").content.decode()
    nav = page[page.index('class="mainnav"'):page.index("</nav>")]
    assert 'href="/tokens/"' in nav
