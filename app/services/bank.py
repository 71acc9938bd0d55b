"""Bank details: IBAN and BIC checks, their consistency, and the bank's name (« Domiciliation »).

Everything comes from schwifty's embedded registries: no network. The registry knows the banks of
most European countries (France included); for the others only the structure is checked.
"""
import warnings
from dataclasses import dataclass

from schwifty import BIC, IBAN, registry
from schwifty.exceptions import (InvalidBBANChecksum, InvalidChecksumDigits, InvalidCountryCode,
                                 InvalidLength, NationalChecksumNotVerified, SchwiftyException)

IBAN_INVALID = "L'IBAN saisi n'est pas valide"
IBAN_REASONS = {
    InvalidChecksumDigits: "clé de contrôle incorrecte",
    InvalidBBANChecksum: "clé RIB incorrecte",
    InvalidLength: "longueur incorrecte pour ce pays",
    InvalidCountryCode: "code pays inconnu",
}
BIC_INVALID = "Le BIC saisi n'est pas valide."

# BIC countries that may hold accounts of an IBAN country: French overseas banks have FR IBANs
# but a BIC of their territory (e.g. BFCORERX for La Réunion); Channel Islands use GB IBANs.
_BIC_COUNTRIES = {
    "FR": {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF", "TF"},
    "GB": {"GB", "JE", "GG", "IM"},
}


@dataclass
class BankCheck:
    iban: str                      # compact, upper case (as typed when it could not be read)
    bic: str                       # compact, upper case
    iban_error: str | None = None
    bic_error: str | None = None
    consistency_error: str | None = None
    domiciliation: str | None = None
    known: bool = False            # the registry gave the bank's name

    @property
    def valid(self) -> bool:
        return not (self.iban_error or self.bic_error or self.consistency_error)


def _compact(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def _parse_iban(value: str) -> tuple[IBAN | None, str | None]:
    if not value:
        return None, "Veuillez saisir l'IBAN."
    try:
        with warnings.catch_warnings():
            # Countries without a registered national algorithm: their key is simply not checked.
            warnings.simplefilter("ignore", NationalChecksumNotVerified)
            return IBAN(value, validate_bban=True), None
    except SchwiftyException as exc:
        reason = next((text for kind, text in IBAN_REASONS.items() if isinstance(exc, kind)),
                      "format incorrect")
        if isinstance(exc, InvalidBBANChecksum) and value[:2] not in ("FR", "MC"):
            reason = "clé de contrôle nationale incorrecte"  # the « clé RIB » is French
        return None, f"{IBAN_INVALID} ({reason})."


def _parse_bic(value: str) -> tuple[BIC | None, str | None]:
    if not value:
        return None, "Veuillez saisir le BIC."
    try:
        return BIC(value), None
    except SchwiftyException:
        return None, BIC_INVALID


def _iban_banks(iban: IBAN) -> list:
    """Registry entries of the IBAN's bank code (one per branch BIC), primary entry first."""
    bank = iban.bank
    if bank is None:
        return []
    return [bank] + [b for b in registry.get_banks_by_code(iban.country_code, bank.bank_code) if b is not bank]


def _consistency_error(iban: IBAN, bic: BIC) -> str | None:
    if bic.country_code not in _BIC_COUNTRIES.get(iban.country_code, {iban.country_code}):
        return f"Le BIC ne correspond pas au pays de l'IBAN ({iban.country_code})."
    expected = {b.bic[:8] for b in _iban_banks(iban) if b.bic}
    if expected and bic[:8] not in expected:
        hint = iban.bic or sorted(expected)[0]
        return f"Le BIC ne correspond pas à la banque de l'IBAN (BIC attendu : {hint})."
    return None


def _bic_variants(bic: str) -> set[str]:
    """A BIC of 8 characters and its « XXX » form designate the same head office."""
    if len(bic) == 8 or bic.endswith("XXX"):
        return {bic[:8], bic[:8] + "XXX"}
    return {bic}


def _iban_bank_name(iban: IBAN, bic: BIC | None) -> str | None:
    """Name of the IBAN's bank. The registry lists, under one bank code, branches that sometimes
    carry another name: the entry of the typed BIC (else of the IBAN's usual BIC) is preferred when
    that BIC belongs to this bank code only, else the bank code's primary entry."""
    banks = _iban_banks(iban)
    if not banks:
        return None
    for candidate in (bic, iban.bic):
        if candidate is None:
            continue
        variants = _bic_variants(candidate)
        same_bic = sorted((b for b in registry.get_banks_by_country(iban.country_code) if b.bic in variants),
                          key=lambda b: len(b.bic))  # the head office's 8-character BIC first
        if same_bic and {b.bank_code for b in same_bic} == {banks[0].bank_code}:
            return same_bic[0].name
    return banks[0].name


def check(iban: str, bic: str) -> BankCheck:
    """Check an IBAN and a BIC, and whether they belong together; name the bank when known."""
    result = BankCheck(iban=_compact(iban), bic=_compact(bic))
    parsed_iban, result.iban_error = _parse_iban(result.iban)
    parsed_bic, result.bic_error = _parse_bic(result.bic)
    if parsed_iban is not None:
        result.iban = str(parsed_iban)
    if parsed_iban is not None and parsed_bic is not None:
        result.consistency_error = _consistency_error(parsed_iban, parsed_bic)

    name = None
    if parsed_iban is not None:
        name = _iban_bank_name(parsed_iban, parsed_bic if not result.consistency_error else None)
    if name is None and parsed_bic is not None and not result.consistency_error:
        names = parsed_bic.bank_names
        name = names[0] if names else None
    result.domiciliation, result.known = name, name is not None
    return result


def lookup(iban: str, bic: str) -> dict:
    """Service task: the verdict and the bank's name, as JSON-able scalars."""
    result = check(iban, bic)
    return {"valid": result.valid, "domiciliation": result.domiciliation, "known": result.known}
