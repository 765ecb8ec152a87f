#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for vault365's email tests.

Started by the Rust test helper crates/test-support/src/smtp.rs (used by the engine and api email tests):

    smtp_server.py --dir DIR [--security plain|starttls|ssl --cert PEM --key PEM]
                   [--auth USER:PASSWORD] [--reject-data] [--crash-in-data]

It listens on 127.0.0.1 on a free port and prints `READY <port>` on stdout once it accepts connections. Layout of DIR:

* `maildir/` — a Maildir: each accepted message is stored with Python's `mailbox.Maildir`, which writes into `tmp/`
  and renames into `new/`, so `new/` only ever holds complete messages. The file is the DATA exactly as received
  (dot-unstuffed), nothing prepended, so tests can compare bytes.
* `events.jsonl` — one JSON object per line, flushed before the SMTP reply is sent, so a test that got its answer can
  read it without waiting: `connect`, `auth` (user, ok), `delivered` (key, mail_from, rcpt_tos, user), `rejected`,
  `crash`. The envelope lives here, not in the message, to keep the stored message byte-identical.

Modes: `--reject-data` answers the end of DATA with 554 (the transaction is refused, nothing stored);
`--crash-in-data` makes the process die once DATA has been received, before it replies or stores anything: the server
goes down in the middle of a transaction.

The server stops on SIGTERM/SIGINT and when its stdin reaches end of file, so it never outlives a test process that
died without cleaning up.
"""

import argparse
import asyncio
import json
import logging
import mailbox
import os
import signal
import ssl
import sys
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError as e:  # the Rust helper shows this text when the server does not come up
    sys.stderr.write(
        f"aiosmtpd is not installed for {sys.executable} ({e}): "
        "pip install -r tests/python/requirements.txt\n"
    )
    sys.exit(2)


class Events:
    """Append-only JSON-lines log; every line is flushed at once (tests read it after each SMTP exchange)."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")

    def write(self, event, **fields):
        self.file.write(json.dumps({"event": event, **fields}) + "\n")
        self.file.flush()


class Sink:
    """aiosmtpd handler: stores, refuses or crashes at the end of DATA, depending on the mode."""

    def __init__(self, maildir, events, reject_data, crash_in_data):
        self.maildir = maildir
        self.events = events
        self.reject_data = reject_data
        self.crash_in_data = crash_in_data

    async def handle_DATA(self, server, session, envelope):
        if self.crash_in_data:
            self.events.write("crash", mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos)
            # No reply, no Maildir write, no cleanup: exactly what a server that dies mid-transaction leaves.
            os._exit(3)
        if self.reject_data:
            self.events.write("rejected", mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos)
            return "554 5.7.1 Message rejected by the test server"
        key = self.maildir.add(envelope.original_content)
        user = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
        self.events.write(
            "delivered", key=key, mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos, user=user
        )
        return "250 2.0.0 Message accepted for delivery"


def authenticator(events, user, password):
    """AUTH PLAIN/LOGIN (aiosmtpd's built-in mechanisms) against one user and password."""

    def check(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode(errors="replace")
        ok = login == user and auth_data.password.decode(errors="replace") == password
        events.write("auth", mechanism=mechanism, user=login, ok=ok)
        # handled=False: aiosmtpd then sends the 235/535 reply itself (with True a refused client would get no answer).
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


class CountingSMTP(SMTP):
    """Logs each new session, so a test can prove that no connection was made (e.g. a message over the size limit)."""

    def __init__(self, handler, events, **kwargs):
        super().__init__(handler, **kwargs)
        self._events = events

    def connection_made(self, transport):
        # A STARTTLS upgrade calls this again on the same session: only the first call is a new connection.
        if self.transport is None:
            self._events.write("connect", peer=list(transport.get_extra_info("peername") or []))
        super().connection_made(transport)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True, help="directory for maildir/ and events.jsonl")
    p.add_argument("--security", choices=["plain", "starttls", "ssl"], default="plain")
    p.add_argument("--cert", help="PEM certificate (starttls, ssl)")
    p.add_argument("--key", help="PEM private key (starttls, ssl)")
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require AUTH PLAIN/LOGIN with these credentials")
    p.add_argument("--reject-data", action="store_true", help="answer the end of DATA with 554")
    p.add_argument("--crash-in-data", action="store_true", help="die after DATA is received, before replying")
    a = p.parse_args()
    if a.security != "plain" and not (a.cert and a.key):
        p.error(f"--security {a.security} needs --cert and --key")
    if a.auth is not None and ":" not in a.auth:
        p.error("--auth must be USER:PASSWORD")
    return a


async def main():
    a = parse_args()
    loop = asyncio.get_running_loop()
    os.makedirs(a.dir, exist_ok=True)
    maildir = mailbox.Maildir(os.path.join(a.dir, "maildir"), create=True)
    events = Events(os.path.join(a.dir, "events.jsonl"))
    handler = Sink(maildir, events, a.reject_data, a.crash_in_data)

    tls = None
    if a.security != "plain":
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(a.cert, a.key)

    kwargs = {
        # A fixed name: socket.getfqdn() can stall on a machine without DNS.
        "hostname": "localhost",
        "ident": "vault365 test SMTP (aiosmtpd)",
    }
    if a.security == "starttls":
        kwargs.update(tls_context=tls, require_starttls=True)
    if a.auth is not None:
        user, password = a.auth.split(":", 1)
        kwargs.update(
            authenticator=authenticator(events, user, password),
            auth_required=True,
            # aiosmtpd only sees encryption that came from its own STARTTLS; on implicit TLS (and on plain, where the
            # test wants AUTH anyway) it must not insist on it.
            auth_require_tls=a.security == "starttls",
        )
        # aiosmtpd warns that AUTH without TLS is insecure (that is the point of the plain mode) and about its own
        # deprecated login_data on every AUTH: noise in a test's output, not news.
        warnings.simplefilter("ignore")
        logging.getLogger("mail.log").setLevel(logging.ERROR)

    server = await loop.create_server(
        lambda: CountingSMTP(handler, events, **kwargs),
        host="127.0.0.1",
        port=0,
        ssl=tls if a.security == "ssl" else None,
    )
    port = server.sockets[0].getsockname()[1]

    stop = loop.create_future()

    def request_stop():
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop)

    def on_stdin():
        # End of file: the test process is gone (or dropped its handle); stop with it.
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            request_stop()

    loop.add_reader(sys.stdin.fileno(), on_stdin)

    print(f"READY {port}", flush=True)
    await stop
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
