"""The measures: what staff ask of the records. Rollups of reports up the hierarchy, a
total of an indicator (each reporting unit's reading: unit_readings; added up: figures; staff's
answer: totals), progress on the plan's targets (their windows, scopes and status:
target_windows, target_scopes, target_status; the measuring: progress), reports sent and
edited (reporting; their approval: report_approval; their audit trail: report_audit), a
unit's member count as the checks read it (member_count), the reads some targets need, an
officer's worklist, thi đua scores.

May import: storage.plan and storage.db. Nothing in storage imports it.
A new figure, query or report over the data goes here.
"""
