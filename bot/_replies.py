"""Building replies: the one typed constructor every engine step uses.

Labels, the contacts for a reply's routes and the standard choice lists are filled in
here, so a step only says what is particular to it.
"""

from __future__ import annotations

import datetime as _dt

from bot._kb import KnowledgeBase
from bot._routing import Router
from bot._state import State
from bot._types import Choice, Contact, CrisisNotice, Lang, Reply, ReplyKind, Source


class ReplyBuilder:
    """The knowledge base and router a reply is built from, and the builders."""

    kb: KnowledgeBase
    router: Router

    def _reply(
        self,
        kind: ReplyKind,
        lang: Lang,
        text: str,
        *,
        title: str = "",
        entry: str | None = None,
        confidence: float = 0.0,
        crisis: CrisisNotice | None = None,
        details: str = "",
        details_shown: bool = False,
        sources: tuple[Source, ...] = (),
        reviewed: _dt.date | None = None,
        routes: tuple[str, ...] = (),
        contacts_intro: str = "",
        contacts: tuple[Contact, ...] = (),
        choices_prompt: str = "",
        choices: tuple[Choice, ...] = (),
        footer: str = "",
        with_contacts: State | None = None,
    ) -> Reply:
        """A reply in `lang`; `with_contacts` adds the contacts for `routes` in the
        organisation that state knows (or the roles only, with a hint to choose one)."""
        labels = {
            "sources": self.kb.text("label_sources", lang),
            "reviewed": self.kb.text("label_reviewed", lang),
            # Folded, the label tells how to unfold it; shown, it is just the heading.
            "details": self.kb.text(
                "label_details_shown" if details_shown else "label_details", lang
            ),
            "contacts": self.kb.text("label_contacts", lang),
        }
        if with_contacts is not None and routes:
            org = with_contacts.organisation
            contacts = self.router.contacts(routes, lang, org)
            intro = "contacts_intro" if org else "contacts_intro_no_org"
            contacts_intro = self.kb.text(intro, lang)
        return Reply(
            kind=kind,
            lang=lang,
            text=text,
            title=title,
            entry=entry,
            confidence=confidence,
            crisis=crisis,
            details=details,
            details_shown=details_shown and bool(details),
            sources=sources,
            reviewed=reviewed,
            routes=routes,
            contacts_intro=contacts_intro,
            contacts=contacts,
            choices_prompt=choices_prompt,
            choices=choices,
            footer=footer,
            labels=labels,
        )

    def _start_choices(self, lang: Lang) -> tuple[Choice, ...]:
        return (
            Choice(1, self.kb.text("choice_menu", lang), "menu"),
            Choice(2, self.kb.text("choice_talk", lang), "talk"),
            Choice(3, self.kb.text("choice_org", lang), "org"),
            Choice(4, self.kb.text("choice_privacy", lang), "privacy"),
        )

    def _org_choices(self, lang: Lang) -> tuple[Choice, ...]:
        return tuple(
            Choice(i + 1, o.names[lang], f"org:{o.id}") for i, o in enumerate(self.kb.organisations)
        )
