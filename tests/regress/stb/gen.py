#!/usr/bin/env python3
"""Write the stb_image crash replays of tests/regress/stb/ (see README there).

Each input is built here, from the description in a public report on
stb_image's tracker (github.com/nothings/stb), for a decoder sit compiles
in (JPEG, PNG, BMP, GIF, TGA).  Files named ok-* are images a decoder may
take: for them gen.py also writes ok-NAME.pam, the exact pixels sit-load
--to pam must give (the tests check they come out the same every time).
Run it from anywhere: python3 tests/regress/stb/gen.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(HERE, name), 'wb') as f:
        f.write(data)


def pam(w, h, ch, pixels):
    t = {1: b'GRAYSCALE', 2: b'GRAYSCALE_ALPHA', 3: b'RGB', 4: b'RGB_ALPHA'}[ch]
    return (b'P7\nWIDTH %d\nHEIGHT %d\nDEPTH %d\nMAXVAL 255\nTUPLTYPE %s\nENDHDR\n'
            % (w, h, ch, t)) + bytes(pixels)

# ---- JPEG ---------------------------------------------------------------


def seg(marker, body):
    return bytes([0xff, marker]) + struct.pack('>H', len(body) + 2) + body


def dqt():
    return seg(0xdb, b'\x00' + b'\x01' * 64)


def sof0(w, h, comps):
    """comps: (id, sampling byte HV, table) each."""
    body = struct.pack('>BHHB', 8, h, w, len(comps))
    for cid, hv, tq in comps:
        body += bytes([cid, hv, tq])
    return seg(0xc0, body)


def dht(tc_th, counts, symbols):
    return seg(0xc4, bytes([tc_th]) + bytes(counts) + bytes(symbols))


def sos(comps):
    body = bytes([len(comps)])
    for cid, tables in comps:
        body += bytes([cid, tables])
    return seg(0xda, body + b'\x00\x3f\x00')


def one_code(symbol):
    """A Huffman table with one 1-bit code for SYMBOL."""
    return [1] + [0] * 15, [symbol]


def jpeg(*parts, scan=b'\x00' * 8):
    return b'\xff\xd8' + b''.join(parts) + scan + b'\xff\xd9'

# ---- PNG ----------------------------------------------------------------


def chunk(kind, data, crc=None):
    c = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', c & 0xffffffff)


def ihdr(w, h, depth, color):
    return chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, color, 0, 0, 0))


def png(*chunks):
    return b'\x89PNG\r\n\x1a\n' + b''.join(chunks) + chunk(b'IEND', b'')


class Bits:
    """Deflate's bit order: least significant bit first."""

    def __init__(self):
        self.v, self.n = 0, 0

    def put(self, value, count):
        self.v |= value << self.n
        self.n += count

    def bytes(self):
        return self.v.to_bytes((self.n + 7) // 8, 'little')

# ---- GIF ----------------------------------------------------------------


def gif_lzw(indices, min_size=2):
    """LZW data that never lets the table grow: a clear code before every
    second index keeps every code min_size + 1 bits wide."""
    clear, end, width = 1 << min_size, (1 << min_size) + 1, min_size + 1
    b = Bits()
    for i, v in enumerate(indices):
        if i % 2 == 0:
            b.put(clear, width)
        b.put(v, width)
    b.put(end, width)
    data = b.bytes()
    out = bytes([min_size])
    for i in range(0, len(data), 255):
        out += bytes([len(data[i:i + 255])]) + data[i:i + 255]
    return out + b'\x00'


def gif_screen(w, h, colors):
    """Header and a global colour table of len(colors) (a power of 2) RGB."""
    bits = (len(colors) - 1).bit_length() - 1
    return (b'GIF89a' + struct.pack('<HHBBB', w, h, 0x80 | bits, 0, 0)
            + b''.join(bytes(c) for c in colors))


def gif_frame(x, y, w, h, indices, dispose=None):
    gce = b''
    if dispose is not None:
        gce = b'\x21\xf9\x04' + bytes([dispose << 2]) + b'\x00\x00\x00\x00'
    return gce + b'\x2c' + struct.pack('<HHHHB', x, y, w, h, 0) + gif_lzw(indices)

# ---- BMP and TGA --------------------------------------------------------


def bmp(w, h, bpp, palette=b'', pixels=b'', compression=0):
    off = 14 + 40 + len(palette)
    info = struct.pack('<IiiHHIIiiII', 40, w, h, 1, bpp, compression, len(pixels),
                       2835, 2835, len(palette) // 4, 0)
    return b'BM' + struct.pack('<IHHI', off + len(pixels), 0, 0, off) + info + palette + pixels


def tga(kind, w, h, bpp, cmap=b'', cmap_len=0, cmap_bits=0, data=b'', desc=0x20):
    head = struct.pack('<BBBHHBHHHHBB', 0, 1 if cmap_len else 0, kind, 0, cmap_len,
                       cmap_bits, 0, 0, w, h, bpp, desc)
    return head + cmap + data


def main():
    # -- JPEG --
    # #1108 "heap overflow in stb_image.h:2099": a DC code whose value (the
    # bit count of the difference) is over 15 made stbi__extend_receive read
    # stbi__jbias[n] past its 16 entries.
    dc, ac = one_code(0x1f), one_code(0x00)
    write('jpeg-dc-bits-over-15.jpg', jpeg(dqt(), sof0(8, 8, [(1, 0x11, 0)]),
          dht(0x00, *dc), dht(0x10, *ac), sos([(1, 0x00)])))
    # #1178 "heap-buffer-overflow in stbi__jpeg_load" (stbi__resample_row_v_2):
    # sampling factors whose ratios are not whole numbers (H 3 beside H 2)
    # sized the row buffers for one ratio and resampled with another.
    dc, ac = one_code(0x00), one_code(0x00)
    write('jpeg-sampling-3-beside-2.jpg', jpeg(dqt(),
          sof0(16, 16, [(1, 0x32, 0), (2, 0x21, 0), (3, 0x11, 0)]),
          dht(0x00, *dc), dht(0x10, *ac), sos([(1, 0x00), (2, 0x00), (3, 0x00)]),
          scan=b'\x00' * 64))
    # #1289 "heap-use-after-free in stbi__jpeg_huff_decode" (index 257 out of
    # bounds for 'stbi_uc [257]'): Huffman counts adding up to 257, one more
    # code than the table has room for.  (tests/regress/img has > 256.)
    counts = [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 128, 128]
    write('jpeg-dht-257-codes.jpg', jpeg(dqt(), sof0(8, 8, [(1, 0x11, 0)]),
          dht(0x00, counts, list(range(256)) + [0]), dht(0x10, *ac), sos([(1, 0x00)])))

    # -- PNG --
    # #312 "stbi__compute_huffman_codes stack overflow": a dynamic deflate
    # block whose code-length repeats (code 18: up to 138 zeros) run past the
    # 258 lengths HLIT and HDIST ask for, writing past the stack array.
    b = Bits()
    b.put(1, 1)          # BFINAL
    b.put(2, 2)          # dynamic Huffman
    b.put(0, 5)          # HLIT: 257 literal/length codes
    b.put(0, 5)          # HDIST: 1 distance code
    b.put(15, 4)         # HCLEN: all 19 code-length code lengths follow
    order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    for sym in order:    # symbols 1 and 18 get 1-bit codes: 1 is '0', 18 is '1'
        b.put(1 if sym in (1, 18) else 0, 3)
    for _ in range(3):   # three runs of 138 zeros: 414 lengths for 258
        b.put(1, 1)
        b.put(127, 7)
    z = b'\x78\x01' + b.bytes() + b'\x00' * 8
    write('png-deflate-lengths-overrun.png', png(ihdr(1, 1, 8, 0), chunk(b'IDAT', z)))
    # #757 "Invalid png file makes stb_image hang": the fuzzer's file had an
    # IDAT with a bad CRC (ImageMagick: "IDAT: CRC error") and stb_image,
    # which ignores CRCs, never finished.  Here: an IDAT whose CRC is wrong and
    # whose deflate data is a stored block claiming 65535 bytes.
    z = b'\x78\x01\x00\xff\xff\x00\x00' + b'\x00' * 16
    write('png-idat-bad-crc.png', png(ihdr(64, 64, 8, 2), chunk(b'IDAT', z, crc=0x12345678)))
    # #1861 "Out-of-bounds read in PNG palette expansion": pixel indices past
    # a 1-entry PLTE read stbi__parse_png_file's uninitialised 1024-byte stack
    # palette into the decoded pixels.  A valid PNG otherwise: it decodes, and
    # every index past the palette must come out as black, every time.
    idx = [0, 1, 2, 77, 128, 200, 254, 255]
    raw = b''.join(b'\x00' + bytes(idx[y * 4:y * 4 + 4]) for y in range(2))
    write('ok-png-palette-index-past-plte.png', png(ihdr(4, 2, 8, 3),
          chunk(b'PLTE', bytes([10, 20, 30])), chunk(b'IDAT', zlib.compress(raw))))
    write('ok-png-palette-index-past-plte.pam',
          pam(4, 2, 3, b''.join(bytes([10, 20, 30]) if v == 0 else b'\0\0\0' for v in idx)))

    # -- GIF --
    # #656 "heap-buffer-overflow in stbi__out_gif_code": a frame reaching
    # past the logical screen, whose pixels were written past the buffer.
    colors = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]
    write('gif-frame-past-screen.gif', gif_screen(4, 4, colors)
          + gif_frame(2, 0, 4, 4, [1] * 16) + b'\x3b')
    # #2001 "missing aggregate bounds check on background+history buffers
    # allows ~2.4GB allocation from 64-byte input": a 16384 x 16448 screen.
    write('gif-screen-16384x16448.gif', gif_screen(16384, 16448, colors)
          + gif_frame(0, 0, 1, 1, [1]) + b'\x3b')
    # #1538 / #1916 "Wild address read in stbi__gif_load_next" (two_back):
    # a second frame disposed with method 3 (restore previous) read before
    # the start of the frame buffer.  Only the animation loader reaches it;
    # sit decodes the first frame, which must come out exactly.
    first = [1, 2, 3, 0]
    write('ok-gif-dispose-restore-previous.gif', gif_screen(2, 2, colors)
          + gif_frame(0, 0, 2, 2, first, dispose=3)
          + gif_frame(0, 0, 2, 2, [0, 0, 0, 0], dispose=3)
          + gif_frame(0, 0, 2, 2, [3, 3, 3, 3], dispose=3) + b'\x3b')
    write('ok-gif-dispose-restore-previous.pam',
          pam(2, 2, 4, b''.join(bytes(colors[v]) + b'\xff' for v in first)))

    # -- BMP --
    # #313 "stbi__bmp_load heap overflow": target * width * height overflowed
    # 32 bits (32769 x 32769 x 4), a small buffer then took every row.
    write('bmp-size-overflows-32-bits.bmp', bmp(32769, 32769, 32, pixels=b'\0' * 64))
    # #1843 "Denial of Service (Infinite Loop & Memory Leak) via Crafted BMP":
    # a header asking for about 1.6 GB of pixels, with none in the file.
    write('bmp-1.6-gb-no-pixels.bmp', bmp(20480, 20480, 32))
    # The same inside sit's limits (12000 x 12000): refused as truncated.
    write('bmp-576-mb-no-pixels.bmp', bmp(12000, 12000, 32))
    # #1929 "stbi__bmp_load: uninitialized stack memory leak via palette
    # index > biClrUsed": 8-bit pixels past a 1-entry palette read the
    # uninitialised stack array pal[256][4].  Must come out black.
    idx = [0, 1, 128, 255]
    write('ok-bmp-palette-index-past-colors.bmp',
          bmp(4, 1, 8, palette=bytes([30, 20, 10, 0]), pixels=bytes(idx)))
    write('ok-bmp-palette-index-past-colors.pam',
          pam(4, 1, 3, b''.join(bytes([10, 20, 30]) if v == 0 else b'\0\0\0' for v in idx)))

    # -- TGA --
    # #874 "heap-buffer-overflow in stbi__tga_load version 2.23": indices past
    # a 1-entry, 1-byte colour map read past its 1-byte allocation.  stb 2.27
    # maps such indices to entry 0: the image decodes, all of it entry 0.
    idx = [0, 5, 200, 255]
    write('ok-tga-colormap-index-past-1-entry.tga',
          tga(1, 4, 1, 8, cmap=bytes([99]), cmap_len=1, cmap_bits=8, data=bytes(idx)))
    write('ok-tga-colormap-index-past-1-entry.pam', pam(4, 1, 1, [99] * 4))
    # #1880 "Resource Exhaustion DoS via Malformed TGA Image": a 19-byte
    # run-length TGA claiming 4096 x 4096 pixels: 64 MiB allocated, then
    # "decoded" from the zeros stb_image reads past the end.
    write('tga-rle-19-bytes-4096x4096.tga', tga(10, 4096, 4096, 32, data=b'\x00'))


if __name__ == '__main__':
    main()
