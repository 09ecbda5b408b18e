"""Persistence. Importing the package registers every table module with the metadata."""

from bot.store import escalation_models as escalation_models
