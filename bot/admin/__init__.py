"""Administration: adding and deactivating staff, enrolling and assigning survivors, export
and erasure on request. The command line and the console both call these functions.

May import: staff, privacy, safety, messaging, care, store, engine and the foundation.
"""
