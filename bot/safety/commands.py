"""Staff commands for urgent situations: ACK and RESOLVE an escalation, /wipe a lost phone."""

from __future__ import annotations

from bot.safety.escalation import Escalations
from bot.safety.telegram_safety import wipe_survivor_chat
from bot.staff.commands import ACK_BUTTON, StaffCommands, StaffRequest


def register(commands: StaffCommands, escalations: Escalations) -> None:
    async def ack(commands: StaffCommands, request: StaffRequest, args: list[str], _: str) -> None:
        if len(args) != 1:
            request.say("staff.help")
            return
        request.say(await escalations.acknowledge(request.uow, request.now, request.staff, args[0]))

    async def resolve(
        commands: StaffCommands, request: StaffRequest, args: list[str], _: str
    ) -> None:
        if not args:
            request.say("staff.help")
            return
        outcome = " ".join(args[1:])
        answer = await escalations.resolve(
            request.uow, request.now, request.staff, args[0], outcome
        )
        request.say(answer)

    commands.register(ACK_BUTTON, ack)
    commands.register("resolve", resolve)
    commands.register("wipe", _wipe)


async def _wipe(commands: StaffCommands, request: StaffRequest, args: list[str], _: str) -> None:
    """The survivor's phone is lost or taken: delete the bot's chat on it."""
    if len(args) != 1:
        request.say("staff.help")
        return
    survivor = await commands.permitted(request, args[0], "wipe")
    if survivor is not None:
        await wipe_survivor_chat(request.uow, request.now, survivor, request.staff, request.texts)
