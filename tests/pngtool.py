#!/usr/bin/env python3
"""pngtool.py - re-encode a PNG the way other tools might, or break it on purpose.

    python3 pngtool.py IN.png OUT.png [options]

The pixels stay exactly those of IN (any non-interlaced 8/16-bit PNG that
Python's zlib inflates); the way they are stored changes:
    --filter F      row filters: 0-4 for all rows, or "cycle" (0,1,2,3,4,0,...)
    --idat N        IDAT chunks of N bytes of zlib data (default 8192)
    --block N       stored deflate blocks of N bytes (default and most: 65535)
    --first fixed   the first N bytes go in a fixed-Huffman block, the rest stored
    --last fixed    the last N bytes go in a fixed-Huffman block (N = --block)
    --chunk TYPE    an ancillary chunk TYPE before the first IDAT (and one after)
and, to test the checks (every chunk CRC stays right unless said):
    --flip          flip one byte in the middle of an IDAT's data (CRC wrong)
    --adler         a wrong Adler-32
    --nlen          a stored block whose NLEN is not the complement of LEN
    --extra N       N more bytes of image data than the image holds
    --short N       N bytes of image data fewer
    --trailing      bytes after IEND
    --cut N         the file cut N bytes before its end
Only for tests: the output is written whole to OUT."""
import argparse
import struct
import sys
import zlib


def chunks(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("pngtool: not a PNG")
    pos = 8
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        yield data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n


def chunk(ctype, body):
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(
        ">I", zlib.crc32(ctype + body) & 0xffffffff)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter(raw, height, stride, bpp):
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        f, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride if f else 0):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f]
            line[i] = (line[i] + pred) & 255
        rows.append(line)
        prev = line
    return rows


def filter_rows(rows, bpp, how):
    out, prev = bytearray(), bytearray(len(rows[0]))
    for y, line in enumerate(rows):
        f = y % 5 if how == "cycle" else int(how)
        out.append(f)
        if f == 0:
            out += line
            prev = line
            continue
        for i, v in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f]
            out.append((v - pred) & 255)
        prev = line
    return bytes(out)


class Bits:
    """Deflate's bit order: fields LSB first, Huffman codes MSB first."""

    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value, nbits):
        self.acc |= value << self.n
        self.n += nbits
        while self.n >= 8:
            self.out.append(self.acc & 255)
            self.acc >>= 8
            self.n -= 8

    def code(self, value, nbits):
        self.put(int(format(value, "0%db" % nbits)[::-1], 2), nbits)

    def align(self):
        if self.n:
            self.put(0, 8 - self.n)


def fixed_block(bits, data, final):
    bits.put(final, 1)
    bits.put(1, 2)
    for v in data:
        if v < 144:
            bits.code(0x30 + v, 8)
        else:
            bits.code(0x190 + v - 144, 9)
    bits.code(0, 7)


def stored_block(bits, data, final, nlen_xor=0):
    bits.put(final, 1)
    bits.put(0, 2)
    bits.align()
    n = len(data)
    bits.put(n, 16)
    bits.put((n ^ 0xffff) ^ nlen_xor, 16)
    bits.out += data


def deflate(raw, a):
    bits, pieces = Bits(), []
    pos = 0
    if a.first == "fixed":
        pieces.append(("fixed", raw[:a.block]))
        pos = a.block
    end = len(raw) - a.block if a.last == "fixed" else len(raw)
    step = min(a.block, 65535)  # a stored block holds at most 65535 bytes
    while pos < end or not pieces:
        pieces.append(("stored", raw[pos:min(end, pos + step)]))
        pos += step
    if a.last == "fixed":
        pieces.append(("fixed", raw[end:]))
    for i, (kind, data) in enumerate(pieces):
        final = int(i == len(pieces) - 1)
        if kind == "fixed":
            fixed_block(bits, data, final)
        else:
            stored_block(bits, data, final, 1 if a.nlen and i == len(pieces) // 2 else 0)
    bits.align()
    adler = zlib.adler32(raw) ^ (1 if a.adler else 0)
    return b"\x78\x01" + bytes(bits.out) + struct.pack(">I", adler)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("inp")
    p.add_argument("out")
    p.add_argument("--filter", default="0")
    p.add_argument("--idat", type=int, default=8192)
    p.add_argument("--block", type=int, default=65535)
    p.add_argument("--first", default="stored")
    p.add_argument("--last", default="stored")
    p.add_argument("--chunk")
    p.add_argument("--flip", action="store_true")
    p.add_argument("--adler", action="store_true")
    p.add_argument("--nlen", action="store_true")
    p.add_argument("--extra", type=int, default=0)
    p.add_argument("--short", type=int, default=0)
    p.add_argument("--trailing", action="store_true")
    p.add_argument("--cut", type=int, default=0)
    a = p.parse_args()

    data = open(a.inp, "rb").read()
    ihdr, idat = None, b""
    for ctype, body in chunks(data):
        if ctype == b"IHDR":
            ihdr = body
        elif ctype == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    if interlace or depth not in (8, 16) or colour not in (0, 2, 4, 6):
        sys.exit("pngtool: only non-interlaced 8/16-bit grey, GA, RGB, RGBA")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour] * depth // 8
    rows = unfilter(zlib.decompress(idat), height, width * bpp, bpp)
    raw = filter_rows(rows, bpp, a.filter)
    if a.extra:
        raw += bytes(a.extra)
    if a.short:
        raw = raw[:-a.short]
    z = deflate(raw, a)
    out = bytearray(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr))
    if a.chunk:
        out += chunk(a.chunk.encode(), b"sit test chunk")
    for pos in range(0, len(z), a.idat):
        body = bytearray(z[pos:pos + a.idat])
        c = chunk(b"IDAT", bytes(body))
        if a.flip and pos <= len(z) // 2 < pos + a.idat:
            c = bytearray(c)
            c[8 + len(body) // 2] ^= 0x10
        out += c
    if a.chunk:
        out += chunk(a.chunk.encode(), b"after the image data")
    out += chunk(b"IEND", b"")
    if a.trailing:
        out += b"junk after IEND\n"
    if a.cut:
        out = out[:-a.cut]
    open(a.out, "wb").write(out)


if __name__ == "__main__":
    main()
