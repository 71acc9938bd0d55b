"""The captcha guards the SIRET search and the final confirmation, solved honestly here."""
from captcha_solver import solve
from journey import Journey

MISSING = "Veuillez valider le contrôle anti-robot (captcha)."


def solved(client):
    return solve(client.get("/captcha/challenge").get_json())


def test_captcha_is_required_at_the_siret_search_and_the_confirmation(portal, client):
    portal.config["CAPTCHA_ENABLED"] = True
    journey = Journey(client)
    journey.start()
    journey.until("siret_search")
    assert journey.page.doc.xpath('//altcha-widget[@name="captcha"]')
    page = journey.fill().submit("Rechercher")
    assert page.status == 422 and MISSING in page.content
    # Solved: the search goes through. A replayed payload is refused.
    payload = solved(client)
    form = journey.fill()
    form.values["captcha"] = [payload]
    journey.page = form.submit("Rechercher")
    assert journey.form_key == "applicant"
    journey.back()
    form = journey.fill()
    form.values["captcha"] = [payload]
    page = form.submit("Rechercher")
    assert "Le contrôle anti-robot a expiré ou a déjà été utilisé" in page.content

    journey.page = page
    form = journey.fill()
    form.values["captcha"] = [solved(client)]
    journey.page = form.submit("Rechercher")
    for _ in range(3):   # applicant, bank, VAT
        journey.next()
    assert journey.form_key == "confirmation"
    page = journey.fill().submit("Terminer")
    assert page.status == 422 and MISSING in page.content
    form = journey.fill()
    form.values["captcha"] = [solved(client)]
    journey.page = form.submit("Terminer")
    assert journey.page.h1 == "Confirmation"
