"""The ``tenancy`` entry of the ``djanorm.plugins`` group.

No hooks yet: loading this module registers nothing that runs.  The tenancy
filter (``dorm_query_pre_compile``), insert stamping (``dorm_pre_save``,
``dorm_pre_bulk_write``) and the public names (``dorm_public_names``) come
with the implementation.
"""

from __future__ import annotations
