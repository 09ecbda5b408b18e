"""Staff chat commands for appointments and check-ins (Telegram or SMS; the "/" is optional).

    /appt CASE YYYY-MM-DD HH:MM TYPE [place]   a new appointment, in the survivor's local time
    /appts CASE                                their upcoming appointments
    /move ID YYYY-MM-DD HH:MM                  a new time; reminders follow
    /cancel ID                                 cancelled; reminders are withdrawn
    /checkin CASE daily HH:MM | weekly DAY HH:MM | off

Access goes through StaffCommands.permitted like every case command: making and changing
appointments is casework ("reply"), listing them is reading the case.
"""

from __future__ import annotations

from bot.care.appointments import (
    AppointmentBook,
    AppointmentError,
    staff_when,
)
from bot.care.checkins import describe_plan, set_plan
from bot.staff.commands import Handler, StaffCommands, StaffRequest
from bot.store.appointments import Appointments
from bot.store.models import Appointment, AppointmentJob, Survivor

COMMANDS = frozenset({"appt", "appts", "move", "cancel", "checkin"})


def reminder_times(appointment: Appointment, jobs: list[AppointmentJob]) -> str:
    from bot.care.quiet_hours import zone

    tz = zone(appointment.timezone)
    times = [
        f"{job.due_at.astimezone(tz):%a %d %b %H:%M}"
        for job in jobs
        if job.purpose == "reminder" and job.status == "pending"
    ]
    return ", ".join(times) or "none (too close to the start)"


class AppointmentCommands:
    def __init__(self, book: AppointmentBook) -> None:
        self.book = book

    def register(self, commands: StaffCommands) -> None:
        for name in COMMANDS:
            commands.register(name, self._command(name))

    def _command(self, name: str) -> Handler:
        async def run(
            commands: StaffCommands, reply: StaffRequest, args: list[str], _: str
        ) -> None:
            await self.handle(commands, reply, name, args)

        return run

    async def handle(
        self, commands: StaffCommands, reply: StaffRequest, name: str, args: list[str]
    ) -> None:
        try:
            if name == "appt" and len(args) >= 4:
                await self._create(commands, reply, args)
            elif name == "appts" and len(args) == 1:
                await self._list(commands, reply, args[0])
            elif name == "move" and len(args) == 3:
                await self._move(commands, reply, args)
            elif name == "cancel" and len(args) == 1:
                await self._cancel(commands, reply, args[0])
            elif name == "checkin" and len(args) >= 2:
                await self._checkin(commands, reply, args)
            else:
                reply.say("staff.appt_usage")
        except AppointmentError as exc:
            reply.say(exc.key, False, **exc.params)

    def _repo(self, reply: StaffRequest) -> Appointments:
        return Appointments(reply.uow.session, reply.uow.outbox.cipher)

    async def _create(self, commands: StaffCommands, reply: StaffRequest, args: list[str]) -> None:
        code, day, at, kind, *place = args
        survivor = await commands.permitted(reply, code, "reply")
        if survivor is None:
            return
        appointment = await self.book.create(
            reply.uow, reply.now, survivor, kind, day, at, " ".join(place), reply.actor
        )
        jobs = await self._repo(reply).jobs_of(appointment.id)
        reply.say(
            "staff.appt_created", id=str(appointment.id), case=survivor.case_code,
            what=appointment.kind, when=staff_when(appointment),
            reminders=reminder_times(appointment, jobs),
        )  # fmt: skip

    async def _list(self, commands: StaffCommands, reply: StaffRequest, code: str) -> None:
        survivor = await commands.permitted(reply, code, "read_case")
        if survivor is None:
            return
        repo = self._repo(reply)
        lines = []
        for appointment in await repo.of_survivor(survivor.id, since=reply.now):
            place = repo.place(appointment)
            lines.append(
                f"{appointment.id} · {appointment.kind} · {staff_when(appointment)}"
                f" · reply: {appointment.reply or '—'}" + (f" · {place}" if place else "")
            )
        reply.uow.audit.record(reply.actor, "appointment.list", reply.now, survivor_id=survivor.id)
        reply.say(
            "staff.appt_list", case=survivor.case_code, lines="\n".join(lines) or "—",
            sensitive=True,
        )  # fmt: skip

    async def _appointment(
        self, commands: StaffCommands, reply: StaffRequest, ident: str
    ) -> tuple[Appointment, Survivor] | None:
        appointment = await self._repo(reply).get(int(ident)) if ident.isdigit() else None
        code = ""
        if appointment is not None:
            owner = await reply.uow.people.survivor(appointment.survivor_id)
            code = owner.case_code if owner else ""
        # Unknown and not-yours get the same answer.
        survivor = await commands.permitted(reply, code, "reply")
        if survivor is None or appointment is None:
            return None
        return appointment, survivor

    async def _move(self, commands: StaffCommands, reply: StaffRequest, args: list[str]) -> None:
        found = await self._appointment(commands, reply, args[0])
        if found is None:
            return
        appointment, survivor = found
        await self.book.move(
            reply.uow, reply.now, appointment, survivor, args[1], args[2], reply.actor
        )
        jobs = await self._repo(reply).jobs_of(appointment.id)
        reply.say(
            "staff.appt_moved", id=str(appointment.id), case=survivor.case_code,
            when=staff_when(appointment), reminders=reminder_times(appointment, jobs),
        )  # fmt: skip

    async def _cancel(self, commands: StaffCommands, reply: StaffRequest, ident: str) -> None:
        found = await self._appointment(commands, reply, ident)
        if found is None:
            return
        appointment, survivor = found
        await self.book.cancel(reply.uow, reply.now, appointment, survivor, reply.actor)
        reply.say("staff.appt_cancelled", id=str(appointment.id), case=survivor.case_code)

    async def _checkin(self, commands: StaffCommands, reply: StaffRequest, args: list[str]) -> None:
        code, frequency, *rest = args
        survivor = await commands.permitted(reply, code, "reply")
        if survivor is None:
            return
        frequency = frequency.lower()
        weekday = rest[0] if frequency == "weekly" and len(rest) == 2 else None
        at = rest[-1] if rest else None
        plan = await set_plan(reply.uow, reply.now, survivor, frequency, reply.actor, at, weekday)
        if plan is None or not plan.active:
            reply.say("staff.checkin_off", case=survivor.case_code)
        else:
            reply.say("staff.checkin_set", case=survivor.case_code, plan=describe_plan(plan))
