"""Read flows/*.yaml and locales/<lang>.po from disk into a pure Bundle for the engine.

Flow files use a closed vocabulary (bot.engine.registry). Anything the loader does not
understand is reported with its file and line, so a mistake fails at start-up or in
`harbour flows check`, never in front of a survivor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from babel.messages.pofile import read_po

from bot.engine.bundle import Bundle
from bot.engine.catalogue import Catalogue, Entry
from bot.engine.definitions import OTHER, Action, Case, ChoiceDef, Flow, Node, Router
from bot.engine.languages import SUPPORTED_LANGUAGES
from bot.engine.registry import ACTION_TYPES, CASE_TYPES, ROUTER_TYPES
from bot.engine.urgent import PhraseBank
from bot.engine.validation import Problem, validate_bundle
from bot.flows.phrasebank import load_phrase_bank

URGENT_SUBDIR = "urgent"  # locales/urgent/*.po: the urgent phrase banks (bot.flows.phrasebank)


class FlowError(Exception):
    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


class _LineDict(dict[Any, Any]):
    line = 0  # where the mapping starts
    key_lines: dict[Any, int]  # where each key is written


class _LineLoader(yaml.SafeLoader):
    """Safe YAML that remembers the line of every mapping (1-based)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str):
            mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class _FlowReader:
    file: str
    problems: list[Problem]

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def mapping(self, raw: object, line: int, what: str) -> _LineDict | None:
        if not isinstance(raw, _LineDict):
            self.fail(line, f"{what} must be a mapping")
            return None
        for key in raw:
            if not isinstance(key, str):
                self.fail(raw.line, f"{what}: key {key!r} must be text (quote yes/no/on/off)")
                return None
        return raw

    def flow(self, raw: object) -> Flow | None:
        top = self.mapping(raw, 1, "flow file")
        if top is None:
            return None
        self.unknown_keys(top, {"flow", "entry", "back", "nodes"}, "flow")
        name, entry, nodes = top.get("flow"), top.get("entry"), top.get("nodes")
        if not isinstance(name, str) or not isinstance(entry, str):
            self.fail(top.line, "flow needs text fields 'flow' and 'entry'")
            return None
        raw_nodes = self.mapping(nodes, top.line, "nodes")
        if raw_nodes is None:
            return None
        built = {
            nid: self.node(nid, body, raw_nodes.key_lines.get(nid, raw_nodes.line))
            for nid, body in raw_nodes.items()
        }
        back = top.get("back")
        return Flow(
            name=name,
            entry=entry,
            nodes={nid: node for nid, node in built.items() if node is not None},
            file=self.file,
            line=top.line,
            back=back if isinstance(back, str) else None,
        )

    def node(self, node_id: str, raw: object, line: int) -> Node | None:
        body = self.mapping(raw, line, f"node {node_id!r}")
        if body is None:
            return None
        if "." in node_id or ":" in node_id:
            self.fail(line, f"node id {node_id!r} may not contain '.' or ':'")
        known = {"actions", "router", "exit", "back", "listen_all", "private_input"}
        self.unknown_keys(body, known, f"node {node_id!r}")
        actions = tuple(
            a for a in (self.action(r, body.line) for r in body.get("actions") or []) if a
        )
        router = self.router(body.get("router"), actions, body.line)
        exit_to = body.get("exit")
        if router is None and not isinstance(exit_to, str):
            self.fail(line, f"node {node_id!r} needs a router or an exit")
        if router is not None and exit_to is not None:
            self.fail(line, f"node {node_id!r} has both a router and an exit")
        back = body.get("back")
        return Node(
            id=node_id,
            actions=actions,
            router=router,
            exit=exit_to if isinstance(exit_to, str) else None,
            back=back if isinstance(back, str) else None,
            listen_all=body.get("listen_all") is True,
            private_input=body.get("private_input") is True,
            line=line,
            exit_line=body.key_lines.get("exit", line),
        )

    def action(self, raw: object, line: int) -> Action | None:
        body = self.mapping(raw, line, "action")
        if body is None:
            return None
        kind = body.get("type")
        spec = ACTION_TYPES.get(kind) if isinstance(kind, str) else None
        if spec is None:
            self.fail(body.line, f"unknown action type {kind!r}")
            return None
        params: dict[str, Any] = {k: v for k, v in body.items() if k != "type"}
        for name, expected in spec.required.items():
            if not isinstance(params.get(name), expected):
                self.fail(body.line, f"action {kind!r} needs '{name}'")
        for name, value in params.items():
            allowed = spec.required.get(name) or spec.optional.get(name)
            if allowed is None:
                self.fail(body.line, f"action {kind!r} has unknown field {name!r}")
            elif not isinstance(value, allowed):
                self.fail(body.line, f"action {kind!r}: field {name!r} has the wrong type")
        if "choices" in params:
            params["choices"] = self.choices(params["choices"], body.line)
        return Action(spec.name, params, body.line)

    def choices(self, raw: object, line: int) -> tuple[ChoiceDef, ...]:
        found: list[ChoiceDef] = []
        for item in raw if isinstance(raw, list) else []:
            body = self.mapping(item, line, "choice")
            if body is None:
                continue
            value, label, words = body.get("value"), body.get("label"), body.get("words")
            if not isinstance(value, str) or not isinstance(label, str):
                self.fail(body.line, "a choice needs text 'value' and 'label'")
                continue
            found.append(ChoiceDef(value, label, words if isinstance(words, str) else None))
        return tuple(found)

    def router(self, raw: object, actions: tuple[Action, ...], line: int) -> Router | None:
        if raw is None:
            return None
        body = self.mapping(raw, line, "router")
        if body is None:
            return None
        self.unknown_keys(body, {"type", "wait", "cases", "categories"}, "router")
        kind = body.get("type")
        if kind not in ROUTER_TYPES:
            self.fail(body.line, f"unknown router type {kind!r}")
            return None
        categories = self.mapping(body.get("categories"), body.line, "categories")
        if categories is None:
            return None
        cases: list[Case] = []
        if kind == "menu":
            offered = [c for a in actions for c in a.params.get("choices", ())]
            if not offered:
                self.fail(body.line, "a menu router needs a 'say' with choices")
            cases += [Case("choice", (c.value,), c.value, body.line) for c in offered]
        for raw_case in body.get("cases") or []:
            case = self.case(raw_case, body.line, bool(body.get("wait")) or kind == "menu")
            if case is not None:
                cases.append(case)
        for case in cases:
            if case.category not in categories:
                self.fail(case.line, f"category {case.category!r} has no exit")
        for name, target in categories.items():
            if not isinstance(target, str):
                self.fail(categories.line, f"category {name!r} must name a destination")
        wait = kind == "menu" or body.get("wait") is True
        if not wait and OTHER not in categories:
            self.fail(body.line, "a router that does not wait needs an 'other' category")
        targets = {k: v for k, v in categories.items() if isinstance(v, str)}
        lines = {k: categories.key_lines.get(k, categories.line) for k in targets}
        return Router(str(kind), wait, tuple(cases), targets, body.line, lines)

    def case(self, raw: object, line: int, waits: bool) -> Case | None:
        body = self.mapping(raw, line, "case")
        if body is None:
            return None
        kind = body.get("type")
        spec = CASE_TYPES.get(kind) if isinstance(kind, str) else None
        if spec is None:
            self.fail(body.line, f"unknown case type {kind!r}")
            return None
        args = body.get("arguments", [body["value"]] if "value" in body else [])
        category = body.get("category")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            self.fail(body.line, f"case {kind!r}: arguments must be text")
            return None
        if len(args) != spec.arity:
            self.fail(body.line, f"case {kind!r} takes {spec.arity} argument(s)")
            return None
        if not isinstance(category, str):
            self.fail(body.line, f"case {kind!r} needs a category")
            return None
        if spec.needs_input and not waits:
            self.fail(body.line, f"case {kind!r} needs a router that waits")
        return Case(str(kind), tuple(args), category, body.line)

    def unknown_keys(self, body: _LineDict, known: set[str], what: str) -> None:
        for key in body:
            if key not in known:
                self.fail(body.line, f"{what}: unknown field {key!r}")


def read_flows(flows_dir: Path) -> tuple[dict[str, Flow], list[Problem]]:
    """Every flows/*.yaml, and every problem found while reading them."""
    flows: dict[str, Flow] = {}
    problems: list[Problem] = []
    for path in sorted(flows_dir.glob("*.yaml")):
        reader = _FlowReader(path.name, problems)
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            reader.fail(mark.line + 1 if mark else 0, f"not valid YAML: {exc}")
            continue
        flow = reader.flow(raw)
        if flow is None:
            continue
        if flow.name in flows:
            reader.fail(flow.line, f"flow {flow.name!r} is defined twice")
        flows[flow.name] = flow
    return flows, problems


def read_catalogue(locales_dir: Path) -> tuple[Catalogue, list[Problem]]:
    """locales/<lang>.po for each supported language. msgctxt is the key, msgstr the text
    (msgid, the English, when msgstr is empty); "#, fuzzy" marks a drafted string."""
    entries: dict[str, dict[str, Entry]] = {}
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for language in SUPPORTED_LANGUAGES:
        path = locales_dir / f"{language}.po"
        files[language] = path.name
        if not path.exists():
            problems.append(Problem(path.name, 0, f"catalogue for {language!r} is missing"))
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, ignore_obsolete=True)
        found: dict[str, Entry] = {}
        for message in catalog:
            if not message.id:
                continue  # the header
            key = message.context
            if not key:
                problems.append(Problem(path.name, message.lineno or 0, "message without a key"))
                continue
            text = message.string if isinstance(message.string, str) else ""
            text = text or (str(message.id) if language == "en" else "")
            found[key] = Entry(text, reviewed=not message.fuzzy, line=message.lineno or 0)
        entries[language] = found
    return Catalogue(entries, files), problems


def load_bundle(flows_dir: Path, locales_dir: Path) -> Bundle:
    """The flows, catalogue and urgent phrase bank; raises FlowError on the first problem
    (SMS length is left to `harbour flows check`: long text is a quality problem, not a
    broken flow)."""
    flows, problems = read_flows(flows_dir)
    catalogue, catalogue_problems = read_catalogue(locales_dir)
    urgent_dir = locales_dir / URGENT_SUBDIR
    bank = load_phrase_bank(urgent_dir) if urgent_dir.is_dir() else PhraseBank.empty()
    bundle = Bundle(flows, catalogue, bank)
    problems += catalogue_problems
    problems += [p for p in validate_bundle(bundle) if p.kind != "sms"]
    if problems:
        first = problems[0]
        raise FlowError(first.file, first.line, first.message)
    return bundle


def problems_in(flows_dir: Path, locales_dir: Path) -> tuple[Bundle, list[Problem]]:
    """Everything wrong, for `harbour flows check` (which reports all of it)."""
    flows, problems = read_flows(flows_dir)
    catalogue, catalogue_problems = read_catalogue(locales_dir)
    bundle = Bundle(flows, catalogue)
    return bundle, problems + catalogue_problems + validate_bundle(bundle)


__all__ = ["FlowError", "load_bundle", "problems_in", "read_catalogue", "read_flows"]
