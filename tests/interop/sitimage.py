#!/usr/bin/python3
"""sitimage.py - check a sit-image(5) header and payload checksum, written
from the manual page alone (a second implementation of the layout).

    sitimage.py FILE.pam     prints "ok V KIND L" or exits 1 with the reason

PAM input only (the sample stream is then the raster as it is in the file).
"""
import hashlib
import sys


def crc32c(reg_in, data):
    """CRC-32C continued from a previous CRC value (zlib's convention)."""
    reg = reg_in ^ 0xFFFFFFFF
    for b in data:
        reg ^= b
        for _ in range(8):
            reg = (reg >> 1) ^ 0x82F63B78 if reg & 1 else reg >> 1
    return reg ^ 0xFFFFFFFF


def raster(path):
    data = open(path, "rb").read()
    end = data.index(b"ENDHDR\n") + len(b"ENDHDR\n")
    return data[end:]


def main():
    s = raster(sys.argv[1])
    hdr = s[:80]
    if hdr[:6] != b"SITIMG":
        sys.exit("no magic")
    if hashlib.blake2b(hdr[:64], digest_size=16).digest() != hdr[64:80]:
        sys.exit("header checksum")
    version, kind = hdr[7], chr(hdr[6])
    length = int.from_bytes(hdr[24:32], "little")
    payload, got = s[80:80 + length], s[80 + length:96 + length]
    b = hashlib.blake2b(hdr, digest_size=32).digest()
    if version != 2:
        sys.exit("version %d: only 2 is checked here" % version)
    lanes = [int.from_bytes(b[4 * i:4 * i + 4], "little") for i in range(4)]
    words = [[] for _ in range(4)]
    for j in range(0, len(payload), 8):
        words[(j // 8) % 4].append(payload[j:j + 8])
    want = b"".join(crc32c(lanes[i], b"".join(words[i])).to_bytes(4, "little")
                    for i in range(4))
    if want != got:
        sys.exit("payload checksum")
    print("ok", version, kind, length)


if __name__ == "__main__":
    main()
