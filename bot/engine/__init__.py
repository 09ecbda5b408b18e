"""The pure flow engine: (state, event) -> (new state, effects). No I/O library is imported here."""
