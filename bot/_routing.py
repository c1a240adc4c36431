"""Who can help: turning contact roles into contact cards in the person's language.

With an organisation chosen, its named people come first; national bodies follow for
the roles they serve; a role with neither still gets one line on what it is and how
confidential it is, so every answer ends with who can help.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot._crisis import CrisisDetector
from bot._kb import ContactInfo, KnowledgeBase, Organisation
from bot._types import Contact, Lang

#: At most this many roles, and people per role, in one reply: enough to choose, not a phone book.
MAX_ROLES = 4
MAX_PEOPLE_PER_ROLE = 2


class Router:
    """Builds contact cards for roles, and spots when the external counsellor fits."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.orgs = {o.id: o for o in kb.organisations}
        # Same fuzzy phrase matching as crisis detection, different phrases.
        self.external = CrisisDetector(kb.external_triggers)

    def wants_external(self, text: str, *, folded: str | None = None) -> bool:
        """The concern involves top management, the counsellor, or lost trust."""
        return self.external.is_crisis(text, folded=folded)

    def organisation(self, org_id: str | None) -> Organisation | None:
        return self.orgs.get(org_id) if org_id else None

    def find_organisation(self, folded: str) -> Organisation | None:
        """An organisation named by id, alias or name in folded text."""
        words = f" {folded} "
        for org in self.kb.organisations:
            names = [*org.aliases, *(n.lower() for n in org.names.values())]
            if any(f" {n} " in words for n in names if n):
                return org
        return None

    def contacts(
        self, routes: Iterable[str], lang: Lang, org_id: str | None
    ) -> tuple[Contact, ...]:
        org = self.organisation(org_id)
        cards: list[Contact] = []
        shown: set[str] = set()
        for role in list(dict.fromkeys(routes))[:MAX_ROLES]:
            info = self.kb.roles.get(role)
            if info is None:
                continue
            role_line = info.lines[lang]
            people = [c for c in org.contacts if role in c.roles] if org else []
            bodies = [c for c in self.kb.national if role in c.roles]
            for person in people[:MAX_PEOPLE_PER_ROLE]:
                if person.id not in shown:
                    shown.add(person.id)
                    line = f"{info.names[lang]}. {role_line}"
                    cards.append(self._card(person, role, line, lang, org))
            if not people and not bodies:
                # No one to name: still say what this kind of help is and how confidential.
                cards.append(Contact(role=role, name=info.names[lang], role_line=role_line))
            for body in bodies:
                if body.id not in shown:
                    shown.add(body.id)
                    line = body.notes.get(lang) or role_line
                    cards.append(self._card(body, role, line, lang, None))
        return tuple(cards)

    def _card(
        self, c: ContactInfo, role: str, line: str, lang: Lang, org: Organisation | None
    ) -> Contact:
        return Contact(
            role=role,
            name=c.names[lang],
            role_line=line,
            methods=c.methods,
            languages=c.languages,
            location=c.locations.get(lang, ""),
            organisation=org.names[lang] if org else "",
            example=org.example if org else False,
        )
