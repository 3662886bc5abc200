"""The tracker pages (/web), thi đua (/xephang) and the web server's error pages."""

from __future__ import annotations

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
# {n}: how many lines follow (the bottom list may be shorter than the top one).
XEPHANG_TOP = "{n} đơn vị dẫn đầu:"
XEPHANG_BOTTOM = "{n} đơn vị cuối bảng:"
XEPHANG_LINE = "{rank}. {name}: {points} điểm"
XEPHANG_OWN = "{unit} đứng thứ {rank}/{total} trong {parent}, với {points} điểm."
XEPHANG_OWN_NONE = "{unit} chưa có số liệu để xếp hạng trong {parent}."
XEPHANG_NOTHING = "Chưa có đơn vị nào đủ số liệu để xếp hạng."
XEPHANG_RULE = "Cách tính:"
DIGEST_MOST_IMPROVED = "Tiến bộ nhất: {name} ({before} → {now} điểm thi đua)."
WEB_NOT_FOUND = "Không tìm thấy trang này"

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
XEPHANG_TOP_ONE = "Đơn vị dẫn đầu:"
XEPHANG_BOTTOM_ONE = "Đơn vị cuối bảng:"
# The "who reported" page of a period begun whose reports are not due yet.
WEB_REPORTING_NOT_DUE = (
    "{period} đang trong hạn báo cáo (hạn {due}): đơn vị chưa nộp vẫn còn trong hạn, "
    "chưa phải nộp muộn."
)
