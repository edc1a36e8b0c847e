"""Optional enforcement (issue 18, item 5): what a teacher leaves unanswered is moved by the
school's policy, after a sent digest announced the day.

* :mod:`.settings`: the ``enforcement`` block of the YAML (off by default);
* :mod:`.policy`: which items the policy may touch and the day the digest announces;
* :mod:`.run`: the nightly move, through ``Connector.remove`` (never a hard delete).
"""

from scanner.enforcement.settings import EnforcementSettings

__all__ = ["EnforcementSettings"]
