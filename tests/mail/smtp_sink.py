"""An aiosmtpd handler for the tests' SMTP sink: every message is accepted (any sender, any recipient,
no auth, no TLS) and written, byte for byte as the client sent it, to a file of its own in one
directory, with the envelope prepended as headers:

    X-Envelope-From: <sender>
    X-Envelope-To: <recipient>        (one header per RCPT TO, in order)
    X-Envelope-Peer: 127.0.0.1:54321  (the client's end of the SMTP session: one per connection)

Files are named <nanoseconds>-<counter>.eml, so sorting by name is the order of arrival, and they
appear by rename, so a reader never sees half a message.

    PYTHONPATH=tests/mail python3 -m aiosmtpd -n -u -l 127.0.0.1:PORT -c smtp_sink.Sink DIRECTORY
"""

import itertools
import os
import time


class Sink:
    def __init__(self, directory):
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self._counter = itertools.count(1)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes one argument: the directory to write messages to")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        header = "X-Envelope-From: <%s>\r\n" % (envelope.mail_from or "")
        header += "".join("X-Envelope-To: <%s>\r\n" % rcpt for rcpt in envelope.rcpt_tos)
        peer = session.peer if isinstance(session.peer, tuple) else (str(session.peer), 0)
        header += "X-Envelope-Peer: %s:%s\r\n" % (peer[0], peer[1])
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        name = "%020d-%06d" % (time.time_ns(), next(self._counter))
        temporary = os.path.join(self.directory, "." + name + ".tmp")
        with open(temporary, "wb") as f:
            f.write(header.encode("utf-8") + content)
        os.rename(temporary, os.path.join(self.directory, name + ".eml"))
        return "250 OK: message accepted"
