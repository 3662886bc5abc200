"""The measures: what staff ask of the records. Rollups of reports up the hierarchy, a
total of an indicator, progress on the plan's targets, reports sent and edited (reporting),
the reads some targets need, an officer's worklist, thi đua scores.

May import: storage.plan and storage.db.sessions. Nothing in storage imports it.
A new figure, query or report over the data goes here.
"""
