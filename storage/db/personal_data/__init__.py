"""Personal data, as Decree 13/2023/NĐ-CP asks (issue #22): what is held and why
(`inventory`), the notice told at joining and her acceptance (`notice`; its text:
storage/plan/privacy_notice), who looked at whose data (`access`), her accounts and what
they reach (`her_accounts`), what is held about her (`export`), her erasure (`erasure`), and
keeping no more than needed (`retention`).

README ("Dữ liệu cá nhân / Personal data") and docs/personal-data.md say it in words.
May import what storage/db may: storage.plan and the rest of storage.db.
"""
