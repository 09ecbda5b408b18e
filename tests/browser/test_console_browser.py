"""The console in a real browser (Debian's Chromium through Playwright), the scenarios of
issue 19: sign in; the caseload shows a case; an Arabic message is laid out right to left;
a reply reaches the fake Telegram; a quick reply reaches a Polish survivor in reviewed Polish,
unmarked by machine translation; a case note never reaches the survivor; ACK an alert; a
wrong password leads to lockout; a form without a CSRF token is refused; another advocate's
case is a 403 page. axe-core checks each page; screenshots go to test-artefacts/browser/."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.async_api import async_playwright
from pydantic import SecretStr

from bot.bootstrap import build
from bot.settings import load_settings
from bot.staff import credentials
from bot.store.uow import UnitOfWork
from bot.web.console.app import create_console_app
from tests.browser.conftest import ARTEFACTS, FLAGS
from tests.browser.console_site import accessible, free_port, serve
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.console_harness import PASSWORD, console_for
from tests.integration.telegram_harness import (
    add_telegram_staff,
    channel_for,
    enrol_on_telegram,
    stop_harbour,
    texts_to,
    wait_for,
)


class Mirror:
    """A translator that always answers (the words reversed, marked with the target)."""

    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        return f"[{target}] " + " ".join(reversed(text.split()))


ARABIC = "مرحبا، أحتاج إلى مساعدة في السكن"
AR_CHAT, PL_CHAT, BO_CHAT = 9_100_001, 9_100_002, 9_100_003


async def test_console_in_a_real_browser(chromium: str, tmp_path: Path) -> None:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'harbour.db'}",
        data_dir=tmp_path / "var",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        console_lockout_failures=3,
    )
    async with FakeTelegram(per_chat_limit=1000) as fake:
        channel = channel_for(fake)
        harbour = await build(settings, {"telegram": channel}, pacers={}, translator=Mirror())
        server = None
        try:
            amira = await add_telegram_staff(harbour, 7_000_001, "amira")
            bo = await add_telegram_staff(harbour, 7_000_002, "bo")
            ar_case = await enrol_on_telegram(harbour, AR_CHAT, amira, language="ar")
            pl_case = await enrol_on_telegram(harbour, PL_CHAT, amira, language="pl")
            bo_case = await enrol_on_telegram(harbour, BO_CHAT, bo, language="en")
            async with UnitOfWork(harbour.db, harbour.cipher) as uow:
                now = harbour.clock.now()
                for handle in ("amira", "bo"):
                    staff = await uow.people.staff_by_handle(handle)
                    assert staff is not None
                    await credentials.set_password(uow, staff, PASSWORD, now)
            await harbour.start_background()
            await channel.start(harbour.inbound)
            # The Arabic survivor says it is safe to talk, agrees, then writes to amira: the
            # message is relayed with its (fake) machine translation.
            steps = (
                lambda: fake.updates.text(AR_CHAT, "مرحبا"),
                lambda: fake.updates.callback_query(AR_CHAT, "safe"),
                lambda: fake.updates.callback_query(AR_CHAT, "agree"),
            )
            for step in steps:  # each answers a keyboard the bot has just sent
                before = len(texts_to(fake, AR_CHAT))
                fake.push_update(step())
                await wait_for(lambda before=before: len(texts_to(fake, AR_CHAT)) > before)
            fake.push_update(fake.updates.text(AR_CHAT, ARABIC))
            await wait_for(lambda: any(ARABIC in t for t in texts_to(fake, 7_000_001)))
            async with UnitOfWork(harbour.db, harbour.cipher) as uow:
                survivor = await uow.people.survivor_by_code(ar_case)
                assert survivor is not None and harbour.escalations is not None
                alert = await harbour.escalations.raise_(
                    uow, harbour.clock.now(), survivor, "help_now", False
                )
                alert_code = alert.code
            port = free_port()
            console = console_for(harbour)

            def wake() -> None:
                harbour.relay_wake.set()
                harbour.outbox_wake.set()

            console.wake = wake
            server, task = await serve(create_console_app(console), port)
            base = f"http://127.0.0.1:{port}"
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=chromium, args=FLAGS)
                # axe is injected as a script tag, which the console's CSP (rightly) forbids.
                context = await browser.new_context(bypass_csp=True)
                page = await context.new_page()
                page.set_default_timeout(15_000)

                # sign in
                await page.goto(f"{base}/login")
                await accessible(page, "01-login")
                await page.fill("#username", "amira")
                await page.fill("#password", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_url(f"{base}/")
                # the caseload shows the cases
                assert await page.locator(f"a[href='/case/{ar_case}']").count() == 1
                assert await page.locator(f"a[href='/case/{bo_case}']").count() == 0
                await accessible(page, "02-caseload")

                # the Arabic message is laid out right to left
                await page.click(f"a[href='/case/{ar_case}']")
                body = page.locator("p.body", has_text=ARABIC).first
                direction = await body.evaluate("e => getComputedStyle(e).direction")
                assert direction == "rtl"
                assert await page.locator("text=Machine translation (en)").count() >= 1
                timeline = page.locator("section.timeline")
                await timeline.screenshot(path=str(ARTEFACTS / "03-case-timeline.png"))
                await accessible(page, "03-case-arabic")

                # a reply reaches the fake Telegram
                before = len(texts_to(fake, AR_CHAT))
                await page.fill("#reply-text", "I will help you with housing")
                await page.click("form.reply button")
                await page.wait_for_selector(".notice")
                await wait_for(lambda: len(texts_to(fake, AR_CHAT)) > before)
                # through the same relay as chat: translated (by the fake) and marked "Amira"
                last = texts_to(fake, AR_CHAT)[-1]
                assert "[ar] housing with you help will I" in last and "Amira" in last

                # a quick reply to the Polish survivor: the reviewed Polish, no MT mark
                await page.goto(f"{base}/case/{pl_case}")
                await page.check("#quick-call_tomorrow")
                await page.click("#quick button[type=submit]")
                await page.wait_for_selector(".notice")
                await wait_for(lambda: len(texts_to(fake, PL_CHAT)) >= 1)
                polish = texts_to(fake, PL_CHAT)[-1]
                assert polish == "Amira: Zadzwonię do Ciebie jutro.", polish
                assert "untranslated" not in polish and "(" not in polish
                await accessible(page, "04-case-quick-reply")

                # a case note never reaches the survivor
                await page.fill("#note-text", "Prefers calls after 6pm")
                await page.click("#notes button[type=submit]")
                await page.wait_for_selector("text=Prefers calls after 6pm")
                await harbour.drain()
                assert not any("6pm" in t for t in texts_to(fake, PL_CHAT))

                # ACK an alert from the alerts page
                await page.goto(f"{base}/alerts")
                await accessible(page, "05-alerts")
                await page.click(f"text=ACK {alert_code}")
                await page.wait_for_selector(".notice")
                assert await page.locator(f"text=ACK {alert_code}").count() == 0

                # another advocate's case: a 403 page
                response = await page.goto(f"{base}/case/{bo_case}")
                assert response is not None and response.status == 403
                await accessible(page, "06-refused")

                # a form without a CSRF token is refused
                await page.goto(f"{base}/case/{ar_case}")
                await page.evaluate(
                    "document.querySelector('form.reply input[name=csrf]').remove()"
                )
                await page.fill("#reply-text", "no token")
                await page.click("form.reply button")
                await page.wait_for_selector("text=Form refused")
                assert not any("no token" in t for t in texts_to(fake, AR_CHAT))

                # a wrong password, again and again: locked out, even with the right one
                fresh = await browser.new_context()
                other = await fresh.new_page()
                for _ in range(3):
                    await other.goto(f"{base}/login")
                    await other.fill("#username", "bo")
                    await other.fill("#password", "not the password")
                    await other.click("button[type=submit]")
                    await other.wait_for_selector("text=Wrong user name or password")
                await other.fill("#password", PASSWORD)
                await other.click("button[type=submit]")
                await other.wait_for_selector("text=Too many failed attempts")
                await other.screenshot(path=str(ARTEFACTS / "07-lockout.png"))

                # with the CSP enforced: htmx loads and polls the alerts, and nothing breaks it
                strict = await browser.new_context()
                live = await strict.new_page()
                errors: list[str] = []
                live.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                await live.goto(f"{base}/login")
                await live.fill("#username", "amira")
                await live.fill("#password", PASSWORD)
                await live.click("button[type=submit]")
                await live.wait_for_url(f"{base}/")
                await live.goto(f"{base}/alerts")
                async with live.expect_request(lambda r: "/alerts/table" in r.url, timeout=12_000):
                    pass
                assert not [e for e in errors if "Content Security Policy" in e], errors
                await browser.close()
        finally:
            if server is not None:
                server.should_exit = True
                await task
            await stop_harbour(harbour, channel)
