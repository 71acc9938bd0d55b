"""In a real browser (Debian's Chromium through Playwright): an analyst adds a role and its lane in
the studio's « Rôles et couloirs », checks and deploys it."""
from app import package
from people import PASSWORD, make_user


def test_an_analyst_adds_a_supervisor_role_in_the_roles_editor(portal, chromium):
    app, page = portal, chromium
    login, _ = make_user(app, "analyst")
    page.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state()
    page.goto("/processus")
    page.get_by_role("link", name="Rôles et couloirs").click()
    page.wait_for_load_state()
    assert page.inner_text("h1") == "Rôles et couloirs"
    new = int(page.locator("input[name='count']").input_value()) - 1
    page.fill(f"#role-{new}-code", "supervisor")
    page.fill(f"#role-{new}-label", "Superviseur")
    page.fill(f"#role-{new}-lanes", "Superviseur")
    page.check(f"#role-{new}-cap-see_requests", force=True)
    page.check(f"#role-{new}-cap-instruct", force=True)
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.wait_for_selector(".fr-alert:has-text('Brouillon des rôles enregistré')")
    assert "Superviseur" in page.inner_text("#permissions")
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_selector(".fr-alert:has-text('peut être déployé')")
    page.fill("#package-comment", "Rôle superviseur")
    page.get_by_role("button", name="Déployer").click()
    page.wait_for_selector(".fr-alert:has-text('Paquet de processus version 2 déployé')")
    with app.app_context():
        roles = package.current()["roles"]
        assert roles.lanes_of(["supervisor"]) == ("Superviseur",)
        assert "supervisor" in roles.table["instruct"] and "supervisor" not in roles.table["studio"]
