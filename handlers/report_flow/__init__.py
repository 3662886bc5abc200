"""The reporting conversation of a branch leader (or any unit that reports a form).

Its states and their handlers are declared in one table, `states.STATES`, with the graph
described there; the modules, each importing only the ones before it:

    wording     how her words are read and values shown (no reads, no state)
    context     what the conversation reads: the form, the answers, history, open reports
    prompts     what each state asks, and asking it again
    sent_edits  a sent report's change: proposed, confirmed and saved, or void
    answer      the answer step: one answer checked, saved, and what to ask next; the whole
                form in one message in the open report
    summary     the summary, sending, and "sửa …" typed at it
    question    the states question and confirm_value
    edits       the states edit_whole and confirm_edit
    opening     the entry points, pick_form and confirm_form
    states      the table and the dispatch through it

The whole form may come in one message (in order, one answer a line, or by the form's short
labels): it is applied when it plainly is one (handlers/whole_form.py), opens the report
(with /baocao, in reply to a reminder) and overwrites no answer; typed at a question or the
summary, only if it answers just the question asked; else she is asked first, old → new.
What is read is saved, the values are shown named, and only what is missing or doubtful is
asked.
"""

from handlers.report_flow.context import FLOW, edit_in_progress, whole_form
from handlers.report_flow.opening import cancel, on_idle_text, one_message_help, start
from handlers.report_flow.states import on_action, on_text, reprompt

__all__ = [
    "FLOW",
    "cancel",
    "edit_in_progress",
    "on_action",
    "on_idle_text",
    "on_text",
    "one_message_help",
    "reprompt",
    "start",
    "whole_form",
]
