"""Privacy: consent for each use of data, retention and the nightly purge, subject-access
export, erasure and key rotation.

May import: staff, channels, store, engine and the foundation.
"""
