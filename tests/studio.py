"""An analyst (or an admin) in « Processus », over HTTP: the studio page's buttons and the package
editors post to these routes.

    analyst = Analyst(portal)                      # logged in, on /processus
    status, json = analyst.action("instruction.bpmn", "verifier", xml=...)
    response = analyst.post("/processus/paquet/deployer", comment="pourquoi")
"""
from browser import Browser
from people import log_in, make_user


class Analyst:
    def __init__(self, app, role="analyst"):
        self.app = app
        self.browser = Browser(app.test_client())
        log_in(self.browser, *make_user(app, role))
        self.index = self.browser.get("/processus")
        assert self.index.status == 200, self.index.status

    @property
    def token(self) -> str:
        return self.index.doc.xpath("//input[@name='csrf_token']/@value")[0]

    def post(self, path: str, **fields):
        data = {"csrf_token": [self.token], **{k: [v] for k, v in fields.items()}}
        return self.browser.client.post(path, data=data)

    def drafts(self) -> set[str]:
        """The names (files, sections) of the drafts the versions page lists."""
        page = self.browser.get("/processus")
        return {ident.removeprefix("draft-") for ident in page.doc.xpath("//table[@id='package-drafts']//tr/@id")}

    def action(self, file_name: str, action: str, **fields):
        response = self.post(f"/processus/fichiers/{file_name}/{action}", **fields)
        return response.status_code, response.get_json()
