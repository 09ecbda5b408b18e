"""Safety: escalation of urgent messages and its chase, the on-call rota and office hours,
the second opinion on urgency, Telegram's /clear and /wipe, and the ACK/RESOLVE commands.

May import: privacy, staff, channels, translation, store, engine and the foundation.
"""
