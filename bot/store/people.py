"""Repository for survivors, staff, their channel identities and enrolment codes.

Addresses and codes are looked up by keyed hash and stored encrypted. Never commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Cipher
from bot.store.models import EnrolmentCode, ErasureTombstone, Identity, Staff, Survivor

# No 0/O or 1/I/L: codes are read aloud and typed on keypads.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ADDRESS = "identity.address"
ENROL_CODE = "enrolment.code"
CLOSED_STATUSES = ("merged", "erased")


def new_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


class People:
    def __init__(self, session: AsyncSession, cipher: Cipher) -> None:
        self.session = session
        self.cipher = cipher
        self._found: dict[tuple[str, str], Identity] = {}  # read ahead by `preload_identities`
        self._survivors: list[Survivor] = []  # theirs, read ahead with them

    # identities -------------------------------------------------------------------------
    def address_hash(self, channel: str, address: str) -> str:
        return self.cipher.lookup_hash(f"{channel}:{address}", ADDRESS)

    async def preload_identities(self, addresses: Collection[tuple[str, str]]) -> set[int]:
        """Look up several (channel, address) pairs with one query, for `identity` to find
        later in this transaction, and load the survivors they belong to. Returns their ids."""
        hashes: dict[str, tuple[str, str]] = {}
        for channel, address in addresses:
            for digest in self.cipher.lookup_hashes(f"{channel}:{address}", ADDRESS):
                hashes.setdefault(digest, (channel, address))
        if not hashes:
            return set()
        stmt = select(Identity).where(Identity.address_hash.in_(list(hashes)))
        survivor_ids: set[int] = set()
        for identity in (await self.session.execute(stmt)).scalars():
            key = hashes[identity.address_hash]
            if identity.channel == key[0]:
                self._found.setdefault(key, identity)
                if identity.survivor_id is not None:
                    survivor_ids.add(identity.survivor_id)
        if survivor_ids:  # into the session, where `survivor()` finds them without a query
            survivors = select(Survivor).where(Survivor.id.in_(survivor_ids))
            # The session keeps only weak references to unchanged rows: hold them.
            self._survivors.extend((await self.session.execute(survivors)).scalars())
        return survivor_ids

    async def identity(self, channel: str, address: str) -> Identity | None:
        found = self._found.get((channel, address))
        if found is not None and inspect(found).persistent:  # not deleted, not expunged
            return found
        # Every key's hash: during a key rotation some rows are not re-hashed yet.
        hashes = self.cipher.lookup_hashes(f"{channel}:{address}", ADDRESS)
        stmt = select(Identity).where(
            Identity.channel == channel, Identity.address_hash.in_(hashes)
        )
        return (await self.session.execute(stmt)).scalars().first()

    def address_of(self, identity: Identity) -> str:
        return self.cipher.decrypt_text(identity.address_enc, ADDRESS)

    async def add_identity(
        self,
        channel: str,
        address: str,
        now: datetime,
        *,
        survivor: Survivor | None = None,
        staff: Staff | None = None,
    ) -> Identity:
        identity = Identity(
            channel=channel,
            address_hash=self.address_hash(channel, address),
            address_enc=self.cipher.encrypt_text(address, ADDRESS),
            survivor_id=survivor.id if survivor else None,
            staff_id=staff.id if staff else None,
            status="active",
            created_at=now,
        )
        self.session.add(identity)
        await self.session.flush()
        return identity

    async def move_identity(self, identity: Identity, address: str) -> bool:
        """The provider moved this address (a Telegram group became a supergroup). False
        when the new address already belongs to another identity (left as it is)."""
        taken = await self.identity(identity.channel, address)
        if taken is not None and taken.id != identity.id:
            return False
        identity.address_hash = self.address_hash(identity.channel, address)
        identity.address_enc = self.cipher.encrypt_text(address, ADDRESS)
        return True

    async def identities_of_staff(self, staff_id: int) -> list[Identity]:
        stmt = select(Identity).where(Identity.staff_id == staff_id).order_by(Identity.id)
        return list((await self.session.execute(stmt)).scalars())

    async def identities_of_survivor(self, survivor_id: int) -> list[Identity]:
        stmt = select(Identity).where(Identity.survivor_id == survivor_id).order_by(Identity.id)
        return list((await self.session.execute(stmt)).scalars())

    # survivors --------------------------------------------------------------------------
    async def new_survivor(self, now: datetime, **fields: object) -> Survivor:
        """A survivor with a fresh, unique, pseudonymous case code. Codes of erased cases
        are never given out again: staff records elsewhere may still mention them."""
        while True:
            code = new_code(5)
            live = select(Survivor.id).where(Survivor.case_code == code)
            erased = select(ErasureTombstone.id).where(ErasureTombstone.case_code == code)
            if (await self.session.execute(live.union_all(erased))).first() is None:
                break
        survivor = Survivor(case_code=code, created_at=now, allowed_channels=[], **fields)
        self.session.add(survivor)
        await self.session.flush()
        return survivor

    async def survivor(self, survivor_id: int) -> Survivor | None:
        return await self.session.get(Survivor, survivor_id)

    async def survivor_by_code(self, case_code: str) -> Survivor | None:
        stmt = select(Survivor).where(Survivor.case_code == case_code.strip().upper())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    # staff ------------------------------------------------------------------------------
    async def staff_by_handle(self, handle: str) -> Staff | None:
        stmt = select(Staff).where(Staff.handle == handle)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def staff(self, staff_id: int) -> Staff | None:
        return await self.session.get(Staff, staff_id)

    async def active_staff(self, role: str) -> list[Staff]:
        stmt = select(Staff).where(Staff.role == role, Staff.active.is_(True)).order_by(Staff.id)
        return list((await self.session.execute(stmt)).scalars())

    async def staff_covered_by(self, staff_id: int, now: datetime) -> list[Staff]:
        """Active colleagues who are away now and named this staff member as their cover (a
        deactivated colleague is not away: their cases were moved, not covered)."""
        stmt = select(Staff).where(
            Staff.cover_id == staff_id,
            Staff.active.is_(True),
            Staff.away_until.is_not(None),
            Staff.away_until > now,
        )
        return list((await self.session.execute(stmt)).scalars())

    async def caseload(self, staff_ids: list[int]) -> list[Survivor]:
        stmt = (
            select(Survivor)
            .where(Survivor.advocate_id.in_(staff_ids), Survivor.status.not_in(CLOSED_STATUSES))
            .order_by(Survivor.case_code)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def unassigned_cases(self) -> list[Survivor]:
        """Open cases nobody is responsible for: no advocate, or a deactivated one."""
        inactive = select(Staff.id).where(Staff.active.is_(False))
        stmt = (
            select(Survivor)
            .where(
                Survivor.advocate_id.is_(None) | Survivor.advocate_id.in_(inactive),
                Survivor.status.not_in((*CLOSED_STATUSES, "intake", "closed")),
            )
            .order_by(Survivor.case_code)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def all_staff(self) -> list[Staff]:
        return list((await self.session.execute(select(Staff).order_by(Staff.handle))).scalars())

    async def all_survivors(self) -> list[Survivor]:
        stmt = (
            select(Survivor)
            .where(Survivor.status.not_in(CLOSED_STATUSES))
            .order_by(Survivor.case_code)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def add_staff(self, handle: str, role: str, language: str, now: datetime) -> Staff:
        staff = Staff(handle=handle, role=role, language=language, active=True, created_at=now)
        self.session.add(staff)
        await self.session.flush()
        return staff

    # enrolment codes --------------------------------------------------------------------
    async def issue_code(self, survivor: Survivor, now: datetime, valid_for: timedelta) -> str:
        code = new_code(6)
        self.session.add(
            EnrolmentCode(
                code_hash=self.cipher.lookup_hash(code, ENROL_CODE),
                survivor_id=survivor.id,
                expires_at=now + valid_for,
                created_at=now,
            )
        )
        await self.session.flush()
        return code

    async def redeem_code(self, code: str, now: datetime) -> Survivor | None:
        """The survivor the code belongs to, marking it used; None if unknown, used or expired.

        The caller answers every failure the same way, so nobody learns whether a code exists.
        """
        normalised = "".join(ch for ch in code.upper() if ch.isalnum())
        hashes = self.cipher.lookup_hashes(normalised, ENROL_CODE)  # codes from before a rotation
        stmt = select(EnrolmentCode).where(EnrolmentCode.code_hash.in_(hashes))
        row = (await self.session.execute(stmt)).scalars().first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        row.used_at = now
        return await self.session.get(Survivor, row.survivor_id)
