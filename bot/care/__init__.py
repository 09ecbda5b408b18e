"""Care: appointments, reminders, check-ins and the contact-loss watch, with their staff
commands.

May import: messaging, safety, privacy, staff, store, engine and the foundation.
"""
