"""A survivor's rights in practice: the export round-trips; consent is recorded per purpose
with who, when, language and flow; withdrawing machine translation stops it at once; reads
of decrypted content are audited; and the access matrix over the CLI and chat commands."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.admin import operations as admin
from bot.bootstrap import Harbour
from bot.privacy import consent
from bot.privacy.export import from_json, to_json
from bot.privacy.export_text import to_text
from bot.settings import Settings
from bot.store.models import AuditEvent
from bot.store.records import unseal_detail
from bot.store.uow import UnitOfWork
from tests.harness import add_advocate, enrol, onboard, say, start

SURVIVOR = "+447700900404"
CANARY = "canary-export-f6d2"
ADVOCATE = "advocate:amira"


class RecordingTranslator:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        self.asked.append(text)
        return f"[{target}] {text}"


async def linked(settings: Settings) -> tuple[Harbour, RecordingTranslator, str]:
    translator = RecordingTranslator()
    harbour, _sent = await start(settings, translator=translator)
    code = await enrol(harbour, SURVIVOR, await add_advocate(harbour), language="pl")
    await onboard(harbour, SURVIVOR)
    return harbour, translator, code


async def events(harbour: Harbour, action: str) -> list[AuditEvent]:
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        return list((await uow.session.execute(stmt)).scalars())


async def test_export_round_trips_and_is_audited(settings: Settings, tmp_path: Path) -> None:
    harbour, _translator, code = await linked(settings)
    try:
        await add_advocate(harbour, "root", role="admin")
        await say(harbour, SURVIVOR, f"prosze o pomoc z mieszkaniem {CANARY}")
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            out = await admin.survivor_export(
                uow, harbour.clock.now(), code, "root", tmp_path / "o", harbour.bundle.catalogue
            )
        (folder,) = (tmp_path / "o").iterdir()
        assert folder.stat().st_mode & 0o777 == 0o700, "exports sit in a folder of their own"
        english, json_file, text_file = sorted(folder.iterdir())  # .en.txt, .json, .pl.txt
        assert text_file.name.endswith(".pl.txt") and english.name.endswith(".en.txt")
        for written in (json_file, text_file, english):
            assert str(written) in out and written.stat().st_mode & 0o777 == 0o600
        exported = from_json(json_file.read_text(encoding="utf-8"))
        assert to_json(exported) == json_file.read_text(encoding="utf-8")  # round trip
        polish = partial(harbour.bundle.catalogue.text, "pl")
        assert to_text(exported, polish) == text_file.read_text(encoding="utf-8")
        read = text_file.read_text(encoding="utf-8")
        assert "Wszystko, co Harbour przechowuje" in read and "tryb dyskretny: tak" in read
        assert "Everything Harbour holds" in english.read_text(encoding="utf-8")
        for python_value in ("None", "False", "True", "['", "{'"):
            assert python_value not in read and python_value not in english.read_text("utf-8")
        assert exported.case_code == code and exported.contacts[0]["address"] == SURVIVOR
        assert any(CANARY in (m["text"] or "") for m in exported.messages)
        assert [c["purpose"] for c in exported.consent] == ["machine_translation"]
        assert exported.profile["safe_word_set"] is False
        assert CANARY in text_file.read_text(encoding="utf-8")
        audited = await events(harbour, "case.exported")
        assert [(e.actor, unseal_detail(harbour.cipher, e).get("messages")) for e in audited] == [
            ("cli:root", len(exported.messages))
        ]
        assert CANARY not in json.dumps([unseal_detail(harbour.cipher, e) for e in audited])
    finally:
        await harbour.close()


async def test_consent_is_recorded_per_purpose_with_who_when_language_and_flow(
    settings: Settings,
) -> None:
    harbour, _translator, _code = await linked(settings)
    try:
        for line in ("menu", "5", "8", "2", "no"):  # settings, my permissions, police, no
            await say(harbour, SURVIVOR, line)
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            identity = await uow.people.identity("local", SURVIVOR)
            assert identity is not None and identity.survivor_id is not None
            rows = await consent.history(uow.session, identity.survivor_id)
        described = [(r.purpose, r.granted, r.given_by, r.language, r.flow) for r in rows]
        assert described == [
            ("machine_translation", True, "survivor", "pl", "onboarding"),
            ("police", False, "survivor", "pl", "settings"),
        ]
        assert rows[0].at <= rows[1].at <= harbour.clock.now()
        told = await events(harbour, "consent.withdrawn")
        assert [unseal_detail(harbour.cipher, e)["purpose"] for e in told] == ["police"]
    finally:
        await harbour.close()


async def test_withdrawing_machine_translation_stops_it_at_once(settings: Settings) -> None:
    harbour, translator, code = await linked(settings)
    try:
        await say(harbour, SURVIVOR, "pierwsza wiadomosc do opiekuna tutaj")
        assert any("pierwsza" in t for t in translator.asked)
        # A relay still waiting for the translator when consent is withdrawn:
        await harbour.inbound.accept("local", "p-waiting", {"from": SURVIVOR, "text": "x"})
        await harbour.inbound.drain()
        for line in ("menu", "5", "8", "4"):  # settings, my permissions, translation
            await say(harbour, SURVIVOR, line)
        await say(harbour, SURVIVOR, "nie")
        translator.asked.clear()
        await say(harbour, SURVIVOR, f"druga wiadomosc {CANARY} bez tlumacza")
        await say(harbour, ADVOCATE, f"#{code} ok, I will call you tomorrow")
        assert translator.asked == []  # neither way, nor the relay that was waiting
    finally:
        await harbour.close()


@pytest.mark.parametrize(
    ("role", "own", "reads"),
    [
        ("advocate", True, True),
        ("advocate", False, False),
        ("duty", False, False),
        ("admin", False, False),
    ],
)
async def test_access_matrix_for_chat_commands(
    settings: Settings, role: str, own: bool, reads: bool
) -> None:
    harbour, sent = await start(settings)
    try:
        owner = await add_advocate(harbour)
        actor = owner if own else await add_advocate(harbour, "other", role=role)
        handle = "amira" if own else "other"
        address = f"{'advocate' if role == 'advocate' else 'staff'}:{handle}"
        code = await enrol(harbour, SURVIVOR, owner)
        await say(harbour, SURVIVOR, f"hello {CANARY}")
        await say(harbour, address, f"/case {code}")
        await say(harbour, address, f"#{code} a reply")
        shown = " ".join(m.text for m in sent.to(address))
        assert (CANARY in shown) is reads
        assert len(await events(harbour, "case.read")) == (1 if reads else 0)
        denied = await events(harbour, "access.denied")
        assert len(denied) == (0 if reads else 2)  # /case and the reply, both refused
        assert actor
    finally:
        await harbour.close()


@pytest.mark.parametrize(("role", "active", "allowed"), [
    ("admin", True, True), ("admin", False, False), ("advocate", True, False),
    ("duty", True, False), (None, True, False),
])  # fmt: skip
async def test_access_matrix_for_the_privacy_commands(
    settings: Settings, tmp_path: Path, role: str | None, active: bool, allowed: bool
) -> None:
    harbour, _sent = await start(settings)
    try:
        code = await enrol(harbour, SURVIVOR, await add_advocate(harbour))
        if role is not None:
            await add_advocate(harbour, "who", role=role)
        if not active:
            async with UnitOfWork(harbour.db, harbour.cipher) as uow:
                staff = await uow.people.staff_by_handle("who")
                assert staff is not None
                staff.active = False
        async with UnitOfWork(harbour.db, harbour.cipher) as uow:
            try:
                await admin.survivor_export(
                    uow, harbour.clock.now(), code, "who", tmp_path / "o", harbour.bundle.catalogue
                )
                granted = True
            except admin.AccessRefused:
                granted = False
        assert granted is allowed
        assert (tmp_path / "o").exists() is allowed  # nothing written when refused
    finally:
        await harbour.close()
