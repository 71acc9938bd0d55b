"""A small browser over Flask's test client: it reads the page's forms like a person sees them and
submits them with what the page holds (CSRF token, hidden fields, the button clicked)."""
from io import BytesIO
from urllib.parse import urljoin

import lxml.html
from werkzeug.datastructures import MultiDict


class Page:
    def __init__(self, browser, response, url):
        self.browser, self.response, self.url = browser, response, url
        self.status = response.status_code
        self.text = response.get_data(as_text=True)
        self.doc = lxml.html.fromstring(self.text) if self.text.strip() else None

    def __repr__(self):
        return f"<Page {self.status} {self.url}>"

    @property
    def h1(self) -> str:
        return " ".join(self.doc.xpath("string(//h1)").split())

    def texts(self, xpath: str) -> list[str]:
        return [" ".join(e.text_content().split()) for e in self.doc.xpath(xpath)]

    @property
    def content(self) -> str:
        """The visible text of the main content, whitespace-normalised."""
        main = self.doc.xpath("//main") or [self.doc]
        return " ".join(main[0].text_content().split())

    def errors(self) -> dict[str, list[str]]:
        """Field id → error messages shown next to it (DSFR error texts)."""
        found = {}
        for element in self.doc.xpath('//*[contains(@class, "fr-error-text") or contains(@class, "fr-message--error")]'
                                      '[not(ancestor::noscript)]'):
            owner = element.get("id", "").removesuffix("-error").removesuffix("-messages")
            if not owner:
                group = element.xpath('ancestor::*[contains(@class, "-group")][1]//*[@id]')
                owner = group[0].get("id") if group else "?"
            found.setdefault(owner, []).append(" ".join(element.text_content().split()))
        return found

    def alerts(self) -> list[str]:
        return self.texts('//*[contains(concat(" ", @class, " "), " fr-alert ")]')

    def form(self, index_or_id=None) -> "Form":
        forms = self.doc.forms
        if isinstance(index_or_id, str):
            forms = [f for f in forms if f.get("id") == index_or_id]
        elif isinstance(index_or_id, int):
            forms = forms[index_or_id:index_or_id + 1]
        else:  # the main form: the first visible POST form
            forms = [f for f in forms if f.get("method", "get").lower() == "post" and f.get("hidden") is None]
        assert forms, f"no form on {self.url}"
        return Form(self, forms[0])

    def form_with(self, button: str) -> "Form":
        """The POST form that has a button labelled ``button``."""
        for element in self.doc.forms:
            form = Form(self, element)
            if any(button in label for label, _, _ in form.buttons()):
                return form
        raise AssertionError(f"no form with a button « {button} » on {self.url}")

    def follow(self, link_text: str) -> "Page":
        links = [a for a in self.doc.xpath("//a") if link_text in " ".join(a.text_content().split())]
        assert links, f"no link « {link_text} » on {self.url}"
        return self.browser.get(urljoin(self.url, links[0].get("href")))


class Form:
    def __init__(self, page: Page, element):
        self.page, self.element = page, element
        self.values: dict[str, list] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        for field in element.xpath('.//input|.//select|.//textarea') + self._associated():
            name = field.get("name")
            if not name or field.get("disabled") is not None:
                continue
            tag, kind = field.tag, (field.get("type") or "text").lower()
            if tag == "input" and kind in ("submit", "button", "reset", "image", "file"):
                continue
            if tag == "input" and kind in ("checkbox", "radio"):
                if field.get("checked") is not None:
                    self.values.setdefault(name, []).append(field.get("value", "on"))
                else:
                    self.values.setdefault(name, [])
            elif tag == "select":
                selected = field.xpath('.//option[@selected]')
                self.values[name] = [selected[0].get("value")] if selected else []
            elif tag == "textarea":
                self.values[name] = [field.text or ""]
            else:
                self.values[name] = [field.get("value", "")]

    def _associated(self):
        form_id = self.element.get("id")
        return self.page.doc.xpath(f'//*[@form="{form_id}"]') if form_id else []

    def fields(self) -> set[str]:
        names = {f.get("name") for f in self.element.xpath('.//input|.//select|.//textarea') if f.get("name")}
        return names

    def fill(self, **values) -> "Form":
        for name, value in values.items():
            self._require(name)
            if value is True:
                self.values[name] = [self._checkbox_value(name)]
            elif value is False or value is None:
                self.values[name] = []
            elif isinstance(value, (list, tuple)):  # several checkboxes of one name
                self.values[name] = [str(v) for v in value]
            else:
                self.values[name] = [str(value)]
        return self

    def _checkbox_value(self, name):
        boxes = self.element.xpath(f'.//input[@name="{name}"]')
        return boxes[0].get("value", "y") if boxes else "y"

    def _require(self, name):
        assert name in self.fields(), f"no field « {name} » in the form of {self.page.url}: {sorted(self.fields())}"

    def attach(self, name: str, filename: str, content: bytes) -> "Form":
        assert self.element.xpath(f'.//input[@type="file" and @name="{name}"]'), \
            f"no file field « {name} » on {self.page.url}"
        self.files[name] = (filename, content)
        return self

    def buttons(self) -> list[tuple[str, str | None, str | None]]:
        result = []
        for b in self.element.xpath('.//button') + self._associated():
            if b.tag == "button" and (b.get("type") or "submit") == "submit":
                result.append((" ".join(b.text_content().split()), b.get("name"), b.get("value")))
        return result

    def submit(self, button: str | None = None, follow: bool = True) -> Page:
        data = {k: list(v) for k, v in self.values.items() if v}
        if button is not None:
            matches = [b for b in self.buttons() if button in b[0]]
            assert matches, f"no button « {button} » in {self.buttons()}"
            _, name, value = matches[0]
            if name:
                data[name] = [value]
        for name, (filename, content) in self.files.items():
            data[name] = [(BytesIO(content), filename)]
        action = urljoin(self.page.url, self.element.get("action") or self.page.url)
        enctype = self.element.get("enctype") or "application/x-www-form-urlencoded"
        assert not self.files or enctype == "multipart/form-data", "a browser would not send these files"
        return self.page.browser.post(action, data, follow=follow, enctype=enctype)


class Browser:
    def __init__(self, client):
        self.client = client

    def _page(self, response, url, follow):
        for _ in range(10 if follow else 0):
            if response.status_code not in (301, 302, 303, 307, 308):
                break
            url = urljoin(url, response.headers["Location"])
            response = self.client.get(url)
        else:
            assert not follow or response.status_code not in (301, 302, 303, 307, 308), f"redirect loop at {url}"
        return Page(self, response, url)

    def get(self, url: str, follow: bool = True) -> Page:
        return self._page(self.client.get(url), url, follow)

    def post(self, url: str, data: dict, follow: bool = True, enctype: str = "multipart/form-data") -> Page:
        flat = [(name, value) for name, values in data.items() for value in values]
        response = self.client.post(url, data=MultiDict(flat), content_type=enctype)
        return self._page(response, url, follow)


class LiveClient:
    """The test client's interface over real HTTP, for a portal served by another process
    (``Browser(LiveClient(url))``): cookies kept, redirects left to the ``Browser``."""

    def __init__(self, base_url: str):
        import httpx
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=60)

    def get(self, url):
        return _LiveResponse(self.http.get(url))

    def post(self, url, data, content_type=None):
        fields, files = [], []
        for name, value in data.items(multi=True):
            if isinstance(value, tuple):  # (stream, file name), as for the test client
                files.append((name, (value[1], value[0].read())))
            else:
                fields.append((name, value))
        # httpx sends multipart when there are files, a urlencoded body otherwise (Flask reads both).
        return _LiveResponse(self.http.post(url, data=_grouped(fields), files=files or None))


def _grouped(pairs):
    grouped = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


class _LiveResponse:
    def __init__(self, response):
        self.status_code, self.headers, self._text = response.status_code, response.headers, response.text

    def get_data(self, as_text=False):
        return self._text if as_text else self._text.encode()
