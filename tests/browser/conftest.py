"""One app server and one Chromium for the whole browser suite; a fresh page per test."""

from __future__ import annotations

import os

import pytest

from .harness import CHROMIUM, app_server, chromium


@pytest.fixture(scope="session")
def app_url():
    with app_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium (make browser)")
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    yield page
    context.close()
