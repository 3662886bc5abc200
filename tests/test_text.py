import random
import unicodedata

from storage.text import vi_sort_key

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
