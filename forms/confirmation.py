"""Step 5 « Confirmation »: the read-only recap, the captcha and the three declarations."""
from wtforms import BooleanField

from app.services.declarations import DECLARATIONS

from .base import TaskForm, register
from .captcha import CaptchaField
from .validators import required

MUST_ACCEPT = "Vous devez cocher cette case pour terminer votre demande."


@register("confirmation")
class ConfirmationForm(TaskForm):
    submit_label = "Terminer"
    transient = ("captcha",)
    captcha = CaptchaField()
    accept_cgu = BooleanField(DECLARATIONS["accept_cgu"], [required(MUST_ACCEPT)])
    accept_penal_code = BooleanField(DECLARATIONS["accept_penal_code"], [required(MUST_ACCEPT)])
    accept_sincerity = BooleanField(DECLARATIONS["accept_sincerity"], [required(MUST_ACCEPT)])
