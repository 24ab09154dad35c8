"""Who can log in to the local test WLS.

The built-in users copy Raven's hosted demo server: ``test0001`` to
``test0500``, password ``test``, the first 400 carrying ptag ``current``.
Extra users are for the cases those cannot cover (a particular name, no
``current`` tag on a short name, an unusual ptag).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["TEST_PASSWORD", "User", "Users", "parse_user_spec", "builtin_user"]

TEST_PASSWORD = "test"
#: Built-in users are test0001 … test{TEST_USER_COUNT:04d}.
TEST_USER_COUNT = 500
#: … and those up to this number carry ptag ``current``.
TEST_CURRENT_COUNT = 400
CURRENT = "current"

_TEST_NAME = re.compile(r"test([0-9]{4})")
# A principal goes into a response field and onto pages; keep it plain.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# ptags travel comma-separated, so a tag can hold no comma.
_PTAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class User:
    """A user of the test WLS. ``ptags`` may be given as any iterable."""

    name: str
    password: str = field(repr=False)
    ptags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(
                f"user name {self.name!r} must be 1-64 letters, digits or . _ @ - "
                "(starting with a letter or digit)"
            )
        if not isinstance(self.password, str) or not self.password:
            raise ValueError(f"user {self.name} needs a non-empty password")
        tags = frozenset([self.ptags] if isinstance(self.ptags, str) else self.ptags)
        for tag in tags:
            if not isinstance(tag, str) or not _PTAG.fullmatch(tag):
                raise ValueError(f"ptag {tag!r} of user {self.name} is not a plain word")
        object.__setattr__(self, "ptags", tags)


def builtin_user(name: str) -> User | None:
    """The built-in user of that name, or None."""
    match = _TEST_NAME.fullmatch(name)
    if not match or not 1 <= int(match.group(1)) <= TEST_USER_COUNT:
        return None
    current = int(match.group(1)) <= TEST_CURRENT_COUNT
    return User(name, TEST_PASSWORD, frozenset({CURRENT}) if current else frozenset())


def _as_user(item: User | Mapping[str, object] | Iterable[object]) -> User:
    if isinstance(item, User):
        return item
    if isinstance(item, Mapping):
        return User(**item)
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return User(*item)
    raise ValueError(
        f"cannot make a user of {item!r}: give a User, a dict with name, password "
        "and ptags, or a (name, password[, ptags]) tuple"
    )


class Users:
    """The built-in test users (unless ``builtin`` is false) plus extra ones,
    which win on a name clash."""

    def __init__(
        self, extra: Iterable[User | Mapping[str, object] | Iterable[object]] = (),
        *, builtin: bool = True,
    ):
        self.builtin = builtin
        self.extra: dict[str, User] = {}
        for item in extra:
            user = _as_user(item)
            self.extra[user.name] = user

    def get(self, name: str) -> User | None:
        found = self.extra.get(name)
        return found if found or not self.builtin else builtin_user(name)

    def check_password(self, name: str, password: str) -> User | None:
        """The user, if the password is theirs; None for anything else."""
        user = self.get(name)
        if user is None:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        return user


def parse_user_spec(spec: str) -> User:
    """``NAME:PASSWORD`` or ``NAME:PASSWORD:PTAG,PTAG`` (the command line's form)."""
    name, sep, rest = spec.partition(":")
    if not sep:
        raise ValueError(f"user {spec!r} must look like NAME:PASSWORD[:PTAG,PTAG]")
    password, _, tags = rest.rpartition(":") if rest.count(":") else (rest, "", "")
    return User(name, password, frozenset(t for t in tags.split(",") if t))
