"""The issuer's signing keys for Open Badges 3.0 credentials (RS256, joserfc).

Where the keys come from:
- `VLE_BADGE_KEY_FILE`: one or more PEM files of RSA private keys, separated
  by the system's path separator (":" on Linux). The first signs; the others
  are only published, so credentials they signed still verify.
- otherwise the instance folder's `badge-keys/`: every `*.pem` in it, read in
  name order; the last one signs, all are published. The first credential
  made generates a 3072-bit key there (file mode 0600) when there is none.
  Rotating: add a newer key (its name sorting last, as the generated names,
  `YYYYMMDDTHHMMSSZ.pem`, do: `vle badges new-key`) and keep the old files for
  as long as credentials they signed should verify.

Every key is named by its RFC 7638 thumbprint, and a credential's `kid` is
the URL that serves that key as a JWK Set: /badges/keys/<thumbprint>.json.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from joserfc.jwk import RSAKey

KEY_BITS = 3072
_CACHE: dict[tuple[tuple[str, float], ...], KeyRing] = {}


@dataclass(frozen=True)
class KeyRing:
    """The signing key and every published key, by thumbprint."""

    signing: RSAKey
    published: dict[str, RSAKey]

    @property
    def signing_kid(self) -> str:
        return self.signing.thumbprint()


class BadgeKeyError(Exception):
    """A configured key file is missing or holds no RSA private key."""


def _configured(settings: dict) -> list[Path]:
    value = settings.get("BADGE_KEY_FILE") or ""
    return [Path(part) for part in value.split(os.pathsep) if part.strip()]


def key_folder(settings: dict) -> Path:
    return Path(settings["INSTANCE_PATH"]) / "badge-keys"


def new_key(folder: Path, now: datetime | None = None) -> Path:
    """Generate a key into `folder` (mode 0600) named so that it sorts last
    and therefore signs from now on; the older keys stay published. Written
    to a temporary name first and linked into place, so another process never
    reads half a key, and two making one at once both keep theirs."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    pem = RSAKey.generate_key(KEY_BITS).as_pem(private=True)
    temporary = folder / f".new-{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        suffix = 1
        while True:
            path = folder / (f"{stamp}.pem" if suffix == 1 else f"{stamp}{suffix:02d}.pem")
            try:
                os.link(temporary, path)
                return path
            except FileExistsError:
                suffix += 1
    finally:
        temporary.unlink(missing_ok=True)


def _files(settings: dict, create: bool) -> list[Path]:
    """The key files, the signing one LAST."""
    configured = _configured(settings)
    if configured:
        missing = [str(path) for path in configured if not path.is_file()]
        if missing:
            raise BadgeKeyError(f"VLE_BADGE_KEY_FILE names no file at {', '.join(missing)}")
        return [*configured[1:], configured[0]]
    folder = key_folder(settings)
    files = sorted(folder.glob("*.pem")) if folder.is_dir() else []
    if not files and create:
        new_key(folder)
        files = sorted(folder.glob("*.pem"))
    return files


def keyring(settings: dict, create: bool = True) -> KeyRing | None:
    """The keys as the files now stand (read again when a file changes);
    None when there is none and `create` is false."""
    files = _files(settings, create)
    if not files:
        return None
    stamp = tuple((str(path), path.stat().st_mtime) for path in files)
    ring = _CACHE.get(stamp)
    if ring is None:
        keys = []
        for path in files:
            try:
                key = RSAKey.import_key(path.read_bytes())
            except Exception as error:  # noqa: BLE001 - any unreadable file says the same
                raise BadgeKeyError(f"{path} holds no RSA key: {error}") from error
            if not key.is_private:
                raise BadgeKeyError(f"{path} holds a public key; a private key is needed")
            keys.append(key)
        ring = KeyRing(signing=keys[-1], published={key.thumbprint(): key for key in keys})
        _CACHE.clear()
        _CACHE[stamp] = ring
    return ring
