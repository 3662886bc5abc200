"""Personal data (Decree 13/2023/NĐ-CP; handlers/privacy.py)."""

from __future__ import annotations

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
# Chatter from someone who joined before the notice and has not accepted it yet (she may use
# the bot meanwhile): the notice again, after this line, with its «Đồng ý».
NOTICE_REMIND = (
    "Em chưa hiểu ý chị. Chị chưa xác nhận đã đọc thông báo về dữ liệu cá nhân dưới đây."
)
# /trogiup's line for "dữ liệu của tôi" (everyone may use it, before accepting the notice too).
HELP_LINES_PRIVACY = {
    "dulieu": "/dulieu (hoặc gõ «dữ liệu của tôi») – xem dữ liệu bot đang lưu về chị",
}
# A request to erase one's data, typed in chat ("xóa dữ liệu của tôi"): asked once more, then
# recorded and told to her officer; the operator erases after the officer has checked with her
# (handlers/data_requests.py). A chat message alone erases nothing.
ERASE_ASK = (
    "Chị muốn xóa dữ liệu cá nhân của chị (họ tên, số điện thoại, tài khoản chat, tin nhắn) "
    "khỏi bot?\n"
    "Em sẽ ghi yêu cầu và báo cán bộ Hội cấp trên. Cán bộ liên hệ xác nhận với chị, rồi người "
    "quản trị bot mới xóa. Số liệu báo cáo của chi hội vẫn giữ, không còn ghi tên chị."
)
BUTTON_ERASE_SEND = "Gửi yêu cầu xóa"
BUTTON_ERASE_KEEP = "Không xóa"
ERASE_RECORDED = (
    "Em đã ghi yêu cầu xóa dữ liệu cá nhân của chị ngày {day} và báo cho {officers}. "
    "Cán bộ Hội sẽ liên hệ xác nhận với chị, rồi người quản trị bot xóa. Đến lúc đó bot vẫn "
    "giữ dữ liệu của chị; chị gõ «dữ liệu của tôi» để xem bot đang giữ gì."
)
ERASE_OFFICERS_NONE = "người quản trị bot"
ERASE_ALREADY = (
    "Yêu cầu xóa dữ liệu của chị đã được ghi ngày {day} và đang chờ cán bộ Hội xác nhận; "
    "chị không cần gửi lại. Cần gấp, chị gọi cán bộ Hội cấp trên."
)
ERASE_KEPT = "Dạ, em không gửi yêu cầu nào; dữ liệu của chị vẫn giữ như cũ."
ERASE_FOR_OFFICER = (
    "Chị {name} ({unit}{phone}) nhắn bot xin xóa dữ liệu cá nhân của mình. Chị liên hệ "
    "xác nhận với chị ấy; nếu đúng, chị báo người quản trị bot xóa (lệnh «hoibot people "
    "erase {id}»). Bot chưa xóa gì."
)
