"""Machine translation behind the Translator port (none, LibreTranslate, Google) and offline
language detection.

May import: the foundation (settings, ports, logs).
"""
