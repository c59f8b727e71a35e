"""The ``djanorm`` entry of the ``pytest11`` group.  No fixtures yet."""

from __future__ import annotations
