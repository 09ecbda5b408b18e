"""The staff web console: sign-in, caseload, case timeline, notes, alerts, duty view.

Served by `harbour run` on its own bind (HARBOUR_CONSOLE_HOST/PORT). Every decision about a
case goes through bot.staff.access (via case_access), and every action is the chat command
of the same name run through StaffCommands.dispatch, so chat and console never differ.

May import: every capability below web, store and the foundation.
"""
