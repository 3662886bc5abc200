"""The leader's reporting conversation: questions, whole-form messages, edits."""

from __future__ import annotations

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
CONFIRM_WHY_MEMBERS = "Số này lớn hơn số hội viên của {level} ({source}: {members} hội viên)."
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
    "{form} – {period} đã khóa sổ từ ngày {closes}. Nếu cần sửa, chị nhờ cán bộ Hội "
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

# Edited messages (an edit on Telegram arrives as its own update).
EDIT_OLD = (
    "Chị vừa sửa một tin nhắn cũ, em không đổi số liệu theo tin đã sửa. Muốn sửa câu đã trả "
    "lời, chị trả lời hết các câu rồi gõ «sửa» và số mục ở bảng tóm tắt, ví dụ «sửa 3»."
)
EDIT_OUTSIDE = (
    "Chị vừa sửa một tin nhắn cũ, em không đổi gì theo tin đã sửa. Muốn sửa báo cáo, chị gõ "
    "/baocao rồi gõ «sửa» và số mục ở bảng tóm tắt."
)

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

# A thank-you outside any question (a tester's "Cảm ơn em" got "Em chưa hiểu ý chị").
YOU_ARE_WELCOME = "Dạ, không có gì ạ. Khi cần, chị cứ nhắn em."

# Where the member count a per-member answer is held against was read (tester's finding 9:
# the registered 114 was quoted while her reports said 125).
MEMBERS_FROM_THIS_REPORT = "theo câu {n} của báo cáo này"
MEMBERS_FROM_THIS_REPORT_ANY = "theo báo cáo này"
MEMBERS_FROM_REPORT = "theo báo cáo {period}"
MEMBERS_FROM_UNIT_LIST = "theo danh sách đơn vị"
# A draft as firm as a sent report (tester's walk, 2026-12-06).
ZERO_SAVED = "Đã ghi: {value}."
NO_IS_NOT_ZERO = (
    "Dạ, em chưa ghi gì cho câu {n}. Nếu câu này không có (bằng 0), chị gõ số «0» hoặc «không có»."
)
CONFIRM_WHY_YEAR = "Số {value} giống số năm, không giống số liệu của câu này."
CONFIRM_WAITING = (
    "Em đang chờ chị xác nhận số {value}: chị trả lời «Đúng» nếu số đúng, hoặc gõ lại số cho câu "
    "{n}."
)
WHOLE_PRESS_YES = "Em chưa ghi. Chị bấm «Có» để ghi các số này, hoặc «Không» nếu không ghi."
APPROVE_EDIT_IN_PROGRESS = (
    "{leader_cap} {unit} đang sửa {form} {period} (chưa lưu thay đổi); chị có thể chờ chị ấy "
    "sửa xong rồi duyệt."
)
PERIOD_MISSED = (
    "{form} {period} đã khóa sổ ngày {closed} mà {level} chưa gửi. Muốn báo cáo bù, chị nhờ "
    "{officer} mở lại (lệnh /mobaocao)."
)
PERIOD_MISSED_NOT_WRITTEN = "Em chưa ghi các số chị gửi."
REOPENED_LATE = (
    "Đã mở lại {form} {period} của {unit} để báo cáo bù. {leader_cap} gõ /baocao để báo cáo; "
    "gửi xong, báo cáo tự khóa lại."
)
REOPENED_LATE_FOR_LEADER = (
    "Chị {officer} đã mở lại {form} {period} để chị báo cáo bù. Chị gõ /baocao để báo cáo; "
    "gửi xong, báo cáo tự khóa lại."
)
NEXT_PERIOD = "Kỳ tới: {form}, {period}, mở từ ngày {opens}."
# Courtesy in the middle of a report ("cảm ơn em", "ok", "👍", "chị bận, lát chị gửi"): a
# polite word, nothing changed, and what is still waited for (handlers/report_flow/chatter.py).
CHATTER_POLITE = {
    "thanks": "Dạ, không có gì ạ.",
    "ack": "Dạ.",
    "later": "Dạ, chị cứ làm việc ạ, lúc nào tiện chị làm tiếp.",
}
CHATTER_AT_QUESTION = "Các câu chị đã trả lời em vẫn giữ; báo cáo chưa gửi, còn chờ câu {n}."
CHATTER_AT_SENT_QUESTION = "Báo cáo đã gửi vẫn giữ nguyên; em chờ số mới cho câu {n}."
CHATTER_AT_SUMMARY = "Báo cáo chưa gửi; em không đổi gì, vẫn như bảng tóm tắt ở trên."
CHATTER_AT_SUBMITTED = "Báo cáo vẫn như đã gửi, em không đổi gì."
CHATTER_WAITING = "Em chưa ghi gì; em vẫn chờ chị trả lời câu hỏi dưới đây."
CHATTER_AT_EDIT_WHOLE = "Em chưa đổi gì; em chờ các số chị muốn sửa."
# Outside any report: a nod, or "lát chị làm" (a thank-you gets YOU_ARE_WELCOME).
CHATTER_IDLE = {"ack": "Dạ. ", "later": "Dạ, lúc nào tiện chị nhắn em. "}
# A draft's item asked again by «sửa N» (handlers/report_flow/question.py).
DRAFT_EDIT_KEPT = "Dạ, em giữ nguyên số cũ."
DRAFT_NO_IS_NOT_ZERO = (
    "Chị muốn đổi mục {n} từ {old} thành {new}? Nếu đúng, chị gõ số «0»; muốn giữ số cũ thì "
    "trả lời «Giữ số cũ»."
)
# Numbers typed at the choice of a report (handlers/report_flow/states.py).
PICK_FORM_WHY = {
    "phone": "«{text}» giống số điện thoại",
    "date": "«{text}» là ngày tháng",
    "time": "«{text}» là giờ",
    "money": "«{text}» là số tiền",
    "year": "«{text}» giống số năm",
    "other": "em chưa biết các số trong «{text}» thuộc câu nào của báo cáo nào",
}
PICK_FORM_FIRST = (
    "Em chưa ghi gì: {why}. Chị chọn báo cáo trước (bấm hoặc gõ số thứ tự trong danh sách), "
    "rồi em hỏi lần lượt từng câu."
)
# "Không có" right after a refusal (handlers/report_flow/question.py): not taken for 0.
NONE_IS_NOT_ZERO = (
    "Dạ, em chưa ghi gì cho câu {n}, vì tin trước em chưa rõ. Nếu câu này bằng 0, chị gõ số "
    "«0» giúp em."
)
# Numbers after a bare «sửa» that are neither the whole report nor labelled ("3 0 1").
EDIT_TOO_FEW = (
    "Em thấy {k} số nhưng chưa biết số nào thuộc mục nào: cả báo cáo cần đủ {n} số theo thứ "
    "tự câu hỏi. Muốn sửa vài mục, chị gõ nhãn và số (ví dụ: {label} 2), hoặc gõ số mục cần "
    "sửa (ví dụ: 3)."
)
