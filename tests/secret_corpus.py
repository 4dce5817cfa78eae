"""The labelled secrets corpus: template files in ``tests/secrets_corpus/``, rendered with fake credentials.

The templates are realistic files (a Laravel ``.env``, a ``wp-config.php``, an ``/etc/shadow``,
a SQL dump, a kubeconfig, Terraform state, ...). Two markers label them:

- ``⟦kind⟧`` (or ``⟦kind#n⟧`` to repeat one value in a file) is replaced by a freshly
  generated fake credential of that kind, in the provider's real format: a *planted secret*.
- ``⟦~text⟧`` is replaced by ``text`` and labels it a *look-alike*: something scanners
  mistake for a secret that is not one (a placeholder, a public key, a content hash).

Values are generated at run time from a fixed seed, so this repository holds no literal key
(nothing for a scanner or a push protection to trip on) and every run sees the same corpus.
They are random, never real: no provider issued them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATES = Path(__file__).with_name("secrets_corpus")
SEED = 20261202
_MARKER = re.compile(r"⟦(~?)([^⟦⟧]*)⟧")

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
CRYPT64 = "./" + ALNUM
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
_WORDS = (
    "falcon", "ridge", "copper", "lantern", "orbit", "maple", "harbor", "velvet", "quartz", "summit", "tundra",
    "cobalt", "ember", "juniper", "meadow", "nebula", "pepper", "raven", "saffron", "willow", "zephyr", "atlas",
)


class Fakes:
    """Generators of fake credentials, one method per kind, all drawing from one seeded random source."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + self.chars(string.digits, n - 1)

    def password(self) -> str:
        """A password a person chose: words, digits and a symbol in varied shapes."""
        w1, w2 = self.rng.sample(_WORDS, 2)
        shapes = [
            lambda: f"{w1.capitalize()}-{w2.capitalize()}{self.rng.randint(10, 99)}!",
            lambda: self.chars(ALNUM + "!@#%^&*", 14),
            lambda: f"{w1}{self.rng.randint(1000, 9999)}{w2.upper()}",
            lambda: f"{w1.capitalize()}{self.rng.choice('!@#$%&*?')}{self.rng.randint(100, 999)}{w2}",
            lambda: self.chars(ALNUM, 12) + self.rng.choice("!$%"),
        ]
        return self.rng.choice(shapes)()

    def b64(self, raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    def b64url(self, raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def jwt(self) -> str:
        header = self.b64url(json.dumps({"alg": self.rng.choice(["HS256", "RS256"]), "typ": "JWT"}).encode())
        claims = {"sub": self.digits(8), "name": self.rng.choice(_WORDS), "iat": self.rng.randint(1_600_000_000, 1_760_000_000)}
        return f"{header}.{self.b64url(json.dumps(claims).encode())}.{self.chars(B64URL, 43)}"

    def pem(self, label: str, lines: int = 25, prefix: str = "MIIE") -> str:
        body = prefix + self.chars(B64, 64 * lines - len(prefix))
        wrapped = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN {label}-----\n{wrapped}\n-----END {label}-----"

    def pgp(self) -> str:
        body = "lQOYBF" + self.chars(B64, 64 * 20 - 6)
        wrapped = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        label = "PGP PRIVATE KEY BLOCK"
        return f"-----BEGIN {label}-----\n\n{wrapped}\n={self.chars(B64, 4)}\n-----END {label}-----"

    def bcrypt(self) -> str:
        return f"$2{self.rng.choice('aby')}${self.rng.choice(['10', '12'])}${self.chars(CRYPT64, 53)}"

    def sha512crypt(self) -> str:
        return f"$6${self.chars(CRYPT64, 16)}${self.chars(CRYPT64, 86)}"

    def yescrypt(self) -> str:
        return f"$y$j9T${self.chars(CRYPT64, 22)}${self.chars(CRYPT64, 43)}"

    def apr1(self) -> str:
        return f"$apr1${self.chars(CRYPT64, 8)}${self.chars(CRYPT64, 22)}"

    def argon2(self) -> str:
        return f"$argon2id$v=19$m=65536,t=3,p=4${self.chars(B64, 22)}${self.chars(B64, 43)}"

    def django_pbkdf2(self) -> str:
        return f"pbkdf2_sha256$600000${self.chars(ALNUM, 22)}${self.b64(self.rng.randbytes(32))}"

    def phpass(self) -> str:
        return "$P$B" + self.chars(CRYPT64, 30)

    def ssha(self) -> str:
        return "{SHA}" + self.b64(hashlib.sha1(self.rng.randbytes(12)).digest())


# kind -> generator. The kinds are what the corpus counts ("at least 40 kinds").
def _generators(f: Fakes) -> dict[str, Callable[[], str]]:
    c = f.chars
    return {
        "aws-access-key-id": lambda: "AKIA" + c(string.ascii_uppercase + "234567", 16),
        "aws-secret-access-key": lambda: c(B64, 40),
        "github-pat": lambda: "ghp_" + c(ALNUM, 36),
        "github-oauth": lambda: "gho_" + c(ALNUM, 36),
        "github-app-token": lambda: "ghs_" + c(ALNUM, 36),
        "github-fine-grained": lambda: "github_pat_" + c(ALNUM, 22) + "_" + c(ALNUM, 59),
        "gitlab-pat": lambda: "glpat-" + c(ALNUM + "_-", 20),
        "slack-bot-token": lambda: f"xoxb-{f.digits(12)}-{f.digits(13)}-{c(ALNUM, 24)}",
        "slack-user-token": lambda: f"xoxp-{f.digits(12)}-{f.digits(12)}-{f.digits(13)}-{c(HEX, 32)}",
        "slack-webhook": lambda: f"https://hooks.slack.com/services/T{c(string.ascii_uppercase + string.digits, 10)}/"
        f"B{c(string.ascii_uppercase + string.digits, 10)}/{c(ALNUM, 24)}",
        "stripe-live-secret": lambda: "sk_live_" + c(ALNUM, 99),
        "stripe-restricted": lambda: "rk_live_" + c(ALNUM, 99),
        "google-api-key": lambda: "AIza" + c(ALNUM + "_-", 35),
        "google-oauth-secret": lambda: "GOCSPX-" + c(ALNUM + "_-", 28),
        "openai-key": lambda: "sk-proj-" + c(ALNUM + "_-", 156),
        "anthropic-key": lambda: "sk-ant-api03-" + c(ALNUM + "_-", 93) + "AA",
        "twilio-api-key": lambda: "SK" + c(HEX, 32),
        "sendgrid-key": lambda: "SG." + c(ALNUM + "_-", 22) + "." + c(ALNUM + "_-", 43),
        "mailchimp-key": lambda: c(HEX, 32) + f"-us{f.rng.randint(1, 21)}",
        "mailgun-key": lambda: "key-" + c(HEX, 32),
        "npm-token": lambda: "npm_" + c(ALNUM, 36),
        "pypi-token": lambda: "pypi-AgEIcHlwaS5vcmc" + c(ALNUM + "_-", 140),
        "discord-webhook": lambda: f"https://discord.com/api/webhooks/{f.digits(19)}/{c(ALNUM + '_-', 68)}",
        "telegram-bot-token": lambda: f"{f.digits(10)}:AA{c(ALNUM + '_-', 33)}",
        "digitalocean-token": lambda: "dop_v1_" + c(HEX, 64),
        "huggingface-token": lambda: "hf_" + c(ALNUM, 34),
        "shopify-token": lambda: "shpat_" + c(HEX, 32),
        "square-token": lambda: "EAAA" + c(ALNUM + "_-", 60),
        "databricks-token": lambda: "dapi" + c(HEX, 32),
        "doppler-token": lambda: "dp.pt." + c(ALNUM, 43),
        "linear-key": lambda: "lin_api_" + c(ALNUM, 40),
        "postman-key": lambda: f"PMAK-{c(HEX, 24)}-{c(HEX, 34)}",
        "newrelic-key": lambda: "NRAK-" + c(string.ascii_uppercase + string.digits, 27),
        "grafana-token": lambda: f"glsa_{c(ALNUM, 32)}_{c(HEX, 8)}",
        "dockerhub-token": lambda: "dckr_pat_" + c(ALNUM + "_-", 27),
        "age-secret-key": lambda: "AGE-SECRET-KEY-1" + c(BECH32, 58),
        "vault-token": lambda: "hvs." + c(ALNUM + "_-", 95),
        "azure-storage-key": lambda: c(B64, 86) + "==",
        "azure-client-secret": lambda: c(ALNUM, 3) + str(f.rng.randint(0, 9)) + "Q~" + c(ALNUM + "_~.-", 34),
        "sentry-auth-token": lambda: "sntrys_" + c(B64, 96),
        "heroku-api-key": lambda: "-".join(c(HEX, n) for n in (8, 4, 4, 4, 12)),
        "supabase-token": lambda: "sbp_" + c(HEX, 40),
        "jwt": f.jwt,
        "rsa-private-key": lambda: f.pem("RSA PRIVATE KEY", 25, "MIIEpAIBAAKCAQEA"),
        "ec-private-key": lambda: f.pem("EC PRIVATE KEY", 4, "MHcCAQEEI"),
        "openssh-private-key": lambda: f.pem("OPENSSH PRIVATE KEY", 7, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"),
        "pkcs8-private-key": lambda: f.pem("PRIVATE KEY", 26, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
        "pkcs8-private-key-json": lambda: f.pem("PRIVATE KEY", 26, "MIIEvgIBADANBgkqhkiG9w0BAQEFAASC").replace("\n", "\\n") + "\\n",
        "pgp-private-key": f.pgp,
        "putty-private-key": lambda: "\n".join(c(B64, 64) for _ in range(14)),
        "password": f.password,
        "django-secret-key": lambda: "django-insecure-" + c(string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)", 50),
        "laravel-app-key": lambda: "base64:" + f.b64(f.rng.randbytes(32)),
        "wordpress-salt": lambda: c(string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_`{|}~", 64),
        "rails-master-key": lambda: c(HEX, 32),
        "rails-secret-key-base": lambda: c(HEX, 128),
        "hex-encryption-key": lambda: c(HEX, 64),
        "base64-signing-key": lambda: f.b64(f.rng.randbytes(32)),
        "generic-api-token": lambda: c(ALNUM, 40),
        "hex-api-key": lambda: c(HEX, 32),
        "webhook-secret": lambda: "whsec_" + c(ALNUM, 32),
        "bcrypt-hash": f.bcrypt,
        "argon2-hash": f.argon2,
        "sha512crypt-hash": f.sha512crypt,
        "yescrypt-hash": f.yescrypt,
        "apr1-hash": f.apr1,
        "django-pbkdf2-hash": f.django_pbkdf2,
        "phpass-hash": f.phpass,
        "ldap-ssha-hash": f.ssha,
    }


# Kinds whose planted text is an encoding of a secret (the secret is what was encoded).
_ENCODED: dict[str, Callable[[Fakes], str]] = {
    "basic-auth-base64": lambda f: f.b64(f"{f.rng.choice(_WORDS)}:{f.password()}".encode()),
    "filezilla-password-base64": lambda f: f.b64(f.password().encode()),
    "kube-client-key-data": lambda f: f.b64(f.pem("RSA PRIVATE KEY", 6, "MIIEowIBAAKCAQEA").encode()),
    "k8s-secret-base64": lambda f: f.b64(f.password().encode()),
}


@dataclass
class Planted:
    """One labelled secret: which file, what kind, the value, and the lines it was written on."""

    path: str
    kind: str
    value: str
    lines: list[int] = field(default_factory=list)


@dataclass
class LookAlike:
    path: str
    text: str
    line: int


@dataclass
class Corpus:
    root: Path
    planted: list[Planted]
    lookalikes: list[LookAlike]
    binary_files: list[str]

    @property
    def kinds(self) -> set[str]:
        return {secret.kind for secret in self.planted}


def build_corpus(destination: Path, seed: int = SEED) -> Corpus:
    """Render every template into ``destination`` and return what was planted where."""
    fakes = Fakes(seed)
    generators = _generators(fakes)
    planted: list[Planted] = []
    lookalikes: list[LookAlike] = []
    for template in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        relative = template.relative_to(TEMPLATES).as_posix()
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative.endswith(".jks"):
            continue  # written below: binary keystores are generated whole
        values: dict[str, Planted] = {}
        rendered: list[str] = []
        text = template.read_text(encoding="utf-8")
        for line_index, line in enumerate(text.split("\n")):
            offset = sum(part.count("\n") for part in rendered)  # earlier multi-line values move the lines down
            number = line_index + 1 + offset

            def substitute(match: re.Match[str], number: int = number) -> str:
                if match.group(1):
                    lookalikes.append(LookAlike(relative, match.group(2), number))
                    return match.group(2)
                kind = match.group(2).split("#", 1)[0]
                # ``kind#n`` names one value used again; a bare ``kind`` is a new value each time.
                key = match.group(2) if "#" in match.group(2) else f"{kind}@{len(values)}"
                if key not in values:
                    value = _ENCODED[kind](fakes) if kind in _ENCODED else generators[kind]()
                    values[key] = Planted(relative, kind, value)
                values[key].lines.append(number)
                return values[key].value

            rendered.append(_MARKER.sub(substitute, line))
        target.write_text("\n".join(rendered), encoding="utf-8")
        planted.extend(values.values())
    binaries = _write_keystores(destination, fakes, planted)
    return Corpus(destination, planted, lookalikes, binaries)


def _write_keystores(destination: Path, fakes: Fakes, planted: list[Planted]) -> list[str]:
    """Java keystores (JKS magic ``FEEDFEED``) and a PKCS#12 bundle: binary files whose presence is the leak."""
    written = []
    for template in sorted(TEMPLATES.rglob("*.jks")):
        relative = template.relative_to(TEMPLATES).as_posix()
        data = bytes.fromhex("feedfeed00000002") + fakes.rng.randbytes(2048)
        (destination / relative).write_bytes(data)
        planted.append(Planted(relative, "java-keystore", data[:4096].hex(), [1]))
        written.append(relative)
    return written


@dataclass(frozen=True)
class Reported:
    """One finding of any scanner, reduced to what scoring needs: file, lines, and the hash of the value."""

    path: str
    lines: tuple[int, ...]
    hashed: str


@dataclass(frozen=True)
class Score:
    found: int
    planted: int
    true_findings: int
    findings: int
    missed: tuple[Planted, ...]
    false_findings: tuple[Reported, ...]

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        return self.true_findings / self.findings if self.findings else 1.0


def score(corpus: Corpus, reported: list[Reported], under: str = "") -> Score:
    """Recall (planted secrets reported) and precision (findings that are planted secrets), files under ``under``.

    A finding is a planted secret when it is in the same file and either carries the same
    value (by hash) or sits on one of the lines the secret was written on. Every finding
    counts, not only those on look-alikes: a report on any other line is a false positive.
    """
    planted = [p for p in corpus.planted if p.path.startswith(under)]
    findings = [r for r in reported if r.path.startswith(under)]
    by_path: dict[str, list[Planted]] = {}
    for secret in planted:
        by_path.setdefault(secret.path, []).append(secret)

    def is_planted(report: Reported, secret: Planted) -> bool:
        return report.hashed == hashlib.sha1(secret.value.encode()).hexdigest() or bool(set(report.lines) & set(secret.lines))

    missed = tuple(s for s in planted if not any(is_planted(r, s) for r in findings if r.path == s.path))
    false = tuple(r for r in findings if not any(is_planted(r, s) for s in by_path.get(r.path, [])))
    return Score(len(planted) - len(missed), len(planted), len(findings) - len(false), len(findings), missed, false)
