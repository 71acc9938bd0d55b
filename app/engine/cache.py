"""Restored workflows kept between the requests of one process, keyed by their stored state.

Restoring a workflow (JSON parse, then SpiffWorkflow's restore of every task) is the largest part of
loading a request's step, and a person's requests come in pairs on the same state: the page (GET),
then its form (POST), then the next page on the state the POST saved. A page done with its workflow
gives it back (``Run.release``) under the exact JSON it was restored from or saved as; the next
``Run.load`` of a row holding that same JSON takes it instead of restoring it.

Why this is safe whatever the transactions do: the key is the stored text itself (with the spec
version), so an entry is used only when the database row holds exactly that state — a rolled-back
save leaves an entry that no row will ever match, and the LRU drops it. A workflow is in the cache or
in one request's hands, never both (``take`` removes it), and only a page that did not change it
since that JSON gives it back. ``WORKFLOW_CACHE_SIZE`` = 0 turns the cache off.
"""
import threading
from collections import OrderedDict

from flask import current_app


class WorkflowCache:
    def __init__(self):
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0  # loads that found their workflow here, and that restored it

    @staticmethod
    def _size() -> int:
        return current_app.config["WORKFLOW_CACHE_SIZE"]

    def take(self, spec_key, state_json: str):
        """The workflow kept for this exact state, removed from the cache; None when there is none."""
        with self._lock:
            workflow = self._entries.pop((spec_key, state_json), None)
            if workflow is None:
                self.misses += 1
            else:
                self.hits += 1
            return workflow

    def keep(self, spec_key, state_json: str, workflow) -> None:
        """Keep ``workflow``, which is exactly what ``state_json`` describes, for the next load."""
        size = self._size()
        if size <= 0:
            return
        with self._lock:
            self._entries[(spec_key, state_json)] = workflow
            self._entries.move_to_end((spec_key, state_json))
            while len(self._entries) > size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


WORKFLOWS = WorkflowCache()
