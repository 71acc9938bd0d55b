"""Anti-robot check (ALTCHA v2): challenge endpoint, verification, replay, expiry, form field."""
import base64
import json
import re
from datetime import timedelta

import pytest
from flask import render_template_string
from flask_wtf import FlaskForm

from app import clock, config
from app.extensions import db
from app.models import UsedCaptcha
from app.services.captcha import CaptchaError, check, verify
from forms.captcha import CaptchaField
from captcha_solver import solve  # tests/ is on sys.path (rootdir conftest)

REQUIRED = "Veuillez valider le contrôle anti-robot (captcha)."
EXPIRED = "Le contrôle anti-robot a expiré ou a déjà été utilisé : veuillez le valider à nouveau."


class CaptchaForm(FlaskForm):
    captcha = CaptchaField()


def fetch_challenge(client) -> dict:
    response = client.get("/captcha/challenge")
    assert response.status_code == 200
    return response.get_json()


def decode(payload: str) -> dict:
    return json.loads(base64.b64decode(payload))


def encode(data) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def refusal(app, payload) -> str | None:
    """The French message of a refused payload, None when accepted (and committed, as a step is)."""
    with app.app_context():
        try:
            check(payload)
        except CaptchaError as exc:
            return exc.message
        db.session.commit()
    return None


def used_signatures(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(db.select(UsedCaptcha.signature)))


def test_challenge_endpoint_serves_a_signed_v2_challenge(app, client):
    clock.freeze(clock.now().replace(microsecond=0))
    response = client.get("/captcha/challenge")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_json()
    # The widget takes any object with a top-level "challenge" key for a v1 challenge.
    assert set(body) == {"parameters", "signature"}
    assert re.fullmatch(r"[0-9a-f]{64}", body["signature"])
    parameters = body["parameters"]
    assert parameters["algorithm"] == "PBKDF2/SHA-256"
    assert parameters["cost"] == app.config["ALTCHA_COST"] == 200
    assert parameters["keyPrefix"] == "00"
    assert parameters["keyLength"] == 32
    assert re.fullmatch(r"[0-9a-f]{32}", parameters["nonce"])
    assert re.fullmatch(r"[0-9a-f]{32}", parameters["salt"])
    assert parameters["expiresAt"] == int(clock.now().timestamp()) + app.config["ALTCHA_EXPIRES_SECONDS"]
    assert fetch_challenge(client)["parameters"]["nonce"] != parameters["nonce"]


def test_solved_payload_is_accepted_once(app, client):
    challenge = fetch_challenge(client)
    payload = solve(challenge)
    assert set(decode(payload)["solution"]) == {"counter", "derivedKey", "time"}

    assert refusal(app, payload) is None
    assert used_signatures(app) == {challenge["signature"]}
    assert refusal(app, payload) == EXPIRED
    with app.app_context():
        assert verify(payload) is False


def test_use_is_final_only_when_the_caller_commits(app, client):
    payload = solve(fetch_challenge(client))
    with app.app_context():
        assert verify(payload) is True
        db.session.rollback()  # the step failed: nothing happened, the payload is still good
        assert verify(payload) is True
        db.session.commit()
    assert refusal(app, payload) == EXPIRED


def _set(path, value):
    def mutate(data):
        *parents, key = path
        node = data
        for parent in parents:
            node = node[parent]
        if value is None:
            del node[key]
        else:
            node[key] = value(node[key]) if callable(value) else value
    return mutate


TAMPERINGS = {
    "cost lowered": _set(("challenge", "parameters", "cost"), 1),
    "key prefix emptied": _set(("challenge", "parameters", "keyPrefix"), ""),
    "expiry pushed back": _set(("challenge", "parameters", "expiresAt"), lambda v: v + 3600),
    "signature altered": _set(("challenge", "signature"), lambda v: v[:-1] + ("0" if v[-1] != "0" else "1")),
    "signature removed": _set(("challenge", "signature"), None),
    "wrong counter": _set(("solution", "counter"), lambda v: v + 1),
    "wrong derived key": _set(("solution", "derivedKey"), "00" * 32),
}


def test_tampered_payloads_are_refused(app, client):
    payload = solve(fetch_challenge(client))
    for name, mutate in TAMPERINGS.items():
        data = decode(payload)
        mutate(data)
        assert refusal(app, encode(data)) == REQUIRED, name
    assert used_signatures(app) == set()
    assert refusal(app, payload) is None  # the genuine payload was not consumed


@pytest.mark.parametrize("payload", [
    None,
    "",
    "pas du base64 !",
    encode([]),
    encode({"challenge": 1, "solution": 2}),
    encode({"challenge": None, "solution": None, "test": True}),  # the widget's « test » mode
    encode({"algorithm": "SHA-256", "challenge": "ab", "number": 1, "salt": "x", "signature": "y"}),
    "A" * 10_000,
])
def test_malformed_payloads_are_refused(app, payload):
    assert refusal(app, payload) == REQUIRED


def test_expired_challenge_is_refused(app, client):
    clock.freeze(clock.now())
    lifetime = app.config["ALTCHA_EXPIRES_SECONDS"]
    late, in_time = solve(fetch_challenge(client)), solve(fetch_challenge(client))

    clock.advance(timedelta(seconds=lifetime - 5))
    assert refusal(app, in_time) is None
    clock.advance(timedelta(seconds=6))
    assert refusal(app, late) == EXPIRED


def test_expired_uses_are_purged(app, client):
    first = fetch_challenge(client)
    assert refusal(app, solve(first)) is None
    clock.advance(timedelta(seconds=app.config["ALTCHA_EXPIRES_SECONDS"] + 1))
    second = fetch_challenge(client)
    assert refusal(app, solve(second)) is None
    assert used_signatures(app) == {second["signature"]}


def test_disabled_captcha_accepts_anything(app):
    app.config["CAPTCHA_ENABLED"] = False
    with app.app_context():
        assert verify(None) is True
        assert verify("n'importe quoi") is True
    assert used_signatures(app) == set()


def test_field_renders_the_french_widget(app):
    with app.test_request_context():
        html = str(CaptchaForm(meta={"csrf": False}).captcha())
    assert html.startswith("<altcha-widget ") and 'id="captcha"' in html
    assert 'challenge="/captcha/challenge"' in html
    assert 'name="captcha"' in html
    assert 'language="fr-fr"' in html
    assert "<noscript>" in html and "nécessite JavaScript" in html


def test_field_validator_adds_the_french_errors(app, client):
    payload = solve(fetch_challenge(client))
    with app.test_request_context(method="POST", data={}):
        form = CaptchaForm(meta={"csrf": False})
        assert not form.validate()
        assert form.captcha.errors == [REQUIRED]
    with app.test_request_context(method="POST", data={"captcha": payload}):
        assert CaptchaForm(meta={"csrf": False}).validate()
        db.session.commit()
    with app.test_request_context(method="POST", data={"captcha": payload}):
        form = CaptchaForm(meta={"csrf": False})
        assert not form.validate()
        assert form.captcha.errors == [EXPIRED]
        html = render_template_string(
            '{% from "macros/captcha.html" import captcha %}{{ captcha(form.captcha) }}', form=form)
    assert "fr-input-group--error" in html
    assert f'<p class="fr-error-text" id="captcha-desc-error">{EXPIRED}</p>' in html
    assert 'aria-describedby="captcha-desc-error"' in html


def test_assets_macro_when_the_asset_route_exists(app):
    if "assets" not in app.blueprints:
        pytest.skip("blueprint « assets » (route /assets/<path>) pas encore livré")
    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/captcha.html" import captcha_assets %}{{ captcha_assets() }}')
    assert 'type="module"' in html and "altcha/dist/main/altcha.min.js" in html


def test_referenced_widget_files_exist():
    """A version bump of the npm package that renames or drops a file fails here."""
    macro = (config.ROOT / "app" / "templates" / "macros" / "captcha.html").read_text()
    paths = re.findall(r"path='([^']+)'", macro)
    assert paths == ["altcha/dist/main/altcha.min.js", "altcha/dist/i18n/fr-fr.js"]
    bundle, french = ((config.ROOT / "node_modules" / path).read_text() for path in paths)
    assert '"altcha-widget"' in bundle  # the ES module that defines the custom element
    assert 'set("fr-fr"' in french and "Je ne suis pas un robot" in french
