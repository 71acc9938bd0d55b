"""The declarations the supplier accepts before « Terminer » (texts of the guide, chapter 3).

Used for the confirmation form's checkbox labels and printed in the recap PDF.
"""

DECLARATIONS = {
    "accept_cgu": "J'ai lu et j'accepte les CGU",
    "accept_penal_code": (
        "Je suis informé(e) des dispositions de l'article 441-7 du code pénal qui prévoit [...] "
        "qu'est puni d'un an d'emprisonnement et de 15000 euros d'amende le fait : "
        "1° D'établir une attestation ou un certificat faisant état de faits matériellement "
        "inexacts ; "
        "2° De falsifier une attestation ou un certificat originairement sincère ; "
        "3° De faire usage d'une attestation ou d'un certificat inexact ou falsifié ; "
        "Les peines sont portées à trois ans d'emprisonnement et à 45 000 euros d'amende lorsque "
        "l'infraction est commise en vue de porter préjudice au Trésor public ou au patrimoine "
        "d'autrui"
    ),
    "accept_sincerity": (
        "L'ensemble des éléments saisis dans ce formulaire de demande sont sincères et véritables"
    ),
}
