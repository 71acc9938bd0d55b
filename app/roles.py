"""Who acts in the diagrams: BPMN lane names (as analysts draw them) and the role each stands for."""

SUPPLIER = "supplier"
AGENT = "agent"
ANALYST = "analyst"
ADMIN = "admin"
SYSTEM = "system"

#: Lane name in the diagrams → role whose users complete the user tasks of that lane.
LANES = {
    "Fournisseur": SUPPLIER,
    "Gestionnaire ASP": AGENT,
    "Système": SYSTEM,
}

#: The lane each role works in (inverse of LANES).
LANE_OF_ROLE = {role: lane for lane, role in LANES.items()}
