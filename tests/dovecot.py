"""A real IMAP server for the bounce tests: Debian's dovecot (`dovecot-imapd`) on 127.0.0.1.

Started by the test itself from a config in a temporary folder: its own base and state
directories, a passwd-file with one mailbox user, Maildir storage, no TLS and plaintext
login allowed (loopback only). As root (CI containers) dovecot insists on dropping
privileges, so the login and mail processes run as Debian's `dovenull` and `dovecot`
users; as anyone else, everything runs as that user.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import need

USER, PASSWORD = "bounces", "imap-secret-password-31"


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    log: Path

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=120)
        imap.login(self.user, self.password)
        return imap

    def append(self, *messages: bytes) -> None:
        imap = self.client()
        try:
            for data in messages:
                status, detail = imap.append("INBOX", None, None, data)
                assert status == "OK", detail
        finally:
            imap.logout()

    def inbox(self) -> list[tuple[bytes, bytes]]:
        """(flags, raw message) of every message still in INBOX."""
        imap = self.client()
        try:
            imap.select("INBOX")
            _, data = imap.uid("SEARCH", "ALL")
            found = []
            for uid in (data[0] or b"").split():
                _, parts = imap.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
                head, body = parts[0]  # type: ignore[misc]
                found.append((head, body))
            return found
        finally:
            imap.logout()


def _binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot",) if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    binary = _binary()
    need(binary is not None, "dovecot is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    # not pytest's tmp_path: that is private to the test's user, and as root dovecot's
    # mail processes run as another user who must reach the Maildir
    root = Path(tempfile.mkdtemp(prefix="pressbot-dovecot-"))
    root.chmod(0o755)
    home = root / "home"
    home.mkdir()
    if os.getuid() == 0:
        login_user, internal_user = "dovenull", "dovecot"
        mail_uid, mail_gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
        os.chown(home, mail_uid, mail_gid)
    else:
        login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
        mail_uid, mail_gid = os.getuid(), os.getgid()
    internal_group = grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name
    port = _free_port()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = pressbot-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{home}/%u/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal_user}
  }}
  unix_listener stats-writer {{
    user = {internal_user}
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
  default_fields = uid={mail_uid} gid={mail_gid} home={home}/%u
}}
""", encoding="utf-8")
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Dovecot("127.0.0.1", port, USER, PASSWORD, root / "dovecot.log")
    try:
        deadline = time.monotonic() + 120   # a net against a hang on a busy machine
        while True:
            try:
                server.client().logout()
                break
            except (OSError, imaplib.IMAP4.error) as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = server.log.read_text() if server.log.exists() else ""
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"dovecot did not start: {exc}\n{error}\n{log}") \
                        from exc
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)
