"""The office's year in chat: who has joined, handovers, what waits for her."""

from __future__ import annotations

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
WEEKLY_NOT_ACCEPTED = (
    "Trong đó {count} {leader} chưa đồng ý thông báo về dữ liệu cá nhân nên chưa được nhắc báo cáo."
)
NOT_ACCEPTED_LINE = (
    "Đã kết nối nhưng chưa đồng ý thông báo về dữ liệu cá nhân nên bot chưa nhắc báo cáo: "
    "{n} người – {names}. Khi họ nhắn «Đồng ý» cho bot, bot sẽ nhắc như thường lệ."
)
NOT_ACCEPTED_MORE = " và {n} người khác"
