"""A real SMTP server for Townhall's mail tests, on aiosmtpd (Debian's python3-aiosmtpd).

serve MAILDIR [--port N] [--tls starttls|implicit --cert C --key K] [--auth USER:PASS]
    Accepts mail on a free loopback port (printed as "port N" once listening) and delivers it to
    the Maildir. Recipients whose local part starts with a keyword misbehave, for the failure tests:
      tempfail-*  answers 451 to the first DATA for that address, then accepts;
      reject-*    answers 550 to RCPT TO;
      hang-*      never answers DATA (the client's timeout must end it).
read MAILDIR
    Prints every delivered mail as a JSON list: headers, the decoded text and HTML parts.
"""

import asyncio
import email
import email.policy
import json
import mailbox
import os
import socket
import ssl
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler:
    def __init__(self, maildir):
        self.box = mailbox.Maildir(maildir, create=True)
        self.failed_once = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("reject-"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        to = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        local = to.split("@")[0]
        if local.startswith("hang-"):
            await asyncio.sleep(3600)
        if local.startswith("tempfail-") and to not in self.failed_once:
            self.failed_once.add(to)
            return "451 4.3.0 Try again later"
        self.box.add(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def serve(args):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    maildir = args[0]
    opts = dict(zip(args[1::2], args[2::2]))
    port = int(opts["--port"]) if "--port" in opts else free_port()
    kwargs = {}
    context = None
    if "--tls" in opts:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(opts["--cert"], opts["--key"])
    if opts.get("--tls") == "starttls":
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    elif opts.get("--tls") == "implicit":
        kwargs["ssl_context"] = context
    if "--auth" in opts:
        user, password = opts["--auth"].split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = "--tls" in opts
    controller = Controller(Handler(maildir), hostname="127.0.0.1", port=port, **kwargs)
    if opts.get("--tls") == "implicit":
        # The readiness check of Controller speaks plain SMTP; for implicit TLS it must use TLS.
        controller.ssl_context = context
    controller.start()
    print(f"port {port}", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        controller.stop()


def read(args):
    box = mailbox.Maildir(args[0], create=True)
    out = []
    for key in sorted(box.keys(), key=lambda k: os.path.getmtime(os.path.join(args[0], "new", k)) if os.path.exists(os.path.join(args[0], "new", k)) else 0):
        msg = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        out.append({
            "headers": [[k, str(v)] for k, v in msg.items()],
            "raw_headers": box.get_bytes(key).split(b"\r\n\r\n")[0].split(b"\n\n")[0].decode("utf-8", "replace"),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
        })
    print(json.dumps(out))


if __name__ == "__main__":
    {"serve": serve, "read": read}[sys.argv[1]](sys.argv[2:])
