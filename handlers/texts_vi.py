"""Every text the bot shows to people, in Vietnamese, in one place for review.

Templates use str.format fields. Keep them short: they are read on a phone.
"""

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
    "below_min": "Số nhỏ nhất cho mục này là {min}. Chị gõ lại giúp em.",
    "above_max": "Số lớn nhất cho mục này là {max}. Chị kiểm tra lại giúp em.",
    "yes_no": "Chị trả lời «Có» hoặc «Không» nhé.",
    "text_too_long": "Câu trả lời dài quá ({n} ký tự). Chị viết gọn dưới {max} ký tự nhé.",
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


# ---- staff views --------------------------------------------------------------------------
STATUS = {"achieved": "✅ đạt", "on_track": "🟢 đúng tiến độ", "behind": "🔴 chậm tiến độ"}
PROGRESS_TITLE = "Tiến độ chỉ tiêu – {unit} (đến {today})"
PROGRESS_SUM_LINE = (
    "{status} {label}\n   Đạt {achieved}/{target} {unit} = {percent} (cần {expected} theo thời "
    "gian, {period})"
)
PROGRESS_PCT_LINE = (
    "{status} {label}\n   Đạt {achieved} ({detail}), chỉ tiêu {target}%; bằng {percent} chỉ tiêu "
    "(cần {expected}, {period})"
)
PROGRESS_GROUP = "   Tính chung: {units}"
PROGRESS_SOURCE = "   Nguồn: {source}"
PROGRESS_NONE = "Chưa có chỉ tiêu nào áp dụng cho {unit}."
TOTAL_TITLE = "{label} – {unit}, {period}: {value} {unit_word}"
TOTAL_CHANGE = "So với {previous}: {sign}{delta} ({sign}{pct})"
TOTAL_CHANGE_NO_BASE = "Kỳ trước ({previous}) chưa có số liệu."
TOTAL_LINE = "{i}. {name}: {value} ({share})"
TOTAL_EMPTY = "Chưa có báo cáo nào đã gửi cho {period}."
MISSING_TITLE = "{form} – {period} – {unit}"
MISSING_SUMMARY = (
    "Đã nộp {submitted}/{expected} ({percent}): đúng hạn {on_time}, trễ hạn {late}. "
    "Chưa nộp: {missing}."
)
MISSING_IN_PROGRESS = "Trong số chưa nộp, {n} đơn vị đang làm dở."
MISSING_NONE = "Tất cả đã nộp. Cảm ơn các chị!"
MISSING_GROUP = "• {parent}: {units}"
UNKNOWN_UNIT = "Không tìm thấy đơn vị «{text}» trong phạm vi của chị."
AMBIGUOUS_UNIT = "Có nhiều đơn vị khớp với «{text}»: {names}. Chị ghi rõ hơn giúp em."
UNKNOWN_INDICATOR = (
    "Không tìm thấy chỉ tiêu «{text}». Chị thử ghi vài chữ trong tên, ví dụ: «thoát nghèo», "
    "«hội viên mới»."
)
AMBIGUOUS_INDICATOR = "«{text}» khớp với nhiều mục, chị chọn một:"
UNKNOWN_FORM = "Không có mẫu báo cáo «{text}»."
