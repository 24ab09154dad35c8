"""RSA keys: the ones we ship, the ones operators add, and signing for tests.

Keys are parsed once (at import or configuration), never per response.
A *keyring* is a plain ``dict`` from kid (the decimal string found in a
response) to a loaded public key.

Where operators' keys come from (see ``docs/keys.md``):

- a directory in mod_ucam_webauth's ``AAKeyDir`` layout: one file per key,
  named ``pubkeyN`` (or ``pubkeyN.pem``) holding a PEM public key, or
  ``pubkeyN.crt`` holding a PEM X.509 certificate, N being the kid;
- a single such file;
- a mapping kid → PEM text, file path or loaded key.

:func:`load_keys` takes any of these. Every key is checked as it is loaded
(RSA, at least :data:`MIN_KEY_BITS` bits, exponent :data:`PUBLIC_EXPONENT`,
each kid once) and any problem is a :class:`KeyLoadError` naming the file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from ..errors import KeyLoadError as KeyLoadError  # raised here, so importable here
from ..protocol import encode_sig
from ._der import DERError, certificate_der, subject_public_key_info

Keyring = dict[str, RSAPublicKey]
#: What a mapping may give for one kid: PEM text (a ``str`` holding
#: ``-----BEGIN``, or ``bytes``), a file path, or a loaded key.
KeyValue = str | bytes | os.PathLike[str] | RSAPublicKey
#: What :func:`load_keys` takes: a directory or file path, a mapping
#: kid → :data:`KeyValue`, or a list of file and directory paths.
KeySpec = (str | os.PathLike[str] | Mapping[str | int, KeyValue]
           | Sequence[str | os.PathLike[str]])

#: What a key that is not RSA is called in a refusal (cryptography's own
#: class names differ between its releases).
_KEY_KINDS = (("EC", ec.EllipticCurvePublicKey), ("Ed25519", ed25519.Ed25519PublicKey),
              ("Ed448", ed448.Ed448PublicKey))

_PADDING = padding.PKCS1v15()
_SHA1 = hashes.SHA1()  # the protocol's choice, not ours

#: Smaller RSA keys are refused: they can be factored.
MIN_KEY_BITS = 1024
#: The only public exponent accepted; Raven's keys use it, and a small
#: exponent invites signature forgeries against lax verifiers.
PUBLIC_EXPONENT = 65537
#: A PEM key or certificate is a few kilobytes; larger files are refused
#: unread rather than read into memory.
MAX_KEY_FILE_BYTES = 64 * 1024


def _read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text("ascii")


#: Live Raven's public key (kid 2), PEM text.
PUBKEY2 = _read("pubkey2.pem")
#: The hosted demo server's public key (kid 901), PEM text.
PUBKEY901 = _read("pubkey901.pem")
#: The demo server's private key, which the University published for
#: testing. Anything it signs proves nothing: tests and the local WLS only.
DEMO_PRIVATE_KEY_PEM = _read("demo901-private.pem")
DEMO_KID = "901"
LIVE_KID = "2"

_KID = re.compile(r"[1-9][0-9]{0,7}")
_KEY_FILE = re.compile(r"pubkey([1-9][0-9]{0,7})(?:\.pem|\.crt)?")
_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----")
_PUBLIC_LABELS = (b"RSA PUBLIC KEY", b"PUBLIC KEY")


# --- what a loaded key is -------------------------------------------------------


def fingerprint(public_key: RSAPublicKey) -> str:
    """The SHA-256 of the key's DER ``SubjectPublicKeyInfo``: 64 lower-case
    hex digits, no colons.

    The same key gives the same fingerprint whichever file form it came in
    (``RSA PUBLIC KEY``, ``PUBLIC KEY`` or a certificate); it is what
    ``openssl pkey -pubin -in FILE -outform DER | sha256sum`` prints.
    """
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def keyring_fingerprint(keys: Mapping[str, RSAPublicKey]) -> str:
    """One SHA-256 (64 hex digits) for a whole keyring: its kids and keys.

    Two keyrings have the same one exactly when they trust the same keys
    under the same kids, so login state can record the key set that made it.
    """
    lines = "".join(f"{kid} {fingerprint(key)}\n" for kid, key in sorted(keys.items()))
    return hashlib.sha256(lines.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class LoadedKey:
    """A trusted key and where it came from, as :func:`describe_keys` lists it."""

    kid: str
    key: RSAPublicKey
    #: The file it was read from, or a description such as
    #: "the PEM text given for kid 2".
    source: str
    #: "public key" or "certificate" (the file's form), or "loaded key".
    form: str

    @property
    def bits(self) -> int:
        return self.key.key_size

    @property
    def exponent(self) -> int:
        return self.key.public_numbers().e

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


def kid_from_filename(name: str | os.PathLike[str]) -> str | None:
    """The kid a key file's name gives (``pubkey2``, ``pubkey2.pem`` and
    ``pubkey2.crt`` give ``"2"``), or None if the name gives none."""
    match = _KEY_FILE.fullmatch(os.path.basename(os.fspath(name)))
    return match.group(1) if match else None


# --- reading and checking one key -------------------------------------------------


def _check_kid(kid: object) -> str:
    text = str(kid) if isinstance(kid, (str, int)) and not isinstance(kid, bool) else ""
    if not _KID.fullmatch(text):
        raise KeyLoadError(f"kid {kid!r} must be a number with no leading zeros")
    return text


def _check_key(key: object, source: str) -> RSAPublicKey:
    if not isinstance(key, RSAPublicKey):
        kind = next((name for name, cls in _KEY_KINDS if isinstance(key, cls)),
                    type(key).__name__.removeprefix("_").replace("PublicKey", ""))
        raise KeyLoadError(f"{source}: not an RSA key but {kind}; Ucam-WebAuth keys are RSA",
                           source=source)
    if key.key_size < MIN_KEY_BITS:
        raise KeyLoadError(
            f"{source}: a {key.key_size}-bit RSA key; keys under {MIN_KEY_BITS} bits "
            "are refused, as they can be broken", source=source)
    exponent = key.public_numbers().e
    if exponent != PUBLIC_EXPONENT:
        raise KeyLoadError(
            f"{source}: RSA public exponent {exponent}; only {PUBLIC_EXPONENT} is accepted",
            source=source)
    return key


def _shown(name: str) -> str:
    """A file name fit for a one-line message: unprintable characters escaped."""
    return name if name.isprintable() else repr(name)[1:-1]


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _parse_pem(data: bytes, source: str) -> tuple[RSAPublicKey, str]:
    """The checked RSA public key in PEM ``data`` and its form."""
    source = _shown(source)
    if b"\0" in data:
        raise KeyLoadError(f"{source}: binary data, not PEM text (a DER file? convert it "
                           "to PEM with openssl)", source=source)
    labels = _PEM_BEGIN.findall(data)
    if not labels:
        raise KeyLoadError(
            f"{source}: not a PEM public key or certificate: no '-----BEGIN RSA PUBLIC KEY"
            "-----', '-----BEGIN PUBLIC KEY-----' or '-----BEGIN CERTIFICATE-----' line",
            source=source)
    if any(b"PRIVATE KEY" in label for label in labels):
        raise KeyLoadError(
            f"{source}: holds a private key; an application needs the public key only, "
            "and a private key must not be kept with the public ones", source=source)
    if len(labels) > 1:
        raise KeyLoadError(
            f"{source}: holds {len(labels)} PEM blocks; give one key per file", source=source)
    label = labels[0]
    key: PublicKeyTypes
    try:
        if label == b"CERTIFICATE":
            # Only the key inside is used: read that field alone (see _der),
            # so certificates cryptography refuses (serial 0) still load.
            try:
                spki = subject_public_key_info(certificate_der(data))
                key = serialization.load_der_public_key(spki)
            except (DERError, ValueError, UnsupportedAlgorithm) as exc:
                raise KeyLoadError(f"{source}: the certificate cannot be parsed "
                                   f"({_one_line(exc)})", source=source) from None
            form = "certificate"
        elif label in _PUBLIC_LABELS:
            key = serialization.load_pem_public_key(data)
            form = "public key"
        else:
            raise KeyLoadError(
                f"{source}: a PEM {label.decode('ascii')}, not a public key or certificate",
                source=source)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        if isinstance(exc, KeyLoadError):
            raise
        raise KeyLoadError(f"{source}: not a valid PEM public key ({_one_line(exc)})",
                           source=source) from None
    return _check_key(key, source), form


def _os_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied (the application's user must be able to read it)"
    if isinstance(exc, IsADirectoryError):
        return "a directory, not a key file"
    if isinstance(exc, NotADirectoryError):
        return "not a directory"
    return f"cannot read it ({exc.strerror or _one_line(exc)})"


def _read_key_file(name: str) -> bytes:
    shown = _shown(name)
    try:
        info = os.stat(name)
    except OSError as exc:
        raise KeyLoadError(f"{shown}: {_os_problem(exc)}", source=name) from None
    if stat.S_ISDIR(info.st_mode):
        raise KeyLoadError(f"{shown}: a directory, not a key file", source=name)
    if not stat.S_ISREG(info.st_mode):
        raise KeyLoadError(f"{shown}: not a regular file", source=name)
    try:
        with open(name, "rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyLoadError(f"{shown}: {_os_problem(exc)}", source=name) from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyLoadError(f"{shown}: larger than {MAX_KEY_FILE_BYTES // 1024} KiB, "
                           "too large to be a key file", source=name)
    if not data.strip():
        raise KeyLoadError(f"{shown}: empty", source=name)
    return data


def _parse_file(name: str) -> tuple[RSAPublicKey, str]:
    return _parse_pem(_read_key_file(name), name)


def load_public_key(pem: str | bytes, *, source: str = "the PEM text") -> RSAPublicKey:
    """Load and check a PEM public key (``RSA PUBLIC KEY`` or ``PUBLIC KEY``)
    or the public key of a PEM X.509 certificate.

    Raises :class:`KeyLoadError`, its message starting with ``source``.
    """
    if isinstance(pem, str):
        data = pem.encode("utf-8", "replace")
    elif isinstance(pem, (bytes, bytearray)):
        data = bytes(pem)
    else:
        raise KeyLoadError(f"{source}: PEM must be str or bytes, not {type(pem).__name__}",
                           source=source)
    return _parse_pem(data, source)[0]


def load_key_file(path: str | os.PathLike[str], kid: str | int | None = None) -> LoadedKey:
    """Load one key file (PEM public key or certificate).

    The kid is ``kid`` if given, else the one the file's name gives
    (``pubkeyN``, ``pubkeyN.pem``, ``pubkeyN.crt``); a name that gives a
    different kid from ``kid`` is refused, as a likely mix-up.
    """
    name = os.fspath(path)
    if not isinstance(name, str) or not name:
        raise KeyLoadError("no key file named")
    named = kid_from_filename(name)
    kid = named if kid is None else _check_kid(kid)
    if named is not None and named != kid:
        raise KeyLoadError(f"{_shown(name)}: named for kid {named} but given as kid {kid}",
                           source=name)
    key, form = _parse_file(name)
    if kid is None:
        raise KeyLoadError(
            f"{_shown(name)}: cannot tell its kid: name the file pubkeyN (or pubkeyN.pem, "
            "pubkeyN.crt), N being the kid, or give the kid with it", source=name)
    return LoadedKey(kid, key, name, form)


# --- keyrings --------------------------------------------------------------------


def _value_entry(kid: str | int, value: object) -> LoadedKey:
    kid = _check_kid(kid)
    if isinstance(value, RSAPrivateKey):
        raise KeyLoadError(f"kid {kid}: a private key; trust its public_key() instead")
    if hasattr(value, "public_bytes"):  # a loaded key, perhaps not RSA
        source = f"the key given for kid {kid}"
        return LoadedKey(kid, _check_key(value, source), source, "loaded key")
    if isinstance(value, (bytes, bytearray)) or (isinstance(value, str) and "-----BEGIN" in value):
        source = f"the PEM given for kid {kid}"
        data = value.encode("utf-8", "replace") if isinstance(value, str) else bytes(value)
        key, form = _parse_pem(data, source)
        return LoadedKey(kid, key, source, form)
    if isinstance(value, (str, os.PathLike)):
        return load_key_file(value, kid)
    raise KeyLoadError(
        f"kid {kid}: a key must be PEM text, a file path or a loaded RSA public key, "
        f"not {type(value).__name__}")


def _directory_entries(path: str | os.PathLike[str]) -> list[LoadedKey]:
    name = os.fspath(path)
    try:
        names = sorted(os.listdir(name))
    except OSError as exc:
        problem = ("no such directory" if isinstance(exc, FileNotFoundError)
                   else "a file, not a directory" if isinstance(exc, NotADirectoryError)
                   else _os_problem(exc))
        raise KeyLoadError(f"{_shown(name)}: {problem}", source=name) from None
    entries = []
    for file_name in names:
        kid = kid_from_filename(file_name)
        if kid is not None:
            file = os.path.join(name, file_name)
            key, form = _parse_file(file)
            entries.append(LoadedKey(kid, key, file, form))
    if not entries:
        near = [_shown(n) for n in names if n.lower().startswith("pubkey")]
        hint = (f"; {', '.join(near[:5])} {'is' if len(near) == 1 else 'are'} not named "
                "exactly so (a suffix added by a download?)" if near else "")
        raise KeyLoadError(
            f"{_shown(name)}: no key files in it (pubkeyN, pubkeyN.pem or pubkeyN.crt){hint}",
            source=name)
    return entries


def _checked(entries: Iterable[LoadedKey]) -> list[LoadedKey]:
    """``entries`` in kid order, refusing a kid given twice."""
    seen: dict[str, LoadedKey] = {}
    for entry in entries:
        first = seen.setdefault(entry.kid, entry)
        if first is not entry:
            raise KeyLoadError(
                f"kid {entry.kid} is given twice, by {_shown(first.source)} and by "
                f"{_shown(entry.source)}: keep one", source=entry.source)
    return sorted(seen.values(), key=lambda e: int(e.kid))


def _ring(entries: Iterable[LoadedKey]) -> Keyring:
    return {entry.kid: entry.key for entry in _checked(entries)}


def keyring(keys: Mapping[str | int, KeyValue]) -> Keyring:
    """A keyring from kid → PEM text or bytes (public key or certificate),
    file path (``str`` without ``-----BEGIN``, or ``pathlib.Path``), or
    loaded key. Every key is checked as :func:`load_keys` checks it."""
    return _ring(_value_entry(kid, value) for kid, value in keys.items())


def keyring_from_directory(path: str | os.PathLike[str]) -> Keyring:
    """Trust every ``pubkeyN``, ``pubkeyN.pem`` or ``pubkeyN.crt`` file in a
    directory (mod_ucam_webauth's ``AAKeyDir`` layout; ``.crt`` is Raven's
    certificate form). Other files are ignored; none at all is an error."""
    return _ring(_directory_entries(path))


def describe_keys(spec: KeySpec) -> list[LoadedKey]:
    """What :func:`load_keys` would trust, in kid order, with where each
    key came from: for listing keys to an operator."""
    if isinstance(spec, Mapping):
        if not spec:
            raise KeyLoadError("no keys given: the mapping is empty")
        return _checked(_value_entry(kid, value) for kid, value in spec.items())
    if isinstance(spec, (str, os.PathLike)):
        paths: Sequence[object] = [spec]
    elif isinstance(spec, (list, tuple)):
        if not spec:
            raise KeyLoadError("no keys given: the list is empty")
        paths = spec
    else:
        raise KeyLoadError(
            "keys must be a directory or file path, a list of paths, or a mapping "
            f"kid -> path or PEM, not {type(spec).__name__}")
    entries: list[LoadedKey] = []
    for path in paths:
        if not isinstance(path, (str, os.PathLike)):
            raise KeyLoadError(f"a key path must be a str or path, not {type(path).__name__}")
        name = os.fspath(path)
        if isinstance(name, str) and "-----BEGIN" in name:
            raise KeyLoadError("PEM text has no kid: give it as a mapping {kid: pem}")
        if isinstance(name, str) and os.path.isdir(name):
            entries.extend(_directory_entries(name))
        else:
            entries.append(load_key_file(name))
    return _checked(entries)


def load_keys(spec: KeySpec) -> Keyring:
    """The keyring a key setting names, loaded and checked once.

    ``spec`` is one of:

    - a directory path: its ``pubkeyN``, ``pubkeyN.pem`` and ``pubkeyN.crt``
      files (``RAVEN_KEY_DIR="/etc/raven"``);
    - a file path named ``pubkeyN``, ``pubkeyN.pem`` or ``pubkeyN.crt``;
    - a list of such paths (files or directories);
    - a mapping kid → file path, PEM text or bytes, or loaded key
      (``RAVEN_KEYS={"2": "/etc/raven/pubkey2.crt"}``).

    Several kids may be given at once (for a key rollover); a kid given
    twice, a key that is not RSA, under :data:`MIN_KEY_BITS` bits or with an
    exponent other than 65537, and any file that cannot be read or parsed
    raise :class:`KeyLoadError` (a ValueError) naming the file and the
    problem.
    """
    return {entry.kid: entry.key for entry in describe_keys(spec)}


LIVE_KEYS: Keyring = keyring({LIVE_KID: PUBKEY2})
DEMO_KEYS: Keyring = keyring({DEMO_KID: PUBKEY901})


#: DER of a DigestInfo naming SHA-1, up to the 20-byte digest itself.
_SHA1_DIGEST_INFO = bytes.fromhex("3021300906052b0e03021a05000414")


def verify(key: RSAPublicKey, signature: bytes, data: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-1, as the protocol fixes.

    OpenSSL does the RSA operation and checks the padding; what it recovers
    is compared with the one DigestInfo a SHA-1 signature can carry, the
    comparison ``key.verify`` makes, at less cost. The length check is
    ``key.verify``'s too: without it a signature whose first byte is zero
    would verify in a second, shorter spelling.
    """
    if len(signature) != (key.key_size + 7) // 8:
        return False
    try:
        recovered = key.recover_data_from_signature(signature, _PADDING, None)
    except InvalidSignature:
        return False
    return hmac.compare_digest(recovered, _SHA1_DIGEST_INFO + hashlib.sha1(data).digest())


class SigningKey:
    """A private key and its kid, for the local WLS and test helpers only."""

    def __init__(self, private_key: RSAPrivateKey, kid: str = DEMO_KID) -> None:
        self.private_key = private_key
        self.kid = str(kid)
        if not _KID.fullmatch(self.kid):
            raise ValueError(f"kid {self.kid!r} must be a number with no leading zeros")
        live = LIVE_KEYS[LIVE_KID].public_numbers()
        if self.kid == LIVE_KID or private_key.public_key().public_numbers() == live:
            raise ValueError("refusing to sign as live Raven (kid 2)")

    @classmethod
    def from_pem(cls, pem: str | bytes, kid: str | int) -> SigningKey:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("Ucam-WebAuth keys are RSA keys")
        return cls(key, str(kid))

    @classmethod
    def demo(cls) -> SigningKey:
        """The published demo key (kid 901)."""
        return _demo_signing_key()

    @property
    def public_key(self) -> RSAPublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> str:
        """The signature in the protocol's base64 variant."""
        return encode_sig(self.private_key.sign(data, _PADDING, _SHA1))


_demo: list[SigningKey] = []


def _demo_signing_key() -> SigningKey:
    if not _demo:  # parsed on first use: live applications never load it
        _demo.append(SigningKey.from_pem(DEMO_PRIVATE_KEY_PEM, DEMO_KID))
    return _demo[0]
