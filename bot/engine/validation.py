"""Everything `harbour flows check` verifies, as pure functions over a Bundle.

Each problem carries the file and line to fix. Kinds: "structure" (types, exits,
reachability, loops), "key" (missing text), "placeholder" (text that must be the same in
every language: {placeholders} and phone numbers), "discretion", "sms" (a menu longer
than MAX_MENU_SEGMENTS in some language), "stop" and "bidi" (bot/engine/survivor_checks.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.engine.actions.enrol import JOIN_WORDS_KEY
from bot.engine.actions.say import say_effect
from bot.engine.bundle import Bundle
from bot.engine.definitions import Action, Destination, Flow, Node
from bot.engine.intents import GLOBAL_INTENTS, HEARD_IN_EVERY_LANGUAGE
from bot.engine.languages import SOURCE_LANGUAGE, SUPPORTED_LANGUAGES
from bot.engine.registry import (
    ENGINE_KEYS,
    HOME_NODE,
    INTENT_NODES,
    ONBOARDING_FLOW,
    SERVICE_KEYS,
    SYSTEM_ENTRIES,
)
from bot.engine.render import placeholders, render
from bot.engine.sms import segments
from bot.engine.survivor_checks import (
    bidi_problems,
    number_word_problems,
    stop_words_in_answers,
)

MAX_MENU_SEGMENTS = 2  # every menu and question, the language picker included
MAX_PAGE_SEGMENTS = 3  # an information page (flows/info.yaml, past its list of topics)
INFO_FLOW = "info"
_PHONE_NUMBER = re.compile(r"\d[\d ]{1,12}\d|\d{2,}")
# Never visible to a survivor: a preview or a glance at the phone could put them at risk.
FORBIDDEN_WORDS = (
    "trafficking", "trafficked", "handel ludźmi", "trafic de persoane", "trafikim",
    "buôn người", "торгівля людьми", "торгівлі людьми", "الاتجار بالبشر", "قاچاق انسان",
)  # fmt: skip


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    kind: str = "structure"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def validate_bundle(bundle: Bundle) -> list[Problem]:
    problems = _structure(bundle)
    problems += _keys(bundle)
    problems += _placeholders(bundle)
    problems += _discretion(bundle)
    problems += _collisions(bundle)
    problems += [Problem(f, line, msg, "stop") for f, line, msg in stop_words_in_answers(bundle)]
    problems += [
        Problem(bundle.catalogue.files.get(b.language, b.language), b.line, b.message, "bidi")
        for b in (*bidi_problems(bundle), *number_word_problems(bundle))
    ]
    problems += [p for p, _, _ in _menu_lengths(bundle) if p is not None]
    return problems


# -- structure ------------------------------------------------------------------------
def _edges(flow: Flow, node: Node) -> Iterator[tuple[str, Destination, int]]:
    """(field text, destination, line) for every way out of a node."""
    if node.exit is not None:
        yield node.exit, Destination.parse(node.exit, flow.name), node.exit_line
    if node.router is not None:
        for name, target in node.router.categories.items():
            line = node.router.category_lines.get(name, node.router.line)
            yield target, Destination.parse(target, flow.name), line
    for back in (node.back, flow.back):
        if back is not None:
            yield back, Destination.parse(back, flow.name), node.line


def _roots(bundle: Bundle) -> list[tuple[str, str]]:
    # A system entry (a reminder, a check-in) is a root when its flow is there at all.
    entries = [t for t in SYSTEM_ENTRIES.values() if t.split(".")[0] in bundle.flows]
    roots = [Destination.parse(t, "") for t in (HOME_NODE, *INTENT_NODES.values(), *entries)]
    found = [(d.flow or "", d.node or "") for d in roots]
    onboarding = bundle.flows.get(ONBOARDING_FLOW)
    if onboarding is not None:
        found.append((ONBOARDING_FLOW, onboarding.entry))
    return found


def _structure(bundle: Bundle) -> list[Problem]:
    problems: list[Problem] = []
    if ONBOARDING_FLOW not in bundle.flows:
        problems.append(Problem("flows", 0, f"flow {ONBOARDING_FLOW!r} is missing"))
    for flow_name, node_id in _roots(bundle):
        if bundle.node(flow_name, node_id) is None:
            problems.append(Problem("flows", 0, f"required node {flow_name}.{node_id} is missing"))
    for flow in bundle.flows.values():
        if flow.entry not in flow.nodes:
            problems.append(Problem(flow.file, flow.line, f"entry {flow.entry!r} is not a node"))
        for node in flow.nodes.values():
            for text, dest, line in _edges(flow, node):
                if dest.node is None:
                    continue
                target = bundle.node(dest.flow or "", dest.node)
                if target is None:
                    problems.append(Problem(flow.file, line, f"dangling exit {text!r}"))
                elif dest.mode == "wait" and not target.waits:
                    msg = f"exit {text!r}: 'wait:' needs a node that waits"
                    problems.append(Problem(flow.file, line, msg))
    problems += _unreachable(bundle)
    problems += _loops(bundle)
    return problems


def _unreachable(bundle: Bundle) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    todo = [r for r in _roots(bundle) if bundle.node(*r) is not None]
    while todo:
        here = todo.pop()
        if here in seen:
            continue
        seen.add(here)
        flow = bundle.flows[here[0]]
        for _, dest, _ in _edges(flow, flow.nodes[here[1]]):
            there = (dest.flow or "", dest.node or "")
            if dest.node is not None and bundle.node(*there) is not None:
                todo.append(there)
    return [
        Problem(flow.file, node.line, f"node {node.id!r} can never be reached")
        for flow in bundle.flows.values()
        for node in flow.nodes.values()
        if (flow.name, node.id) not in seen
    ]


def _loops(bundle: Bundle) -> list[Problem]:
    """A cycle of nodes that never wait would spin forever."""
    problems: list[Problem] = []
    state: dict[tuple[str, str], int] = {}  # 1 = on the current path, 2 = done

    def visit(here: tuple[str, str]) -> None:
        state[here] = 1
        flow = bundle.flows[here[0]]
        node = flow.nodes[here[1]]
        if not node.waits:
            for text, dest, line in _edges(flow, node):
                there = (dest.flow or "", dest.node or "")
                if dest.node is None or dest.mode == "wait" or bundle.node(*there) is None:
                    continue
                if text in (node.back, flow.back):
                    continue
                if state.get(there) == 1:
                    msg = f"loop without a wait through {text!r}"
                    problems.append(Problem(flow.file, line, msg))
                elif there not in state:
                    visit(there)
        state[here] = 2

    for flow in bundle.flows.values():
        for node_id in flow.nodes:
            if (flow.name, node_id) not in state:
                visit((flow.name, node_id))
    return problems


# -- catalogue ------------------------------------------------------------------------
def used_keys(bundle: Bundle) -> dict[str, tuple[str, int]]:
    """Every catalogue key the flows and the engine use, with where it is first used."""
    keys: dict[str, tuple[str, int]] = {}
    engine_keys = (*ENGINE_KEYS, *SERVICE_KEYS, JOIN_WORDS_KEY)
    for key in (*engine_keys, *(f"match.{i}" for i in GLOBAL_INTENTS)):
        keys.setdefault(key, ("engine", 0))
    for flow in bundle.flows.values():
        for node in flow.nodes.values():
            for action in node.actions:
                for key in _action_keys(action):
                    keys.setdefault(key, (flow.file, action.line))
            for case in node.router.cases if node.router else ():
                if case.type == "words":
                    keys.setdefault(case.arguments[0], (flow.file, case.line))
    return keys


def _action_keys(action: Action) -> Iterator[str]:
    if action.type != "say":
        return
    yield str(action.params["key"])
    for choice in action.params.get("choices", ()):
        yield choice.label
        if choice.words:
            yield choice.words


def _keys(bundle: Bundle) -> list[Problem]:
    catalogue = bundle.catalogue
    problems: list[Problem] = []
    for key, (file, line) in used_keys(bundle).items():
        for language in SUPPORTED_LANGUAGES:
            if language in catalogue.entries and not catalogue.has(language, key):
                po = catalogue.files.get(language, f"{language}.po")
                msg = f"message key {key!r} is missing in {language} ({po})"
                problems.append(Problem(file, line, msg, "key"))
    return problems


def _protected(text: str) -> tuple[frozenset[str], list[str]]:
    numbers = sorted(n.replace(" ", "") for n in _PHONE_NUMBER.findall(text))
    return placeholders(text), numbers


def _placeholders(bundle: Bundle) -> list[Problem]:
    catalogue = bundle.catalogue
    source = catalogue.entries.get(SOURCE_LANGUAGE, {})
    problems: list[Problem] = []
    for language, entries in catalogue.entries.items():
        if language == SOURCE_LANGUAGE:
            continue
        for key, entry in entries.items():
            original = source.get(key)
            if original is None or key.startswith("match."):
                continue
            want_names, want_numbers = _protected(original.text)
            names, numbers = _protected(entry.text)
            file = catalogue.files.get(language, f"{language}.po")
            if names != want_names:
                msg = f"{key}: placeholders {sorted(names)} differ from English"
                msg += f" {sorted(want_names)}"
                problems.append(Problem(file, entry.line, msg, "placeholder"))
            if numbers != want_numbers:
                msg = f"{key}: numbers {numbers} differ from English {want_numbers}"
                problems.append(Problem(file, entry.line, msg, "placeholder"))
    return problems


def _discretion(bundle: Bundle) -> list[Problem]:
    catalogue = bundle.catalogue
    problems: list[Problem] = []
    for language, entries in catalogue.entries.items():
        for key, entry in entries.items():
            lowered = entry.text.casefold()
            for word in FORBIDDEN_WORDS:
                if word in lowered:
                    file = catalogue.files.get(language, f"{language}.po")
                    msg = f"{key}: {word!r} must never be visible to a survivor"
                    problems.append(Problem(file, entry.line, msg, "discretion"))
    return problems


def _collisions(bundle: Bundle) -> list[Problem]:
    """A choice that is also a global word would never be chosen: the global intent is
    heard first ("إيقاف" is both "off" and STOP in Arabic)."""
    catalogue = bundle.catalogue
    problems: list[Problem] = []
    for flow in bundle.flows.values():
        for node in flow.nodes.values():
            for choice in node.choices:
                for language in catalogue.languages():
                    heard = set(catalogue.words(language, choice.label))
                    if choice.words:
                        heard |= set(catalogue.words(language, choice.words))
                    for intent in GLOBAL_INTENTS:
                        if intent == choice.value:
                            continue
                        langs = _intent_languages(catalogue.languages(), language, intent)
                        words = {
                            w for lang in langs for w in catalogue.words(lang, f"match.{intent}")
                        }
                        for word in sorted(heard & words):
                            msg = f"choice {choice.label!r} in {language}: {word!r} is also"
                            msg += f" the global word for {intent!r}"
                            problems.append(Problem(flow.file, node.line, msg, "structure"))
    return problems


def _intent_languages(
    all_languages: tuple[str, ...], language: str, intent: str
) -> tuple[str, ...]:
    if intent in HEARD_IN_EVERY_LANGUAGE:
        return all_languages
    return (language, SOURCE_LANGUAGE)


# -- SMS --------------------------------------------------------------------------------
def _menu_lengths(
    bundle: Bundle,
) -> Iterator[tuple[Problem | None, tuple[str, str, int], bool]]:
    """For every say with choices, in every language: (problem or None, (lang, key, parts),
    whether it is an information page).
    A menu or a question (the language picker included) fits in MAX_MENU_SEGMENTS; an
    information page, whose text is the point, in MAX_PAGE_SEGMENTS."""
    for flow in bundle.flows.values():
        for node in flow.nodes.values():
            page = flow.name == INFO_FLOW and node.id != flow.entry
            limit = MAX_PAGE_SEGMENTS if page else MAX_MENU_SEGMENTS
            for action in node.actions:
                if action.type != "say" or not action.params.get("choices"):
                    continue
                say = say_effect(action)
                for language in bundle.catalogue.languages():
                    parts = segments(render(bundle, say, language, "sms").text)
                    problem = None
                    if parts > limit:
                        what = "page" if page else "menu"
                        msg = f"{say.key} in {language}: {parts} SMS segments ({what}: max {limit})"
                        problem = Problem(flow.file, action.line, msg, "sms")
                    yield problem, (language, say.key, parts), page


@dataclass(frozen=True)
class LanguageSummary:
    language: str
    keys: int
    reviewed: int
    drafted: int
    longest_sms: int  # segments of the longest menu
    longest_key: str


def summarise(bundle: Bundle) -> list[LanguageSummary]:
    longest: dict[str, tuple[int, str]] = {}
    for _, (language, key, parts), page in _menu_lengths(bundle):
        if page:
            continue  # the summary is about menus; pages have their own limit
        if parts > longest.get(language, (0, ""))[0]:
            longest[language] = (parts, key)
    rows = []
    for language in SUPPORTED_LANGUAGES:
        entries = bundle.catalogue.entries.get(language, {})
        reviewed = sum(1 for e in entries.values() if e.reviewed)
        parts, key = longest.get(language, (0, ""))
        rows.append(
            LanguageSummary(language, len(entries), reviewed, len(entries) - reviewed, parts, key)
        )
    return rows
