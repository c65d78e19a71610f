#!/usr/bin/python3
"""sitaes.py - a second implementation of the sit-aes sealed stream (sit(5)).

Written from man/sit.5 alone, to check that the page is enough to interoperate
with sit-aes(1).  It reads the whole input before it writes anything, so it
never releases unverified plaintext; it is a test tool, not a replacement.

  sitaes.py -d [-k KEYFILE]... [-i IDENTITY]... [-p PASSFILE]
               [--max-pass-ops N] [--max-pass-mem MIB] [INPUT] > OUT
  sitaes.py -e [-k KEYFILE]... [-r sitpub1:...]... [-R FILE]... [-p PASSFILE]
               [--pass-ops N] [--pass-mem MIB] [INPUT] > OUT
  sitaes.py --gen-key | --gen-identity | --public -i IDENTITY
"""
import argparse
import base64
import hashlib
import hmac
import os
import struct
import sys

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PROG = "sitaes.py"
MAGIC = b"SITAES\r\n"
VERSION = 1
CHUNK = 65536
SEALED = CHUNK + 16
T_X25519, T_KEYFILE, T_PASS = 1, 2, 3
BODY_LEN = {T_X25519: 80, T_KEYFILE: 64, T_PASS: 72}
# sit(5): a key-file or passphrase stanza must be the only stanza.
ALONE = {T_KEYFILE: "key-file", T_PASS: "passphrase"}
ZERO_NONCE = bytes(12)


class SitError(Exception):
    """One line for stderr and an exit code (sysexits)."""

    def __init__(self, msg, code=65):
        super().__init__(msg)
        self.code = code


def hkdf(ikm, salt, info):
    return HKDF(hashes.SHA256(), 32, salt or None, info.encode()).derive(ikm)


def argon2id(passphrase, salt, t, m):
    return hash_secret_raw(passphrase, salt, time_cost=t, memory_cost=m,
                           parallelism=1, hash_len=32, type=Type.ID, version=19)


def x25519(secret, public):
    try:
        shared = X25519PrivateKey.from_private_bytes(secret).exchange(
            X25519PublicKey.from_public_bytes(public))
    except ValueError:  # cryptography refuses the all-zero result itself
        shared = bytes(32)
    if shared == bytes(32):
        raise SitError("X25519 gave the all-zero result")
    return shared


def x25519_public(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


# --- key text: PREFIX base64url(key || SHA-256(PREFIX || key)[:4]) -----------

def key_text(prefix, key):
    check = hashlib.sha256(prefix.encode() + key).digest()[:4]
    return prefix + base64.urlsafe_b64encode(key + check).decode().rstrip("=")


def parse_key_text(line, prefix, where):
    if not line.startswith(prefix):
        raise SitError(f"{where}: not a {prefix[:-1]} key", 65)
    text = line[len(prefix):]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 36 or not text.isascii() or "=" in text:
        raise SitError(f"{where}: malformed {prefix[:-1]} key", 65)
    if key_text(prefix, raw[:32]) != line:
        raise SitError(f"{where}: check bytes do not match (typo?)", 65)
    return raw[:32]


def read_keys(path, prefix):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise SitError(f"cannot open {path}: {e.strerror}", 66)
    keys = [parse_key_text(ln.strip(), prefix, path) for ln in lines
            if ln.strip() and not ln.strip().startswith("#")]
    if not keys:
        raise SitError(f"{path}: no {prefix[:-1]} key in it", 65)
    return keys


def read_passphrase(path):
    try:
        with open(path, "rb") as f:
            p = f.read()
    except OSError as e:
        raise SitError(f"cannot open {path}: {e.strerror}", 66)
    # sit-aes takes the first line, without its LF or CR LF (sit(5) only says
    # "without a line ending"), and refuses an empty one.
    p = p.split(b"\n", 1)[0]
    p = p[:-1] if p.endswith(b"\r") else p
    if not p:
        raise SitError(f"empty passphrase from {path}", 65)
    return p


# --- sealing -------------------------------------------------------------------

def stanza(typ, fields, wrap_key, file_key):
    """type || len || fields || wrapped, where A is every byte before wrapped."""
    a = struct.pack("<BH", typ, len(fields) + 48) + fields
    return a + AESGCM(wrap_key).encrypt(ZERO_NONCE, file_key, a)


def chunk_nonce(i, last):
    return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def seal(plain, keys, recipients, passphrase, t, m, mix=False):
    """MIX writes what sit(5) forbids, a key file or passphrase beside other
    stanzas: only to make the vectors that readers must refuse."""
    if not mix and (keys or passphrase is not None) and \
            len(keys) + len(recipients) + (passphrase is not None) > 1:
        raise SitError("a key file or passphrase must be the only key of a stream", 64)
    file_key, nonce = os.urandom(32), os.urandom(16)
    stanzas = []
    for r in recipients:
        esk = os.urandom(32)
        epk = x25519_public(esk)
        wrap = hkdf(x25519(esk, r), epk + r, "sit-aes/v1 x25519")
        stanzas.append(stanza(T_X25519, epk, wrap, file_key))
    for k in keys:
        salt = os.urandom(16)
        stanzas.append(stanza(T_KEYFILE, salt, hkdf(k, salt, "sit-aes/v1 keyfile"), file_key))
    if passphrase is not None:
        salt = os.urandom(16)
        stanzas.append(stanza(T_PASS, salt + struct.pack("<II", t, m),
                              argon2id(passphrase, salt, t, m), file_key))
    if not 1 <= len(stanzas) <= 64:
        raise SitError("need 1 to 64 recipients", 64)
    head = MAGIC + bytes([VERSION, 0]) + nonce + bytes([len(stanzas)]) + b"".join(stanzas)
    head += hmac.new(hkdf(file_key, b"", "sit-aes/v1 header"), head, "sha256").digest()
    aead = AESGCM(hkdf(file_key, nonce, "sit-aes/v1 payload"))
    n = max(1, -(-len(plain) // CHUNK))  # an empty plaintext is one empty last chunk
    return head + b"".join(
        aead.encrypt(chunk_nonce(i, i == n - 1), plain[i * CHUNK:(i + 1) * CHUNK], None)
        for i in range(n))


# --- opening -------------------------------------------------------------------

def parse_header(data):
    """Returns (nonce, [(type, stanza bytes)], header length without MAC)."""
    if len(data) < len(MAGIC):
        if data and MAGIC.startswith(data):
            raise SitError("truncated input")
        raise SitError("not a sit-aes stream")
    if data[:8] != MAGIC:
        raise SitError("not a sit-aes stream")
    if len(data) < 9:
        raise SitError("truncated input")
    if data[8] != VERSION:
        raise SitError(f"unsupported version {data[8]} (this sit-aes reads version 1)")
    if len(data) < 27:
        raise SitError("truncated input")
    if data[9] != 0:
        raise SitError("malformed header: unknown flags")
    nonce, count, pos = data[10:26], data[26], 27
    if not 1 <= count <= 64:
        raise SitError("malformed header: bad stanza count")
    stanzas = []
    for _ in range(count):
        if len(data) < pos + 3:
            raise SitError("truncated input")
        typ, blen = struct.unpack_from("<BH", data, pos)
        # sit(5) makes any wrong-length known stanza malformed; sit-aes checks
        # only those it tries (up to the one that unwraps): see the interop report.
        if blen > 512 or (typ in BODY_LEN and blen != BODY_LEN[typ]):
            raise SitError("malformed header: bad stanza length")
        if len(data) < pos + 3 + blen:
            raise SitError("truncated input")
        # Shape first, then the company: the order sit-aes checks in.
        if typ in ALONE and count > 1:
            raise SitError(f"malformed header: a {ALONE[typ]} stanza must be the only "
                           f"stanza (this header has {count})")
        stanzas.append((typ, data[pos:pos + 3 + blen]))
        pos += 3 + blen
    if len(data) < pos + 32:
        raise SitError("truncated input")
    return nonce, stanzas, pos


def unwrap(st, wrap_key):
    try:
        return AESGCM(wrap_key).decrypt(ZERO_NONCE, st[-48:], st[:-48])
    except InvalidTag:
        return None


def try_stanza(typ, st, keys, identities, passphrase, max_t, max_m):
    if typ == T_KEYFILE:
        for k in keys:
            fk = unwrap(st, hkdf(k, st[3:19], "sit-aes/v1 keyfile"))
            if fk:
                return fk
    elif typ == T_X25519:
        epk = st[3:35]
        for r in identities:
            try:
                shared = x25519(r, epk)
            except SitError:
                continue
            fk = unwrap(st, hkdf(shared, epk + x25519_public(r), "sit-aes/v1 x25519"))
            if fk:
                return fk
    elif typ == T_PASS and passphrase is not None:
        t, m = struct.unpack_from("<II", st, 19)
        if t < 1 or m < 8 or t > max_t or m > max_m:
            raise SitError(f"passphrase cost t={t} m={m} KiB is outside the limits")
        return unwrap(st, argon2id(passphrase, st[3:19], t, m))
    return None


def open_stream(data, keys, identities, passphrase, max_t, max_m):
    nonce, stanzas, hlen = parse_header(data)
    for typ, st in stanzas:
        file_key = try_stanza(typ, st, keys, identities, passphrase, max_t, max_m)
        if file_key:
            break
    else:
        raise SitError("wrong passphrase or key (or not encrypted to it)")
    mac = hmac.new(hkdf(file_key, b"", "sit-aes/v1 header"), data[:hlen], "sha256").digest()
    if not hmac.compare_digest(mac, data[hlen:hlen + 32]):
        raise SitError("data corrupted or tampered in the header")
    aead = AESGCM(hkdf(file_key, nonce, "sit-aes/v1 payload"))
    pos, i, out = hlen + 32, 0, []
    while len(data) - pos > SEALED:  # more input follows: a middle chunk
        out.append(open_chunk(aead, data[pos:pos + SEALED], i, False, pos))
        pos, i = pos + SEALED, i + 1
    last = data[pos:]
    # Shorter than a tag, or an empty last chunk after others (a writer never
    # makes one: sit(5) says the last chunk may be full): cut off.
    if len(last) < 16 or (i > 0 and len(last) == 16):
        raise SitError("truncated input")
    try:
        out.append(aead.decrypt(chunk_nonce(i, True), last, None))
    except InvalidTag:
        if len(last) == SEALED:  # a stream cut at a chunk boundary?
            open_chunk(aead, last, i, False, pos)
            raise SitError("truncated input")
        raise SitError(f"data corrupted or tampered at byte {pos}")
    return b"".join(out)


def open_chunk(aead, sealed, i, last, pos):
    try:
        return aead.decrypt(chunk_nonce(i, last), sealed, None)
    except InvalidTag:
        raise SitError(f"data corrupted or tampered at byte {pos}")


# --- command line --------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(prog=PROG, description="sit(5) sealed streams")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("-e", action="store_true", help="seal")
    mode.add_argument("-d", action="store_true", help="open")
    mode.add_argument("--gen-key", action="store_true")
    mode.add_argument("--gen-identity", action="store_true")
    mode.add_argument("--public", action="store_true")
    ap.add_argument("-k", action="append", default=[], metavar="KEYFILE")
    ap.add_argument("-i", action="append", default=[], metavar="IDENTITY")
    ap.add_argument("-r", action="append", default=[], metavar="RECIPIENT")
    ap.add_argument("-R", action="append", default=[], metavar="FILE")
    ap.add_argument("-p", metavar="PASSFILE")
    ap.add_argument("--pass-ops", type=int, default=3)
    ap.add_argument("--pass-mem", type=int, default=256, metavar="MIB")
    ap.add_argument("--max-pass-ops", type=int, default=6)
    ap.add_argument("--max-pass-mem", type=int, default=512, metavar="MIB")
    # Test-only: write the mixed streams of tests/vectors that readers refuse.
    ap.add_argument("--unsafe-mix-for-vectors", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("input", nargs="?", default="-")
    a = ap.parse_args(argv)
    if a.gen_key:
        return key_text("sitkey1:", os.urandom(32)) + "\n"
    if a.gen_identity:
        r = os.urandom(32)
        return f"# public key: {key_text('sitpub1:', x25519_public(r))}\n" \
               f"{key_text('sitsec1:', r)}\n"
    ids = [r for f in a.i for r in read_keys(f, "sitsec1:")]
    if a.public:
        return "".join(key_text("sitpub1:", x25519_public(r)) + "\n" for r in ids)
    keys = [k for f in a.k for k in read_keys(f, "sitkey1:")]
    pw = read_passphrase(a.p) if a.p else None
    try:
        data = sys.stdin.buffer.read() if a.input == "-" else open(a.input, "rb").read()
    except OSError as e:
        raise SitError(f"cannot open {a.input}: {e.strerror}", 66)
    if a.e:
        recips = [parse_key_text(r, "sitpub1:", "-r") for r in a.r]
        recips += [r for f in a.R for r in read_keys(f, "sitpub1:")]
        return seal(data, keys, recips, pw, a.pass_ops, a.pass_mem * 1024,
                    a.unsafe_mix_for_vectors)
    return open_stream(data, keys, ids, pw, a.max_pass_ops, a.max_pass_mem * 1024)


if __name__ == "__main__":
    try:
        result = main(sys.argv[1:])
    except SitError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        sys.exit(err.code)
    sys.stdout.buffer.write(result.encode() if isinstance(result, str) else result)
