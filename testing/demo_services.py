"""Loopback stand-ins for the demo (``scripts/demo --with-fakes``): WeCom, mail, and a phone.

Starts the fake WeCom server (`testing.fakes.wecom`), an SMTP sink for the reminders Duban
e-mails, Dovecot as the office mailbox when it is installed (`testing.imap_server`), and a
"phone" page where the demo visitor acts as the people: it shows the WeCom cards and e-mails
Duban sent, and answers them, by a WeCom text or button callback (signed and encrypted as
WeCom does) or an e-mail reply put into the office mailbox. Everything listens on 127.0.0.1.

    python -m testing.demo_services --env-file FILE --web-base http://127.0.0.1:8080

writes the ``DUBAN_*`` settings that point Duban at these services into FILE, then serves
until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import tempfile
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path

from aiohttp import web
from markupsafe import escape

from testing.fakes.wecom import FakeWeCom
from testing.imap_server import Dovecot, dovecot_binary
from testing.notifier_support import SmtpServer

#: the office mailbox's address (the reply-to of reminder e-mails; the phone page puts replies
#: straight into the Dovecot inbox, whose login is ``Dovecot.user``)
OFFICE_MAILBOX = "duban@demo.gov.cn"


class DemoServices:
    """The fake WeCom server, the SMTP sink, Dovecot (if installed) and the phone page."""

    def __init__(self, *, web_base: str, wecom_users: set[str]) -> None:
        self.web_base = web_base.rstrip("/")
        self.wecom = FakeWeCom(users=set(wecom_users))
        self.smtp = SmtpServer()
        # Its own directory, not below a private one: as root, Dovecot's unprivileged users
        # must reach the files (`Dovecot.start` opens the directory to them).
        self._imap_root = Path(tempfile.mkdtemp(prefix="duban-demo-imap-"))
        self.dovecot = Dovecot(self._imap_root) if dovecot_binary() else None
        self._phone: web.AppRunner | None = None
        self.phone_url = ""
        self.notes: list[str] = []

    async def start(self) -> None:
        """Start every service on a free loopback port."""
        await self.wecom.start()
        self.smtp.start()
        if self.dovecot is not None:
            await asyncio.to_thread(self.dovecot.start)
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_post("/wecom", self._wecom_answer)
        app.router.add_post("/mail", self._mail_answer)
        self._phone = web.AppRunner(app, access_log=None)
        await self._phone.setup()
        await web.TCPSite(self._phone, "127.0.0.1", 0).start()
        host, port = self._phone.addresses[0][:2]
        self.phone_url = f"http://{host}:{port}/"

    async def stop(self) -> None:
        """Stop every service."""
        if self._phone is not None:
            await self._phone.cleanup()
        await self.wecom.stop()
        self.smtp.stop()
        if self.dovecot is not None:
            self.dovecot.stop()
        shutil.rmtree(self._imap_root, ignore_errors=True)

    def env(self) -> dict[str, str]:
        """The settings that point Duban at these services."""
        fake = self.wecom
        env = {
            "DUBAN_WECOM_CORP_ID": fake.corp_id,
            "DUBAN_WECOM_AGENT_ID": str(fake.agent_id),
            "DUBAN_WECOM_SECRET": fake.secret,
            "DUBAN_WECOM_TOKEN": fake.token,
            "DUBAN_WECOM_AES_KEY": fake.aes_key,
            "DUBAN_WECOM_API_BASE": fake.base_url,
            "DUBAN_WECOM_OAUTH_BASE": fake.base_url,
            "DUBAN_SMTP_URL": f"smtp://127.0.0.1:{self.smtp.port}",
        }
        if self.dovecot is not None:
            env["DUBAN_IMAP_URL"] = self.dovecot.url
            env["DUBAN_MAIL_REPLY_TO"] = OFFICE_MAILBOX
        return env

    # the phone page

    async def _page(self, request: web.Request) -> web.Response:
        rows: list[str] = []
        for sent in reversed(self.wecom.sent[-30:]):
            card = sent.card
            title = card.get("main_title", {}) if card else {}
            text = (
                f"{title.get('title', '')} — {title.get('desc', '')}"
                if card
                else str(sent.body.get("text", {}).get("content", ""))
            )
            buttons = "".join(
                f'<button name="key" value="{escape(b["key"])}">{escape(b["text"])}</button>'
                for b in card.get("button_list", [])
                if b.get("key")
            )
            for user in sent.touser:
                rows.append(
                    f"<li><b>企业微信 → {escape(user)}</b>: {escape(text)}"
                    f'<form method="post" action="/wecom"><input type="hidden" name="user" '
                    f'value="{escape(user)}">{buttons}<input name="text" placeholder="回复文字">'
                    f"<button>发送</button></form></li>"
                )
        for n, mail in reversed(list(enumerate(self.smtp.sink.messages[-30:]))):
            rows.append(
                f"<li><b>邮件 → {escape(str(mail['To']))}</b>: {escape(str(mail['Subject']))}"
                f'<form method="post" action="/mail"><input type="hidden" name="n" value="{n}">'
                f'<input name="text" placeholder="回复内容（首行可写 申请办结）">'
                f"<button{'' if self.dovecot else ' disabled'}>回复邮件</button></form></li>"
            )
        notes = "".join(f"<p>{escape(note)}</p>" for note in self.notes[-5:])
        body = (
            "<!doctype html><meta charset=utf-8><title>演示：手机</title>"
            "<h1>演示：企业微信与邮件</h1>"
            f"{notes}<ul>{''.join(rows) or '<li>尚无消息（等待下一次发送）</li>'}</ul>"
        )
        return web.Response(text=body, content_type="text/html")

    async def _wecom_answer(self, request: web.Request) -> web.Response:
        form = await request.post()
        user, key, text = (str(form.get(k, "")) for k in ("user", "key", "text"))
        inner = (
            self.wecom.button_event(user, key, "duban-demo")
            if key
            else self.wecom.text_message(user, text or "收到")
        )
        delivery = await self.wecom.deliver(f"{self.web_base}/wecom/callback", inner)
        answer = delivery.answer
        if answer is None or answer[0] != 200:
            self.notes.append(f"Duban 未应答回调：{delivery.attempts}")
        elif answer[1]:
            from notifier.wecom.crypto import xml_fields

            reply = xml_fields(self.wecom.open_reply(answer[1])).get("Content", "")
            self.notes.append(f"督办 → {user}: {reply}")
        raise web.HTTPSeeOther("/")

    async def _mail_answer(self, request: web.Request) -> web.Response:
        form = await request.post()
        messages = self.smtp.sink.messages[-30:]
        n = int(str(form.get("n", "-1")) or -1)
        if self.dovecot is None or not 0 <= n < len(messages):
            raise web.HTTPSeeOther("/")
        original = messages[n]
        reply = EmailMessage()
        reply["From"] = parseaddr(str(original["To"]))[1]
        reply["To"] = str(original.get("Reply-To") or OFFICE_MAILBOX)
        reply["Subject"] = "Re: " + str(original["Subject"])
        reply["Message-ID"] = make_msgid(domain="demo.gov.cn")
        if original["Message-ID"]:
            reply["In-Reply-To"] = str(original["Message-ID"])
            reply["References"] = str(original["Message-ID"])
        reply.set_content(str(form.get("text", "")) or "已按要求推进，详见附件。")
        await asyncio.to_thread(self.dovecot.deliver, reply.as_bytes())
        self.notes.append(f"邮件回复已投递到督查室邮箱：{reply['Subject']}")
        raise web.HTTPSeeOther("/")


def write_env(path: Path, env: dict[str, str]) -> None:
    """Write ``env`` as a shell-sourceable file readable by its owner only."""
    text = "".join(f"{key}='{value}'\n" for key, value in env.items())
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


async def _serve(args: argparse.Namespace) -> None:
    from duban.demo import WECOM_USERS

    services = DemoServices(web_base=args.web_base, wecom_users=set(WECOM_USERS))
    await services.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        env = services.env() | {"DUBAN_DEMO_PHONE_URL": services.phone_url}
        write_env(Path(args.env_file), env)
        print(f"demo: fake WeCom on {services.wecom.base_url}, phone page {services.phone_url}")
        if services.dovecot is None:
            print("demo: Dovecot is not installed (scripts/imap): no e-mail replies")
        await stop.wait()
    finally:
        await services.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve the demo's loopback services until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--env-file", required=True, help="where to write the DUBAN_* settings")
    parser.add_argument("--web-base", default="http://127.0.0.1:8080", help="Duban's address")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
