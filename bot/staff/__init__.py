"""Staff: the one access policy, who on the staff side hears about a survivor, staff texts,
the staff command dispatcher (each capability registers its own commands) and the
caseload commands.

May import: store, engine and the foundation.
"""
