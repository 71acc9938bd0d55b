"""Solve an ALTCHA v2 challenge the way the widget (altcha 3.x) does, proof of work included.

The widget posts ``btoa(JSON.stringify({challenge: {parameters, signature}, solution}))`` where
``solution`` is ``{counter, derivedKey, time}``; the search is the ``altcha`` library's.
"""
import base64
import json

import altcha


def solve(challenge_json: dict) -> str:
    """The payload the widget would put in its hidden field for this challenge."""
    solution = altcha.solve_challenge(altcha.Challenge.from_dict(challenge_json), timeout=60)
    assert solution is not None, "challenge not solved in 60 s"
    payload = {
        "challenge": {
            "parameters": challenge_json["parameters"],
            "signature": challenge_json["signature"],
        },
        "solution": solution.to_dict(),
    }
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
