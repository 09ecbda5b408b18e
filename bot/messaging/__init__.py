"""Messaging: the inbox, the conversation turn loop, the outbox and its senders, delivery
receipts, the relay of messages between survivor and staff (with translation) and pacing.

May import: safety, privacy, staff, channels, translation, store, engine and the foundation.
"""
