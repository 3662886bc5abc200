"""Reminders, digests and a channel's exhausted quota."""

from __future__ import annotations

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

# ---- a channel's quota exhausted (#19) ------------------------------------------------------
# Put before the first reply held back, so she learns why it is late (once, not per message).
QUOTA_DELAYED_NOTE = (
    "(Tin trả lời đến chậm vì {channel} tạm giới hạn số tin bot được gửi. Em xin lỗi chị.)"
)
DIGEST_QUOTA = (
    "Lưu ý: {channel} đã hết hạn mức tin nhắn của bot, tin nhắc và tin trả lời qua {channel} "
    "phải chờ đến {until}."
)

# An officer reopened a sent report (/mobaocao): what the leader is told, and what the
# officer learns about it.
REOPENED_FOR_LEADER = (
    "Chị {officer} đã mở lại {form} {period} để chị sửa. Chị gõ /baocao để xem và sửa; "
    "sửa xong chị trả lời «Xong», báo cáo tự khóa lại."
)
REOPENED_TOLD = "Em đã nhắn cho {names}."
REOPENED_NOT_TOLD = "{leader_cap} chưa kết nối với bot: chị báo giúp chị ấy nhé."
REOPENED_NOT_TOLD_NOTICE = (
    "{leader_cap} chưa đồng ý thông báo về dữ liệu cá nhân nên em chưa nhắn được: "
    "chị báo giúp chị ấy nhé."
)

# ---- the personal-data notice not yet accepted (#22) ---------------------------------------
DIGEST_NOT_ACCEPTED = (
    "Chưa đồng ý thông báo về dữ liệu cá nhân nên bot chưa nhắc: {names}. "
    "Khi họ nhắn «Đồng ý» cho bot, bot sẽ nhắc như thường lệ."
)
NUDGE_NOT_ACCEPTED = (
    "{n} {leader} chưa đồng ý thông báo về dữ liệu cá nhân nên bot không nhắn; "
    "chị nhắc giúp họ nhắn «Đồng ý» cho bot."
)
# A late report reopened by an officer (/mobaocao) and not sent yet: reminded every few days
# after the notice (schedules/reminders.py, REOPENED_FIRST and REOPENED_EVERY).
REMINDER_REOPENED = (
    "Chị {name} ơi, {form_lower} {period} đã được mở lại ngày {opened} để {level} mình báo "
    "cáo bù, mà chưa gửi. Chị báo cáo giúp em nhé; gửi xong, báo cáo tự khóa lại."
)
XEPLOAI_NO_FORM = (
    "Cấp của chị không có biểu xếp loại nào, nên chị không cần xếp loại đơn vị nào qua bot."
)
APPROVED_FOR_LEADER = "Chị {officer} đã duyệt {form} {period}; báo cáo đã khóa lại."
APPROVED_EDIT_NOT_SAVED = (
    "Những gì chị đang sửa chưa được lưu. Nếu vẫn cần sửa, chị nhờ chị {officer} mở lại báo "
    "cáo (/mobaocao) rồi sửa lại."
)
