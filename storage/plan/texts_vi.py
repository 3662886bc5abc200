"""Every text the bot shows to people, in Vietnamese, in one place for review.

Templates use str.format fields. Keep them short: they are read on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class _Level(Protocol):
    @property
    def code(self) -> str: ...


class _Levels(Protocol):
    """What the texts read of the catalog (storage.plan.catalog.Catalog): only its levels' names,
    so the message catalogue imports nothing of the project."""

    @property
    def levels(self) -> Sequence[_Level]: ...
    def level_word(self, code: str) -> str: ...
    def role_of_level(self, code: str) -> str | None: ...
    def level_index(self, code: str) -> int: ...


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
STATUS = {
    "achieved": "✅ đạt",
    "on_track": "🟢 đúng tiến độ",
    "behind": "🔴 chậm tiến độ",
    "no_data": "⚪ chưa có số liệu",
    "done": "✅ đã hoàn thành",
    "not_yet": "🕓 chưa thực hiện",
    "overdue": "🔴 quá hạn",
    "missed": "❌ không đạt",
    "pending": "⏳ chưa đến hạn đánh giá",
    "done_late": "🟡 hoàn thành sau hạn",
}
COMPARE_WORDS = {"at_least": "", "above": "trên ", "below": "dưới ", "at_most": "không quá "}
UNITS_WORD = "đơn vị"  # units of several levels together
PROGRESS_TITLE = "Tiến độ chỉ tiêu – {unit} (đến {today})"
# Every target listed counted once, in the first group that fits (only groups with any).
PROGRESS_SUMMARY = "{total} chỉ tiêu: {parts}."
PROGRESS_SUMMARY_PARTS = {
    "achieved": "{n} đạt",
    "on_track": "{n} đúng tiến độ",
    "behind": "{n} chậm tiến độ",
    "missed": "{n} không đạt",
    "pending": "{n} chưa đến hạn đánh giá",
    "no_data": "{n} chưa có số liệu",
}
PROGRESS_HEAD = "{status} {label}"
PROGRESS_SUM = "   Đạt {achieved}/{compare}{target} {unit} = {percent} chỉ tiêu"
PROGRESS_PCT = "   Đạt {achieved}, chỉ tiêu {compare}{target}%"
PROGRESS_COVERAGE = " ({reached}/{units} {level} đạt)"
PROGRESS_COVERAGE_SILENT = " ({reached}/{units} {level} đạt; {silent} {level} chưa có số liệu)"
PROGRESS_RATE = " ({numerator}/{denominator}), tính trên {n}/{m} {level} đã báo cáo đủ"
PROGRESS_NO_DATA = "   Chưa có số liệu trong {period}; chỉ tiêu {compare}{target}{unit}."
# What is expected is what the reports already due can show: up to the end of the last
# period whose due date has passed ({until}).
PROGRESS_EXPECT_LINEAR = (
    "   Cần {expected} theo các báo cáo đã đến hạn (tính đến {until}, {period})."
)
PROGRESS_EXPECT_MILESTONE = "   Mốc đến nay: {expected}{unit} ({period})."
PROGRESS_EXPECT_NOT_DUE = "   Tính ở cuối kỳ ({period}): báo cáo cuối kỳ đến hạn ngày {due}."
PROGRESS_EXPECT_NONE_DUE = "   Chưa có báo cáo nào của {period} đến hạn (hạn đầu tiên: {due})."
PROGRESS_EXPECT_HOLD = "   Kỳ tính: {period}."
PROGRESS_FINAL = "   Kết quả cuối cùng của {period}."
PROGRESS_DECIDED = "   Kết quả {period}: đã đủ số liệu của mọi đơn vị được tính."
PROGRESS_FINAL_LATE = "   Kết quả {period}; báo cáo muộn còn được nhận đến hết ngày {closes}."
PROGRESS_DUE_YEAR = "   Chỉ tiêu phải đạt đến năm {year}; đang tính {period}."
PROGRESS_PREVIOUS = (
    "   Đang xem kết quả {period}: báo cáo đầu tiên của {current} đến hạn ngày {due}."
)
PROGRESS_TASK = "   Hạn {deadline}: {done}/{units} {level} đã thực hiện"
PROGRESS_TASK_LATE = "{late} sau hạn"
PROGRESS_TASK_SILENT = "{silent} {level} chưa báo cáo"
PROGRESS_TASK_SELF = "   Hạn {deadline}."
PROGRESS_TASK_SELF_SILENT = "   Hạn {deadline}; chưa có báo cáo nào về việc này."
PROGRESS_EXCLUDES = "   Không tính: {items}."
PROGRESS_GROUP = "   Tính chung: {units}"
PROGRESS_SOURCE = "   Nguồn: {source}"
PROGRESS_NONE = "Chưa có chỉ tiêu nào áp dụng cho {unit}."
TOTAL_TITLE = "{label} – {unit}, {period}: {value} {unit_word}"
TOTAL_CHANGE = "So với {previous}: {sign}{delta} ({sign}{pct})"
TOTAL_CHANGE_NO_BASE = "Kỳ trước ({previous}) chưa có số liệu."
TOTAL_LINE = "{i}. {name}: {value} ({share})"
# What a total rests on (storage/measures/totals.py): k of the n units that should report did; a
# unit without a report is "chưa báo cáo", never 0.
TOTAL_BASIS = "Tính trên {reported}/{expected} {level} đã báo cáo."
TOTAL_BASIS_MISSING = (
    "Tính trên {reported}/{expected} {level} đã báo cáo ({missing} {level} chưa báo cáo)."
)
TOTAL_UNTIL = "Đã có báo cáo đến hết {period}."
TOTAL_PARTIAL = "Trong đó {n} {level} chưa báo cáo đủ {periods} kỳ."
TOTAL_STOCK_PERIOD = "Số lấy theo báo cáo gần nhất của mỗi {level}: {periods}."
TOTAL_STOCK_PERIOD_ITEM = "{period} ({n} {level})"
TOTAL_YES_NO_TITLE = "{label} – {unit}, {period}: {yes}/{reported} {level} có"
TOTAL_RATIO_PARTS = "Tính lại từ tổng các số thành phần ({parts}), không cộng tỷ lệ từng đơn vị."
TOTAL_RATIO_BASIS = "Tính trên {reported}/{expected} {level} có đủ các số trong cùng một kỳ."
TOTAL_RATIO_INCOMPLETE = "{n} {level} chưa có đủ các số trong cùng một kỳ nên chưa tính."
TOTAL_RATIO_EARLIER = "{n} {level} tính theo số {period} (kỳ gần nhất có đủ các số)."
TOTAL_EACH_TITLE = (
    "{label} – {unit}, {period}: mỗi {level} báo cáo tỷ lệ của mình, không cộng thành tổng."
)
TOTAL_OWN = "{name} (tự báo cáo)"
TOTAL_NOT_REPORTED = "chưa báo cáo"
TOTAL_INCOMPLETE = "chưa đủ số"
TOTAL_NO_VALUE = "không tính được (mẫu số bằng 0)"
TOTAL_YES = "có"
TOTAL_NO = "không"
TOTAL_YES_COUNT = "{yes}/{reported} có"
TOTAL_LINE_PLAIN = "{i}. {name}: {value}"
TOTAL_LINE_NOTE = "{line} – {note}"
TOTAL_ROW_BASIS = "{reported}/{expected} {level} đã báo cáo"
TOTAL_ROW_PERIOD = "số {period}"
TOTAL_ROW_PERIODS = "{n}/{m} kỳ"
TOTAL_CHANGE_COMMON = "So với {previous}, chỉ tính {n} {level} báo cáo cả hai kỳ: {change}."
TOTAL_CHANGE_NONE = "Chưa so được với {previous}: không có {level} nào báo cáo cả hai kỳ."
TOTAL_CHANGE_SUM = "{before} → {now} ({delta})"
TOTAL_CHANGE_POINTS = "{before} → {now} ({sign}{delta} điểm)"
TOTAL_CHANGE_YES_NO = "{before} → {now} {level} có"
TOTAL_CHANGE_ALL = "So với {previous}: {change}."
TOTAL_TEXT = "«{label}» là câu trả lời bằng chữ nên không có tổng số."
TOTAL_CHOICE = (
    "«{label}» là mức đánh giá nên không cộng thành tổng số; tỷ lệ đạt mức xem ở /tiendo."
)
TOTAL_EMPTY = "Chưa có báo cáo nào đã gửi cho {period}."
TOTAL_EMPTY_OF = "Chưa có báo cáo nào đã gửi cho {period} (0/{expected} {level})."
MISSING_TITLE = "{form} – {period} – {unit}"
MISSING_SUMMARY = (
    "Đã nộp {submitted}/{expected} ({percent}): đúng hạn {on_time}, trễ hạn {late}. "
    "Chưa nộp: {missing}."
)
MISSING_IN_PROGRESS = "Trong số chưa nộp, {n} đơn vị đang làm dở."
MISSING_NONE = "Tất cả đã nộp. Cảm ơn các chị!"
MISSING_GROUP = "• {parent}: {units}"
UNKNOWN_UNIT = "Không tìm thấy đơn vị «{text}» trong phạm vi của chị."
AMBIGUOUS_UNIT = (
    "Có nhiều đơn vị khớp với «{text}»: {names}. Chị ghi rõ hơn giúp em, kèm tên đơn vị cấp "
    "trên nếu cần, ví dụ: «{example}»."
)
# An indicator (what is reported: "hội viên mới") is a "chỉ số"; a "chỉ tiêu" is a target of
# the plan ("kết nạp 5.000 hội viên mới"). Examples ({indicator}, {unit}, …) come from the
# province's own configuration and units (handlers/examples.py).
UNKNOWN_INDICATOR = (
    "Không tìm thấy chỉ số «{text}». Chị thử ghi vài chữ trong tên, ví dụ: «{indicator}», "
    "«{indicator2}»."
)
AMBIGUOUS_INDICATOR = "«{text}» khớp với nhiều chỉ số, chị chọn một:"
EXAMPLE_INDICATOR_WORDS = [
    "thoát nghèo",
    "hội viên mới",
    "tổng số hội viên",
    "dân vận khéo",
    "việc làm",
    "tập huấn",
    "website",
]
UNKNOWN_FORM = "Không có mẫu báo cáo «{text}»."

# ---- onboarding ---------------------------------------------------------------------------
WELCOME_UNKNOWN = (
    "Chào chị! Đây là bot báo cáo của Hội Liên hiệp Phụ nữ.\n"
    "Để bắt đầu, chị cần mã mời do cán bộ Hội cấp trên gửi. Chị bấm vào đường link trong "
    "thư mời, hoặc gõ mã mời vào đây (ví dụ: K7PM-2XQD-9R)."
)
CODE_WRONG = "Mã mời «{code}» không đúng. Chị kiểm tra lại, hoặc nhờ cán bộ Hội gửi mã mới."
CODE_EXPIRED = "Mã mời này đã hết hạn. Chị nhờ cán bộ Hội cấp trên gửi mã mới nhé."
CODE_USED = "Mã mời này đã được dùng rồi. Nếu không phải chị dùng, chị báo ngay cán bộ Hội nhé."
CODE_TOO_MANY = (
    "Chị đã nhập sai mã nhiều lần. Để bảo mật, chị vui lòng chờ {minutes} phút rồi thử lại."
)
CODE_OTHER_PERSON = (
    "Tài khoản này đã gắn với {name}. Mỗi tài khoản chỉ dùng cho một người; chị liên hệ "
    "cán bộ Hội nếu cần đổi."
)
LINKED = "Chào chị {name}! Chị đã kết nối với bot báo cáo của {unit}."
LINKED_AGAIN = "Chào chị {name}! Tài khoản này đã được kết nối rồi ({unit})."
GREETING = "Chào chị {name} ({unit})."
HINT_REPORT = "Gõ /baocao (hoặc «báo cáo») để báo cáo số liệu của đơn vị."
HINT_STAFF = "Gõ /trogiup để xem các câu hỏi chị có thể hỏi: tổng số, tiến độ, đơn vị chưa nộp."
NOT_UNDERSTOOD = "Em chưa hiểu ý chị. " + HINT_REPORT
HELP_TITLE = "Chị có thể dùng:"
HELP_LINES = {
    "baocao": "/baocao – báo cáo hoặc sửa báo cáo kỳ này",
    "huy": "/huy – dừng lại giữa chừng (những gì đã trả lời vẫn được lưu)",
    "tong": "/tong <chỉ số> [kỳ] [đơn vị] – tổng số, ví dụ: /tong {indicator} {period}",
    "tiendo": "/tiendo [đơn vị] – tiến độ các chỉ tiêu",
    "chuanop": "/chuanop [kỳ] – đơn vị đã nộp, chưa nộp",
    "xuat": "/xuat [kỳ] – bảng Excel tổng hợp",
    "bieudo": "/bieudo <chỉ số> [kỳ] – biểu đồ",
    "mobaocao": "/mobaocao <đơn vị> [kỳ] – mở lại báo cáo đã khóa sổ hoặc đã duyệt để sửa",
    "duyet": "/duyet <đơn vị> [kỳ] – duyệt báo cáo của đơn vị cấp dưới (khóa lại, không sửa được)",
    "xeploai": (
        "/xeploai <mức> <đơn vị> [kỳ] – xếp loại đơn vị cấp dưới, ví dụ: /xeploai {rating}{rated}"
    ),
    "xephang": "/xephang – xếp hạng thi đua của các đơn vị và của đơn vị mình",
    "web": "/web – link trang theo dõi chỉ tiêu (xem trên điện thoại hoặc máy tính)",
    "trogiup": "/trogiup – xem hướng dẫn này",
    "lienket": "/lienket – lấy mã để dùng bot trên cả Zalo và Telegram",
}
BUTTON_EXPIRED = "Nút này không còn dùng được. " + HINT_REPORT
INTERNAL_ERROR = (
    "Xin lỗi chị, hệ thống đang trục trặc nên chưa ghi được tin vừa rồi. Những câu đã trả lời "
    "trước đó vẫn được lưu. Chị gửi lại sau ít phút giúp em."
)
HELP_EXAMPLES_TITLE = "Ví dụ (gõ có dấu hay không dấu đều được):"
HELP_EXAMPLES_LEADER = [
    "• báo cáo",
    "• tong {indicator_folded} nam nay",
    "• tiến độ",
]
HELP_EXAMPLES_STAFF = [
    "• tổng {indicator} {period}",
    "• tong {indicator2_folded} nam nay{unit_folded}",
    "• tiến độ{unit}",
    "• chưa nộp {period}",
    "• xuất excel {year}",
    "• biểu đồ {indicator} {year}",
]
STALE_BUTTON = "Nút này thuộc câu hỏi trước. Chị trả lời câu hỏi dưới đây giúp em nhé."

# ---- the reporting conversation -----------------------------------------------------------
NO_FORM_FOR_UNIT = "Đơn vị của chị không có mẫu báo cáo nào qua bot."
NO_OPEN_PERIOD = "Hiện chưa đến kỳ báo cáo. Kỳ tới: {form}, {period}, mở từ ngày {opens}."
PICK_FORM = "Đang mở nhiều kỳ báo cáo. Chị chọn một:"
FORM_CHOICE = "{form} – {period}"
REPORT_START = "{form} – {period} (hạn nộp {due}). Có {n} câu, chị trả lời lần lượt nhé."
REPORT_RESUME = "Chị làm tiếp {form} – {period}. Đã trả lời {done}/{n} câu."
QUESTION = "Câu {i}/{n}: {question}"
HINT_LAST = "(Kỳ trước: {value})"
HINT_CURRENT = "(Đã ghi: {value})"
HINT_OPTIONAL = "(Không bắt buộc)"
HINT_TYPE_NUMBER = "Chị gõ số {unit}."
BUTTON_ZERO = "0"
BUTTON_SAME = "Như kỳ trước ({value})"
BUTTON_YES = "Có"
BUTTON_NO = "Không"
BUTTON_BACK = "Quay lại"
BUTTON_SKIP = "Bỏ qua"
BUTTON_SUBMIT = "Gửi"
BUTTON_EDIT = "Sửa mục {n}"
BUTTON_DONE = "Xong"
BUTTON_CONFIRM = "Đúng"
BUTTON_RETYPE = "Nhập lại"
CONFIRM_VALUE = "Chị xác nhận {value} là đúng?"
CONFIRM_WHY_MEMBERS = "Số này lớn hơn số hội viên của {level} ({members})."
CONFIRM_WHY_OUTLIER = "Số này khác xa các kỳ trước của {level} (thường khoảng {usual})."
RULE_DETAILS = "{message} ({figures})"
RULE_FIGURE_NOW = "câu {n}: {value}"
RULE_FIGURE_BEFORE = "câu {n} kỳ trước: {value}"
ONE_MESSAGE_HINT = "Lần sau chị có thể gửi một tin: {line}"
ONE_MESSAGE_LEGEND = "({items})"
ONE_MESSAGE_LEGEND_ITEM = "{short}: {label}"
HELP_ONE_MESSAGE = "{form} – gửi cả báo cáo trong một tin, theo thứ tự câu hỏi hoặc theo nhãn:"
WHOLE_TOO_FEW = (
    "Chị gửi {sent} số, mẫu có {n} câu. Em đã ghi lần lượt vào câu 1 đến câu {sent}; chị xem "
    "lại bên dưới và trả lời tiếp các câu còn thiếu."
)
WHOLE_TOO_MANY = (
    "Chị gửi {sent} số, mẫu chỉ có {n} câu. Em đã ghi {n} số đầu, chưa ghi: {extra}. Chị xem "
    "lại bên dưới; cần sửa mục nào, chị gõ «sửa» và số mục."
)
WHOLE_UNPLACED = "Em chưa biết số này thuộc mục nào: {items}. Các nhãn của mẫu: {labels}."
WHOLE_NO_VALUE = "Chưa thấy số cho: {items}."
WHOLE_REFUSED = "Câu {n}: {error}"
SKIPPED = "bỏ qua"
NOT_ANSWERED = "chưa trả lời"
SUMMARY_TITLE = "Tóm tắt {form} – {period}:"
SUMMARY_LINE = "{n}. {label}: {value}"
SUMMARY_ASK = "Nếu đúng, chị trả lời «Gửi». Cần sửa mục nào, chị gõ «sửa» và số mục, ví dụ «sửa 3»."
SUBMITTED_SUMMARY_ASK = (
    "Báo cáo này đã gửi ngày {when}. Chị có thể sửa đến hết ngày {closes}: gõ «sửa» và số mục, "
    "ví dụ «sửa 3»; xong thì trả lời «Xong»."
)
SUBMITTED_LOCKED = (
    "Báo cáo {form} – {period} đã khóa sổ từ ngày {closes}. Nếu cần sửa, chị nhờ cán bộ Hội "
    "cấp trên mở lại."
)
EDIT_BAD_NUMBER = "Không có mục {n}. Chị chọn từ 1 đến {total}."
THANKS_ON_TIME = "Em đã nhận {form} – {period}. Cảm ơn chị, báo cáo đúng hạn! 🌸"
THANKS_LATE = (
    "Em đã nhận {form} – {period}. Cảm ơn chị! Báo cáo này trễ hạn ({due}), "
    "kỳ sau chị gửi sớm hơn giúp em nhé."
)
YEAR_TO_DATE = "Từ đầu năm {year}, {level} đã có: {items}."
YEAR_TO_DATE_ITEM = "{label} {value} {unit}"
CORRECTION_SAVED = "Đã sửa mục {n}: {old} → {new}."
EDITS_DONE = "Đã lưu. Cảm ơn chị!"
CANCELLED = (
    "Em đã dừng. Những gì chị đã trả lời vẫn được lưu; khi nào tiện chị gõ /baocao để làm tiếp."
)
NOTHING_TO_CANCEL = "Không có việc gì đang làm dở."
MISSING_REQUIRED = "Còn mục {n} chưa trả lời. Chị trả lời giúp em rồi gửi nhé."
TEXT_ANSWER_HINT = "Chị gõ câu trả lời ngắn."
NUMBERED_REPLY = "Trả lời {numbers}."
NUMBERED_OR = "hoặc"
WORD_REPLY = "Hoặc gõ: {words}."
# A message that may be the whole report, asked about before anything is written.
WHOLE_ASK = "Chị muốn ghi các số này vào {form} – {period}?"
WHOLE_ASK_ANY = "Chị muốn ghi các số trong tin vừa rồi vào báo cáo?"
WHOLE_ASK_HOW = "Chị trả lời «Có» để ghi; nếu tin này không phải báo cáo, chị trả lời «Không»."
WHOLE_NOT_ANSWERS = "Em không ghi {items}: đó không phải số liệu báo cáo."
WHOLE_NOT_ANSWERS_MORE = "và {n} số khác"
MENTION_ITEM = "{kind} «{text}»"
MENTION_KINDS = {
    "phone": "số điện thoại",
    "money": "số tiền",
    "date": "ngày tháng",
    "time": "giờ",
    "name": "số trong tên gọi",
    "measure": "số đo",
}
WHOLE_REPEATED = "Mục {label} có nhiều số ({values}), em lấy số cuối: {last}."
WHOLE_OTHER_WORDS = "Trong tin có cả lời nhắn, em chưa chắc đây là báo cáo."
WHOLE_NOT_WRITTEN = "Dạ, em không ghi gì từ tin đó."
PAUSE_HINT = "Chị muốn dừng thì gõ /huy; những gì đã trả lời vẫn được lưu."
SUMMARY_UNCLEAR = "Em chưa hiểu ý chị; báo cáo vẫn như bảng tóm tắt ở trên, em không đổi gì."
# A sent report changes only when she asks to edit it, and after she confirms the change.
SENT_USE_EDIT = (
    "Báo cáo này đã gửi nên em không ghi các số chị vừa gửi. Cần sửa, chị gõ «sửa» rồi các "
    "số cần sửa (ví dụ: «sửa {example}»), hoặc «sửa» và số mục (ví dụ: «sửa 3»)."
)
EDIT_WHOLE_ASK = (
    "Chị gửi các số cần sửa theo nhãn (ví dụ: {example}) hoặc cả báo cáo theo thứ tự câu hỏi; "
    "hoặc gõ số mục cần sửa, từ 1 đến {n}."
)
EDIT_NOTHING_READ = "Em chưa thấy số nào để sửa trong tin này."
EDIT_CONFIRM_TITLE = "Chị sửa {form} – {period} đã gửi:"
EDIT_CONFIRM_LINE = "• Mục {n}. {label}: {old} → {new}"
EDIT_CONFIRM_ASK = (
    "Chị trả lời «Lưu thay đổi» để lưu, hoặc «Giữ số cũ». Khi chị chưa trả lời, báo cáo vẫn "
    "giữ số cũ."
)
BUTTON_SAVE_EDIT = "Lưu thay đổi"
BUTTON_KEEP = "Giữ số cũ"
EDIT_KEPT = "Dạ, báo cáo đã gửi vẫn giữ nguyên số cũ."
EDIT_NO_CHANGE = "Các số này giống báo cáo đã gửi, không có gì để sửa."
EDIT_STALE = "Báo cáo vừa thay đổi ở nơi khác nên em chưa lưu. Chị xem lại giúp em."
EDIT_HOW_ONE = "sửa mục {n}: «{text}»"
EDIT_HOW_WHOLE = "«{text}»"
AUDIT_EDIT_NOTE = "{how}; xác nhận: «{reply}»"

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


def level_words(catalog: _Levels, level: str) -> dict[str, str]:
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

# ---- staff commands in chat ---------------------------------------------------------------
TONG_USAGE = (
    "Chị ghi tên chỉ số, có thể thêm kỳ và đơn vị. Ví dụ:\n"
    "/tong {indicator} {period}\n/tong {indicator2} {year}{unit}"
)
STAFF_ONLY = "Chức năng này dành cho cán bộ Hội các cấp. Chị dùng /tong hoặc /tiendo nhé."
BUTTON_MORE = "Xem thêm"
BUTTON_DOWN = "⬇ {name}"
BUTTON_UP = "⬆ {name}"
PAGE_OF = "(trang {page}/{pages})"
PICK_INDICATOR = "Chị chọn một chỉ số:"
EXPORT_TITLE = "{form} – {period} – {unit}"
EXPORT_CODE = "Mã đơn vị"
EXPORT_SUBTOTAL = "Cộng {name}"
EXPORT_GRAND_TOTAL = "Tổng cộng"
EXPORT_STATUS = "Tình trạng báo cáo"
EXPORT_SENT = "đã báo cáo"
EXPORT_PERIODS = "đã báo cáo {n}/{m} kỳ"
EXPORT_TARGETS_SHEET = "Chỉ tiêu"
EXPORT_TARGET_HEADERS = [
    "Chỉ tiêu",
    "Loại",
    "Kỳ",
    "Phạm vi",
    "Chỉ tiêu (số)",
    "Đạt",
    "% chỉ tiêu",
    "Cần theo thời gian",
    "Đánh giá",
    "Nguồn",
]
EXPORT_KINDS = {
    "sum": "Tổng số",
    "coverage": "Tỷ lệ đơn vị",
    "rate": "Tỷ lệ",
    "task": "Nhiệm vụ có hạn",
}
EXPORT_FILENAME = "bao-cao-{unit}-{period}.xlsx"
EXPORT_CAPTION = "Bảng tổng hợp {period} – {unit}."
CHART_TREND_TITLE = "{label}\n{unit}, {period}"
CHART_BREAKDOWN_TITLE = "{label}\n{unit}, {period}, theo đơn vị"
CHART_PER_PERIOD = "Theo kỳ"
CHART_CUMULATIVE = "Lũy kế"
CHART_TARGET = "Chỉ tiêu {target}"
BIEUDO_USAGE = "Chị ghi tên chỉ số, có thể thêm kỳ. Ví dụ: /bieudo {indicator} {year}"

# ---- reminders and digests ----------------------------------------------------------------
REMINDER_OPEN = (
    "Chào chị {name}! {form} {period} đã mở, hạn nộp ngày {due}. Chỉ mất khoảng một phút, "
    "chị báo cáo giúp em nhé."
)
REMINDER_SOON = (
    "Chị {name} ơi, còn {days} ngày nữa là đến hạn nộp {form_lower} {period} ({due}). "
    "Chị báo cáo sớm giúp em nhé."
)
REMINDER_TODAY = (
    "Chị {name} ơi, hôm nay ({due}) là hạn cuối nộp {form_lower} {period}. "
    "Chị dành một phút báo cáo ngay giúp em nhé."
)
REMINDER_LATE = (
    "Chị {name} ơi, {form_lower} {period} đã quá hạn {days} ngày (hạn {due}) mà {level} mình "
    "chưa gửi. Chị báo cáo ngay hôm nay giúp em, Hội cấp trên đang chờ số liệu ạ."
)
REMINDER_SNOOZED = "Chị {name} ơi, em nhắc lại: {form_lower} {period} hạn nộp ngày {due}."
NUDGE = (
    "Chị {name} ơi, {officer} nhắc: {form_lower} {period} (hạn {due}) {level} mình "
    "chưa gửi. Chị báo cáo giúp em nhé."
)
BUTTON_REPORT_NOW = "Báo cáo ngay"
BUTTON_LATER = "Nhắc lại sau"
BUTTON_NUDGE = "Nhắc ngay"
SNOOZED = "Dạ, em sẽ nhắc chị lại vào {when}."
NOTHING_TO_SNOOZE = "Hiện không có lời nhắc nào để hẹn lại."
DIGEST_COMMUNE = (
    "{form} {period} đã quá hạn ({due}). Còn {missing}/{total} {level} của {unit} chưa nộp:\n"
    "{names}"
)
DIGEST_UNREACHABLE = "Không nhắn được cho: {names} (đã chặn bot hoặc rời Telegram/Zalo)."
DIGEST_CAPPED = "Chưa gửi được lời nhắc cho: {names} (kênh Zalo đã hết lượt tin trong tháng)."
DIGEST_ALL_DONE = "{form} {period}: tất cả {total} {level} của {unit} đã nộp. Cảm ơn chị!"
DIGEST_DOUBTS = "Số liệu khác thường {leader} đã xác nhận, chị xem giúp:"
DIGEST_DOUBT_ITEM = "• {unit} – {label}: {value} ({note})"
DIGEST_WEEKLY = "Tin tuần – {unit}\n{summary}\nXem chi tiết: /chuanop"
NUDGED = "Đã gửi lời nhắc tới {n} {level} chưa nộp."
NUDGE_NONE = (
    "Không có ai cần nhắc: các {level} đã nộp đủ, hoặc {level} chưa nộp chưa có {leader} dùng bot."
)
NUDGE_UNREACHABLE = "{n} {leader} chưa kết nối với bot nên chưa nhắc được."
FILE_LINK = "{caption}\nTải về (link dùng trong {hours} giờ): {url}"
FILE_UNAVAILABLE = "Xin lỗi chị, kênh này chưa gửi được tệp. Chị dùng Telegram để nhận tệp nhé."
LINK_CODE = (
    "Mã để kết nối thêm một kênh (Zalo hoặc Telegram): {code}\n"
    "Chị mở bot ở kênh kia và gõ mã này. Mã dùng một lần, trong {hours} giờ."
)
MOBAOCAO_USAGE = "Chị ghi đơn vị và kỳ cần mở lại, ví dụ: /mobaocao{unit} {period}"
XEPLOAI_USAGE = "Chị ghi mức, đơn vị và kỳ, ví dụ: /xeploai {rating}{rated} {year}"
XEPLOAI_NONE = "Chưa có biểu xếp loại nào mà cấp của chị đánh giá {unit}."
XEPLOAI_UNKNOWN = "Em chưa rõ chị chọn mức nào. Chị ghi một trong: {choices}."
XEPLOAI_DONE = "Đã ghi {label} {period} của {unit}: {value}."
XEPLOAI_CHANGED = "Đã sửa {label} {period} của {unit}: {old} → {value}."
XEPLOAI_NAME_PERIOD = (
    "{label} {period} của {unit} đã ghi: {old}. Em chưa sửa. Nếu chị muốn sửa kỳ đã qua này, "
    "chị ghi rõ kỳ, ví dụ: /xeploai {words} {unit_words} {period}"
)
DUYET_USAGE = "Chị ghi đơn vị và kỳ cần duyệt, ví dụ: /duyet{unit} {period}"
APPROVED = (
    "Đã duyệt {form} {period} của {unit}. Báo cáo được khóa lại; cần sửa thì chị gõ "
    "/mobaocao {unit}."
)
ALREADY_APPROVED = "Báo cáo này đã được duyệt từ trước: {form} {period} của {unit}."
APPROVED_LOCKED = (
    "{form} {period} đã được Hội cấp trên duyệt nên không sửa được nữa. Cần sửa, chị nhờ "
    "{officer} mở lại báo cáo."
)
REOPEN_NOT_FOUND = "{unit} chưa gửi {form} {period}, nên không có gì để mở lại."
NAME_ONE_REPORT = "{unit} gửi nhiều báo cáo trong {period}; chị ghi rõ một kỳ, ví dụ: {example}."
DUYET_NOT_FOUND = "{unit} chưa gửi {form} {period}, nên chưa có gì để duyệt."
OWN_REPORT = (
    "Báo cáo của {unit} do Hội cấp trên {action}; chị không tự {action} báo cáo của đơn vị "
    "mình được."
)
ACTION_APPROVE = "duyệt"
ACTION_REOPEN = "mở lại"
APPROVE_CHANGED = "Lưu ý: {form} {period} của {unit} đã được sửa sau khi gửi:"
APPROVE_CHANGE_LINE = "• {label}: {old} → {new} ({when}, {who})"
APPROVE_IMPORTED = "nhập từ bảng Excel"
APPROVE_CHANGE_DOUBT = " – số khác thường, người sửa đã xác nhận"
APPROVE_ASK = "Chị vẫn duyệt báo cáo này?"
BUTTON_APPROVE = "Duyệt"
BUTTON_NOT_NOW = "Để sau"
APPROVE_LATER = "Dạ, báo cáo chưa được duyệt."
APPROVE_CHANGED_AGAIN = "Báo cáo vừa được sửa thêm, chị xem lại giúp em."
REOPENED = (
    "Đã mở lại {form} {period} của {unit}. {leader_cap} gõ /baocao để sửa; "
    "khi chị ấy trả lời «Xong», báo cáo tự khóa lại."
)

# ---- the tracker pages (/web) and thi đua (/xephang) ---------------------------------------
BUTTON_WEB = "Mở trang theo dõi"
WEB_LINK = (
    "Trang theo dõi chỉ tiêu của {unit} (chỉ xem, không cần mật khẩu):\n{url}\n"
    "Link dùng trong {hours} giờ và chỉ dành cho chị, chị đừng chuyển cho người khác."
)
WEB_DISABLED = (
    "Trang theo dõi chưa được mở trên hệ thống này. "
    "Chị dùng /tiendo để xem tiến độ trong khung chat nhé."
)
WEB_NO_REPORT = "chưa nộp"
WEB_NO_DATA = "chưa có số liệu"
WEB_YES = "Có"
WEB_NO = "Không"
WEB_STRIP_NONE = "không phải báo cáo"
WEB_STRIP_STATE = {"on_time": "đúng hạn", "late": "nộp muộn", "missing": "chưa nộp"}
WEB_STRIP_COUNTS = "{on_time} đúng hạn, {late} muộn, {missing} chưa nộp"
WEB_STRIP_SHORT = "{submitted}/{expected} nộp"
THIDUA_RULE_TIMELINESS = (
    "{points} điểm: nộp {form} đúng hạn trong {periods} kỳ gần nhất (nộp muộn được {late} số điểm)"
)
THIDUA_RULE_TARGETS = (
    "{points} điểm: tỷ lệ chỉ tiêu đã đạt hoặc đúng tiến độ (trong số chỉ tiêu đã có số liệu)"
)
THIDUA_RULE_GROWTH = (
    "{points} điểm: tăng hội viên thực từ đầu năm so với tổng số hội viên; "
    "tăng {full}% trở lên được đủ điểm"
)
THIDUA_RULE_NO_DATA = (
    "Phần nào chưa có số liệu thì không tính, các phần còn lại được quy về thang 100 điểm."
)
XEPHANG_TITLE = "Xếp hạng thi đua các {level} của {unit} ({rule})"
XEPHANG_TOP = "5 đơn vị dẫn đầu:"
XEPHANG_BOTTOM = "5 đơn vị cuối bảng:"
XEPHANG_LINE = "{rank}. {name}: {points} điểm"
XEPHANG_OWN = "{unit} đứng thứ {rank}/{total} trong {parent}, với {points} điểm."
XEPHANG_OWN_NONE = "{unit} chưa có số liệu để xếp hạng trong {parent}."
XEPHANG_NOTHING = "Chưa có đơn vị nào đủ số liệu để xếp hạng."
XEPHANG_RULE = "Cách tính:"
DIGEST_MOST_IMPROVED = "Tiến bộ nhất: {name} ({before} → {now} điểm thi đua)."
WEB_NOT_FOUND = "Không tìm thấy trang này"

# Edited messages (an edit on Telegram arrives as its own update).
EDIT_OLD = (
    "Chị vừa sửa một tin nhắn cũ, em không đổi số liệu theo tin đã sửa. Muốn sửa câu đã trả "
    "lời, chị trả lời hết các câu rồi gõ «sửa» và số mục ở bảng tóm tắt, ví dụ «sửa 3»."
)
EDIT_OUTSIDE = (
    "Chị vừa sửa một tin nhắn cũ, em không đổi gì theo tin đã sửa. Muốn sửa báo cáo, chị gõ "
    "/baocao rồi gõ «sửa» và số mục ở bảng tóm tắt."
)

# ---- the office's year in chat: who has joined, handovers, what waits for her --------------
HELP_LINES_OFFICE = {
    "chuaketnoi": "/chuaketnoi [đơn vị] – ai ở cấp dưới chưa kết nối bot, kèm mã mời để chuyển",
    "mamoi": "/mamoi <tên> – cấp mã mời mới cho một người (mã cũ hết dùng)",
    "thaythe": (
        "/thaythe <đơn vị> bằng <họ tên> <số điện thoại> – bàn giao cho người phụ trách mới"
    ),
    "ngung": "/ngung <tên hoặc số điện thoại> – ngừng tài khoản của người đã nghỉ",
    "choduyet": "/choduyet – báo cáo của cấp dưới đang chờ chị duyệt",
    "chuaxeploai": "/chuaxeploai [kỳ] – đơn vị cấp dưới chưa được xếp loại",
}
HELP_EXAMPLES_OFFICE = [
    "• chưa kết nối",
    "• thay chi hội thôn 3 bằng Trần Thị Mai 0912345678",
    "• chờ duyệt",
]
NOT_JOINED_TITLE = "Chưa kết nối bot – {unit}: {n}/{total} người."
NOT_JOINED_ALL = "Tất cả {total} người ở cấp dưới của {unit} đã kết nối bot. Cảm ơn chị!"
NOT_JOINED_NOBODY = "Cấp dưới của {unit} chưa có ai trong danh sách."
NOT_JOINED_UNIT_LINE = "• {unit}: {n}/{total} người chưa kết nối"
NOT_JOINED_PICK = (
    "Chị gõ «chưa kết nối» kèm tên đơn vị để xem từng người và mã mời, ví dụ: "
    "chưa kết nối {example}"
)
NOT_JOINED_LINE = "• {name} – {role}, {unit}: mã {code}{link}"
NOT_JOINED_LINK = "\n  {link}"
NOT_JOINED_HINT = (
    "Chị chuyển mã (hoặc link) cho từng người; mỗi mã dùng một lần. Cần mã mới cho ai, chị "
    "gõ: mã mới <tên>."
)
INVITE_FORWARD = (
    "Mời chị {name} ({role}, {unit}) dùng bot báo cáo của Hội LHPN.\n{how}\n"
    "Mã dùng một lần, đến hết ngày {until}."
)
INVITE_HOW_LINK = "Chị bấm vào link: {link}\nhoặc mở bot trên Zalo hay Telegram rồi gõ mã: {code}"
INVITE_HOW_CODE = "Chị mở bot trên Zalo hay Telegram rồi gõ mã: {code}"
INVITE_RENEWED = (
    "Đã cấp mã mời mới cho {name} (mã cũ không dùng được nữa). Chị chuyển tin dưới đây cho chị ấy:"
)
INVITE_ALREADY_JOINED = "{name} đã kết nối bot rồi, không cần mã mời."
MAMOI_USAGE = "Chị ghi tên người cần mã mời mới, ví dụ: /mamoi Nguyễn Thị Lan"
PERSON_NOT_FOUND = "Không tìm thấy ai khớp với «{text}» ở cấp dưới của chị."
PERSON_PICK = "Có {n} người khớp với «{text}». Chị chọn một:"
PERSON_CHOICE = "{name} – {unit}"
THAYTHE_USAGE = (
    "Chị ghi đơn vị, rồi họ tên và số điện thoại người mới, ví dụ:\n"
    "thay chi hội thôn 3 bằng Trần Thị Mai 0912345678"
)
THAYTHE_ASK = (
    "{leader_cap} {unit} hiện là {current}. Chị gõ họ tên và số điện thoại người thay, "
    "ví dụ:\nthay bằng Trần Thị Mai 0912345678"
)
THAYTHE_ASK_VACANT = (
    "{unit} chưa có {leader}. Chị gõ họ tên và số điện thoại người phụ trách, ví dụ:\n"
    "thay bằng Trần Thị Mai 0912345678"
)
THAYTHE_NOT_BELOW = "Chị chỉ bàn giao được ở đơn vị cấp dưới của mình; {unit} không thuộc cấp dưới."
THAYTHE_NO_ROLE = "Cấp {level} không có người phụ trách dùng bot, nên không có gì để bàn giao."
THAYTHE_WHICH_UNIT = "Chị thay người phụ trách đơn vị nào? " + THAYTHE_USAGE
THAYTHE_BAD_NAME = (
    "Chưa đọc được họ tên người mới. Chị gõ: thay bằng <họ tên> <số điện thoại>, ví dụ: "
    "thay bằng Trần Thị Mai 0912345678"
)
THAYTHE_NEED_PHONE = (
    "Chị ghi thêm số điện thoại của {new} để em cấp mã mời, ví dụ: thay bằng {new} 0912345678"
)
THAYTHE_CONFIRM = "Thay {old} bằng {new} ({phone}) làm {leader} {unit}?"
THAYTHE_CONFIRM_VACANT = "Giao {new} ({phone}) làm {leader} {unit}?"
THAYTHE_DONE = (
    "Đã thay {old} bằng {new} làm {leader} {unit}. Tài khoản của {old} đã ngừng; báo cáo của "
    "{unit}, cả báo cáo đang làm dở, vẫn giữ nguyên cho người mới. Chị chuyển tin dưới đây "
    "cho {new}:"
)
THAYTHE_DONE_VACANT = "Đã giao {new} làm {leader} {unit}. Chị chuyển tin dưới đây cho {new}:"
PHONE_BAD = "«{text}» không phải số điện thoại. Chị ghi số di động, ví dụ 0912345678."
PHONE_TAKEN = "Số {phone} đã là của {owner} ({unit}); mỗi số điện thoại chỉ của một người."
BUTTON_AGREE = "Đồng ý"
BUTTON_CANCEL = "Hủy"
OFFICE_CANCELLED = "Đã hủy, chưa thay đổi gì."
NGUNG_USAGE = "Chị ghi tên hoặc số điện thoại người cần ngừng, ví dụ: /ngung Nguyễn Thị Lan"
NGUNG_CONFIRM = (
    "Ngừng tài khoản của {name} ({role}, {unit})? Chị ấy sẽ không dùng bot được nữa; "
    "số liệu đã báo cáo vẫn giữ nguyên."
)
NGUNG_DONE = (
    "Đã ngừng tài khoản của {name}. Cần người thay, chị gõ: thay {unit} bằng <họ tên> "
    "<số điện thoại>"
)
NGUNG_SELF = "Chị không tự ngừng tài khoản của mình được; chị nhờ cán bộ Hội cấp trên."
CHODUYET_NONE = "Không có báo cáo nào đang chờ chị duyệt."
CHODUYET_TITLE = "Báo cáo chờ chị duyệt ({n}):"
CHODUYET_LINE = "• {unit} – {form} {period} (gửi {when})"
CHODUYET_HINT = "Duyệt: /duyet <đơn vị> <kỳ>, ví dụ: /duyet {unit} {period}"
CHUAXEPLOAI_NO_FORM = "Cấp của chị không có biểu xếp loại nào."
CHUAXEPLOAI_TITLE = "{form} {period}: còn {missing}/{total} {level} chưa xếp loại:"
CHUAXEPLOAI_ALL = "{form} {period}: đã xếp loại đủ {total} {level}. Cảm ơn chị!"
CHUAXEPLOAI_HINT = "Xếp loại: /xeploai <mức> <đơn vị> {period}, các mức: {choices}."
RATING_REMINDER = "Kỳ {period} đã kết thúc: chị xếp loại các {level} giúp em nhé."
WEEKLY_JOINED = "{joined}/{total} {leader} đã kết nối."
WEEKLY_NOT_JOINED_HINT = "Xem ai chưa kết nối: /chuaketnoi"

# ---- a yes that decides; what a proposal would change; a reopened report locks again (#19) --
WHOLE_SAY_YES_PLAINLY = (
    "Em chưa ghi gì. Các số trên em chưa chắc là báo cáo, nên chị trả lời rõ «Có» để em ghi, "
    "hoặc «Không» nếu tin đó không phải báo cáo."
)
CONFIRM_SAY_PLAINLY = (
    "Số này khác thường nên em cần chị xác nhận rõ: chị trả lời «Đúng» nếu số đúng, hoặc gõ lại số."
)
WHOLE_DROPPED = "Em không ghi các số ở tin trước."
WHOLE_ASK_EXTRA = "Chị gửi {sent} số, mẫu chỉ có {n} câu: em sẽ không ghi {extra}."
WHOLE_TOO_FEW_ALL = (
    "Chị gửi {sent} số, mẫu có {n} câu. Em đã ghi lần lượt vào câu 1 đến câu {sent}; các câu "
    "sau vẫn giữ số đã ghi. Chị xem lại bên dưới."
)
WHOLE_CHANGED = "Em đã đổi: {items}."
WHOLE_CHANGED_ITEM = "mục {n}: {old} → {new}"
CANCELLED_SENT = (
    "Em đã dừng. Báo cáo đã gửi vẫn giữ nguyên số cũ, em không lưu thay đổi nào chưa được "
    "chị xác nhận."
)
EDITS_DONE_NONE = "Dạ, báo cáo vẫn như đã gửi, không có gì thay đổi. Cảm ơn chị!"
RELOCKED_APPROVED = (
    "Báo cáo không thay đổi nên đã khóa lại và vẫn được duyệt như trước. Cảm ơn chị!"
)
RELOCKED_WAITING = (
    "Đã khóa lại báo cáo. Hội cấp trên sẽ xem các số chị đã sửa và duyệt lại. Cảm ơn chị!"
)
RELOCKED_LOCKED = (
    "{form} – {period} đã sửa xong và khóa lại, đang chờ Hội cấp trên duyệt lại. Cần sửa "
    "thêm, chị nhờ {officer} mở lại báo cáo."
)
STAFF_SAY_PLAINLY = "Em chưa làm gì. Chị trả lời rõ «{yes}» hoặc «{no}»."
NOT_UNDERSTOOD_START = "Em chưa hiểu ý chị. "
EDIT_SAY_PLAINLY = (
    "Em chưa lưu. Số này khác thường, nên chị trả lời rõ «Lưu thay đổi» (hoặc «Có») để lưu, "
    "hoặc «Giữ số cũ»."
)
PAUSE_HINT_SENT = "Chị muốn dừng thì gõ /huy; báo cáo đã gửi vẫn giữ nguyên số cũ."

# ---- a channel's quota exhausted (#19) ------------------------------------------------------
# Put before the first reply held back, so she learns why it is late (once, not per message).
QUOTA_DELAYED_NOTE = (
    "(Tin trả lời đến chậm vì {channel} tạm giới hạn số tin bot được gửi. Em xin lỗi chị.)"
)
DIGEST_QUOTA = (
    "Lưu ý: {channel} đã hết hạn mức tin nhắn của bot, tin nhắc và tin trả lời qua {channel} "
    "phải chờ đến {until}."
)

# ---- personal data (Decree 13/2023/NĐ-CP; handlers/privacy.py) ----------------------------
NOTICE_ACCEPT = "Đồng ý"
NOTICE_ASK = "Chị đọc giúp em, rồi bấm «Đồng ý» (hoặc gõ: đồng ý) để bắt đầu."
NOTICE_TOLD = "Chị bấm «Đồng ý» (hoặc gõ: đồng ý) để xác nhận chị đã đọc."
NOTICE_WAITING = "Trước khi dùng bot, chị cần đồng ý với thông báo về dữ liệu cá nhân dưới đây."
NOTICE_THANKS = "Cảm ơn chị, em đã ghi nhận chị đồng ý lúc {when}."
NOTICE_ALREADY = "Chị đã đồng ý với thông báo về dữ liệu cá nhân lúc {when}. Cảm ơn chị!"
CODE_ERASED = (
    "Mã mời này thuộc về một người đã được xóa dữ liệu, nên không dùng được nữa. "
    "Chị nhờ cán bộ Hội cấp trên tạo tài khoản và gửi mã mới nhé."
)
MY_DATA_TITLE = "Dữ liệu bot đang lưu về chị:"
MY_DATA_PERSON = "• {name}, {role}, {unit}; số điện thoại: {phone}"
MY_DATA_NO_PHONE = "chưa có"
MY_DATA_ACCOUNTS = "• Tài khoản: {accounts}"
MY_DATA_ACCOUNT = "{channel} (từ {day})"
MY_DATA_MESSAGES = "• {n} tin bot đã gửi chị (nội dung được xóa sau {days} ngày)"
MY_DATA_REPORTS = "• {n} báo cáo chị đã gửi hoặc duyệt, {changes} lần sửa số liệu"
MY_DATA_NOTICE = "• Chị đồng ý với thông báo về dữ liệu lúc {when}"
MY_DATA_NOTICE_NOT_YET = "• Chị chưa bấm đồng ý với thông báo về dữ liệu"
MY_DATA_LOOKED = "• {n} lần cán bộ xem hoặc xuất dữ liệu của chị"
MY_DATA_FILE = (
    "Tệp đính kèm có đủ chi tiết. Muốn sửa hoặc xóa dữ liệu, chị báo cán bộ Hội cấp trên."
)
MY_DATA_FILENAME = "du-lieu-cua-toi.json"
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "terminal": "máy tính"}

# ---- what a sum target and a trend rest on (#20) -------------------------------------------
# A sum target's line when not every unit that should report its figure has: "tính trên k/n".
PROGRESS_SUM_BASIS = ", tính trên {n}/{m} {level} đã báo cáo ({missing} {level} chưa báo cáo)"
# A trend whose periods rest on different units: what the figure over each bar says.
CHART_TREND_BASIS = "(số trên cột: {level} đã báo cáo/phải báo cáo; – : chưa có báo cáo)"
CHART_TREND_NONE = "–"

# ---- the tracker pages, phone-first (#24) --------------------------------------------------
# Error pages of the web server: fixed words, never anything from the request.
WEB_ERRORS = {
    400: "Yêu cầu không hợp lệ",
    403: "Link không hợp lệ hoặc đã hết hạn",
    404: "Không tìm thấy trang này",
    405: "Trang này chỉ để xem, không nhận thao tác này",
    413: "Yêu cầu quá lớn",
    414: "Địa chỉ trang quá dài",
    431: "Yêu cầu quá lớn",
    500: "Máy chủ đang gặp sự cố, chị thử lại sau ít phút",
}
WEB_ERROR_HINT = "Chị gõ /web trong khung chat với bot để nhận link mới."
WEB_UNIT_IN = "{unit} ({parent})"  # a unit's name with its parent's, when names repeat
WEB_AS_OF = "Số liệu đến {when} (lúc nhận báo cáo mới nhất)"
WEB_AS_OF_NONE = "Chưa nhận báo cáo nào."
WEB_CHART_ALT = "{title}. {values}."
WEB_CHART_BY_PERIOD = "Biểu đồ {label} theo từng kỳ, {period}"
WEB_CHART_BY_UNIT = "Biểu đồ {label} theo từng đơn vị, {period}"
WEB_CHART_PERIOD = "Kỳ"
WEB_CHART_VALUE = "Trong kỳ ({unit})"
WEB_CHART_RUNNING = "Cộng dồn"
WEB_CHART_VALUE_PLAIN = "Trong kỳ"


# ---- the written report (handlers/written_report.py) --------------------------------------
HELP_LINES_DOCUMENT = {
    "baocaovanban": "/baocaovanban [kỳ] – dự thảo báo cáo kết quả công tác của kỳ (file Word)",
}
DOC_MOTTO = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
DOC_DATE = "{place}, ngày {day} tháng {month} năm {year}"
DOC_NO_DATA = (
    "Kỳ này chưa có {level} nào gửi báo cáo: các ô số liệu dưới đây để trống "
    "(«chưa báo cáo»), không phải bằng 0."
)
DOC_RESULTS_HEADERS = ["TT", "Chỉ số", "Đơn vị tính", "{period}", "Kỳ trước", "Cùng kỳ năm trước"]
DOC_PERIOD_IN_HEADER = "{title}\n({period})"
DOC_BASIS = "(tính trên {reported}/{expected} {level} đã báo cáo)"
DOC_YES_COUNT = "{yes}/{reported} {level} có"
DOC_RESULTS_NONE = "Không có chỉ số nào do {unit} và các đơn vị trực thuộc báo cáo."
DOC_COMPARE_PREVIOUS = "So với kỳ trước (chỉ tính các đơn vị báo cáo cả hai kỳ):"
DOC_COMPARE_YEAR = "So với cùng kỳ năm trước (chỉ tính các đơn vị báo cáo cả hai kỳ):"
DOC_COMPARE_LINE = "– {label}: {change}"
DOC_TARGETS_HEADERS = ["TT", "Chỉ tiêu", "Đã đạt", "Chỉ tiêu đề ra", "Dự kiến đến nay", "Đánh giá"]
DOC_TARGETS_INTRO = "Tính đến ngày {today}. {summary}"
DOC_TARGET_SOURCE = "Căn cứ: {source}"
DOC_TARGET_PERIOD = "({period})"
DOC_TARGETS_NONE = "Không có chỉ tiêu nào áp dụng cho {unit}."
DOC_COVERAGE = "{reached}/{units} {level}"
DOC_TASK = "{done}/{units} {level} đã thực hiện"
DOC_REPORTING = (
    "{form} {period}: {submitted}/{expected} {level} đã nộp ({percent}), trong đó đúng hạn "
    "{on_time}, trễ hạn {late}; chưa nộp: {missing}."
)
DOC_REPORTING_IN_PROGRESS = "Trong số chưa nộp, {n} {level} đang làm dở."
DOC_APPROVED = "Cấp trên đã duyệt {approved}/{submitted} báo cáo đã nộp."
DOC_MISSING_TITLE = "Các {level} chưa nộp báo cáo:"
DOC_MISSING_GROUP = "– {parent}: {units}."
DOC_ALL_SENT = "Tất cả các {level} đã nộp báo cáo."
DOC_NOBODY_EXPECTED = "Không có {level} nào phải nộp {form} {period}."
DOC_THI_DUA_INTRO = "Xếp hạng thi đua các {level} của {unit} theo «{rule}», tính đến ngày {day}."
DOC_THI_DUA_HEADERS = ["Thứ hạng", "Đơn vị", "Điểm"]
DOC_THI_DUA_TOP = "Các đơn vị dẫn đầu:"
DOC_THI_DUA_BOTTOM = "Các đơn vị cuối bảng:"
DOC_THI_DUA_UNSCORED = "{n} {level} chưa đủ số liệu để xếp hạng (không tính là kém)."
DOC_THI_DUA_NO_UNITS = "{unit} không có đơn vị trực thuộc để xếp hạng thi đua."
DOC_TEXTS_NONE = "Kỳ này không có {level} nào ghi ý kiến."
DOC_TEXTS_NO_QUESTION = "Các mẫu báo cáo không có câu hỏi trả lời bằng chữ."
DOC_TEXT_LINE = "– {unit}{parent}{when}: {text}"
DOC_TEXT_PARENT = " ({parent})"
DOC_TEXT_WHEN = ", {period}"
DOC_OFFICE_PLACEHOLDER = "[Phần này văn phòng tự viết.]"
DOC_RECIPIENTS = "Nơi nhận:"
DOC_FILENAME = "bao-cao-van-ban-{unit}-{period}.docx"
DOC_CAPTION = "Dự thảo báo cáo {period} – {unit} (file Word): văn phòng bổ sung phần đánh giá."
# Text answers that say there is nothing to say: left out of the report.
DOC_EMPTY_ANSWERS = frozenset({"khong", "khong co", "ko", "k", "khong a", "khong co gi", "-"})

# ---- a sent report's edit, made firmer (#19, h19fix2) ----------------------------------------
EDIT_SAY_YES_PLAINLY = "Em chưa lưu. Chị trả lời rõ «Lưu thay đổi» để lưu, hoặc «Giữ số cũ»."
EDIT_NO_IS_NOT_ZERO = (
    "Chị muốn sửa mục {n} thành 0? Nếu đúng, chị gõ số «0»; muốn giữ số cũ thì trả lời «Giữ số cũ»."
)
EDIT_ONE_ITEM = "Chị đang sửa mục {n}: chị gõ một số."
EDIT_APPROVED_MEANWHILE = "Báo cáo đã được duyệt trong lúc chị đang sửa, em chưa lưu gì."
APPROVE_STILL_EDITING = (
    "{leader_cap} {unit} đang sửa {form} {period} (chưa trả lời «Xong»); chị có thể chờ "
    "chị ấy sửa xong rồi duyệt."
)
CHODUYET_NONE_NO_FORM = (
    "Không có báo cáo nào đang chờ chị duyệt. Không mẫu báo cáo nào của cấp dưới bắt buộc "
    "duyệt; chỉ báo cáo được mở lại và đã sửa mới chờ chị duyệt lại."
)
