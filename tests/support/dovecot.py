"""A real, throwaway dovecot IMAP server on 127.0.0.1 for tests (Debian's dovecot-imapd).

Its own config, mail directory, runtime directory and a free port, all under a temp dir;
started in the foreground as a child process and stopped when the context ends."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = switchboard-test-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.1/32
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
# The temp dir is private to root (pytest's tmp_path is 0700): auth reads it as root.
service auth {{
  user = root
}}
service auth-worker {{
  user = root
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """Mail is stored as `nobody` (dovecot refuses to run a mailbox as root), under a temp dir
    outside pytest's private tmp_path so that user can reach it."""

    def __init__(self, username: str = "help", password: str = "imap-pass"):
        self.root = Path(tempfile.mkdtemp(prefix="switchboard-dovecot-"))
        self.username = username
        self.password = password
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Dovecot":
        owner = pwd.getpwnam("nobody")
        self.root.chmod(0o755)
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for sub in ("mail", "home"):
            os.chown(self.root / sub, owner.pw_uid, owner.pw_gid)
        (self.root / "passwd").write_text(f"{self.username}:{{PLAIN}}{self.password}\n")
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(root=self.root, port=self.port, uid=owner.pw_uid, gid=owner.pw_gid)
        )
        self.process = subprocess.Popen(
            [dovecot_binary(), "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stopped with its children
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("dovecot did not start listening")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            # A throwaway server: no graceful shutdown needed (that takes a second per test).
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def config(self, **extra) -> dict:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "username": self.username,
            "password": self.password,
            **extra,
        }

    def mailbox(self):
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(
            self.username, self.password
        )

    def flags_on_disk(self) -> list[str]:
        """Maildir flags of the inbox's mails, read from disk: no login (after a failed login
        dovecot slows the next ones from the same address down)."""
        inbox = self.root / "mail" / self.username
        files = sorted([*inbox.glob("new/*"), *inbox.glob("cur/*")])
        return [f.name.partition(":2,")[2] for f in files]

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a mail into the folder over IMAP APPEND, unseen, as a delivery agent would."""
        with self.mailbox() as box:
            box.append(raw, folder, flag_set=())
