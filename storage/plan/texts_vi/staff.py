"""Staff views and commands in chat: progress, totals, what a figure rests on."""

from __future__ import annotations

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
MISSING_IN_PROGRESS = "Trong số chưa nộp, {n} {level} đang làm dở."
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

# ---- what a sum target and a trend rest on (#20) -------------------------------------------
# A sum target's line when not every unit that should report its figure has: "tính trên k/n".
PROGRESS_SUM_BASIS = ", tính trên {n}/{m} {level} đã báo cáo ({missing} {level} chưa báo cáo)"
# A trend whose periods rest on different units: what the figure over each bar says.
CHART_TREND_BASIS = "(số trên cột: {level} đã báo cáo/phải báo cáo; – : chưa có báo cáo)"
CHART_TREND_NONE = "–"

# ---- units that share both name and parent (branches of merged communes) -------------------
# "Chi hội thôn 1 (Xã Cam Hải, trước thuộc Xã Cam Hải Đông, mã KH-CL-02-01)": the code is what
# she may type to pick one; {came_from} is UNIT_CAME_FROM or empty.
UNIT_TWIN = "{name} ({parent}{came_from}, mã {code})"
UNIT_CAME_FROM = ", trước thuộc {parent}"
AMBIGUOUS_UNIT_SAME = (
    "Có nhiều đơn vị khớp với «{text}», cùng tên và cùng đơn vị cấp trên: {names}. Chị ghi mã "
    "đơn vị giúp em, ví dụ: «{code}»."
)
AMBIGUOUS_UNIT_CODE = (
    "Có nhiều đơn vị khớp với «{text}»: {names}. Chị ghi rõ hơn giúp em, kèm tên đơn vị cấp "
    "trên, ví dụ: «{example}»; đơn vị trùng cả tên đơn vị cấp trên thì ghi mã, ví dụ: «{code}»."
)

# ---- figures at the edges (docs/findings-walk-2026-12-06.md) --------------------------------
# A period whose due date has not passed: what came in so far, never "chưa nộp" as a fault.
MISSING_NOT_DUE = (
    "Kỳ này chưa đến hạn nộp (hạn {due}): đã nộp {submitted}/{expected} ({percent}), "
    "{waiting} {level} còn trong hạn."
)
MISSING_NOT_DUE_IN_PROGRESS = "{n} {level} đang làm báo cáo."
# A flow over several periods is compared only over the units that gave every period of both.
TOTAL_CHANGE_COMMON_FULL = "So với {previous}, chỉ tính {n} {level} báo cáo đủ cả hai kỳ: {change}."
TOTAL_CHANGE_NONE_FULL = "Chưa so được với {previous}: không có {level} nào báo cáo đủ cả hai kỳ."
# The workbook's subtotal rows: the basis /tong says (TOTAL_PARTIAL).
EXPORT_ROW_PARTIAL = "{basis}; {n} {level} chưa báo cáo đủ {periods} kỳ"
# A year still being reported is compared with the same stretch of the year before.
TOTAL_SAME_STRETCH = "cùng kỳ năm {year} ({period})"
# This year named while none of its reports is due nor in (early January): last year instead.
NEW_YEAR_WAITING = "{year} chưa có báo cáo nào (kỳ đầu tiên đến hạn ngày {due})."
NEW_YEAR_SHOWN = "Dưới đây là số liệu {year} (báo cáo cuối năm đang về thêm):"
# A target shown on last year's window (nothing of this year's due yet): counted above as
# not yet due this year, its past verdict said apart, and its line names the year.
PROGRESS_SUMMARY_PAST = (
    " Trong đó {n} chỉ tiêu chưa có báo cáo năm nay đến hạn, đang xem kết quả {period}: {parts}."
)
PROGRESS_HEAD_PAST = "{status} ({period}) {label}"
# A period whose reports are still within their due date (/tong): not late, said as /chuanop does.
TOTAL_EMPTY_IN_WINDOW = (
    "Chưa có báo cáo nào đã gửi cho {period} (0/{expected} {level}): kỳ này đang trong hạn "
    "báo cáo (hạn {due}), chưa phải chậm nộp."
)
TOTAL_IN_WINDOW = "Kỳ này ({period}) đang trong hạn báo cáo (hạn {due}): số liệu còn bổ sung."
# A flow over a term (a year) whose first due periods have no report in the records.
TOTAL_SINCE = (
    "Số liệu có từ {first}: {n} kỳ đầu của {period} chưa có báo cáo nào trong hệ thống "
    "(nhập bằng lệnh hoibot reports import)."
)
# A unit merged into another: its branches moved with their history to the new unit.
TOTAL_MERGED = (
    "{unit} đã nhập vào {into} từ {day}; số liệu của các {level} cũ (kể cả trước ngày nhập) "
    "nằm ở {into}."
)
