#!/usr/bin/python3
"""sitaes.py - a second implementation of the sit-aes sealed stream (sit(5)).

Written from man/sit.5 alone, to check that the page is enough to interoperate
with sit-aes(1).  It reads the whole input before it writes anything, so it
never releases unverified plaintext; it is a test tool, not a replacement.

  sitaes.py -d [-k KEYFILE]... [-i IDENTITY]... [-p PASSFILE] [-v]
               [--from sitsig1:...]... [--from-file FILE]...
               [--max-pass-ops N] [--max-pass-mem MIB] [INPUT] > OUT
  sitaes.py -e [-k KEYFILE]... [-r sitpub1:...]... [-R FILE]... [-p PASSFILE]
               [--sign SIGNKEY [--created T] [--msgid HEX]]
               [--pass-ops N] [--pass-mem MIB] [INPUT] > OUT
  sitaes.py --gen-key | --gen-identity | --gen-signing-key | --public -i FILE

Test-only, to make what sit-aes must refuse (never in sit-aes itself):
  --unsafe-forge-for-tests chunk|rewrap|resign -i IDENTITY --forge-plain FILE
      a co-recipient's forgery of a signed stream it can open: "chunk" keeps
      header and signature and seals FILE as the payload; "rewrap" also wraps
      the file key anew for -R recipients (new header MAC); "resign" puts its
      own --sign key, ID and time in the header and signs it.
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
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PROG = "sitaes.py"
MAGIC = b"SITAES\r\n"
VERSION = 1
VERSION_SIGNED = 2
SIGNER_LEN = 32 + 16 + 8   # sit(5): signer key, message ID, creation time
SIG_LEN = 64
SIG_CONTEXT = b"sit-aes/v2 signature"
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


# --- Ed25519 points, for sit(5)'s check of a signer key ----------------------

ED_P = 2 ** 255 - 19
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_L = 2 ** 252 + 27742317777372353535851937790883648493


def ed_decode(b):
    """RFC 8032 5.1.3, refusing y >= p; None if not a point."""
    y = int.from_bytes(b, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= ED_P:
        return None
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, ED_P - 2, ED_P) % ED_P
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P:
        x = x * pow(2, (ED_P - 1) // 4, ED_P) % ED_P
    if (x * x - x2) % ED_P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = ED_P - x
    return (x, y, 1, x * y % ED_P)


def ed_add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A, B = (y1 - x1) * (y2 - x2) % ED_P, (y1 + x1) * (y2 + x2) % ED_P
    C, D = t1 * 2 * ED_D * t2 % ED_P, z1 * 2 * z2 % ED_P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F % ED_P, G * H % ED_P, F * G % ED_P, E * H % ED_P)


def ed_mul(k, pt):
    r = (0, 1, 1, 0)
    while k:
        if k & 1:
            r = ed_add(r, pt)
        pt, k = ed_add(pt, pt), k >> 1
    return r


def ed_is_identity(pt):
    return pt[0] % ED_P == 0 and (pt[1] - pt[2]) % ED_P == 0


def valid_signer_key(b):
    """sit(5): a point, canonical, not of small order, in the prime-order group."""
    pt = ed_decode(b)
    return pt is not None and not ed_is_identity(ed_mul(8, pt)) and \
        ed_is_identity(ed_mul(ED_L, pt))


def ed_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def utc(t):
    import time
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


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


def signer_block(seed, created=None, msgid=None):
    import time
    created = int(time.time()) if created is None else created
    msgid = os.urandom(16) if msgid is None else msgid
    return ed_public(seed) + msgid + struct.pack("<Q", created)


def signature(seed, stream):
    """sit(5): Ed25519 over the context and BLAKE2b-512 of the stream."""
    h = hashlib.blake2b(stream, digest_size=64).digest()
    return Ed25519PrivateKey.from_private_bytes(seed).sign(SIG_CONTEXT + h)


def seal(plain, keys, recipients, passphrase, t, m, mix=False, sign=None, signer=None,
         file_key=None, nonce=None):
    """MIX writes what sit(5) forbids, a key file or passphrase beside other
    stanzas: only to make the vectors that readers must refuse.  SIGN is a
    signing key's seed, SIGNER the header's signer block (made from SIGN
    when not given); FILE_KEY and NONCE are for the forgeries only."""
    if not mix and (keys or passphrase is not None) and \
            len(keys) + len(recipients) + (passphrase is not None) > 1:
        raise SitError("a key file or passphrase must be the only key of a stream", 64)
    file_key = file_key or os.urandom(32)
    nonce = nonce or os.urandom(16)
    if sign is not None and signer is None:
        signer = signer_block(sign)
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
    version = VERSION if signer is None else VERSION_SIGNED
    head = MAGIC + bytes([version, 0]) + nonce + bytes([len(stanzas)]) + b"".join(stanzas)
    head += signer or b""
    return head_and_payload(head, file_key, nonce, plain, sign)


def head_and_payload(head, file_key, nonce, plain, sign=None):
    """HEAD (without MAC) + MAC + payload, and the signature if SIGN."""
    head += hmac.new(hkdf(file_key, b"", "sit-aes/v1 header"), head, "sha256").digest()
    aead = AESGCM(hkdf(file_key, nonce, "sit-aes/v1 payload"))
    n = max(1, -(-len(plain) // CHUNK))  # an empty plaintext is one empty last chunk
    out = head + b"".join(
        aead.encrypt(chunk_nonce(i, i == n - 1), plain[i * CHUNK:(i + 1) * CHUNK], None)
        for i in range(n))
    return out + signature(sign, out) if sign is not None else out


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
    if data[8] not in (VERSION, VERSION_SIGNED):
        raise SitError(f"unsupported version {data[8]} (this sit-aes reads versions 1 and 2)")
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
    if data[8] == VERSION_SIGNED:
        if len(data) < pos + SIGNER_LEN:
            raise SitError("truncated input")
        if not valid_signer_key(data[pos:pos + 32]):
            raise SitError("malformed header: the signer's key is not an Ed25519 public key")
        pos += SIGNER_LEN
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


class Claims:
    """What a signed header says (sit(5)), and the trusted signer's name."""

    def __init__(self, block, trusted):
        self.signer, self.id = block[:32], block[32:48]
        self.created = struct.unpack("<Q", block[48:56])[0]
        self.name = trusted.get(self.signer)


def open_stream(data, keys, identities, passphrase, max_t, max_m, trusted=None,
                need_signed=False):
    """Returns (plaintext, Claims or None).  TRUSTED maps signer keys to names;
    when not empty, only a stream signed by one of them opens."""
    trusted = trusted or {}
    nonce, stanzas, hlen = parse_header(data)
    claims = None
    if data[8] == VERSION_SIGNED:
        claims = Claims(data[hlen - SIGNER_LEN:hlen], trusted)
        if trusted and claims.name is None:
            raise SitError(f"signed by {key_text('sitsig1:', claims.signer)}, not a "
                           "trusted signer (--from, --from-file)")
    elif trusted or need_signed:
        raise SitError("not signed, and only signed streams are accepted here "
                       "(--from, --from-file, --replay-ledger)")
    tail = SIG_LEN if claims else 0
    if claims and len(data) < hlen + 32 + 16 + SIG_LEN:
        raise SitError("truncated input")
    plain = open_payload(data[:len(data) - tail], nonce, stanzas, hlen, keys, identities,
                         passphrase, max_t, max_m)
    if claims:
        h = hashlib.blake2b(data[:-SIG_LEN], digest_size=64).digest()
        try:
            Ed25519PublicKey.from_public_bytes(claims.signer).verify(
                data[-SIG_LEN:], SIG_CONTEXT + h)
        except InvalidSignature:
            raise SitError("bad signature: the stream was changed after it was signed "
                           "(a recipient can do that), or the signature is not its signer's")
    return plain, claims


def find_file_key(stanzas, keys, identities, passphrase, max_t, max_m):
    for typ, st in stanzas:
        file_key = try_stanza(typ, st, keys, identities, passphrase, max_t, max_m)
        if file_key:
            return file_key
    raise SitError("wrong passphrase or key (or not encrypted to it)")


def open_payload(data, nonce, stanzas, hlen, keys, identities, passphrase, max_t, max_m):
    file_key = find_file_key(stanzas, keys, identities, passphrase, max_t, max_m)
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
    mode.add_argument("--gen-signing-key", action="store_true")
    ap.add_argument("-k", action="append", default=[], metavar="KEYFILE")
    ap.add_argument("-i", action="append", default=[], metavar="IDENTITY")
    ap.add_argument("-r", action="append", default=[], metavar="RECIPIENT")
    ap.add_argument("-R", action="append", default=[], metavar="FILE")
    ap.add_argument("-p", metavar="PASSFILE")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--sign", metavar="SIGNKEY")
    ap.add_argument("--created", type=int, help="the creation time to sign (seconds)")
    ap.add_argument("--msgid", help="the message ID to sign (32 hex digits)")
    ap.add_argument("--from", dest="from_", action="append", default=[], metavar="SIGNER")
    ap.add_argument("--from-file", action="append", default=[], metavar="FILE")
    ap.add_argument("--unsafe-forge-for-tests", choices=["chunk", "rewrap", "resign"],
                    help=argparse.SUPPRESS)
    ap.add_argument("--forge-plain", help=argparse.SUPPRESS)
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
    if a.gen_signing_key:
        s = os.urandom(32)
        return f"# public key: {key_text('sitsig1:', ed_public(s))}\n" \
               f"{key_text('sitsigsec1:', s)}\n"
    if a.public:  # by each line's prefix (sit(5))
        out = []
        for f in a.i:
            for ln in read_lines(f):
                if ln.startswith("sitsigsec1:"):
                    out.append(key_text("sitsig1:", ed_public(parse_key_text(ln, "sitsigsec1:", f))))
                else:
                    out.append(key_text("sitpub1:", x25519_public(parse_key_text(ln, "sitsec1:", f))))
        return "".join(o + "\n" for o in out)
    ids = [r for f in a.i for r in read_keys(f, "sitsec1:")]
    keys = [k for f in a.k for k in read_keys(f, "sitkey1:")]
    pw = read_passphrase(a.p) if a.p else None
    try:
        data = sys.stdin.buffer.read() if a.input == "-" else open(a.input, "rb").read()
    except OSError as e:
        raise SitError(f"cannot open {a.input}: {e.strerror}", 66)
    sign = None
    if a.sign:
        (sign,) = read_keys(a.sign, "sitsigsec1:")
    recips = [parse_key_text(r, "sitpub1:", "-r") for r in a.r]
    recips += [r for f in a.R for r in read_keys(f, "sitpub1:")]
    if a.e:
        signer = None
        if sign is not None:
            signer = signer_block(sign, a.created, bytes.fromhex(a.msgid) if a.msgid else None)
        return seal(data, keys, recips, pw, a.pass_ops, a.pass_mem * 1024,
                    a.unsafe_mix_for_vectors, sign, signer)
    if a.unsafe_forge_for_tests:
        return forge(a.unsafe_forge_for_tests, data, ids, recips, sign,
                     open(a.forge_plain, "rb").read())
    trusted = {parse_key_text(k, "sitsig1:", "--from"): k for k in a.from_}
    for f in a.from_file:
        for ln in read_lines(f):
            k, _, name = ln.partition(" ")
            trusted[parse_key_text(k, "sitsig1:", f)] = name.strip() or k
    plain, claims = open_stream(data, keys, ids, pw, a.max_pass_ops, a.max_pass_mem * 1024,
                                trusted)
    if a.v and claims:
        print(f"{PROG}: signed by {claims.name or key_text('sitsig1:', claims.signer)}",
              file=sys.stderr)
        print(f"{PROG}: message {claims.id.hex()}, made at {utc(claims.created)}",
              file=sys.stderr)
    return plain


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [ln.strip() for ln in f.read().splitlines()
                    if ln.strip() and not ln.strip().startswith("#")]
    except OSError as e:
        raise SitError(f"cannot open {path}: {e.strerror}", 66)


def forge(mode, data, ids, recips, sign, plain):
    """What a co-recipient holding one of IDS can make of a signed stream
    (test-only: sit-aes must refuse every one of these)."""
    nonce, stanzas, hlen = parse_header(data)
    if data[8] != VERSION_SIGNED:
        raise SitError("--unsafe-forge-for-tests wants a signed stream", 64)
    file_key = find_file_key(stanzas, [], ids, None, 0, 0)
    old_sig = data[-SIG_LEN:]
    if mode == "chunk":  # same header, same MAC, new payload, old signature
        return head_and_payload(data[:hlen], file_key, nonce, plain) + old_sig
    if mode == "rewrap":  # the file key wrapped anew, same signer block
        return seal(plain, [], recips, None, 0, 0, signer=data[hlen - SIGNER_LEN:hlen],
                    file_key=file_key, nonce=nonce) + old_sig
    # resign: the forger's own signature over the same stanzas
    return head_and_payload(data[:hlen - SIGNER_LEN] + signer_block(sign), file_key, nonce,
                            plain, sign)


if __name__ == "__main__":
    try:
        result = main(sys.argv[1:])
    except SitError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        sys.exit(err.code)
    sys.stdout.buffer.write(result.encode() if isinstance(result, str) else result)
