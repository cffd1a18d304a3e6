"""A real IMAP server for the tests: Debian's Dovecot, run on a free loopback port.

Each instance has its own configuration, passwd-file user, maildir and log in a temporary
directory; plain-text login is allowed (loopback only). ``scripts/imap`` installs Dovecot;
without it the tests skip (and fail with ``CI=true``).
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def dovecot_binary() -> str | None:
    """Dovecot's path, or None when it is not installed."""
    found = shutil.which("dovecot")
    if found:
        return found
    return next((p for p in DOVECOT_PATHS if os.access(p, os.X_OK)), None)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    """One Dovecot process serving one mailbox user over plain IMAP on 127.0.0.1."""

    user = "duban@office.test"
    password = "imap-test-password"  # a throwaway loopback account

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``DUBAN_IMAP_URL`` of this server's inbox (short poll for tests)."""
        return f"imap://duban%40office.test:{self.password}@127.0.0.1:{self.port}/INBOX?poll=30"

    def _users(self) -> tuple[str, str, str, int, int]:
        """Login user, internal user and group, and the mail owner's uid and gid.

        As root, Dovecot's own unprivileged users (made by the package) run the processes;
        otherwise everything runs as the current user."""
        if os.getuid() == 0:
            owner = pwd.getpwnam("dovecot")
            return "dovenull", "dovecot", "dovecot", owner.pw_uid, owner.pw_gid
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        return me, me, group, os.getuid(), os.getgid()

    def _config(self) -> str:
        login, internal, group, uid, gid = self._users()
        r = self.root
        return f"""
base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
info_log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{r}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={r}/mail/%u
}}
"""

    def start(self) -> None:
        """Write the configuration and start Dovecot in the foreground; wait until it serves."""
        binary = dovecot_binary()
        assert binary is not None
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        _, _, _, uid, gid = self._users()
        if os.getuid() == 0:  # the mail processes run as Dovecot's user: it owns the maildir
            os.chown(self.root / "mail", uid, gid)
            self.root.chmod(0o755)
        conf = self.root / "dovecot.conf"
        conf.write_text(self._config())
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(200):
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err.strip()[:500]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)  # process start-up, not a timed assertion
        self.stop()
        raise RuntimeError("dovecot did not start listening")

    def stop(self) -> None:
        """Stop the process started by :meth:`start`."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self) -> imaplib.IMAP4:
        """A blocking client logged in and with INBOX selected (to deliver and inspect)."""
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(self.user, self.password)
        client.select("INBOX")
        return client

    def deliver(self, raw: bytes) -> None:
        """Put a message into the inbox, unseen (as the mail server delivers it)."""
        client = self.client()
        try:
            status, _ = client.append("INBOX", "", None, raw)
            assert status == "OK"
        finally:
            client.logout()

    def unseen_count(self) -> int:
        """How many inbox messages are not \\Seen."""
        client = self.client()
        try:
            _, data = client.uid("search", "UNSEEN")
            return len(data[0].split()) if data and data[0] else 0
        finally:
            client.logout()

    def clear(self) -> None:
        """Delete every message of the inbox."""
        client = self.client()
        try:
            client.store("1:*", "+FLAGS", "(\\Deleted)")
            client.expunge()
        except imaplib.IMAP4.error:
            pass  # an empty mailbox has no 1:*
        finally:
            client.logout()
