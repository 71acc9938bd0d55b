"""The refusal reasons of the review grid are process data (issue 15): an analyst rewrites the list in
« Processus », bad lines are refused in French with the text kept, and once the package is
deployed the agents' grid offers the new list, while a verdict given before keeps its reason."""
from app import package
from app.extensions import db
from app.models import DocumentVerdict
from instruction_steps import Agent, file_request
from studio import Analyst
from test_review_grid import _documents, _judge, _row, _text, with_kbis

EDITOR = "/processus/motifs"


def test_an_analyst_rewrites_the_reasons_and_the_grid_offers_them_once_deployed(portal, mailbox):
    public_id, _ = file_request(portal, with_kbis())
    kbis, rib = (_documents(portal, public_id)[name] for name in ("kbis.pdf", "rib.pdf"))
    agent = Agent(portal)
    page = _judge(agent.claim(public_id), kbis.id, verdict="non_conforme", reason_code="expire")
    assert page.status == 200, page.errors()

    analyst = Analyst(portal)
    assert analyst.index.doc.xpath("//ul[@id='package-sections']//a[normalize-space()="
                                   "'Motifs de non-conformité des pièces']/@href") == [EDITOR]
    page = analyst.browser.get(EDITOR)
    assert page.status == 200 and page.h1 == "Motifs de non-conformité des pièces"
    shipped = page.form("reasons-form").values["reasons"][0]
    assert "expire | Document expiré" in shipped and "illisible | Document illisible" in shipped

    typed = "illisible | Document illisible\nperime Document périmé\nautre | Autre chose\nvide |\nillisible | Doublon"
    page = page.form("reasons-form").fill(reasons=typed).submit("Enregistrer le brouillon")
    assert page.status == 422
    assert [m for field, messages in page.errors().items() if field.startswith("reasons") for m in messages] == [
        "Ligne 2 : écrivez « code | libellé » (il manque « | »).",
        "Ligne 5 : le code « illisible » est déjà celui d'un motif plus haut.",
        "Le code « autre » est celui du motif saisi par l'agent (« Autre (préciser) ») : choisissez-en un autre.",
        "Indiquez le libellé du motif."]
    assert page.form("reasons-form").values["reasons"][0].strip() == typed  # nothing typed is lost
    with portal.app_context():
        assert package.section_draft("refusal_reasons") is None

    reasons = "illisible | Document illisible\nperime | Document périmé (plus de trois mois)"
    page = page.form("reasons-form").fill(reasons=reasons).submit("Enregistrer le brouillon")
    assert page.status == 200 and "Brouillon des motifs enregistré" in " ".join(page.alerts())
    page = page.form("package-deploy").fill(comment="Motif « périmé » à la place d'« expiré »").submit("Déployer")
    assert page.status == 200 and any("déployé" in alert for alert in page.alerts()), page.alerts()
    with portal.app_context():
        assert package.current()["refusal_reasons"] == {"illisible": "Document illisible",
                                                        "perime": "Document périmé (plus de trois mois)",
                                                        "autre": "Autre (préciser)"}

    page = agent.review(public_id)
    offered = page.doc.xpath(f"//select[@name='piece-{rib.id}-reason_code']/option/text()")
    assert offered[1:] == ["Document illisible", "Document périmé (plus de trois mois)", "Autre (préciser)"]
    assert "Document expiré" in _text(_row(page, "kbis.pdf"))  # given before: kept as it was
    page = _judge(page, rib.id, verdict="non_conforme", reason_code="perime")
    assert page.status == 200, page.errors()
    page = _judge(page, rib.id, verdict="non_conforme", reason_code="expire")  # no longer offered
    assert page.status == 422 and page.errors()[f"piece-{rib.id}-reason_code"]
    with portal.app_context():
        assert [(v.reason_code, v.reason) for v in db.session.scalars(
            db.select(DocumentVerdict).order_by(DocumentVerdict.id))] == [
            ("expire", "Document expiré"), ("perime", "Document périmé (plus de trois mois)")]
