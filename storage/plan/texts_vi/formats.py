"""Formats shared by every text: periods, numbers and percentages."""

from __future__ import annotations

# ---- periods ------------------------------------------------------------------------------
PERIOD_MONTH = "tháng {m}/{y}"
PERIOD_QUARTER = "quý {q}/{y}"
PERIOD_HALF_1 = "6 tháng đầu năm {y}"
PERIOD_HALF_2 = "6 tháng cuối năm {y}"
PERIOD_YEAR = "năm {y}"
PERIOD_TERM = "nhiệm kỳ {code}"
PERIOD_RANGE = "từ {a} đến {b}"

PERIOD_ERRORS = {
    "empty": "Chị chưa ghi kỳ báo cáo.",
    "bad_month": "Tháng phải từ 1 đến 12.",
    "bad_quarter": "Quý phải từ 1 đến 4 (hoặc I, II, III, IV).",
    "bad_range": "Kỳ kết thúc phải sau kỳ bắt đầu.",
    "unknown_term": "Không có nhiệm kỳ này trong cấu hình.",
    "unreadable": (
        "Chưa hiểu kỳ «{text}». Chị ghi ví dụ: «tháng 11», «tháng 11/2026», «quý 3», "
        "«quý III/2026», «6 tháng đầu năm», «năm 2026», «nhiệm kỳ»."
    ),
}

# ---- numbers ------------------------------------------------------------------------------
NUMBER_ERRORS = {
    "empty": "Chị gõ một con số nhé, ví dụ: 12.",
    "not_number": "Chưa hiểu «{text}». Chị gõ một con số, ví dụ: 12 hoặc 1.500.",
    "negative": "Số không được âm. Chị gõ lại giúp em.",
    "decimal": "Mục này là số nguyên (đếm {unit}), không có phần lẻ. Chị gõ lại giúp em.",
    "too_big": "Số này lớn quá. Chị kiểm tra lại giúp em.",
    "below_min": "Số nhỏ nhất cho mục này là {min}. Chị gõ lại giúp em.",
    "above_max": "Số lớn nhất cho mục này là {max}. Chị kiểm tra lại giúp em.",
    "yes_no": "Chị trả lời «Có» hoặc «Không» nhé.",
    "choice": "Chị chọn một trong: {choices}.",
    "text_too_long": "Câu trả lời dài quá ({n} ký tự). Chị viết gọn dưới {max} ký tự nhé.",
    # Numbers that are never answers (handlers/mentions.py).
    "phone": "«{text}» giống số điện thoại nên em không ghi vào báo cáo. Chị gõ con số cần "
    "báo cáo, ví dụ: 12.",
    "money": "«{text}» là số tiền nên em không ghi vào báo cáo. Chị gõ con số cần báo cáo, "
    "ví dụ: 12.",
    "date": "«{text}» là ngày tháng nên em không ghi vào báo cáo. Chị gõ con số cần báo cáo, "
    "ví dụ: 12.",
    "time": "«{text}» là giờ nên em không ghi vào báo cáo. Chị gõ con số cần báo cáo, ví dụ: 12.",
    # A number with another unit's word: "3 hộ" where people are counted.
    "wrong_unit": "Câu này tính theo {unit}, mà chị gõ «{text}», nên em chưa ghi. Chị gõ số "
    "{unit} của câu này (chỉ cần con số, ví dụ: 3).",
}


def format_number(value: float | None, decimals: int = 0) -> str:
    """1500 → "1.500"; 12.5 → "12,5" (Vietnamese grouping and decimal mark)."""
    if value is None:
        return "–"
    if decimals == 0 and float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    text = f"{value:,.{max(decimals, 1)}f}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text.rstrip("0").rstrip(",") if "," in text else text


def format_percent(value: float | None) -> str:
    if value is None:
        return "–"
    return format_number(round(value, 1), 1) + "%"
