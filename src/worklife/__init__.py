"""worklife: private work-pattern metrics, right-to-disconnect checks and a delivery guard.

Library first, CLI second: every stage is a function in a module of this package
(``worklife.ingest``, ``worklife.metrics``, ``worklife.policy``, ``worklife.guard``,
``worklife.report``, ``worklife.synth``) and ``worklife.cli`` is a thin layer on top.
"""

from worklife.config import Config, load_config
from worklife.errors import (
    ConfigError,
    GuardError,
    IngestError,
    PolicyError,
    StoreError,
    WorklifeError,
)
from worklife.store import Store, connect

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "GuardError",
    "IngestError",
    "PolicyError",
    "Store",
    "StoreError",
    "WorklifeError",
    "__version__",
    "connect",
    "load_config",
]
