"""The operator's terminal tools, role names and the words of a level."""

from __future__ import annotations

from storage.plan.texts_vi.catalog_view import Levels

# ---- operator tools (terminal) ------------------------------------------------------------
TERMINAL_WELCOME = (
    "Trò chuyện với bot trong cửa sổ dòng lệnh, với tư cách {name} ({role}, {unit}).\n"
    "Gõ /baocao để báo cáo, /trogiup để xem hướng dẫn, /thoat để thoát."
)
ROLE_NAMES = {
    "branch_leader": "chi hội trưởng",
    "commune_officer": "cán bộ Hội cơ sở",
    "district_officer": "cán bộ Hội huyện",
    "provincial_staff": "cán bộ Hội tỉnh",
    "admin": "quản trị",
}


def level_words(catalog: Levels, level: str) -> dict[str, str]:
    """How texts name units of a level, their leader and the officer above, from
    hierarchy.yaml ("chi hội", "chi hội trưởng", "cán bộ Hội cơ sở")."""
    word = catalog.level_word(level)
    role = catalog.role_of_level(level)
    leader = ROLE_NAMES.get(role or "", f"người phụ trách {word}")
    index = catalog.level_index(level)
    above = catalog.levels[index - 1].code if index > 0 else level
    officer_role = catalog.role_of_level(above)
    officer = ROLE_NAMES.get(officer_role or "", f"Hội {catalog.level_word(above)}")
    return {
        "level": word,
        "leader": leader,
        "leader_cap": leader[:1].upper() + leader[1:],
        "officer": officer,
    }


INVITE_HEADERS = ["Họ tên", "Vai trò", "Đơn vị", "Mã mời", "Link Telegram", "Hạn dùng"]
