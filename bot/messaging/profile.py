"""The survivor's side of a turn that is not conversation: a first contact (intake), linking
to an advocate with a one-time code, profile settings, and the channel's state (STOP, START,
pause)."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.engine.catalogue import Catalogue
from bot.engine.effects import SetProfile
from bot.engine.events import Event, SystemEvent
from bot.messaging.staff_notices import StaffNotices
from bot.messaging.turn import Turn
from bot.ports import Channel, InboundMessage
from bot.store.crypto import Cipher
from bot.store.models import Identity, Survivor
from bot.store.uow import UnitOfWork

log = logging.getLogger(__name__)

DURESS = "survivor.duress_word"  # the purpose its ciphertext is bound to
PROFILE_FIELDS = {"language", "timezone", "discreet", "quiet_hours", "duress_word"}


async def intake(
    uow: UnitOfWork, now: datetime, channel: Channel, inbound: InboundMessage, staff: StaffNotices
) -> tuple[Identity, Survivor]:
    """Someone we do not know yet: a possible self-referral. Never ignored, never tested."""
    survivor = await uow.people.new_survivor(now, status="intake", language=inbound.language_hint)
    survivor.allowed_channels = [channel.name]
    identity = await uow.people.add_identity(channel.name, inbound.address, now, survivor=survivor)
    uow.audit.record(
        "system", "intake.new_contact", now, survivor_id=survivor.id, channel=channel.name
    )
    await staff.new_contact(uow, now, survivor, channel.name)
    return identity, survivor


def current_settings(survivor: Survivor, catalogue: Catalogue, language: str) -> dict[str, str]:
    """What each setting is now, in the survivor's language, for the {placeholders} of the
    settings questions ("Discreet mode is {discreet}.")."""
    if survivor.quiet_start and survivor.quiet_end:
        quiet = f"{survivor.quiet_start}-{survivor.quiet_end}"
    else:
        quiet = catalogue.text(language, "quiet.none")
    return {
        "quiet": quiet,
        "discreet": catalogue.text(language, "choice.on" if survivor.discreet else "choice.off"),
        "timezone": survivor.timezone,
    }


def set_profile(turn: Turn, change: SetProfile, cipher: Cipher) -> None:
    survivor = turn.survivor
    if change.name not in PROFILE_FIELDS:
        log.warning("ignored an unknown profile setting %r", change.name)
        return
    if change.name == "duress_word":
        survivor.duress_word_enc = (
            cipher.encrypt_text(change.value, DURESS) if change.value else None
        )
    elif change.name == "quiet_hours":
        start, _, end = (change.value or "").partition("-")
        survivor.quiet_start, survivor.quiet_end = (start or None), (end or None)
    elif change.name == "discreet":
        survivor.discreet = change.value not in ("off", "false", "0")
    else:
        setattr(survivor, change.name, change.value)
    turn.uow.audit.record(
        "survivor",
        "survivor.setting_changed",
        turn.now,
        survivor_id=survivor.id,
        setting=change.name,
    )


async def enrol(turn: Turn, code: str) -> Event:
    uow = turn.uow
    target = await uow.people.redeem_code(code, turn.now)
    if target is None or target.id == turn.survivor.id:
        # Same answer whether the code is unknown, used or expired.
        uow.audit.record(
            "survivor", "enrolment.code_rejected", turn.now, survivor_id=turn.survivor.id
        )
        return SystemEvent("enrol_failed")
    intake = turn.survivor
    turn.identity.survivor_id = target.id
    await uow.messages.reassign(intake.id, target.id)
    target.language = target.language or intake.language
    target.allowed_channels = sorted({*target.allowed_channels, turn.channel.name})
    target.status = "active"
    intake.status = "merged"
    turn.survivor = target
    uow.audit.record(
        "survivor",
        "enrolment.linked",
        turn.now,
        survivor_id=target.id,
        channel=turn.channel.name,
    )
    return SystemEvent("enrol_ok")


async def change_channel_state(turn: Turn, status: str, staff: StaffNotices) -> None:
    identity, survivor = turn.identity, turn.survivor
    if status == "paused":
        survivor.status = "paused"
    elif status == "stopped":
        was_engaged = identity.status == "active" and survivor.advocate_id is not None
        identity.status = "stopped"
        if was_engaged:
            await staff.contact_loss(turn.uow, turn.now, survivor, "stopped", turn.channel.name)
    elif status == "active":
        identity.status = "active"
        if survivor.status == "paused":
            survivor.status = "active"
        # Replies their advocate wrote while they were stopped (held) go out now.
        await turn.uow.outbox.release_held(survivor.id, turn.now)
    turn.uow.audit.record(
        "survivor",
        f"channel.{status}",
        turn.now,
        survivor_id=survivor.id,
        channel=turn.channel.name,
    )
