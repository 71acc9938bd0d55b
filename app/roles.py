"""Who acts in the diagrams: BPMN lane names (as analysts draw them) and the role each stands for."""

SUPPLIER = "supplier"
AGENT = "agent"
ANALYST = "analyst"
ADMIN = "admin"
SYSTEM = "system"

#: Roles an account may have, with their French label.
ROLES = {SUPPLIER: "Fournisseur", AGENT: "Gestionnaire ASP", ANALYST: "Analyste processus",
         ADMIN: "Administrateur"}

#: The agency's staff: they see every submitted request.
STAFF = (AGENT, ANALYST, ADMIN)

#: Lane name in the diagrams → role whose users complete the user tasks of that lane.
LANES = {
    "Fournisseur": SUPPLIER,
    "Gestionnaire ASP": AGENT,
    "Système": SYSTEM,
}

#: The lane each role works in (inverse of LANES; an admin may stand in for an agent).
LANE_OF_ROLE = {role: lane for lane, role in LANES.items()} | {ADMIN: "Gestionnaire ASP"}
