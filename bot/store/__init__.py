"""Persistence: models, repositories, the unit of work, encryption at rest and keys. Importing
the package registers every table module with the metadata.

May import: engine and the foundation (settings, ports, logs); no capability package.
"""

from bot.store import console_models as console_models
from bot.store import escalation_models as escalation_models
