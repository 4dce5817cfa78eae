"""What a name says about its value: ``IRC_PASS`` holds a password, ``passwordField`` holds a field name.

Names are split into words (``userPassword`` -> user, password; ``AWS_SECRET_ACCESS_KEY`` ->
aws, secret, access, key) so that ``PASS`` is a word in ``IRC_PASS`` but not in ``bypass``
or ``passenger``, and a word like ``field``, ``length`` or ``file`` says the value is about
the secret rather than the secret itself.
"""

from __future__ import annotations

import re
from typing import Literal

KeyKind = Literal["password", "secret"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")

_PASSWORD_WORDS = frozenset({"password", "passwd", "pass", "pwd", "passphrase", "passw", "pword", "pw", "passcode"})
_NOT_PASSWORDS = frozenset({"bypass", "compass", "surpass", "trespass", "overpass", "underpass", "passenger", "passive"})
_SECRET_WORDS = frozenset({
    "secret", "secrets", "token", "apikey", "apitoken", "credential", "credentials", "salt", "privatekey",
    "secretkey", "accesskey", "authkey", "masterkey", "signingkey", "encryptionkey", "clientsecret", "auth",
    "bearer", "jwt", "hmac",
})
# "<word> key": the key is a secret when a word before it says so (api key, signing key, logged-in key ...).
_KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "auth", "app", "master", "signing", "sign", "encryption", "encrypt", "crypt",
    "session", "client", "license", "account", "service", "consumer", "subscription", "nonce", "logged", "secure",
    "hmac", "jwt", "webhook", "shared", "storage", "admin", "cipher", "aes", "symmetric", "decryption", "data",
    "preshared", "psk",
})
# Words that make the value a description of a secret, not the secret.
_ABOUT_WORDS = frozenset({
    "field", "fields", "label", "placeholder", "prompt", "hint", "length", "len", "min", "max", "minimum", "maximum",
    "policy", "policies", "validator", "validators", "regex", "pattern", "reset", "forgot", "type", "name", "names",
    "id", "ids", "file", "filename", "path", "dir", "directory", "env", "var", "variable", "header", "param", "params",
    "column", "col", "expiry", "expires", "expiration", "ttl", "timeout", "lifetime", "age", "endpoint", "uri", "url",
    "hasher", "hashers", "algorithm", "algorithms", "algo", "format", "enabled", "required", "changed", "updated",
    "created", "count", "attempts", "strength", "manager", "provider", "mode", "method", "scheme", "class", "handler",
    "input", "html", "css", "selector", "icon", "text", "message", "msg", "error", "errors", "title", "description",
    "help", "visible", "show", "toggle", "ref", "kind", "size", "index", "rotation", "version", "prefix", "suffix",
    "template", "command", "cmd", "source", "location", "storage_class", "limit", "usage", "hash", "hashed", "digest",
    "checksum", "fingerprint", "public", "pub", "authority", "issuer", "audience",
    "question", "strategy", "backend", "backends",
    "keyref", "secretkeyref", "secretref", "mount", "volume", "volumes", "arn", "option", "options",
    "encoding", "schema", "example", "sample", "mock", "fake", "dummy", "generator",
    "generate", "callback", "grant", "response", "request", "expected", "regexp", "publishable",
})


def name_words(name: str) -> list[str]:
    """``userPassword`` -> ['user', 'password']; ``AWS_SECRET_ACCESS_KEY`` -> ['aws', 'secret', 'access', 'key']."""
    spaced = _CAMEL.sub(" ", name)
    return [word.lower() for word in _SEPARATORS.split(spaced) if word]


# Names that hold public identifiers although they say "key" (Pusher's app key ships in every client).
_PUBLIC_NAMES = frozenset({"pusher_app_key", "pusher_key", "vite_pusher_app_key", "mix_pusher_app_key"})


def key_kind(name: str) -> KeyKind | None:
    """What kind of secret a name holds, or None when it holds none (or holds something about one).

    >>> [key_kind(n) for n in ("IRC_PASS", "passwordField", "AWS_SECRET_ACCESS_KEY", "bypass", "sort_key")]
    ['password', None, 'secret', None, None]
    """
    words = name_words(name)
    if not words or "_".join(words) in _PUBLIC_NAMES or any(word in _ABOUT_WORDS for word in words):
        return None
    if any(_is_password_word(word) for word in words):
        return "password"
    for index, word in enumerate(words):
        if word in _SECRET_WORDS or word.endswith(("secret", "token", "apikey", "passkey")):
            return "secret"
        if word in ("key", "keys") and any(earlier in _KEY_QUALIFIERS for earlier in words[:index]):
            return "secret"
        if word == "salt":
            return "secret"
    return None


def _is_password_word(word: str) -> bool:
    if word in _NOT_PASSWORDS:
        return False
    return word in _PASSWORD_WORDS or word.endswith(("password", "passwd")) or (len(word) > 4 and word.endswith("pass"))
