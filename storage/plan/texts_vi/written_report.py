"""The written report (handlers/written_report.py)."""

from __future__ import annotations

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
# A period whose due date has not passed: nobody is listed as not having reported.
DOC_REPORTING_NOT_DUE = (
    "{form} {period}: chưa đến hạn nộp (hạn {due}); đã nộp {submitted}/{expected} {level} "
    "({percent})."
)
DOC_REPORTING_NOT_DUE_IN_PROGRESS = "{n} {level} đang làm báo cáo."
# The verdict of a target shown on last year's window (nothing of this year's due yet).
DOC_STATUS_PAST = "{status} ({period})"
