"""The `harbour` command line: one module per command group, plus `harbour run` (run.py),
`harbour simulate` and local mode's terminal chat.

May import anything below it, including bot.bootstrap.
"""
