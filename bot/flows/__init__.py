"""Reading flows/*.yaml, locales/*.po and the urgent phrase banks from disk into the engine's
pure Bundle.

May import: engine and the foundation (settings, ports, logs, phones).
"""
