"""Security headers on every kind of response (a page, a JSON endpoint, an asset, a document), and
cookies sent over HTTPS only when the portal's public address is HTTPS."""
import re

import pytest
from flask import render_template_string

from app import create_app
from browser import Browser
from instruction_steps import Agent, file_request
from journey import Journey

SCRIPT_SRC = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})';")


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}


def assert_protected(response, framable_by_portal=False):
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == ("'self'" if framable_by_portal else "'none'")
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert "unsafe-inline" not in policy["style-src"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # the public address is http


def test_a_page_gets_every_header_and_a_new_script_nonce_each_time(portal, client):
    first, second = client.get("/"), client.get("/")
    assert first.status_code == 200
    assert_protected(first)
    nonces = [SCRIPT_SRC.search(r.headers["Content-Security-Policy"]).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]


def test_the_nonce_given_to_templates_is_the_one_of_the_policy(portal):
    with portal.test_request_context("/"):
        html = render_template_string('<script nonce="{{ csp_nonce() }}">x()</script>')
        response = portal.process_response(portal.make_response(html))
    nonce = SCRIPT_SRC.search(response.headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in html


def test_an_error_page_and_a_json_endpoint_get_the_headers(portal, client):
    missing = client.get("/cette-page-n-existe-pas")
    assert missing.status_code == 404
    assert_protected(missing)
    challenge = client.get("/captcha/challenge")
    assert challenge.status_code == 200 and challenge.is_json
    assert_protected(challenge)


def test_the_captcha_stylesheet_is_served_with_the_headers(portal, client):
    """The widget's stylesheet replaces the <style> element it would inject: it must exist."""
    portal.config["CAPTCHA_ENABLED"] = True
    journey = Journey(client)
    journey.start()
    page = journey.until("siret_search")
    [href] = page.doc.xpath('//link[@id="altcha-css"]/@href')
    stylesheet = client.get(href)
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"
    assert b"--altcha-" in stylesheet.data
    assert_protected(stylesheet)


def test_a_download_is_protected_and_a_preview_framable_by_the_portal_only(portal):
    public_id, _ = file_request(portal)
    agent = Agent(portal)
    links = agent.review(public_id).doc.xpath('//table[@id="documents"]//a[@download]')
    assert links
    download = agent.browser.client.get(links[0].get("href"))
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert_protected(download)
    preview = agent.browser.client.get(links[0].get("href") + "?inline=1")
    assert preview.status_code == 200 and preview.headers["Content-Disposition"].startswith("inline")
    # The view's own policy is kept: the portal's pages may frame the preview, no other site.
    assert preview.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert preview.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_when_the_public_address_is_https(portal, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    portal.config["PORTAL_URL"] = "https://enrolement.segur.example.fr"
    assert client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/captcha/challenge").headers["Strict-Transport-Security"] == "max-age=31536000"


# --- cookies: derived from PORTAL_URL when the app starts ----------------------------------------

@pytest.fixture
def started(monkeypatch, tmp_path):
    """Start a portal with these environment variables; return its session cookie's Set-Cookie."""
    def start(**environment):
        for name in ("PORTAL_URL", "SESSION_COOKIE_SECURE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cookies.sqlite3'}"})
        page = Browser(app.test_client()).get("/connexion")  # its form's CSRF token opens a session
        assert page.status == 200
        [cookie] = [c for c in page.response.headers.getlist("Set-Cookie") if c.startswith("session=")]
        return cookie
    return start


def test_the_session_cookie_is_secure_when_the_public_address_is_https(started):
    cookie = started(PORTAL_URL="https://enrolement.segur.example.fr")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_session_cookie_is_not_secure_over_plain_http(started):
    cookie = started(PORTAL_URL="http://127.0.0.1:5000")
    assert "Secure" not in cookie and "; HttpOnly" in cookie


def test_session_cookie_secure_overrides_the_public_address(started):
    assert "Secure" not in started(PORTAL_URL="https://enrolement.segur.example.fr", SESSION_COOKIE_SECURE="0")
    assert "; Secure" in started(PORTAL_URL="http://127.0.0.1:5000", SESSION_COOKIE_SECURE="1")
