"""Direct chat or shared room, decided as Element does, and remembered safely.

A room is a direct chat when the bot accepted it as one (`is_direct` on the invite, or
the bot created it as one) or it is in the bot's `m.direct` account data, which the bot
keeps as Element does. A room that ever had more than two members (joined or invited)
is a shared room for good: its history may be read by people who were in it, even after
they left. That fact is kept in `DATA_DIR/matrix/groups.json` as keyed hashes of room
ids (HMAC with the pickle key), never the ids themselves and never anything written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class RoomKinds:
    """The bot's `m.direct` map and its set of rooms that were ever shared."""

    def __init__(self, store_dir: Path, secret: str) -> None:
        self._path = store_dir / "groups.json"
        self._key = hashlib.sha256(b"wegwijzer-matrix-groups\0" + secret.encode()).digest()
        self._groups: set[str] = set()
        #: The bot's `m.direct` account data: user id -> room ids.
        self.direct: dict[str, list[str]] = {}

    def load(self) -> None:
        """Read the rooms that were ever shared (a missing or broken file is empty)."""
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, list):
            self._groups = {h for h in data if isinstance(h, str)}

    def _hash(self, room_id: str) -> str:
        return hmac.new(self._key, room_id.encode(), hashlib.sha256).hexdigest()

    def ever_group(self, room_id: str) -> bool:
        return self._hash(room_id) in self._groups

    def mark_group(self, room_id: str) -> bool:
        """Remember that `room_id` is shared for good; True if that is news."""
        digest = self._hash(room_id)
        if digest in self._groups:
            return False
        self._groups.add(digest)
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(sorted(self._groups), f)
        tmp.replace(self._path)
        return True

    def use_direct(self, content: Mapping[str, Any]) -> None:
        """Take in the `m.direct` account data as the homeserver has it."""
        self.direct = {
            user: [r for r in rooms if isinstance(r, str)]
            for user, rooms in content.items()
            if isinstance(user, str) and isinstance(rooms, list)
        }

    def in_direct(self, room_id: str) -> bool:
        return any(room_id in rooms for rooms in self.direct.values())

    def add_direct(self, user_id: str, room_id: str) -> bool:
        """Note `room_id` as a direct chat with `user_id`; True if `m.direct` changed."""
        rooms = self.direct.setdefault(user_id, [])
        if room_id in rooms:
            return False
        rooms.append(room_id)
        return True

    def drop_direct(self, room_id: str) -> bool:
        """Take `room_id` out of `m.direct`; True if it was there."""
        changed = False
        for user in list(self.direct):
            if room_id in self.direct[user]:
                self.direct[user] = [r for r in self.direct[user] if r != room_id]
                changed = True
            if not self.direct[user]:
                del self.direct[user]
        return changed

    def is_direct(self, room_id: str, members: int) -> bool:
        """Whether a room with `members` (joined plus invited) is a direct chat now."""
        if members > 2 or self.ever_group(room_id):
            return False
        return self.in_direct(room_id)
