"""Reading a whole database the way an attacker with the key would: every column of every
table, with every encrypted value decrypted. Privacy tests search this for canaries."""

from __future__ import annotations

from sqlalchemy import select

from bot.privacy.key_rotation import ENCRYPTED
from bot.store.crypto import Cipher
from bot.store.database import Database
from bot.store.models import Base


async def readable_dump(
    db: Database, cipher: Cipher, skip: frozenset[str] = frozenset(), *, hashes: bool = True
) -> str:
    chunks: list[str] = []
    async with db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            for row in (await session.execute(select(table))).mappings():
                for name, value in row.items():
                    if name.endswith("_hash") and not hashes:
                        continue
                    purpose = ENCRYPTED.get((table.name, name))
                    if isinstance(value, bytes) and purpose is not None:
                        chunks.append(cipher.decrypt_text(value, purpose))
                    elif value is not None and not isinstance(value, bytes):
                        chunks.append(str(value))
    return "\n".join(chunks)


async def rows_with_survivor(db: Database, survivor_id: int) -> dict[str, int]:
    """Rows in any table that still point at this survivor id."""
    found: dict[str, int] = {}
    async with db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [
                fk.parent for fk in table.foreign_keys if fk.column.table.name == "survivors"
            ]
            if table.name == "survivors":
                columns.append(table.c.id)
            for column in columns:
                rows = (await session.execute(select(column).where(column == survivor_id))).all()
                if rows:
                    found[f"{table.name}.{column.name}"] = len(rows)
    return found
