"""The report's standard extra sections, in report order: policy, validation, savings.

An explicit list of functions (no import by name): the CLI (``worklife report``) and
the demo pass ``standard_providers()`` to ``collect_sections``. Each turns another
stage's records into ``Section`` records; the stages themselves import nothing from
``worklife.report``.
"""

from __future__ import annotations

from worklife.report.policy_section import policy_sections
from worklife.report.savings_section import savings_sections
from worklife.report.sections import Provider
from worklife.report.validation import validation_sections


def standard_providers() -> tuple[Provider, ...]:
    """Policy findings and boundary pressure, metric validation, digest savings."""
    return (policy_sections, validation_sections, savings_sections)
