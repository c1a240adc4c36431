"""What a command or a picked choice does: the engine's actions, one method each.

An action is a token such as `menu`, `theme:<id>` or `entry:<id>`: the `Choice.action` of
an earlier reply, or what a typed command (texts.yaml `commands:`) stands for. Adding a
command: a phrase list in texts.yaml, its name in `COMMANDS` (bot/_kb.py), and a
`_do_<name>` method here listed in `_actions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from bot._kb import Entry
from bot._replies import ReplyBuilder
from bot._state import State
from bot._types import Choice, CrisisNotice, Lang, Reply, ReplyKind

#: Choice action for "continue in a private chat"; adapters handle it themselves.
ACTION_OPEN_DIRECT = "open-direct"
#: Commands whose action has another name or carries an argument.
COMMAND_ACTIONS = {"lang_nl": "lang:nl", "lang_en": "lang:en"}
#: Actions that would discuss a personal matter; in a group room they get the DM offer.
PERSONAL_ACTIONS = frozenset({"entry", "talk", "org", "theme", "details"})
#: Who is listed under the help text: the counsellors, the legal-position adviser and
#: company social work cover most first questions.
_HELP_ROUTES = ("vpoo", "vpi", "p_raadgever", "bmw")


class Commands(ReplyBuilder):
    """The actions. `Engine` inherits them and provides the two answer builders below."""

    entries: Mapping[str, Entry]
    #: The deployment is for counsellors only (WEGWIJZER_AUDIENCE=counsellors).
    counsellors: bool

    # Defined by Engine: the answer to an entry, and the crisis reply.
    def _entry_reply(
        self,
        entry: Entry,
        state: State,
        lang: Lang,
        confidence: float,
        external: bool = False,
        crisis: CrisisNotice | None = None,
    ) -> Reply:
        raise NotImplementedError

    def _crisis(self, lang: Lang, state: State) -> Reply:
        raise NotImplementedError

    def _do_entry(self, arg: str, state: State, lang: Lang) -> Reply:
        entry = self.entries.get(arg)
        if entry is None:
            return self._do_menu("", state, lang)
        return self._entry_reply(entry, state, lang, 1.0)

    def _do_menu(self, arg: str, state: State, lang: Lang) -> Reply:
        choices = tuple(
            Choice(i + 1, t.titles[lang], f"theme:{t.id}") for i, t in enumerate(self.kb.themes)
        )
        return self._reply(ReplyKind.MENU, lang, self.kb.text("menu", lang), choices=choices)

    def _do_theme(self, arg: str, state: State, lang: Lang) -> Reply:
        theme = next((t for t in self.kb.themes if t.id == arg), None)
        if theme is None:
            return self._do_menu("", state, lang)
        entries = [e for e in self.kb.entries if e.theme == theme.id]
        choices = tuple(
            Choice(i + 1, e.text(lang).title, f"entry:{e.id}") for i, e in enumerate(entries)
        )
        text = self.kb.text("theme", lang, theme=theme.titles[lang])
        return self._reply(ReplyKind.MENU, lang, text, choices=choices)

    def _do_help(self, arg: str, state: State, lang: Lang) -> Reply:
        # "hulp" alone is as often "I need help" as "how does this work": answer both,
        # with the people who help most often under the instructions.
        return self._reply(
            ReplyKind.INFO,
            lang,
            self.kb.text("help", lang),
            choices=self._start_choices(lang),
            routes=_HELP_ROUTES,
            with_contacts=state,
        )

    def _do_privacy(self, arg: str, state: State, lang: Lang) -> Reply:
        return self._reply(ReplyKind.INFO, lang, self.kb.text("privacy", lang))

    def _do_forget(self, arg: str, state: State, lang: Lang) -> Reply:
        return self._reply(ReplyKind.FORGOTTEN, lang, self.kb.text("forgotten", lang))

    def _do_lang(self, arg: str, state: State, lang: Lang) -> Reply:
        new: Lang = "en" if arg == "en" else "nl"
        state.lang, state.lang_chosen = new, True
        return self._reply(
            ReplyKind.INFO, new, self.kb.text("lang_set", new), choices=self._start_choices(new)
        )

    def _do_talk(self, arg: str, state: State, lang: Lang) -> Reply:
        option = next((o for o in self.kb.triage if o.id == arg), None)
        if option is None:
            choices = tuple(
                Choice(i + 1, o.labels[lang], f"talk:{o.id}") for i, o in enumerate(self.kb.triage)
            )
            return self._reply(
                ReplyKind.INFO, lang, self.kb.text("talk_intro", lang), choices=choices
            )
        if "emergency" in option.roles:
            return self._crisis(lang, state)
        org = self.router.organisation(state.organisation)
        org_choices: tuple[Choice, ...] = ()
        if org is None and self.kb.organisations:
            text = self.kb.text("talk_no_org", lang)
            org_choices = self._org_choices(lang)
        else:
            text = self.kb.text("talk_result", lang)
        return self._reply(
            ReplyKind.INFO,
            lang,
            text,
            routes=option.roles,
            with_contacts=state,
            choices=org_choices,
        )

    def _do_org(self, arg: str, state: State, lang: Lang) -> Reply:
        org = self.router.organisation(arg)
        if org is None:
            key = "org_unknown" if arg else "org_menu"
            return self._reply(
                ReplyKind.INFO, lang, self.kb.text(key, lang), choices=self._org_choices(lang)
            )
        state.organisation = org.id
        text = self.kb.text("org_set", lang, organisation=org.names[lang])
        last = self.entries.get(state.last_entry or "")
        routes = last.routes if last else ("vpoo", "vpi", "p_raadgever")
        return self._reply(
            ReplyKind.INFO,
            lang,
            text,
            routes=routes,
            with_contacts=state,
            choices=self._start_choices(lang),
        )

    def _do_counsellor(self, arg: str, state: State, lang: Lang) -> Reply:
        # Only a display preference for this conversation: it unlocks nothing, and
        # "vergeet" (or 30 idle minutes) clears it with the rest of the state.
        state.counsellor = True
        last = self.entries.get(state.last_entry or "")
        if last is not None and last.text(lang).details:
            return self._do_details("", state, lang)
        return self._reply(ReplyKind.INFO, lang, self.kb.text("counsellor_set", lang))

    def _do_details(self, arg: str, state: State, lang: Lang) -> Reply:
        """The counsellors' block of the entry just shown, under its title."""
        entry = self.entries.get(state.last_entry or "")
        if entry is None:
            return self._reply(
                ReplyKind.INFO,
                lang,
                self.kb.text("details_no_entry", lang),
                choices=self._start_choices(lang),
            )
        t = entry.text(lang)
        related = [self.entries[r] for r in entry.related if r in self.entries][:4]
        choices = tuple(
            Choice(i + 1, e.text(lang).title, f"entry:{e.id}") for i, e in enumerate(related)
        )
        prompt = self.kb.text("related_prompt", lang) if choices else ""
        if not t.details:
            text = self.kb.text("details_none", lang, title=t.title)
            return self._reply(ReplyKind.INFO, lang, text, choices_prompt=prompt, choices=choices)
        return self._reply(
            ReplyKind.ANSWER,
            lang,
            "",
            title=t.title,
            entry=entry.id,
            confidence=1.0,
            details=t.details,
            details_shown=True,
            sources=entry.sources,
            reviewed=entry.reviewed,
            choices_prompt=prompt,
            choices=choices,
            footer=self.kb.text("disclaimer", lang),
        )

    def _do_open_direct(self, arg: str, state: State, lang: Lang) -> Reply:
        # The adapter opens the private chat; the text is for channels that cannot.
        return self._reply(ReplyKind.OPEN_DIRECT, lang, self.kb.text("group", lang))

    _actions: ClassVar[dict[str, Callable[[Commands, str, State, Lang], Reply]]] = {
        "entry": _do_entry,
        "menu": _do_menu,
        "theme": _do_theme,
        "help": _do_help,
        "privacy": _do_privacy,
        "forget": _do_forget,
        "lang": _do_lang,
        "talk": _do_talk,
        "org": _do_org,
        "counsellor": _do_counsellor,
        "details": _do_details,
        ACTION_OPEN_DIRECT: _do_open_direct,
    }
