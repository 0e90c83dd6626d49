#!/usr/bin/env python3
"""Writes the corpus files that need exact bytes (CRLF, NUL, Latin-1) or are too big to type.

Run from this folder: python3 generate.py. The outputs are committed; the tests never run this.
"""


def write(name: str, data: bytes) -> None:
    with open(name, "wb") as f:
        f.write(data)


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


# A plain text mail with every threading and recipient header, in CRLF as on the wire.
write("text-only.eml", crlf("""Return-Path: <Nina@Customer.Example.TEST>
Delivered-To: inbox+acme@mail.prodesk.test
X-Original-To: Support@Acme.ProDesk.test
Envelope-To: support-envelope@acme.prodesk.test
From: Nina Customer <Nina@Customer.Example.TEST>
Reply-To: Nina at home <nina.home@example.test>
To: Support <Support@Acme.ProDesk.test>, other@acme.prodesk.test
Cc: "Boss, The" <boss@customer.example.test>
Subject: Re: [#1042] Printer on floor 3
Message-ID: <  CAF=abc123+x@mail.customer.example.test  >
In-Reply-To: <reply-1042@acme.prodesk.test>
References: <root-1042@customer.example.test>
 <reply-1042@acme.prodesk.test>
Date: Fri, 06 Mar 2026 14:30:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8; format=flowed
Content-Transfer-Encoding: 7bit

Still broken, see the previous mail.

-- 
Nina
"""))

# A bounce: multipart/report with a delivery-status part (RFC 3464), null sender.
write("dsn-bounce.eml", crlf("""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.customer.example.test>
To: support@acme.prodesk.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.customer.example.test>
Date: Sat, 07 Mar 2026 07:00:00 +0000
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="dsn-boundary"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.customer.example.test.
I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@customer.example.test>: host mx said: 550 5.1.1 User unknown

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example.test
Arrival-Date: Sat, 07 Mar 2026 06:59:58 +0000

Final-Recipient: rfc822; nobody@customer.example.test
Original-Recipient: rfc822;nobody@customer.example.test
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.customer.example.test
Diagnostic-Code: smtp; 550 5.1.1 <nobody@customer.example.test>: Recipient
    address rejected: User unknown

--dsn-boundary
Content-Type: message/rfc822

From: Support <support@acme.prodesk.test>
To: nobody@customer.example.test
Subject: [#1042] Your printer request
Message-ID: <reply-1042@acme.prodesk.test>
Content-Type: text/plain; charset=utf-8

We are on it.

--dsn-boundary--
"""))

# Raw (unencoded) UTF-8 in headers, as sent by many modern MTAs (RFC 6532).
write("8bit-headers-utf8.eml", (
    "From: Zoë Ångström <zoe@customer.example.test>\n"
    "To: support@acme.prodesk.test\n"
    "Subject: Überraschung: naïve café ☕\n"
    "Message-ID: <utf8-headers@customer.example.test>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Grüße aus Köln.\n").encode("utf-8"))

# Raw Latin-1 bytes in headers and body: not valid UTF-8, so the fallback charset must apply.
write("8bit-headers-latin1.eml", (
    "From: Jos\xe9 Pe\xf1a <jose@customer.example.test>\n"
    "To: support@acme.prodesk.test\n"
    "Subject: Caf\xe9 cr\xe8me br\xfbl\xe9e\n"
    "Message-ID: <latin1-headers@customer.example.test>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Ma\xf1ana por la ma\xf1ana.\n").encode("latin-1"))

# NUL bytes in the body (and one in a header), which databases and UIs choke on.
write("null-bytes-in-body.eml", (
    b"From: Omar <omar@customer.example.test>\n"
    b"To: support@acme.prodesk.test\n"
    b"Subject: Nul\x00 bytes\n"
    b"Message-ID: <nul-bytes@customer.example.test>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"Content-Transfer-Encoding: 8bit\n"
    b"\n"
    b"Before\x00\x00after and \x07bell \x1b[31mescape\n"))

# One header line of 256 KB, and an over-long subject.
write("huge-header-line.eml", (
    "From: Pia <pia@customer.example.test>\n"
    "To: support@acme.prodesk.test\n"
    "Subject: " + "Long subject " * 400 + "\n"
    "X-Huge: " + "A" * (256 * 1024) + "\n"
    "Message-ID: <huge-header@customer.example.test>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Body after a huge header.\n").encode("ascii"))

# 50 multiparts nested in each other.
depth = 50
parts = ["From: Quinn <quinn@evil.test>\nTo: support@acme.prodesk.test\nSubject: Nested 50 deep\n"
         "Message-ID: <nested-50@evil.test>\nMIME-Version: 1.0\n"
         "Content-Type: multipart/mixed; boundary=\"n0\"\n\n"]
for level in range(1, depth):
    parts.append(f"--n{level - 1}\nContent-Type: multipart/mixed; boundary=\"n{level}\"\n\n")
parts.append(f"--n{depth - 1}\nContent-Type: text/plain\n\nThe bottom.\n")
for level in reversed(range(depth)):
    parts.append(f"--n{level}--\n")
write("nested-multipart-50.eml", "".join(parts).encode("ascii"))

# 50 messages nested as message/rfc822 attachments of each other.
inner = "From: r50@evil.test\nSubject: level 50\nContent-Type: text/plain\n\nThe bottom.\n"
for level in reversed(range(depth)):
    inner = (f"From: r{level}@evil.test\nTo: support@acme.prodesk.test\nSubject: level {level}\n"
             f"Message-ID: <rfc822-{level}@evil.test>\nMIME-Version: 1.0\n"
             "Content-Type: message/rfc822\n\n" + inner)
write("nested-message-rfc822-50.eml", inner.encode("ascii"))

# 600 sibling parts: more than the parser accepts.
many = ["From: Rita <rita@evil.test>\nTo: support@acme.prodesk.test\nSubject: Too many parts\n"
        "Message-ID: <too-many-parts@evil.test>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"m\"\n\n"]
for i in range(600):
    many.append(f"--m\nContent-Type: text/plain\n\npart {i}\n")
many.append("--m--\n")
write("too-many-parts.eml", "".join(many).encode("ascii"))

# Not an email at all: binary noise with no header block.
write("binary-garbage.eml", bytes((i * 37 + 11) % 256 for i in range(2048)))

# Charsets real clients send beyond UTF-8 and Latin-1: each needs .NET's code-page encodings.
def charset_mail(name: str, charset: str, python_codec: str, sender: str, subject: str, body: str) -> None:
    import base64
    encoded_subject = "=?" + charset + "?B?" + base64.b64encode(subject.encode(python_codec)).decode("ascii") + "?="
    write(name, (
        ("From: " + sender + "\n"
         "To: support@acme.prodesk.test\n"
         "Subject: " + encoded_subject + "\n"
         "Message-ID: <" + name + "@customer.example.test>\n"
         "MIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=" + charset + "\n"
         "Content-Transfer-Encoding: 8bit\n"
         "\n").encode("ascii") + body.encode(python_codec)))


charset_mail("charset-windows-1252.eml", "windows-1252", "cp1252", "Olivia <olivia@customer.example.test>",
             "It\u2019s \u201curgent\u201d \u2013 50\u20ac", "It\u2019s \u201curgent\u201d \u2013 the invoice says 50\u20ac\u2026\n")
charset_mail("charset-iso-2022-jp.eml", "iso-2022-jp", "iso2022_jp", "Taro <taro@customer.example.jp>",
             "\u8acb\u6c42\u66f8\u306b\u3064\u3044\u3066", "\u304a\u4e16\u8a71\u306b\u306a\u3063\u3066\u304a\u308a\u307e\u3059\u3002\n")
charset_mail("charset-gb18030.eml", "gb18030", "gb18030", "Li <li@customer.example.cn>",
             "\u53d1\u7968\u95ee\u9898", "\u60a8\u597d\uff0c\u53d1\u7968\u6709\u9519\u8bef\u3002\n")
charset_mail("charset-ks-c-5601.eml", "ks_c_5601-1987", "cp949", "Kim <kim@customer.example.kr>",
             "\uccad\uad6c\uc11c \ubb38\uc758", "\uc548\ub155\ud558\uc138\uc694.\n")

# 8-bit text that names no charset, written by a Windows client: curly quotes and the euro sign in cp1252.
write("unlabeled-8bit-cp1252.eml", (
    b"From: Paul <paul@customer.example.test>\n"
    b"To: support@acme.prodesk.test\n"
    b"Subject: Quote\n"
    b"Message-ID: <unlabeled-cp1252@customer.example.test>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain\n"
    b"Content-Transfer-Encoding: 8bit\n"
    b"\n"
    b"That\x92s \x93fine\x94 at 20\x80.\n"))

# A boundary parameter that never appears in the body: MimeKit reads an empty multipart with everything in its preamble.
write("broken-multipart-boundary-never-appears.eml", crlf("""From: Bob Sender <bob@customer.example.test>
To: support@acme.prodesk.test
Subject: Boundary mismatch
Message-ID: <boundary-never-appears@customer.example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="declared"

--actually-used
Content-Type: text/plain

Is anybody reading this?
--actually-used--
"""))

# format=flowed (RFC 3676) as Apple Mail and Thunderbird send it: soft breaks end in a space; with delsp=yes the space goes too.
write("format-flowed.eml", crlf("""From: Fiona <fiona@customer.example.test>
To: support@acme.prodesk.test
Subject: Flowed
Message-ID: <format-flowed@customer.example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8; format=flowed
Content-Transfer-Encoding: 7bit

The printer on the third floor prints every page twice and then 
jams on the last one.

> Have you tried 
> turning it off?
Yes.
"""))
write("format-flowed-delsp.eml", crlf("""From: Fiona <fiona@customer.example.test>
To: support@acme.prodesk.test
Subject: Flowed delsp
Message-ID: <format-flowed-delsp@customer.example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes
Content-Transfer-Encoding: 7bit

Supercalifragilistic 
expialidocious words split by the writer's client.
"""))

# Apple Mail with a picture mid-text: the HTML comes as two parts around the picture, in one multipart/mixed.
write("apple-mixed-inline.eml", crlf("""From: Anna <anna@customer.example.test>
To: support@acme.prodesk.test
Subject: Screenshot
Message-ID: <apple-mixed-inline@customer.example.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

Before the picture.

After the picture.
--alt
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/html; charset=utf-8

<html><body><p>Before the picture.</p></body></html>
--mix
Content-Type: image/png; name="shot.png"
Content-Disposition: inline; filename="shot.png"
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==
--mix
Content-Type: text/html; charset=utf-8

<html><body><p>After the picture.</p></body></html>
--mix--
--alt--
"""))

# UTF-8 text a client labelled us-ascii anyway.
write("utf8-labelled-us-ascii.eml", (
    b"From: Chlo\xc3\xa9 <chloe@customer.example.test>\n"
    b"To: support@acme.prodesk.test\n"
    b"Subject: Mislabelled\n"
    b"Message-ID: <utf8-labelled-ascii@customer.example.test>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=us-ascii\n"
    b"Content-Transfer-Encoding: 8bit\n"
    b"\n"
    b"Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e, 5 \xe2\x82\xac.\n"))

# A Content-Type that does not parse: RFC 2045 says read it as text/plain.
write("garbage-content-type.eml", crlf("""From: Gary <gary@customer.example.test>
To: support@acme.prodesk.test
Subject: Odd header
Message-ID: <garbage-content-type@customer.example.test>
MIME-Version: 1.0
Content-Type: garbage

The body is plain words.
"""))

# Outlook's rich-text mail: the files travel inside winmail.dat (application/ms-tnef, MS-OXTNEF).
def tnef_attribute(level: int, attribute: int, data: bytes) -> bytes:
    import struct
    return struct.pack("<BII", level, attribute, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def tnef(files: list[tuple[str, bytes]]) -> bytes:
    import struct
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += tnef_attribute(1, 0x00089006, struct.pack("<I", 0x00010000))          # attTnefVersion
    out += tnef_attribute(1, 0x00069007, struct.pack("<II", 1252, 0))              # attOemCodepage
    out += tnef_attribute(1, 0x00078008, b"IPM.Microsoft Mail.Note\0")             # attMessageClass
    for name, content in files:
        out += tnef_attribute(2, 0x00069002, struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0))  # attAttachRendData
        out += tnef_attribute(2, 0x00018010, name.encode("latin-1") + b"\0")                 # attAttachTitle
        out += tnef_attribute(2, 0x0006800F, content)                                        # attAttachData
    return out


def base64_lines(data: bytes) -> str:
    import base64
    text = base64.b64encode(data).decode("ascii")
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def tnef_mail(name: str, subject: str, text: str, winmail: bytes) -> None:
    write(name, crlf(f"""From: Olga Outlook <olga@customer.example.test>
To: support@acme.prodesk.test
Subject: {subject}
Message-ID: <{name[:-4]}@customer.example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="tnef"

--tnef
Content-Type: text/plain; charset=us-ascii

{text}
--tnef
Content-Type: application/ms-tnef; name="winmail.dat"
Content-Disposition: attachment; filename="winmail.dat"
Content-Transfer-Encoding: base64

{base64_lines(winmail)}
--tnef--
"""))


tnef_mail("tnef-winmail-dat.eml", "Quarterly report", "Please find the report and my notes attached.",
          tnef([("report.pdf", b"%PDF-1.4 quarterly figures"), ("notes.txt", b"Call me on Monday.")]))

# A winmail.dat cut short in its first file: kept as the one opaque file it is.
tnef_mail("tnef-truncated.eml", "Cut short", "The attachment did not survive.", tnef([("report.pdf", b"%PDF-1.4 " + b"x" * 200)])[:-120])
