"""`harbour flows check` on the real flows, and on small broken fixtures: each kind of
mistake is reported with its file and line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.cli.flows import run_check
from bot.engine import SUPPORTED_LANGUAGES
from bot.engine.intents import GLOBAL_INTENTS
from bot.engine.registry import ENGINE_KEYS, SERVICE_KEYS
from bot.engine.survivor_checks import isolate, unisolated
from bot.flows.files import FlowError, load_bundle

ROOT = Path(__file__).resolve().parents[2]

ONBOARDING = """\
flow: onboarding
entry: start
nodes:
  start:
    actions:
      - {type: set_flag, flag: onboarded}
      - {type: say, key: hello}
    exit: menu.main
"""
MENU = """\
flow: menu
entry: main
nodes:
  main:
    actions:
      - type: say
        key: menu.main
        choices:
          - {value: one, label: choice.one}
    router:
      type: menu
      categories:
        one: main
"""
GLOBAL = """\
flow: global
entry: help
nodes:
""" + "".join(
    f"  {name}:\n    actions:\n      - {{type: say, key: hello}}\n    exit: wait:return\n"
    for name in ("help", "person", "stop", "stop_ask", "start", "pause")
)
SETTINGS = """\
flow: settings
entry: main
nodes:
""" + "".join(
    f"  {name}:\n    actions:\n      - {{type: say, key: hello}}\n    exit: wait:menu.main\n"
    for name in ("main", "delete")
)
LANGUAGE = """\
flow: language
entry: choose
nodes:
  choose:
    actions:
      - type: say
        key: menu.main
        choices:
          - {value: en, label: choice.one}
    router:
      type: menu
      categories: {en: set}
  set:
    actions:
      - {type: set_profile, name: language, value: "@choice"}
    exit: return
"""
KEYS = [
    "hello", "menu.main", "choice.one", *ENGINE_KEYS, *SERVICE_KEYS, "match.join",
    *(f"match.{intent}" for intent in GLOBAL_INTENTS),
]  # fmt: skip


def write_catalogues(locales: Path, texts: dict[str, dict[str, str]] | None = None) -> None:
    locales.mkdir(exist_ok=True)
    for language in SUPPORTED_LANGUAGES:
        catalog = Catalog(locale=language)
        for key in KEYS:
            default = f"{key.replace('.', ' ')} {language}" if key.startswith("match.") else "Hi"
            if key == "match.numbers":
                default = "|".join(f"number{n} {language}" for n in range(1, 11))
            text = (texts or {}).get(language, {}).get(key, default)
            if text is not None:
                catalog.add(f"english {key}", text, context=key, flags=["fuzzy"])
        with (locales / f"{language}.po").open("wb") as handle:
            write_po(handle, catalog)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    flows = tmp_path / "flows"
    flows.mkdir()
    for name, text in {
        "onboarding": ONBOARDING, "menu": MENU, "global": GLOBAL, "language": LANGUAGE,
        "settings": SETTINGS,
    }.items():  # fmt: skip
        (flows / f"{name}.yaml").write_text(text)
    write_catalogues(tmp_path / "locales")
    return flows, tmp_path / "locales"


def check(flows: Path, locales: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run_check(flows, locales, out)
    return code, out.getvalue()


def test_the_real_flows_pass_and_print_the_summary() -> None:
    code, text = check(ROOT / "flows", ROOT / "locales")
    assert code == 0, text
    assert "flows check: ok" in text
    for language in SUPPORTED_LANGUAGES:
        line = next(row for row in text.splitlines() if row.startswith(f"{language} "))
        keys, reviewed, drafted = (int(v) for v in line.split()[1:4])
        assert keys == reviewed + drafted and keys > 100
        assert "segments" in line


def test_the_fixture_itself_is_clean(dirs: tuple[Path, Path]) -> None:
    code, text = check(*dirs)
    assert code == 0, text
    load_bundle(*dirs)  # and loads


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_unknown_action_type(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    edit(flows / "onboarding.yaml", "{type: say, key: hello}", "{type: send_fax, key: hello}")
    code, text = check(flows, locales)
    assert code == 1
    assert "onboarding.yaml:7: unknown action type 'send_fax'" in text
    with pytest.raises(FlowError) as caught:
        load_bundle(flows, locales)
    assert (caught.value.file, caught.value.line) == ("onboarding.yaml", 7)


def test_unknown_router_and_case_types(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    edit(
        flows / "menu.yaml",
        "type: menu\n",
        "type: menu\n      cases:\n        - {type: magic, category: one}\n",
    )
    code, text = check(flows, locales)
    assert code == 1
    assert "menu.yaml:13: unknown case type 'magic'" in text
    edit(flows / "menu.yaml", "type: menu\n", "type: maze\n")
    assert "menu.yaml:11: unknown router type 'maze'" in check(flows, locales)[1]


def test_dangling_exit(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    edit(flows / "menu.yaml", "one: main", "one: nowhere")
    code, text = check(flows, locales)
    assert code == 1
    assert "menu.yaml:13: dangling exit 'nowhere'" in text


def test_unreachable_node(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    with (flows / "menu.yaml").open("a") as handle:
        handle.write(
            "  forgotten:\n    actions:\n      - {type: say, key: hello}\n    exit: main\n"
        )
    code, text = check(flows, locales)
    assert code == 1
    assert "menu.yaml:14: node 'forgotten' can never be reached" in text


def test_loop_without_a_wait(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    with (flows / "menu.yaml").open("a") as handle:
        handle.write("  a:\n    exit: b\n  b:\n    exit: a\n")
    edit(flows / "menu.yaml", "one: main", "one: a")
    assert "loop without a wait" in check(flows, locales)[1]


def test_message_key_missing_in_one_language(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    write_catalogues(locales, {"fa": {"hello": None}})  # type: ignore[dict-item]
    code, text = check(flows, locales)
    assert code == 1
    # Reported where the key is first used (global.yaml sorts first), naming the language.
    assert "global.yaml:6: message key 'hello' is missing in fa (fa.po)" in text
    assert "missing in pl" not in text


def test_placeholder_and_number_mismatch(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    write_catalogues(
        locales,
        {
            "en": {"hello": "Hi {name}, call 08000 121 700"},
            "pl": {"hello": "Cześć {imie}, dzwoń 08000 121 700"},
            "uk": {"hello": "Привіт {name}, дзвоніть 08000 121 770"},
        },
    )
    code, text = check(flows, locales)
    assert code == 1
    pl = next(line for line in text.splitlines() if line.startswith("pl.po:"))
    assert pl.split(":")[1].isdigit() and "placeholders ['imie'] differ" in pl
    assert "uk.po:" in text and "numbers ['08000121770']" in text
    # Other languages kept the English default "Hi" and so lack {name}: reported too.
    assert "ro.po:" in text


def test_menu_longer_than_two_sms_segments(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    write_catalogues(
        locales, {"uk": {"menu.main": "Меню " * 27}, "en": {"menu.main": "Menu " * 50}}
    )
    code, text = check(flows, locales)
    assert code == 1
    # 135 UCS-2 characters and a choice: 3 parts. 250 GSM-7 characters: 2 parts, fine.
    assert "menu.yaml:6: menu.main in uk: 3 SMS segments (menu: max 2)" in text
    assert "menu.main in en" not in text
    load_bundle(flows, locales)  # a long text does not stop the service starting


def test_forbidden_word_is_never_visible(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    write_catalogues(locales, {"en": {"hello": "Welcome to the anti-trafficking bot"}})
    assert "'trafficking' must never be visible" in check(flows, locales)[1]


def test_yaml_booleans_are_caught(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    edit(flows / "menu.yaml", "one: main", "yes: main")
    assert "quote yes/no/on/off" in check(flows, locales)[1]


def test_numbers_and_latin_words_in_rtl_text_must_be_isolated(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    write_catalogues(locales, {"ar": {"hello": "اتصل بالرقم 08000 121 700 أو NHS"}})
    code, text = check(flows, locales)
    assert code == 1
    assert "hello in ar: '08000 121 700' needs a bidi isolate" in text
    assert "hello in ar: 'NHS' needs a bidi isolate" in text
    fixed = isolate("اتصل بالرقم 08000 121 700 أو NHS، {name}")
    assert fixed == "اتصل بالرقم \u206608000 121 700\u2069 أو \u2066NHS\u2069، \u2068{name}\u2069"
    assert unisolated(fixed) == [] and isolate(fixed) == fixed
    write_catalogues(locales, {"ar": {"hello": isolate("اكتب إلى NHS")}})
    assert check(flows, locales)[0] == 0


def test_no_answer_of_any_flow_may_be_a_stop_word(dirs: tuple[Path, Path]) -> None:
    flows, locales = dirs
    write_catalogues(locales, {"pl": {"choice.one": "Wypisz"}, "en": {"choice.one": "Optout"}})
    code, text = check(flows, locales)
    assert code == 1
    assert "choice 'choice.one' in en: 'optout' is a STOP word" in text
