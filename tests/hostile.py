#!/usr/bin/env python3
"""hostile.py - images whose header promises far more than their body holds.

    python3 hostile.py KIND WIDTH HEIGHT OUT...

KIND (RGB, 8 bits; every CRC and checksum right, so that only the size can
be what is refused):
    png-tiny     IDAT: a zlib stream (fixed-Huffman) of only the first rows
    png-zeros    IDAT: every row, zeros, deflated as far as zlib goes
                 (about 1030:1: a 65535 x 2288 image in 437 KB)
    png-stored   a stored block of the first rows, then a compressed block
                 of a few more (the streaming reader's in-memory rest)
    png-short    stored blocks of only the first rows, then nothing
    png-adam7    interlaced, every pass's rows, zeros, deflated (437 KB too)
    png-palette  8-bit palette of one colour, every row, zeros, deflated
    pam-short    P7, the first rows only
Each body but png-adam7's and png-palette's (all zeros) starts with a
valid header (sit-image(5)) for an image of that shape with an empty
payload, so that a reader that only checks the header would take it: the
first OUT gets sit-visual's, the next ones shares 1, 2, ... of a 2-of-2
set; the bytes after it are zeros (no right checksum).
Only for tests: OUT is written whole."""
import hashlib
import struct
import sys
import zlib


def sit_header(width, height):
    h = bytearray(80)
    h[0:6] = b"SITIMG"
    h[6] = ord("V") if SHARE == 0 else ord("S")
    h[7] = 2
    struct.pack_into("<II", h, 8, width, height)
    h[16], h[17] = 3, 8
    if SHARE:
        h[32:48] = b"hostile.py set!!"
        h[48], h[49], h[50] = 2, 2, SHARE
    h[64:80] = hashlib.blake2b(bytes(h[:64]), digest_size=16).digest()
    return bytes(h)


def chunk(ctype, body):
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(
        ">I", zlib.crc32(ctype + body) & 0xffffffff)


def png(width, height, idat, colour=2, interlace=0, extra=b""):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def deflate_zeros(size, z=None):
    """SIZE zero bytes deflated (a zlib stream, unless Z is given), a piece
    at a time."""
    z, piece, out = z or zlib.compressobj(9), bytes(1 << 20), []
    while size > 0:
        out.append(z.compress(piece[:min(size, len(piece))]))
        size -= len(piece)
    out.append(z.flush())
    return b"".join(out)


def adam7_len(width, height, bpp):
    """Bytes of the filtered rows of all seven passes."""
    n = 0
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        w, h = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if w > 0 and h > 0:
            n += h * (1 + w * bpp)
    return n


def first_rows(width, n):
    """N filtered rows (filter 0), the sit header at the start."""
    raw = bytearray((1 + 3 * width) * n)
    hdr = sit_header(width, HEIGHT)
    raw[1:1 + len(hdr)] = hdr
    return bytes(raw)


def zeros_stream(width, height, tail):
    """The whole image, the header in front: its first row deflated and
    flushed to a byte with the history dropped (Z_FULL_FLUSH), then TAIL,
    the other rows deflated alone (the same bytes for every header)."""
    first = first_rows(width, 1)
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = z.compress(first) + z.flush(zlib.Z_FULL_FLUSH)
    adler = zlib.adler32(first)
    a, b = adler & 0xffff, adler >> 16
    b = (b + (height - 1) * len(first) * a) % 65521    # that many zeros more
    return b"\x78\xda" + head + tail + struct.pack(">I", b << 16 | a)


def stored(data, final):
    return bytes([final]) + struct.pack("<HH", len(data), len(data) ^ 0xffff) + data


def make(kind, tail):
    rows = first_rows(WIDTH, 2)
    if kind == "png-zeros":
        return png(WIDTH, HEIGHT, zeros_stream(WIDTH, HEIGHT, tail))
    if kind == "png-tiny":
        z = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_FIXED)
        return png(WIDTH, HEIGHT, z.compress(rows) + z.flush())
    if kind == "png-stored":
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        rest = z.compress(bytes(4 * len(rows))) + z.flush()
        return png(WIDTH, HEIGHT, b"\x78\x01" + stored(rows[:65535], 0) + rest + bytes(4))
    if kind == "png-short":
        return png(WIDTH, HEIGHT, b"\x78\x01" + stored(rows[:65535], 0))
    if kind == "png-adam7":
        return png(WIDTH, HEIGHT, deflate_zeros(adam7_len(WIDTH, HEIGHT, 3)), interlace=1)
    if kind == "png-palette":
        return png(WIDTH, HEIGHT, deflate_zeros(HEIGHT * (1 + WIDTH)), colour=3,
                   extra=chunk(b"PLTE", bytes(3)))
    if kind == "pam-short":
        return (b"P7\nWIDTH %d\nHEIGHT %d\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n"
                % (WIDTH, HEIGHT)) + sit_header(WIDTH, HEIGHT) + bytes(2 * 3 * WIDTH)
    sys.exit("hostile.py: unknown kind " + kind)


kind, WIDTH, HEIGHT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tail = b""
if kind == "png-zeros":
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = deflate_zeros((HEIGHT - 1) * (1 + 3 * WIDTH), z)
data = None
for SHARE, path in enumerate(sys.argv[4:]):
    if data is None or kind not in ("png-adam7", "png-palette"):
        data = make(kind, tail)
    with open(path, "wb") as f:
        f.write(data)

