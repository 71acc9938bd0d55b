"""Section « refusal_reasons »: the reasons an agent picks when a document is « non conforme » in the
review grid (``services.verdicts``), {code: {"label": …}} in the order the list shows them. After
them the grid always offers « Autre (préciser) », a reason the agent types: that one is not data.

A verdict keeps its reason's text and code, so a reason removed or renamed later leaves the
verdicts already given as they were. Read ``package.current()`` (the grid is the agency's, not a
request's)."""
import re

from . import Section, register

#: The code of the typed reason (« Autre (préciser) »), which no listed reason may take.
OTHER = "autre"
OTHER_LABEL = "Autre (préciser)"
CODE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")  # document_verdict.reason_code: 30 characters
LABEL_MAX = 200


def problems(value: dict) -> list[tuple[str, str]]:
    """(code, French message) of what is wrong with a section value; none when it is right."""
    found, labels = [], {}
    for code, item in value.items():
        label = str(item.get("label", "")).strip()
        if code == OTHER:
            found.append((code, f"le code « {OTHER} » est celui du motif saisi par l'agent (« {OTHER_LABEL} ») : "
                                "choisissez-en un autre."))
        elif not CODE.match(code):
            found.append((code, f"code « {code} » invalide : lettres minuscules sans accent, chiffres et « _ », "
                                "30 caractères au plus, en commençant par une lettre."))
        if not label:
            found.append((code, "indiquez le libellé du motif."))
        elif len(label) > LABEL_MAX:
            found.append((code, f"le libellé du motif dépasse {LABEL_MAX} caractères."))
        elif label.casefold() in labels:
            found.append((code, f"le libellé « {label} » est déjà celui du motif « {labels[label.casefold()]} »."))
        else:
            labels[label.casefold()] = code
    return found


def parse(text: str) -> tuple[dict, list[str]]:
    """The section value typed in the studio, one reason per line « code | libellé », and the
    French messages of the lines that are not (a code given twice, a line without « | »)."""
    value, errors = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        code, bar, label = (part.strip() for part in line.partition("|"))
        if not bar:
            errors.append(f"Ligne {number} : écrivez « code | libellé » (il manque « | »).")
        elif code in value:
            errors.append(f"Ligne {number} : le code « {code} » est déjà celui d'un motif plus haut.")
        else:
            value[code] = {"label": " ".join(label.split())}
    return value, errors


def as_text(value: dict) -> str:
    return "\n".join(f"{code} | {item.get('label', '')}" for code, item in value.items())


class RefusalReasonsSection(Section):
    name = "refusal_reasons"
    label = "Motifs de non-conformité des pièces"
    editor = "studio_reasons.index"
    shipped_default = True  # a package stored before the reasons were data keeps the shipped list

    def build(self, value, package) -> dict[str, str]:
        """{code: label} of the listed reasons, then « Autre (préciser) »."""
        return {**{code: item.get("label", code) for code, item in value.items()}, OTHER: OTHER_LABEL}

    def check(self, package, processes) -> list:
        return [self.problem(code, message) for code, message in problems(package.data[self.name])]


register(RefusalReasonsSection())
