import random
import unicodedata

from storage.plan.text import vi_sort_key

# The order of a Vietnamese dictionary / the official lists of administrative units.
ORDERED = [
    "An Bình",
    "Anh Dũng",
    "Ăn Cơm",
    "Âu Cơ",
    "Ba Ngòi",
    "Cam Lâm",
    "Diên Khánh",
    "Đà Lạt",
    "Đông",
    "Ea Súp",
    "Ê Đê",
    "Hòa",
    "Khánh Sơn",
    "Ninh Hòa",
    "Ô Môn",
    "Ơ Rê",
    "Thôn 2",
    "Thôn 10",
    "Tu Bông",
    "Tư Nghĩa",
    "Vạn Thạnh",
    "Vĩnh Phước",
    "Vĩnh Thái",
]


def test_vietnamese_alphabetical_order() -> None:
    shuffled = ORDERED[:]
    random.Random(4).shuffle(shuffled)
    assert sorted(shuffled, key=vi_sort_key) == ORDERED


def test_tones_break_ties_in_dictionary_order_then_case() -> None:
    words = ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert sorted(reversed(words), key=vi_sort_key) == words
    assert sorted(["Hòa", "hòa"], key=vi_sort_key) == ["hòa", "Hòa"]


def test_decomposed_input_sorts_like_composed() -> None:
    typed = unicodedata.normalize("NFD", "Đông Hải")
    assert vi_sort_key(typed)[:3] == vi_sort_key("Đông Hải")[:3]
    # Đ after D, whether typed composed or not.
    assert sorted([typed, "Dục Mỹ"], key=vi_sort_key) == ["Dục Mỹ", typed]


async def test_lists_of_units_follow_vietnamese_order(session, catalog) -> None:
    from storage.db.units import children, create_unit
    from storage.measures.completeness import completeness
    from storage.measures.totals import indicator_total
    from storage.plan.periods import month

    province = await create_unit(session, code="P", name="Tỉnh", level="province", parent=None)
    communes = {}
    for code, name in [
        ("C1", "Vĩnh Phước"),
        ("C2", "Đông Hải"),
        ("C3", "Vạn Thạnh"),
        ("C4", "Diên An"),
    ]:
        communes[code] = await create_unit(
            session, code=code, name=name, level="commune", parent=province
        )
        for i, branch in enumerate(["Thôn 10", "Thôn 2"]):
            await create_unit(
                session, code=f"{code}-{i}", name=branch, level="branch", parent=communes[code]
            )
    await session.commit()
    expected = ["Diên An", "Đông Hải", "Vạn Thạnh", "Vĩnh Phước"]
    assert [u.name for u in await children(session, province)] == expected
    period = month(2026, 10)
    # No data anywhere: no unit has a value, so the order is the names'.
    found = await indicator_total(session, catalog, "hv_moi", province, period)
    assert [r.unit.name for r in found.rows] == expected
    assert all(r.figure.value is None for r in found.rows)
    done = await completeness(session, catalog.forms["thang_chi_hoi"], period, province)
    assert list(done.missing_by_parent()) == expected
    assert [u.name for u, _ in done.missing][:2] == ["Thôn 2", "Thôn 10"]
