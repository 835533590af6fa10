"""A real SMTP server (aiosmtpd) on 127.0.0.1, on a free port, playing the mail relay in tests.

server.refuse_data(code_and_text)      queue answers to the next DATA commands ("451 4.3.0 ...")
server.refuse_recipient(address, answer)  answer RCPT TO for that address with e.g. "550 5.1.1 ..."
server.messages                         mail accepted: envelope sender, recipients, parsed message
server.attempts                         every DATA attempt, accepted or not (parsed messages)
"""

import asyncio
import email
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


class LocalSMTPServer:
    def __init__(self):
        self.messages: list[Received] = []
        self.attempts: list[EmailMessage] = []
        self._data_answers: list[str] = []
        self._recipient_answers: dict[str, str] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = None
        self.port = 0

    def refuse_data(self, *answers: str) -> None:
        with self._lock:
            self._data_answers.extend(answers)

    def refuse_recipient(self, address: str, answer: str) -> None:
        with self._lock:
            self._recipient_answers[address.lower()] = answer

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            answer = self._recipient_answers.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=policy.default)
        with self._lock:
            self.attempts.append(parsed)
            if self._data_answers:
                return self._data_answers.pop(0)
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw))
        return "250 Message accepted for delivery"

    def __enter__(self) -> "LocalSMTPServer":
        self._thread.start()

        async def start():
            return await self._loop.create_server(
                lambda: SMTP(self, hostname="smtp.test", decode_data=False),
                host="127.0.0.1",
                port=0,
            )

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
