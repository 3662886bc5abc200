"""Joining the bot with a code, greetings, help."""

from __future__ import annotations

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
