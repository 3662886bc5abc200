"""The office's year by chat, for staff within their scope: who below her has not joined yet
(with the invitation to forward, or a new one), a handover to a new leader, a person who has
left, and what waits for her (reports to approve, units to rate).

Everything is limited to the people of the units strictly below hers; someone outside looks
exactly like nobody. Changes go through storage/db/people.py, audited with her as the author.
"""

from __future__ import annotations

import re

from handlers import staff
from handlers.query import parse_query
from handlers.staff_chat import staff_only
from handlers.turn import Turn
from schedules.calendar import open_windows
from schedules.messages import Outbound
from storage.db import people as people_service
from storage.db.invitations import invitation_for, pretty
from storage.db.models import Invitation, OrgUnit, Person
from storage.db.people import Actor, PeopleError, PersonRow, normalize_phone
from storage.db.units import is_within, subtree_filter
from storage.measures import worklist
from storage.plan import texts_vi as vi
from storage.plan.clock import VN
from storage.plan.periods import period_of
from storage.plan.text import fold, person_sort_key, vi_sort_key

FLOW = "office"
PAGE_LINES = 10
MAX_CHOICES = 8
# "… bằng Trần Thị Mai 0912 345 678": the new person after "bằng" (with or without diacritics).
_BY = re.compile(r"(?:^|\s)(?:bằng|bang)(?:\s|$)", re.IGNORECASE)
_PHONE = re.compile(r"\+?\d[\d .\-]{7,}\d")
_DIGITS = re.compile(r"\+?\d[\d .\-]*\d|\d")


def _scope(turn: Turn) -> OrgUnit:
    assert turn.unit is not None
    return turn.unit


def _below(turn: Turn, unit: OrgUnit) -> bool:
    """A unit strictly below hers: where she may hand over and stop people."""
    return unit.id != _scope(turn).id and is_within(unit, _scope(turn))


async def _in_scope(turn: Turn, person_id: int) -> Person | None:
    """An active person of a unit below hers, or None (outside looks like nobody)."""
    person = await turn.session.get(Person, person_id)
    if person is None or not person.active:
        return None
    unit = await turn.session.get(OrgUnit, person.unit_id)
    return person if unit is not None and _below(turn, unit) else None


async def _find_people(turn: Turn, text: str) -> list[Person]:
    """Active people below her named by phone, by words of the name, or by their unit."""
    from sqlalchemy import select

    scope = _scope(turn)
    below = (
        select(Person)
        .join(OrgUnit, OrgUnit.id == Person.unit_id)
        .where(subtree_filter(scope.path), OrgUnit.id != scope.id, Person.active.is_(True))
    )
    phone = normalize_phone(text) if any(ch.isdigit() for ch in text) else None
    if phone:
        return list((await turn.session.scalars(below.where(Person.phone == phone))).all())
    words = fold(text).split()
    if not words:
        return []
    everyone = list((await turn.session.scalars(below)).all())
    found = [p for p in everyone if all(w in fold(p.full_name).split() for w in words)]
    if not found:
        try:
            unit = await unit_below(turn, text)
        except staff.StaffError:
            return []
        found = [p for p in everyone if p.unit_id == unit.id]
    return sorted(found, key=lambda p: person_sort_key(p.full_name))


async def unit_below(turn: Turn, words: str) -> OrgUnit:
    """A unit in her scope by code or name, or by its name and its parent's ("chi hội thôn 1
    xã Sơn Bình"): several branches of a district share a name."""
    return await staff.unit_in_scope(turn.session, words, _scope(turn))


async def _unit_name(turn: Turn, person: Person) -> str:
    unit = await turn.session.get(OrgUnit, person.unit_id)
    return unit.name if unit else ""


def _role(person: Person) -> str:
    return vi.ROLE_NAMES.get(person.role, person.role)


async def _pick(turn: Turn, found: list[Person], text: str, action: str) -> None:
    """Several people match: she picks one by button (or its number)."""
    turn.enter(FLOW, "pick")
    turn.ask(
        vi.PERSON_PICK.format(n=len(found), text=text),
        [
            (
                vi.PERSON_CHOICE.format(name=p.full_name, unit=await _unit_name(turn, p)),
                f"{action}:{p.id}",
            )
            for p in found[:MAX_CHOICES]
        ]
        + [(vi.BUTTON_CANCEL, "cancel")],
    )


async def invitation_message(turn: Turn, person: Person, invitation: Invitation) -> Outbound:
    """The invitation as a message she forwards to the person as it is."""
    code = pretty(invitation.code)
    link = turn.ctx.invite_link(invitation.code)
    how = (
        vi.INVITE_HOW_LINK.format(link=link, code=code)
        if link
        else vi.INVITE_HOW_CODE.format(code=code)
    )
    return Outbound(
        vi.INVITE_FORWARD.format(
            name=person.full_name,
            role=_role(person),
            unit=await _unit_name(turn, person),
            how=how,
            until=invitation.expires_at.astimezone(VN).strftime("%d/%m/%Y"),
        )
    )


# ---- who has not joined yet ---------------------------------------------------------------


@staff_only
async def chuaketnoi(turn: Turn, args: str) -> None:
    """People below her who have not joined, with their invitation code (and link)."""
    try:
        unit = await unit_below(turn, args.strip()) if args.strip() else _scope(turn)
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    await _show_not_joined(turn, unit.id, 0)


async def _show_not_joined(turn: Turn, unit_id: int, page: int) -> None:
    unit = await turn.session.get(OrgUnit, unit_id)
    assert unit is not None and turn.person is not None
    rows = [
        r
        for r in await people_service.listing(turn.session, under=unit)
        if r.unit.id != _scope(turn).id
    ]
    missing = [r for r in rows if not r.joined]
    if not rows:
        turn.say(vi.NOT_JOINED_NOBODY.format(unit=unit.name))
        return
    unaccepted = await _not_accepted(turn, rows)
    if not missing:
        turn.enter(None, None)
        turn.say(
            "\n".join([vi.NOT_JOINED_ALL.format(unit=unit.name, total=len(rows)), *unaccepted])
        )
        if unaccepted:  # (names: who saw them is recorded, as for the list below)
            from storage.db.personal_data.access import record_access

            await record_access(
                turn.session,
                Actor(person=turn.person),
                "list",
                turn.now,
                detail=f"chưa đồng ý {unit.code}",
            )
        return
    if len(missing) > PAGE_LINES and page == 0 and _by_unit_below(unit, rows):
        _say_not_joined_by_unit(turn, unit, rows, missing, unaccepted)
        return
    pages = -(-len(missing) // PAGE_LINES)
    page = min(page, pages - 1)
    lines = [vi.NOT_JOINED_TITLE.format(unit=unit.name, n=len(missing), total=len(rows))]
    for row in missing[page * PAGE_LINES : (page + 1) * PAGE_LINES]:
        invitation, _ = await invitation_for(
            turn.session, row.person, turn.now, turn.ctx.invitation_days
        )
        link = turn.ctx.invite_link(invitation.code)
        lines.append(
            vi.NOT_JOINED_LINE.format(
                name=row.person.full_name,
                role=_role(row.person),
                unit=row.unit.name,
                code=pretty(invitation.code),
                link=vi.NOT_JOINED_LINK.format(link=link) if link else "",
            )
        )
    if pages > 1:
        lines.append(vi.PAGE_OF.format(page=page + 1, pages=pages))
    lines.append(vi.NOT_JOINED_HINT)
    if page == 0:
        lines += unaccepted
    from storage.db.personal_data.access import record_access  # who saw whose names and phones

    await record_access(
        turn.session,
        Actor(person=turn.person),
        "list",
        turn.now,
        detail=f"chưa kết nối {unit.code}, page {page + 1}: {len(missing)} people",
    )
    turn.enter(FLOW, "view", view={"unit": unit.id, "page": page})
    more = [(vi.BUTTON_MORE, f"page:{page + 1}")] if page + 1 < pages else []
    turn.ask("\n".join(lines), more)


async def _not_accepted(turn: Turn, rows: list[PersonRow]) -> list[str]:
    """Those who joined and have not accepted the personal-data notice: the bot reminds them
    of nothing until they do (#22), so their officer should know (the first few named)."""
    waiting = await people_service.awaiting_notice(turn.session)
    found = [r for r in rows if r.joined and r.person.id in waiting]
    if not found:
        return []
    names = ", ".join(f"{r.person.full_name} ({r.unit.name})" for r in found[:PAGE_LINES])
    more = vi.NOT_ACCEPTED_MORE.format(n=len(found) - PAGE_LINES) if len(found) > PAGE_LINES else ""
    return [vi.NOT_ACCEPTED_LINE.format(n=len(found), names=names + more)]


def _by_unit_below(unit: OrgUnit, rows: list[PersonRow]) -> list[tuple[OrgUnit, list[PersonRow]]]:
    """People grouped by the unit just below `unit` on their way down, in Vietnamese order;
    empty when they all sit directly below it (a count by unit would say nothing more)."""
    groups: dict[int, tuple[OrgUnit, list[PersonRow]]] = {}
    for row in rows:
        below = ([u for u in row.path if u.depth > unit.depth] + [row.unit])[0]
        groups.setdefault(below.id, (below, []))[1].append(row)
    if all(r.unit.id == below.id for below, members in groups.values() for r in members):
        return []
    return sorted(groups.values(), key=lambda group: vi_sort_key(group[0].name))


def _say_not_joined_by_unit(
    turn: Turn, unit: OrgUnit, rows: list[PersonRow], missing: list[PersonRow], after: list[str]
) -> None:
    """A province's 540 names over 54 pages help no one: first how many per unit below her,
    then the names of the one she picks."""
    lines = [vi.NOT_JOINED_TITLE.format(unit=unit.name, n=len(missing), total=len(rows))]
    groups = _by_unit_below(unit, rows)
    for below, members in groups:
        absent = sum(1 for r in members if not r.joined)
        if absent:
            lines.append(
                vi.NOT_JOINED_UNIT_LINE.format(unit=below.name, n=absent, total=len(members))
            )
    lines.append(vi.NOT_JOINED_PICK.format(example=groups[0][0].name))
    turn.say("\n".join([*lines, *after]))


@staff_only
async def mamoi(turn: Turn, args: str) -> None:
    """A new invitation for one person below her (the old code stops working)."""
    text = args.strip()
    if not text:
        turn.say(vi.MAMOI_USAGE)
        return
    found = await _find_people(turn, text)
    if not found:
        turn.say(vi.PERSON_NOT_FOUND.format(text=text))
    elif len(found) > 1:
        await _pick(turn, found, text, "renew")
    else:
        await _renew(turn, found[0])


async def _renew(turn: Turn, person: Person) -> None:
    invitation, _ = await invitation_for(
        turn.session, person, turn.now, turn.ctx.invitation_days, renew=True
    )
    turn.enter(None, None)
    turn.say(vi.INVITE_RENEWED.format(name=person.full_name))
    turn.replies.append(await invitation_message(turn, person, invitation))


# ---- a handover ---------------------------------------------------------------------------


@staff_only
async def thaythe(turn: Turn, args: str) -> None:
    """ "thay chi hội thôn 3 bằng Trần Thị Mai 0912345678", or in two steps: "thay chi hội
    thôn 3", then "thay bằng Trần Thị Mai 0912345678"."""
    parts = _BY.split(args, maxsplit=1)
    unit_words = parts[0].strip()
    newcomer = parts[1].strip() if len(parts) > 1 else ""
    for prefix in ("chi hoi truong ", "nguoi phu trach ", "can bo "):
        # "thay chi hội trưởng chi hội thôn 3": the role named before the unit.
        if fold(unit_words).startswith(prefix) and len(unit_words.split()) > 3:
            unit_words = " ".join(unit_words.split()[len(prefix.split()) :])
    remembered = (
        turn.data.get("unit") if turn.conversation and turn.conversation.flow == FLOW else None
    )
    if not unit_words and remembered is None:
        turn.say(vi.THAYTHE_WHICH_UNIT)
        return
    try:
        unit = (
            await unit_below(turn, unit_words)
            if unit_words
            else await turn.session.get(OrgUnit, int(remembered))  # type: ignore[arg-type]
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    assert unit is not None
    if not _below(turn, unit):
        turn.say(vi.THAYTHE_NOT_BELOW.format(unit=unit.name))
        return
    catalog = turn.ctx.catalog
    role = catalog.role_of_level(unit.level)
    if role is None:
        turn.say(vi.THAYTHE_NO_ROLE.format(level=catalog.level_word(unit.level)))
        return
    words = vi.level_words(catalog, unit.level)
    current = await _holders(turn, unit, role)
    if not newcomer:
        turn.enter(FLOW, "replace_who", unit=unit.id)
        if current:
            names = ", ".join(
                f"{p.full_name}" + (f" ({p.phone})" if p.phone else "") for p in current
            )
            turn.say(vi.THAYTHE_ASK.format(unit=unit.name, current=names, **words))
        else:
            turn.say(vi.THAYTHE_ASK_VACANT.format(unit=unit.name, **words))
        return
    await _confirm_handover(turn, unit, current, newcomer, words)


async def _holders(turn: Turn, unit: OrgUnit, role: str) -> list[Person]:
    from sqlalchemy import select

    rows = await turn.session.scalars(
        select(Person)
        .where(Person.unit_id == unit.id, Person.role == role, Person.active.is_(True))
        .order_by(Person.id)
    )
    return list(rows.all())


async def _confirm_handover(
    turn: Turn, unit: OrgUnit, current: list[Person], newcomer: str, words: dict[str, str]
) -> None:
    # Any run of digits is meant as her phone: a short one is a wrong phone, not a wrong name.
    phone_match = _PHONE.search(newcomer) or _DIGITS.search(newcomer)
    name = (
        (newcomer[: phone_match.start()] + newcomer[phone_match.end() :])
        if phone_match
        else newcomer
    )
    name = " ".join(name.replace(",", " ").split())
    old = current[0] if current else None
    if not name or any(ch.isdigit() for ch in name):
        turn.say(vi.THAYTHE_BAD_NAME)
        return
    if phone_match is None:
        turn.say(vi.THAYTHE_NEED_PHONE.format(new=name))
        return
    if not _PHONE.fullmatch(phone_match.group(0)):
        turn.say(vi.PHONE_BAD.format(text=phone_match.group(0)))
        return
    try:
        full_name, phone = await people_service.check_newcomer(
            turn.session, name, phone_match.group(0), old
        )
    except PeopleError as exc:
        turn.say(_people_error(exc))
        return
    turn.enter(
        FLOW,
        "replace_confirm",
        unit=unit.id,
        old=old.id if old else None,
        name=full_name,
        phone=phone,
    )
    fields = {**words, "unit": unit.name, "new": full_name, "phone": phone}
    text = (
        vi.THAYTHE_CONFIRM.format(old=old.full_name, **fields)
        if old
        else vi.THAYTHE_CONFIRM_VACANT.format(**fields)
    )
    turn.ask(text, [(vi.BUTTON_AGREE, "replace:ok"), (vi.BUTTON_CANCEL, "cancel")])


async def _handover(turn: Turn) -> None:
    data = dict(turn.data)
    unit = await turn.session.get(OrgUnit, int(data["unit"]))
    assert unit is not None and turn.person is not None
    if not _below(turn, unit):
        turn.say(vi.BUTTON_EXPIRED)
        return
    catalog = turn.ctx.catalog
    role = catalog.role_of_level(unit.level)
    old = await _in_scope(turn, int(data["old"])) if data.get("old") else None
    by = Actor(person=turn.person)
    words = vi.level_words(catalog, unit.level)
    try:
        if old is not None:
            new = await people_service.replace(
                turn.session,
                catalog,
                old,
                name=data["name"],
                phone=data["phone"],
                by=by,
                now=turn.now,
            )
        else:
            new = await people_service.create_person(
                turn.session,
                catalog,
                name=data["name"],
                phone=data["phone"],
                role=role or "",
                unit=unit,
                by=by,
                now=turn.now,
            )
    except PeopleError as exc:
        turn.enter(None, None)
        turn.say(_people_error(exc))
        return
    invitation, _ = await invitation_for(turn.session, new, turn.now, turn.ctx.invitation_days)
    turn.enter(None, None)
    fields = {**words, "unit": unit.name, "new": new.full_name}
    turn.say(
        vi.THAYTHE_DONE.format(old=old.full_name, **fields)
        if old
        else vi.THAYTHE_DONE_VACANT.format(**fields)
    )
    turn.replies.append(await invitation_message(turn, new, invitation))


def _people_error(exc: PeopleError) -> str:
    if exc.reason == "phone_taken":
        owner, unit = (exc.details + ["?", "?"])[:2]
        return vi.PHONE_TAKEN.format(phone=exc.subject, owner=owner, unit=unit)
    if exc.reason == "bad_phone":
        return vi.PHONE_BAD.format(text=exc.subject)
    return vi.THAYTHE_BAD_NAME


# ---- someone who has left -----------------------------------------------------------------


@staff_only
async def ngung(turn: Turn, args: str) -> None:
    """Stop the account of someone below her who no longer serves (with a confirmation)."""
    text = args.strip()
    if not text:
        turn.say(vi.NGUNG_USAGE)
        return
    assert turn.person is not None
    phone = normalize_phone(text) if any(ch.isdigit() for ch in text) else None
    words = fold(text).split()
    itself = phone is not None and phone == turn.person.phone
    if itself or (words and words == fold(turn.person.full_name).split()):
        turn.say(vi.NGUNG_SELF)
        return
    found = await _find_people(turn, text)
    if not found:
        turn.say(vi.PERSON_NOT_FOUND.format(text=text))
    elif len(found) > 1:
        await _pick(turn, found, text, "stop")
    else:
        await _confirm_stop(turn, found[0])


async def _confirm_stop(turn: Turn, person: Person) -> None:
    turn.enter(FLOW, "stop_confirm")
    turn.ask(
        vi.NGUNG_CONFIRM.format(
            name=person.full_name, role=_role(person), unit=await _unit_name(turn, person)
        ),
        [(vi.BUTTON_AGREE, f"stopok:{person.id}"), (vi.BUTTON_CANCEL, "cancel")],
    )


async def _stop(turn: Turn, person: Person) -> None:
    assert turn.person is not None
    unit = await _unit_name(turn, person)
    await people_service.deactivate(
        turn.session, person, by=Actor(person=turn.person), now=turn.now
    )
    turn.enter(None, None)
    turn.say(vi.NGUNG_DONE.format(name=person.full_name, unit=unit))


# ---- what waits for her -------------------------------------------------------------------


@staff_only
async def choduyet(turn: Turn, _args: str) -> None:
    """The reports of the units below her waiting for her approval."""
    catalog = turn.ctx.catalog
    waiting = await worklist.awaiting_approval(turn.session, catalog, _scope(turn), turn.today)
    if not waiting:  # a report edited after reopening waits even when no form needs approval
        none = vi.CHODUYET_NONE if worklist.approval_forms(catalog) else vi.CHODUYET_NONE_NO_FORM
        turn.say(none)
        return
    lines = [vi.CHODUYET_TITLE.format(n=len(waiting))]
    for w in waiting[:20]:
        sent = w.submission.submitted_at
        lines.append(
            vi.CHODUYET_LINE.format(
                unit=w.unit.name,
                form=w.form.name,
                period=period_of(w.form.periodicity, w.submission.period_end).label,
                when=sent.astimezone(VN).strftime("%d/%m") if sent else "–",
            )
        )
    if len(waiting) > 20:
        lines.append("…")
    first = waiting[0]
    lines.append(
        vi.CHODUYET_HINT.format(
            unit=first.unit.name,
            period=period_of(first.form.periodicity, first.submission.period_end).label,
        )
    )
    turn.say("\n".join(lines))


@staff_only
async def chuaxeploai(turn: Turn, args: str) -> None:
    """The units her level rates that are not rated yet, for the rating period now open (or
    the one under way), or the period she names."""
    catalog = turn.ctx.catalog
    scope = _scope(turn)
    forms = worklist.rating_forms(catalog, scope.level)
    if not forms:
        turn.say(vi.CHUAXEPLOAI_NO_FORM)
        return
    query = parse_query(args)
    blocks = []
    for form in forms:
        # The rating period open now (in January, last year's), else the one under way.
        opened = open_windows(form, turn.today)
        default = opened[0].period if opened else period_of(form.periodicity, turn.today)
        try:
            asked = staff.period_or_error(query.period, turn.today, catalog, default)
        except staff.StaffError as exc:
            turn.say(str(exc))
            return
        period = period_of(form.periodicity, asked.end)
        blocks.append(await worklist.unrated_text(turn.session, catalog, form, period, scope))
    turn.say("\n\n".join(blocks))


# ---- buttons ------------------------------------------------------------------------------


async def on_action(turn: Turn, action: str) -> None:
    kind, _, value = action.partition(":")
    if kind == "cancel":
        turn.enter(None, None)
        turn.say(vi.OFFICE_CANCELLED)
        return
    if kind == "page" and value.isdigit() and turn.data.get("view"):
        await _show_not_joined(turn, int(turn.data["view"]["unit"]), int(value))
        return
    if kind == "replace" and turn.conversation and turn.conversation.step == "replace_confirm":
        await _handover(turn)
        return
    person = await _in_scope(turn, int(value)) if value.isdigit() else None
    if person is None:
        turn.say(vi.BUTTON_EXPIRED)
    elif kind == "renew":
        await _renew(turn, person)
    elif kind == "stop":
        await _confirm_stop(turn, person)
    elif kind == "stopok":
        await _stop(turn, person)
    else:
        turn.say(vi.BUTTON_EXPIRED)
