"""The anti-robot field of the forms that start or conclude an anonymous request (ALTCHA; the
rules live in app/services/captcha.py)."""
import json

from flask import url_for
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.validators import ValidationError
from wtforms.widgets import html_params

from app.services.captcha import MESSAGE_NOSCRIPT, MESSAGE_REQUIRED, CaptchaError, check

class CaptchaValidator:
    """Calls ``check`` and turns a refusal into the French form error."""

    def __call__(self, form, field):
        try:
            check(field.data)
        except CaptchaError as exc:
            raise ValidationError(exc.message) from None


class CaptchaWidget:
    """``<altcha-widget>`` (a checkbox « Je ne suis pas un robot », French strings) and a
    ``<noscript>`` notice. The widget's script: ``captcha_assets()`` in macros/captcha.html."""

    def __call__(self, field, **kwargs):
        configuration = {
            "hideLogo": True,
            "hideFooter": True,  # no third-party link on a government page
            "validationMessage": MESSAGE_REQUIRED,  # when submitted unchecked
        }
        params = {
            "id": field.id,
            "challenge": url_for("captcha.challenge"),
            "name": field.name,  # the hidden input that carries the payload
            "language": "fr-fr",  # registered by altcha/dist/i18n/fr-fr.js
            "type": "checkbox",
            "configuration": json.dumps(configuration, ensure_ascii=False),
            **kwargs,
        }
        return Markup(
            f"<altcha-widget {html_params(**params)}></altcha-widget>"
            f'<noscript><p class="fr-error-text">{escape(MESSAGE_NOSCRIPT)}</p></noscript>')


class CaptchaField(Field):
    """The anti-robot check of a form; validated by ``CaptchaValidator`` unless told otherwise."""

    widget = CaptchaWidget()

    def __init__(self, label="Contrôle anti-robot", validators=None, **kwargs):
        super().__init__(label, validators or [CaptchaValidator()], **kwargs)

    def process_formdata(self, valuelist):
        self.data = valuelist[0] if valuelist else None

    def _value(self):
        return ""  # a payload is used once: never rendered back
