"""The roles a person may hold, as hierarchy.yaml and the people's files name them."""

from __future__ import annotations


class Role:
    BRANCH_LEADER = "branch_leader"
    COMMUNE_OFFICER = "commune_officer"
    DISTRICT_OFFICER = "district_officer"
    PROVINCIAL_STAFF = "provincial_staff"
    ADMIN = "admin"
    ALL = (BRANCH_LEADER, COMMUNE_OFFICER, DISTRICT_OFFICER, PROVINCIAL_STAFF, ADMIN)
