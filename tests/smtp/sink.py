"""A real SMTP server on loopback for authlite's tests (aiosmtpd).

Writes each message it takes as DIR/NNNNNN.eml, with DIR/NNNNNN.json beside
it: the envelope, the AUTH login used and whether the session was encrypted.
Prints "PORT <n>" once it listens. Its answer to each message's DATA is read
from DIR/mode at that moment, so a test can change it while it runs:
"ok" (or no file), "4xx" (451: try again later), "5xx" (550: refused), or
"slow" (takes 1 s, then ok).

    python3 sink.py --dir DIR [--tls none|starttls|implicit] [--ca-out PATH]
                    [--auth USER:PASSWORD] [--delay SECONDS] [--port N]

With TLS it makes a private CA and a certificate for 127.0.0.1 and localhost
with the openssl command, and writes the CA's certificate to --ca-out.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(ca_out):
    """A CA and a server certificate it signs, made with the openssl command."""
    work = tempfile.mkdtemp(prefix="authlite-smtp-")
    ca_key, ca_crt = os.path.join(work, "ca.key"), os.path.join(work, "ca.crt")
    key, csr, crt = (os.path.join(work, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(work, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=authlite test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    with open(ca_crt, "rb") as src, open(ca_out, "wb") as dst:
        dst.write(src.read())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    return context


class Sink:
    def __init__(self, folder, delay, implicit_tls):
        self.folder = folder
        # aiosmtpd sees STARTTLS in the session, not a TLS listener's layer.
        self.implicit_tls = implicit_tls
        self.delay = delay
        self.count = 0
        self.lock = threading.Lock()

    def mode(self):
        try:
            with open(os.path.join(self.folder, "mode")) as f:
                return f.read().strip() or "ok"
        except FileNotFoundError:
            return "ok"

    async def handle_DATA(self, server, session, envelope):
        mode = self.mode()
        if mode == "4xx":
            return "451 4.3.0 Try again later"
        if mode == "5xx":
            return "550 5.1.1 This mailbox does not take mail"
        if mode == "slow":
            await asyncio.sleep(1)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.folder, f"{n:06d}")
        with open(base + ".eml.partial", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "tls": self.implicit_tls or session.ssl is not None,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.partial", base + ".eml")
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--ca-out")
    p.add_argument("--auth")
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()

    kwargs = {}
    context = make_certificates(a.ca_out) if a.tls != "none" else None
    if a.tls == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, auth_data=auth_data)

        # With TLS from the start aiosmtpd does not see its own TLS layer:
        # AUTH is then allowed as it is (the connection is encrypted anyway).
        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=a.tls == "starttls")
    port = a.port or free_port()
    controller = Controller(Sink(a.dir, a.delay, a.tls == "implicit"), hostname="127.0.0.1", port=port,
                            ssl_context=context if a.tls == "implicit" else None,
                            server_hostname="localhost", ready_timeout=10, **kwargs)
    controller.start()
    print(f"PORT {port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Ends with its parent too: the test holds its standard input open.
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
