"""What must not go into a memory, and what an agent must not obey in one.

Two pure functions (no I/O, no state) that the write path, `mem doctor` and the search
index share:

- `find_secrets(text)`: likely credentials. `mem add`, `mem update` (and `mem curate`)
  refuse text that holds one unless told `--allow-secrets`; `mem doctor` reports the ones
  already in the tree. A finding names the kind and the line and carries a redacted
  excerpt: the secret itself is never echoed.
- `find_injection(text)`: text that reads as instructions to the agent that will recall it
  (memory poisoning, as in MINJA and A-MemGuard): "ignore previous instructions", tool-call
  or chat-template syntax, invisible Unicode. Flagged, never refused: a person may
  legitimately keep a note about prompt injection.

Both are sets of high-precision regular expressions, written here rather than taken from a
detector library: detect-secrets (Yelp) costs ~115 ms to import and set up, which would
more than double `mem add`, and its entropy plugins fire on ordinary technical prose. The
patterns follow the published formats of each provider (as gitleaks and detect-secrets
encode them); docs/security.md gives the numbers and what these checks do not stop.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .display import clip, printable
from .errors import RefusedError

if TYPE_CHECKING:
    from .entry import Entry

EXCERPT_MAX = 72
REDACTED = "[redacted]"
MAX_SIGNALS = 50  # per text: enough to judge an entry, bounded for hostile ones
MAX_FINDINGS_PER_KIND = 50


@dataclass(frozen=True)
class SecretFinding:
    """A likely secret: its kind (`aws-access-key`), 1-based line, and the line with the secret
    replaced by `[redacted]` (cut to a short excerpt)."""

    kind: str
    line: int
    excerpt: str

    def __str__(self) -> str:
        return f"{self.kind} at line {self.line}"


@dataclass(frozen=True)
class InjectionSignal:
    """Text that reads as an instruction to an agent: kind, 1-based line, short reason, and a
    printable excerpt of the line."""

    kind: str  # instruction-override | tool-call-syntax | role-markup | exfiltration-url | hidden-unicode
    line: int
    reason: str
    excerpt: str = ""

    def __str__(self) -> str:
        return f"{self.kind} at line {self.line} ({self.reason})"


# --- matching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    """A rule's regex twice: case-insensitive rules run much faster as a case-sensitive regex
    over a lowercased copy of the text (`re.IGNORECASE` disables most of sre's fast paths)."""

    exact: re.Pattern[str]  # the pattern with its own flags, for the original text
    lowered: re.Pattern[str] | None  # for the lowercased text; None when the rule is case-sensitive


def _lower_literals(pattern: str) -> str:
    """Lowercase the letters of a regex that are not escape letters (`\\S`, `\\Z` keep their case)."""
    out = []
    escaped = False
    for char in pattern:
        out.append(char if escaped else char.lower())
        escaped = char == "\\" and not escaped
    return "".join(out).replace("(?p<", "(?P<").replace("(?p=", "(?P=")  # named groups keep their syntax


def _compile(pattern: str, flags: int) -> _Compiled:
    if not flags & re.IGNORECASE:
        return _Compiled(re.compile(pattern, flags), None)
    return _Compiled(re.compile(pattern, flags), re.compile(_lower_literals(pattern), flags & ~re.IGNORECASE))


def _finditer(compiled: _Compiled, text: str, lowered: str | None) -> Iterator[re.Match[str]]:
    """Matches of a rule in `text`; `lowered` is `text.lower()` when it is the same length
    (then offsets agree one to one), else None."""
    if compiled.lowered is not None and lowered is not None:
        return compiled.lowered.finditer(lowered)
    return compiled.exact.finditer(text)


def _same_length_lower(text: str) -> tuple[str, str | None]:
    lowered = text.lower()
    return lowered, (lowered if len(lowered) == len(text) else None)


# --- secrets ---------------------------------------------------------------------------

Validator = Callable[[re.Match[str], str], bool]


@dataclass(frozen=True)
class _SecretRule:
    kind: str
    pattern: str
    # The regex runs only if one of these substrings is in the text (lowercased text when
    # the rule ignores case): a C-speed `in` test skips most rules for most entries.
    needles: tuple[str, ...]
    flags: int = 0
    valid: Validator | None = None  # extra check on (match, secret) to keep precision high


_PLACEHOLDER_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "redacted",
        "removed",
        "hidden",
        "masked",
        "example",
        "dummy",
        "placeholder",
        "none",
        "null",
        "nil",
        "true",
        "false",
        "string",
        "str",
        "undefined",
        "todo",
        "tbd",
        "mypassword",
        "yourpassword",
        "your_password",
        "your-password",
    }
)
_MASKED = re.compile(r"[*xX.•…_#-]+|x{3,}.*|\*{3,}.*")
_REFERENCE = re.compile(
    r"""(?x)
    \$ | %\(? | \{\{ | \{% | <[^>]*>? | \[[^\]]*\]? | \{[^}]*\}?      # ${VAR} $(cmd) %s {{ x }} <x> [x] {x}
    | (?:os\.)?(?:environ|getenv) | process\.env | env\( | settings\. | config\. | secrets?\.
    | [\w.]+\(                                                        # a call: get_password()
    """
)
_PLACEHOLDER_HINT = re.compile(r"example|placeholder|your[_-]|<your|\.\.\.|…|redacted|dummy|sample", re.IGNORECASE)


def _placeholder(value: str) -> bool:
    """True for the values documentation uses instead of a real secret."""
    text = value.strip().strip("\"'`")
    if not text:
        return True
    lowered = text.lower()
    return (
        lowered in _PLACEHOLDER_WORDS
        or _MASKED.fullmatch(text) is not None
        or _REFERENCE.match(text) is not None
        or _PLACEHOLDER_HINT.search(text) is not None
        or len(set(lowered)) <= 2  # aaaaaa, 000000, xxxxxx
    )


def _not_aws_example(match: re.Match[str], secret: str) -> bool:
    # AWS documents AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY; gitleaks
    # skips keys that end in EXAMPLE for the same reason.
    # `secret` is cut from the original text (the match may run on a lowercased copy).
    return "EXAMPLE" not in secret and "EXAMPLE" not in match.group(0)


def _aws_secret(match: re.Match[str], secret: str) -> bool:
    return _not_aws_example(match, secret) and not _placeholder(secret) and re.search(r"[0-9]", secret) is not None


def _jwt(match: re.Match[str], secret: str) -> bool:
    """A JWT's header is base64url JSON naming its algorithm: checking that rules out look-alikes."""
    header = match.group("header")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


# Hosts of a developer's own machine or of a compose/CI service network: a password that
# only works there (postgres:postgres@localhost, guest:guest@rabbit) is a default, not a secret.
_LOCAL_HOST = re.compile(
    r"(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[?::1\]?|host\.docker\.internal|[a-z][a-z0-9_-]{0,30})\Z"
)
_DEV_DEFAULTS = frozenset(
    {
        "pass",
        "password",
        "secret",
        "guest",
        "postgres",
        "root",
        "admin",
        "test",
        "dev",
        "user",
        "mysql",
        "app",
        "example",
        "changeme",
        "default",
        "local",
        "docker",
        "rabbitmq",
        "redis",
        "mongo",
        "sa",
        "oracle",
    }
)


def _dev_default(user: str, secret: str, host: str) -> bool:
    """A credential that only a local or compose host accepts and that says nothing secret:
    the password repeats the user name, or is a well-known default."""
    if not _LOCAL_HOST.match(host.lower().split(":")[0].rstrip(".")):
        return False
    return secret.lower() == user.lower() or secret.lower() in _DEV_DEFAULTS


def _url_password(match: re.Match[str], secret: str) -> bool:
    host = match.group("host") or ""
    return not _placeholder(secret) and not _dev_default(match.group("user") or "", secret, host)


def _netrc(match: re.Match[str], secret: str) -> bool:
    return not _placeholder(secret) and not _dev_default(match.group("user") or "", secret, match.group("host"))


def _pgpass(match: re.Match[str], secret: str) -> bool:
    """host:port:db:user:password. Times and addresses share the shape: the host and user
    must hold a letter (or be `*`) and the password must not be a number."""
    host, user = match.group("host"), match.group("user")
    if not (host == "*" or re.search(r"[A-Za-z]", host)) or not re.search(r"[A-Za-z*]", user):
        return False
    if secret.isdigit() or len(secret) < 4:
        return False
    return not _placeholder(secret) and not _dev_default(user, secret, host)


def _command_password(match: re.Match[str], secret: str) -> bool:
    """`mysql -pX`, `sshpass -p X`, `curl -u user:X`, `docker login -p X`: a literal, not a
    variable or a prompt."""
    return not _placeholder(secret) and len(secret) >= 4


def _prose_password(match: re.Match[str], secret: str) -> bool:
    """ "the admin password for staging is Xy7..." : a token-shaped word, not prose."""
    value = secret.rstrip(".,;:)")
    return not _placeholder(value) and _token_shaped(value, 8)


def _twilio(match: re.Match[str], secret: str) -> bool:
    return re.search(r"[a-f]", secret) is not None and re.search(r"[0-9]", secret) is not None


def _token_shaped(value: str, minimum: int) -> bool:
    return (
        len(value) >= minimum
        and re.search(r"[A-Za-z]", value) is not None
        and re.search(r"[0-9]", value) is not None
        and re.search(r"\s", value) is None
    )


def _bearer(match: re.Match[str], secret: str) -> bool:
    return not _placeholder(secret) and _token_shaped(secret, 16)


_PASSWORD_KEYS = ("password", "passwd", "passphrase", "pass")


def _assignment(match: re.Match[str], secret: str) -> bool:
    """`password = "..."` and friends: only values shaped like a real credential count."""
    text = match.string
    prefix = _KEY_CHARS.search(text, max(0, match.start() - 40), match.start())
    start = prefix.start() if prefix is not None else match.start()
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
        return False  # the key is longer than 40 characters: not an assignment we know
    keyword = _WORD.match(text, match.start())
    key = (text[start : match.start()] + (keyword.group() if keyword else "")).lower()
    quoted = match.group("quoted") is not None
    if _placeholder(secret) or secret.startswith(("/", "~", "./", "http://", "https://")):
        return False
    if key.endswith("token"):
        return _token_shaped(secret, 16)
    if key.endswith("pass") and not (key == "pass" or key[-5] in "_-."):
        return False  # bypass, compass: words that merely end in "pass"
    if key == "pass" and not quoted:
        # `pass: test_login passed`: a test report, not a credential. A bare `pass` key counts
        # only for a value that is the whole rest of its line and not a test's name.
        rest = text[match.end() : text.find("\n", match.end()) if "\n" in text[match.end() :] else len(text)]
        if rest.strip() or secret.lower().startswith(("test", "tests/")) or "::" in secret:
            return False
    passwordish = key.endswith(_PASSWORD_KEYS)
    if quoted:
        if re.search(r"\s", secret) and not passwordish:
            return False  # a quoted sentence after `secret:` is prose, a passphrase after `password:` is not
        return len(secret) >= (4 if passwordish else 8)
    # Unquoted (`PGPASSWORD=s3cr3t psql`, `password: hunter2`): letters and digits, no code.
    return _token_shaped(secret, 6 if passwordish else 12) and re.search(r"[()\[\]{}<>$%]", secret) is None


_KEYWORDS = (
    r"password|passwd|passphrase|pass|secret|secret[_-]?key|client[_-]?secret|api[_-]?key|apikey|"
    r"access[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|bearer[_-]?token|token"
)
_BOUNDARY = r"(?<![A-Za-z0-9_])"
_KEY_CHARS = re.compile(r"[A-Za-z0-9_.-]{0,40}\Z")
_WORD = re.compile(r"[A-Za-z_-]+")

_LINE_BREAK = r"(?:\r?\n|\\(?:r\\)?n)"
_QUOTE_PREFIX = r"[ \t>*+-]*"  # a key pasted indented, in a list, in a `> ` quote or a YAML block

_SECRET_RULES: tuple[_SecretRule, ...] = (
    _SecretRule(
        "private-key",
        r"-----BEGIN[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[ \t]*" + _LINE_BREAK + _QUOTE_PREFIX + r")+"
        r"(?:[A-Za-z-]{1,30}:[^\n\\]{0,200}(?:" + _LINE_BREAK + _QUOTE_PREFIX + r")+)*"
        r"(?P<secret>[A-Za-z0-9+/=]{20,})[ \t]*(?:" + _LINE_BREAK + r"|\Z)",
        ("PRIVATE KEY",),
    ),
    _SecretRule(
        "aws-access-key",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])(?P<secret>[A-Z2-7]{16})(?![A-Za-z0-9])",
        ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
        valid=_not_aws_example,
    ),
    _SecretRule(
        "aws-secret-key",
        r"aws_?secret(?:_?access)?_?key[\"']?\s{0,5}(?::=|=>|=|:)\s{0,5}[\"']?"
        r"(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        ("aws",),
        re.IGNORECASE,
        _aws_secret,
    ),
    _SecretRule(
        "github-token",
        _BOUNDARY + r"(?:(?:ghp|gho|ghu|ghs|ghr)_(?P<secret>[A-Za-z0-9]{36})"
        r"|github_pat_(?P<secret2>[A-Za-z0-9_]{82}))(?![A-Za-z0-9_])",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _SecretRule(
        "gitlab-token",
        _BOUNDARY + r"(?:glpat|glrt|glptt|gldt|glft|gloas|glsoat|glcbt|glimt|glagent)-(?P<secret>[A-Za-z0-9_-]{20,})",
        ("glpat-", "glrt-", "glptt-", "gldt-", "glft-", "gloas-", "glsoat-", "glcbt-", "glimt-", "glagent-"),
    ),
    _SecretRule(
        "slack-token",
        r"(?<![A-Za-z0-9])(?:xox[abposre]-(?P<secret>[0-9]{6,}-[A-Za-z0-9-]{8,})"
        r"|(?:xoxe\.xox[bp]|xoxe|xapp)-(?P<secret2>[0-9]{1,3}-[A-Za-z0-9-]{20,}))",
        ("xox", "xapp-"),
    ),
    _SecretRule(
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows)/(?P<secret>[A-Za-z0-9]{8,}/[A-Za-z0-9]{8,}/[A-Za-z0-9]{16,})",
        ("hooks.slack.com",),
    ),
    _SecretRule(
        "stripe-key",
        _BOUNDARY + r"(?:sk|rk)_(?:live|test)_(?P<secret>[A-Za-z0-9]{16,99})(?![A-Za-z0-9])",
        ("k_live_", "k_test_"),
    ),
    _SecretRule("stripe-webhook-secret", _BOUNDARY + r"whsec_(?P<secret>[A-Za-z0-9+/]{32,})", ("whsec_",)),
    _SecretRule(
        "google-api-key",
        _BOUNDARY + r"AIza(?P<secret>[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])",
        ("AIza",),
    ),
    _SecretRule(
        "anthropic-key",
        _BOUNDARY + r"sk-ant-(?:api|admin)[0-9]{2}-(?P<secret>[A-Za-z0-9_-]{32,})",
        ("sk-ant-",),
    ),
    _SecretRule(
        "openai-key",
        r"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-)?"
        r"(?P<secret>[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|(?<=proj-)[A-Za-z0-9_-]{40,})",
        ("T3BlbkFJ", "sk-proj-"),
    ),
    _SecretRule("npm-token", _BOUNDARY + r"npm_(?P<secret>[A-Za-z0-9]{36})(?![A-Za-z0-9])", ("npm_",)),
    _SecretRule("pypi-token", r"pypi-AgEIcHlwaS5vcmc(?P<secret>[A-Za-z0-9_-]{50,})", ("pypi-AgEI",)),
    _SecretRule("huggingface-token", _BOUNDARY + r"hf_(?P<secret>[A-Za-z0-9]{34})(?![A-Za-z0-9])", ("hf_",)),
    _SecretRule("digitalocean-token", _BOUNDARY + r"do[opr]_v1_(?P<secret>[a-f0-9]{64})(?![a-f0-9])", ("do", "_v1_")),
    _SecretRule(
        "telegram-bot-token", r"(?<![0-9])[0-9]{8,10}:(?P<secret>AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])", (":AA",)
    ),
    _SecretRule(
        "age-secret-key", r"AGE-SECRET-KEY-1(?P<secret>[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})", ("AGE-SECRET-KEY-1",)
    ),
    _SecretRule("firebase-server-key", r"AAAA[A-Za-z0-9_-]{7}:(?P<secret>APA91b[A-Za-z0-9_-]{100,})", ("APA91b",)),
    _SecretRule(
        "twilio-auth-token",
        r"auth[_ -]?token[\"']?[ \t]{0,5}(?:[:=][ \t]{0,5})?[\"']?(?P<secret>[0-9a-f]{32})(?![0-9a-zA-Z])",
        ("auth",),
        re.IGNORECASE,
        _twilio,
    ),
    _SecretRule(
        "azure-sas-token",
        r"[?&]sig=(?P<secret>[A-Za-z0-9%+/=]{30,})",
        ("sig=",),
    ),
    _SecretRule(
        "sendgrid-key",
        _BOUNDARY + r"SG\.(?P<secret>[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})",
        ("SG.",),
    ),
    _SecretRule("azure-storage-key", r"AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)", ("AccountKey=",)),
    _SecretRule(
        "jwt",
        r"(?<![A-Za-z0-9_-])(?P<header>eyJ[A-Za-z0-9_-]{8,})\.(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})",
        ("eyJ",),
        valid=_jwt,
    ),
    _SecretRule(
        "url-credentials",
        # Anchored on '://' (the scheme is not needed): a pattern that starts with the scheme
        # would be tried at every letter of the text. The password runs to the last '@'
        # before the host, so one that holds '@' (p@ss) is taken whole.
        r"://(?P<user>[^\s:/@'\"<>`]{0,64}):(?P<secret>[^\s/'\"<>`]{1,128})@"
        r"(?=(?P<host>[A-Za-z0-9\[][^\s/:?#@'\"<>`]{0,253}))",
        ("://",),
        valid=_url_password,
    ),
    _SecretRule(
        "netrc-password",
        r"\bmachine[ \t]+(?P<host>[^\s]{1,253})\s+(?:login[ \t]+(?P<user>[^\s]{1,128})\s+)?"
        r"password[ \t]+(?P<secret>[^\s'\"`]{1,200})",
        ("machine",),
        0,
        _netrc,
    ),
    _SecretRule(
        "pgpass-password",
        r"(?:^|(?<=[\s`'\"]))(?P<host>[A-Za-z0-9.*_\[\]-]{1,253}):(?:[0-9]{1,5}|\*):[^:\s]{1,63}:"
        r"(?P<user>[^:\s]{1,63}):(?P<secret>[^:\s`'\"]{1,200})[ \t]*$",
        (":",),
        re.MULTILINE,
        _pgpass,
    ),
    _SecretRule(
        "command-line-password",
        r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n]{0,200}?[ \t]-p"
        r"(?P<secret>[^\s'\"-][^\s'\"]{2,199})"
        r"|\bsshpass[ \t]+-p[ \t]*['\"]?(?P<secret2>[^\s'\"]{1,200})"
        r"|\b(?:curl|wget|http)\b[^\n]{0,200}?[ \t](?:-u|--user)[ \t=]*['\"]?[^\s:'\"]{1,64}:"
        r"(?P<secret5>[^\s'\"@]{1,200})"
        r"|\bdocker[ \t]+login\b[^\n]{0,200}?[ \t](?:-p|--password)[ \t=]+['\"]?(?P<secret3>[^\s'\"]{1,200})"
        r"|[ \t]--password[ \t=]+['\"]?(?P<secret4>[^\s'\"$]{1,200})",
        ("mysql", "mariadb", "sshpass", "curl", "wget", "http", "docker", "--password"),
        0,
        _command_password,
    ),
    _SecretRule(
        "password-in-prose",
        r"\bpassword\b[^\n.:=]{0,60}?\b(?:is|was|=)[ \t]+['\"`]?(?P<secret>[^\s'\"`]{8,80})",
        ("password",),
        re.IGNORECASE,
        _prose_password,
    ),
    _SecretRule(
        "authorization-header",
        r"authorization[\"']?\s{0,5}[:=]\s{0,5}[\"']?(?:bearer|token|basic)\s+(?P<secret>[A-Za-z0-9._~+/=-]{16,})",
        ("authorization",),
        re.IGNORECASE,
        _bearer,
    ),
    _SecretRule(
        "password-assignment",
        # Anchored on the keyword; the rest of the key (`db_` in `db_password`) is found by
        # looking back from the match in `_assignment`, which is far cheaper than a regex
        # that tries a 40-character prefix at every position.
        r"(?:" + _KEYWORDS + r")(?![A-Za-z0-9_])[\"']?"
        r"[ \t]{0,5}(?::=|=>|=|:)[ \t]{0,5}"
        r"(?:(?P<quoted>[\"'`])(?P<secret>[^\"'`\n]{1,200})(?P=quoted)|(?P<bare>[^\s\"'`,;\]}]{1,200}))",
        ("pass", "secret", "key", "token"),
        re.IGNORECASE,
        _assignment,
    ),
)


@functools.cache
def _compiled_rule(pattern: str, flags: int) -> _Compiled:
    """A rule's regexes, compiled the first time its needles are found: most texts wake a
    few rules, and each process (`mem add`) then pays only for those."""
    return _compile(pattern, flags)


def _secret_span(match: re.Match[str]) -> tuple[int, int] | None:
    for name in ("secret", "secret2", "secret3", "secret4", "secret5", "bare"):
        if name in match.re.groupindex and match.group(name) is not None:
            return match.span(name)
    return None


class _Lines:
    """1-based line numbers of offsets, and the text of a line, in one pass over the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def number(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def bounds(self, line: int) -> tuple[int, int]:
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return start, end


def _raw_secrets(text: str) -> list[tuple[str, int, int, int]]:
    """(kind, match start, secret start, secret end) of each secret, specific rules first;
    a match overlapping one already found is dropped."""
    found: list[tuple[str, int, int, int]] = []
    taken_starts: list[int] = []  # spans already reported, sorted and disjoint
    taken_ends: list[int] = []
    lowered, aligned = _same_length_lower(text)
    for rule in _SECRET_RULES:
        haystack = lowered if rule.flags & re.IGNORECASE else text
        if not any(needle in haystack for needle in rule.needles):
            continue
        compiled = _compiled_rule(rule.pattern, rule.flags)
        count = 0
        for match in _finditer(compiled, text, aligned):
            span = _secret_span(match)
            if span is None:
                continue
            secret = text[span[0] : span[1]]
            if rule.valid is not None and not rule.valid(match, secret):
                continue
            start, end = match.span()
            index = bisect.bisect_left(taken_ends, start + 1)  # first taken span ending after `start`
            if index < len(taken_starts) and taken_starts[index] < end:
                continue  # overlaps a match of a more specific rule
            taken_starts.insert(index, start)
            taken_ends.insert(index, end)
            found.append((rule.kind, start, span[0], span[1]))
            count += 1
            if count >= MAX_FINDINGS_PER_KIND:
                break
    found.sort(key=lambda item: item[1])
    return found


def _excerpt(lines: _Lines, line: int, spans: Iterable[tuple[int, int]]) -> str:
    """The line with every secret span on it replaced, cut around the first one."""
    start, end = lines.bounds(line)
    pieces: list[str] = []
    cursor = start
    first_redaction = -1
    for span_start, span_end in sorted(spans):
        if span_end <= start or span_start >= end:
            continue
        pieces.append(printable(lines.text[cursor : max(span_start, start)]))
        if first_redaction < 0:
            first_redaction = sum(len(piece) for piece in pieces)
        pieces.append(REDACTED)
        cursor = max(cursor, min(span_end, end))
    pieces.append(printable(lines.text[cursor:end]))
    if first_redaction < 0:  # the secret starts on a later line (a key block after its BEGIN line)
        pieces.append(" " + REDACTED)
        first_redaction = len("".join(pieces)) - len(REDACTED)
    shown = "".join(pieces).strip()
    leading = len("".join(pieces)) - len("".join(pieces).lstrip())
    first_redaction = max(0, first_redaction - leading)
    if len(shown) <= EXCERPT_MAX:
        return shown
    begin = max(0, min(first_redaction - 24, len(shown) - EXCERPT_MAX))
    cut = shown[begin : begin + EXCERPT_MAX]
    return ("…" if begin else "") + cut + ("…" if begin + EXCERPT_MAX < len(shown) else "")


def _findings(text: str, raw: list[tuple[str, int, int, int]]) -> tuple[SecretFinding, ...]:
    if not raw:
        return ()
    lines = _Lines(text)
    spans = [(start, end) for _, _, start, end in raw]
    findings = []
    for kind, start, _, _ in raw:
        line = lines.number(start)
        findings.append(SecretFinding(kind, line, _excerpt(lines, line, spans)))
    return tuple(findings)


def find_secrets(text: str) -> tuple[SecretFinding, ...]:
    """Likely secrets in `text`, in order of appearance. Never includes the secret itself."""
    return _findings(text, _raw_secrets(text))


def redact_secrets(text: str) -> tuple[str, int]:
    """`text` with every likely secret replaced by [redacted], and how many were replaced.

    For text that is kept without a person deciding (the hooks' captured turns): refusing
    it would lose the rest of the turn, so the secret alone is cut out.
    """
    raw = _raw_secrets(text)
    if not raw:
        return text, 0
    pieces: list[str] = []
    cursor = 0
    for _, _, start, end in sorted(raw, key=lambda item: item[2]):
        if start < cursor:
            continue
        pieces += [text[cursor:start], REDACTED]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), len(raw)


def new_secrets(text: str, previous: str = "") -> tuple[SecretFinding, ...]:
    """The secrets in `text` that `previous` does not already hold (same kind, same value).

    An update must not be refused for a secret that was stored on purpose earlier; only what
    this write brings in counts.
    """
    raw = _raw_secrets(text)
    if previous and raw:
        before = {(kind, previous[start:end]) for kind, _, start, end in _raw_secrets(previous)}
        raw = [item for item in raw if (item[0], text[item[2] : item[3]]) not in before]
    return _findings(text, raw)


def refuse_secrets(
    text: str,
    *,
    previous: str = "",
    allow: bool = False,
    where: Callable[[int], str] | None = None,
) -> tuple[SecretFinding, ...]:
    """Raise RefusedError if `text` brings in a likely secret, unless `allow`.

    Returns the new findings (empty when there are none, or all of them when allowed).
    `where(line)` names a line for the message (e.g. "body line 3").
    """
    findings = new_secrets(text, previous)
    if findings and not allow:
        first = findings[0]
        place = where(first.line) if where is not None else f"line {first.line}"
        more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
        raise RefusedError(
            f"refused: likely secret ({first.kind}) at {place}{more}: {first.excerpt!r}; nothing was written. "
            "Remove it, or store it anyway with --allow-secrets"
        )
    return findings


# --- prompt injection ------------------------------------------------------------------


@dataclass(frozen=True)
class _InjectionRule:
    kind: str
    reason: str
    pattern: str
    needles: tuple[str, ...]  # as for secrets: lowercase when the rule ignores case
    flags: int = re.IGNORECASE


_OVERRIDE_TARGET = (
    r"(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guardrails|messages?|context|"
    r"commands?|constraints|policies|training)"
)
_INJECTION_RULES: tuple[_InjectionRule, ...] = (
    _InjectionRule(
        "instruction-override",
        "asks to ignore earlier instructions",
        r"\b(?:ignore|disregard|forget|override|bypass|abandon|discard)\s+(?:(?:all|any|every|the|your|of|my)\s+){0,3}"
        r"(?:previous|prior|above|earlier|preceding|former|original|initial|system|developer|safety)\s+"
        + _OVERRIDE_TARGET,
        ("ignore", "disregard", "forget", "override", "bypass", "abandon", "discard"),
    ),
    _InjectionRule(
        "instruction-override",
        "asks to forget everything",
        r"\bforget\s+(?:everything|all)\s+(?:you\s+(?:know|were\s+told|have\s+been\s+told)|above|before|so\s+far)",
        ("forget",),
    ),
    _InjectionRule(
        "instruction-override",
        "announces new instructions",
        r"^[ \t>#*-]*(?:new|updated|real|actual|true|additional|secret|hidden)\s+(?:system\s+)?instructions?\s*:",
        ("instruction",),
        re.IGNORECASE | re.MULTILINE,
    ),
    _InjectionRule(
        "instruction-override",
        "tries to change the agent's role",
        r"\byou\s+are\s+(?:now|no\s+longer)\s+(?:an?\s+)?(?:DAN\b|unrestricted|unfiltered|jailbroken|uncensored|"
        r"in\s+(?:developer|god|jailbreak|dan|debug)\s+mode|bound\s+by|restricted\s+by|required\s+to\s+follow)"
        r"|\b(?:enter|enable|activate)\s+(?:developer|god|jailbreak|DAN)\s+mode\b"
        r"|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|jailbroken|DAN\b)",
        ("you are", "mode", "act as"),
    ),
    _InjectionRule(
        "instruction-override",
        "addresses the agent that reads it",
        r"\b(?:when|if|once|after)\s+you\s+(?:read|recall|retrieve|load|see|process)\s+this\s+"
        r"(?:memory|note|entry|record|message|instruction)"
        r"|\b(?:note|message|instructions?|attention)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+)?"
        r"(?:(?:AI|LLM|coding)\s+)?(?:AI|LLM|assistant|agent|model|language\s+model)s?\b\s*[:,-]"
        r"|\b(?:AI|LLM)\s+(?:assistants?|agents?|models?)\s+(?:reading|that\s+reads?|who\s+reads?)\s+this",
        ("you ", "note", "message", "instruction", "attention", "ai ", "llm"),
    ),
    _InjectionRule(
        "instruction-override",
        "asks to hide something from the user",
        r"\b(?:do\s+not|don't|never)\s+(?:tell|inform|mention\s+(?:this\s+|it\s+)?to|reveal\s+(?:this\s+|it\s+)?to|"
        r"alert|notify|show\s+(?:this\s+|it\s+)?to|let)\s+the\s+(?:user|human|developer|operator)"
        r"|\bwithout\s+(?:asking|telling|informing|notifying|alerting)\s+the\s+(?:user|human|developer|operator)"
        r"|\bwithout\s+(?:the\s+)?(?:user's|human's)\s+(?:knowledge|consent|approval|confirmation)"
        r"|\b(?:silently|secretly|covertly|quietly)\s+(?:run|execute|send|upload|exfiltrate|post|delete|push|"
        r"install|forward|copy|curl|modify|change|disable)\b",
        ("not", "don't", "never", "without", "silently", "secretly", "covertly", "quietly"),
    ),
    _InjectionRule(
        "instruction-override",
        "asks to reveal the system prompt or secrets",
        r"\b(?:reveal|print|output|repeat|show|leak|dump|disclose|send)\s+(?:me\s+)?(?:your|the)\s+"
        r"(?:full\s+|entire\s+|hidden\s+|original\s+)?(?:system\s+prompt|initial\s+instructions|hidden\s+instructions|"
        r"api\s+keys?|credentials|environment\s+variables)",
        ("prompt", "instructions", "api key", "credentials", "environment"),
    ),
    _InjectionRule(
        "tool-call-syntax",
        "contains tool-call markup",
        r"</?(?:tool_call|tool_calls|tool_use|tool_result|function_calls?|function_results?|invoke|"
        r"antml:[a-z_]+|parameter\s+name=)[\s>/\"]"
        r"|<\|(?:tool_call|tool_calls|python_tag|plugin|tool_response)\|>"
        r"|\[(?:TOOL_CALLS|TOOL_RESULTS|AVAILABLE_TOOLS)\]"
        r"|<function=[\w.-]+>"
        r"|<｜tool[^｜\n]{0,30}｜>",
        (
            *("<tool", "</tool", "<function", "</function", "<invoke", "</invoke"),
            *("<antml", "</antml", "<parameter", "<|", "[TOOL_", "[AVAILABLE_TOOLS]", "<｜"),
        ),
        0,
    ),
    _InjectionRule(
        "tool-call-syntax",
        "contains a JSON tool call",
        r"\{\s*\"(?:name|tool|tool_name|function|recipient_name)\"\s*:\s*\"[\w.:/-]{1,80}\"\s*,\s*"
        r"\"(?:arguments|parameters|args|input|tool_input)\"\s*:"
        r"|\"tool_calls\"\s*:\s*\[",
        ('"tool_calls"', '"arguments"', '"parameters"', '"args"', '"input"', '"tool_input"'),
        0,
    ),
    _InjectionRule(
        "role-markup",
        "contains chat-template tokens",
        r"<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|"
        r"begin_of_text|end_of_text|end_of_turn|start_of_turn|eom_id)\|>"
        r"|<(?:start|end)_of_turn>|\[/?INST\]|<</?SYS>>",
        ("<|", "_of_turn>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"),
        0,
    ),
    _InjectionRule(
        "role-markup",
        "contains role tags",
        r"</?(?:system|system[-_]reminder|system[-_]prompt|assistant|developer[-_]message)>",
        ("<system", "</system", "<assistant", "</assistant", "<developer", "</developer"),
    ),
    _InjectionRule(
        "role-markup",
        "starts a line as a chat turn",
        r"^[ \t]*(?:Human|Assistant|SYSTEM)[ \t]*:[ \t]*\S",
        ("Human", "Assistant", "SYSTEM"),
        re.MULTILINE,
    ),
    _InjectionRule(
        "role-markup",
        "starts a line as a system or instruction turn",
        # `System: Ubuntu 22.04` is a fact; `System: ... always pass --force` speaks to the model.
        r"^[ \t#>*-]*(?:system|developer)[ \t]*:[^\n]{0,200}?\b(?:you|your|always|never|must|ignore|agents?|"
        r"assistant|model|obey|follow|do\s+not|don't|from\s+now|elevated|override)\b"
        r"|^[ \t]*#{2,}[ \t]*(?:instruction|response|input|system)s?[ \t]*:?[ \t]*#*[ \t]*$"
        r"|\bsystem\s+prompt\s+(?:override|update|injection|change)|\boverride\s+(?:the\s+|your\s+)?system\s+prompt",
        ("system", "developer", "###", "## "),
        re.IGNORECASE | re.MULTILINE,
    ),
    _InjectionRule(
        "instruction-override",
        "asks to ignore earlier instructions",
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+)?(?:text\s+)?above\b"
        r"|\bset\s+aside\s+(?:what|everything|all)\b[^.\n]{0,40}\b(?:told|instructed|said)\b"
        r"|\b(?:supersedes?|overrides?|replaces?|take\s+precedence\s+over|takes\s+precedence\s+over)\s+"
        r"(?:all\s+|any\s+)?(?:prior|previous|earlier|other|your|existing)\s+(?:ones|instructions|rules|guidelines|prompts?)"
        r"|\b(?:higher|greater|top)\s+priority\s+than\s+(?:the\s+|your\s+|any\s+)?(?:system|developer|user|previous|other)"
        r"|\bignore\s+(?:the\s+)?(?:user|human)(?:'s)?\s+(?:request|instructions?|question|wishes|message)"
        r"|\b(?:do\s+not|don't|stop)\s+(?:follow(?:ing)?|obey(?:ing)?)\s+(?:your|the|any)\s+"
        r"(?:guidelines|rules|instructions|system\s+prompt|policies)"
        r"|\b(?:bypass|circumvent|disable|turn\s+off|ignore)\s+(?:all\s+|any\s+|your\s+|the\s+)*"
        r"(?:restrictions|safety\s+(?:filters?|checks?|guidelines|measures)|content\s+polic(?:y|ies)|guardrails)",
        (
            "ignore",
            "disregard",
            "forget",
            "aside",
            "supersede",
            "override",
            "replace",
            "precedence",
            "priority",
            "follow",
            "obey",
            "bypass",
            "circumvent",
            "disable",
            "turn off",
        ),
    ),
    _InjectionRule(
        "instruction-override",
        "asks to ignore earlier instructions (in another language)",
        r"\bignora\s+(?:todas\s+)?(?:las\s+)?instrucciones\s+(?:anteriores|previas)"
        r"|\bignorier(?:e|en)?\s+(?:alle\s+)?(?:vorherigen|bisherigen|obigen|früheren)\s+(?:anweisungen|instruktionen|befehle)"
        r"|\bignore[rz]?\s+(?:toutes\s+)?(?:les\s+)?instructions\s+(?:précédentes|precedentes|antérieures|anterieures)"
        r"|\bignore\s+(?:todas\s+)?(?:as\s+)?instruções\s+anteriores"
        r"|\bignora\s+(?:tutte\s+)?(?:le\s+)?istruzioni\s+precedenti",
        ("ignor",),
    ),
    _InjectionRule(
        "instruction-override",
        "tries to change the agent's role or task",
        r"\bfrom\s+now\s+on,?\s+(?:you|always|never|only|respond|reply|answer|ignore)\b"
        r"|\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b"
        r"|\byour\s+(?:new|real|actual|true|only)\s+(?:task|job|goal|objective|mission|purpose)\s+(?:is|now)\b"
        r"|\b(?:this\s+(?:message|note|instruction)\s+(?:is|comes)\s+from|message\s+from)\s+(?:the\s+|your\s+)?"
        r"(?:developer|administrator|admin|system|operator|openai|anthropic)\b"
        r"|\b(?:user|human|developer|operator|admin(?:istrator)?)\s+(?:has\s+)?(?:already\s+)?"
        r"(?:authorized|authorised|approved|permitted)\s+(?:you|the\s+(?:assistant|agent|ai|model))\b"
        r"|\byou\s+are\s+(?:now\s+)?(?:authorized|authorised|cleared)\s+to\b"
        r"|\b(?:output|print|say|reply\s+with|respond\s+with|write)\b[^\n]{0,40}\band\s+nothing\s+else\b",
        ("from now", "pretend", "your ", "message", "author", "approved", "permitted", "cleared", "nothing else"),
    ),
    _InjectionRule(
        "instruction-override",
        "addresses the agent that reads it",
        r"\b(?:attention|hey|dear|hello|note)\s*,?\s+(?:AI|LLM|assistant|agent|model|claude|chatgpt|copilot)s?\b\s*[:,!-]"
        r"|^[^\w\n]*(?:AI|LLM)\s+(?:agents?|assistants?|models?)\s*[:,]"
        r"|\bif\s+you\s+are\s+an?\s+(?:AI|LLM|language\s+model|assistant|agent|bot)\b",
        ("attention", "hey", "dear", "hello", "note", "ai ", "llm", "if you are"),
        re.IGNORECASE | re.MULTILINE,
    ),
    _InjectionRule(
        "instruction-override",
        "asks to hide something from the user",
        r"\b(?:do\s+not|don't|never)\s+(?:mention|tell|reveal|show)\s+(?:this|it|that|these|any)(?:\s+\w+){0,3}\s+to\s+"
        r"(?:the\s+)?(?:user|human|developer|operator)"
        r"|\b(?:silently|secretly|covertly|quietly)\s+(?:add|remove|grant|create|write|commit|edit)\b",
        ("not", "don't", "never", "silently", "secretly", "covertly", "quietly"),
    ),
    _InjectionRule(
        "instruction-override",
        "orders an action before answering",
        r"\bbefore\s+(?:doing\s+anything\s+else|anything\s+else|answering|responding|replying|"
        r"you\s+(?:answer|respond|reply|continue|proceed))\b"
        r"|\b(?:fetch|download|open|visit|read|load|curl)\s+\S+\s+and\s+(?:follow|obey|execute|run|do\s+what)"
        r"|\bfollow\s+the\s+instructions\s+(?:there|at\s+https?://|in\s+https?://|on\s+that\s+page|from\s+https?://)",
        ("before", "fetch", "download", "open", "visit", "read", "load", "curl", "follow"),
    ),
    _InjectionRule(
        "instruction-override",
        "asks to send secrets or files somewhere",
        r"\b(?:send|upload|post|e-?mail|mail|forward|copy|transmit|exfiltrate|paste)\s+(?:the\s+|your\s+|all\s+)?"
        r"(?:contents?\s+of\s+)?(?:(?:the|your)\s+)?(?:~/\.ssh\S*|\S*id_rsa|\S*id_ed25519|\.env\b|~/\.aws\S*|"
        r"credentials|secrets?|passwords?|api\s+keys?|tokens?|private\s+keys?|cookies?|repo(?:sitory)?)"
        r"(?:\s+\w+){0,3}\s+to\s+(?:https?://|\S+@\S+\.|[\w-]+\.(?:com|net|io|org|example|ru|xyz)\b)",
        ("send", "upload", "post", "mail", "forward", "copy", "transmit", "exfiltrate", "paste"),
    ),
    _InjectionRule(
        "instruction-override",
        "asks to install something that persists",
        r"\b(?:add|append|write|insert|put)\b[^\n]{0,80}(?:curl|wget|\|\s*(?:ba|z)?sh\b|eval|base64\s+-d|\bnc\b)"
        r"[^\n]{0,80}\bto\s+(?:your\s+|the\s+)?~?/?\.(?:bashrc|zshrc|profile|bash_profile)\b",
        ("bashrc", "zshrc", "profile"),
    ),
    _InjectionRule(
        "exfiltration-url",
        "loads a remote image or link whose URL carries data (exfiltration)",
        r"!\[[^\]\n]{0,200}\]\(\s*<?https?://[^)\s]{0,300}?[?&](?:d|data|q|c|cookie|token|secret|key|env|content|"
        r"msg|m|payload|exfil|leak|info|log|text|chat|conversation|history|context)=[^)\s]*\)"
        r"|<img\b[^>]{0,200}\bsrc\s*=\s*[\"']?https?://[^\s\"'>]{0,300}?[?&][\w-]{1,20}="
        r"|(?:!\[[^\]\n]{0,200}\]|\])\(\s*<?https?://[^)\s]{0,300}?[?&][\w-]{1,20}="
        r"(?:[^)&\s]*(?:\{[^}]*\}|\$\w|<[^>]*>|\b[A-Z][A-Z0-9]*_[A-Z0-9_]{2,}\b))"
        r"|^\[[^\]\n]{1,40}\]:\s*https?://\S{0,300}?[?&](?:d|data|q|c|cookie|token|secret|key|env|content|payload)="
        r"(?:\{[^}]*\}|\$\w|[A-Z][A-Z0-9]*_[A-Z0-9_]{2,})",
        ("http",),
        re.MULTILINE,
    ),
    _InjectionRule(
        "instruction-override",
        "hides instructions in an HTML comment",
        r"<!--(?:(?!-->).){0,400}?(?:\b(?:AI|LLM|agents?|assistants?|claude|copilot|gpt)\b|"
        r"\bbefore\s+(?:answering|responding|replying)|\|\s*(?:ba|z)?sh\b)",
        ("<!--",),
        re.IGNORECASE | re.DOTALL,
    ),
    _InjectionRule(
        "tool-call-syntax",
        "contains a JSON tool call",
        r"\{\s*\"tool\"\s*:\s*\"[\w.:/-]{1,80}\"\s*,\s*\"(?:command|cmd|code|script|query)\"\s*:"
        r"|\"(?:approved_by_user|user_approved|confirmed_by_user|user_confirmed)\"\s*:\s*true",
        ('"tool"', "approved", "confirmed"),
        0,
    ),
)

# Look-alike characters folded to ASCII before the rules run a second time: fullwidth forms,
# the Cyrillic and Greek letters that look Latin, and the digits of "1gn0re". One character
# for one character, so offsets (and line numbers) stay those of the original text.
_FOLD = str.maketrans(
    {
        **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
        "\u3000": " ",
        **dict(zip("аеорсухіјѕԁӏАЕОРСУХІЈЅВНКМТ", "aeopcyxijsdlAEOPCYXIJSBHKMT", strict=True)),
        **dict(zip("οαειντρκΟΑΕΙΝΤΡΚΒΜΗΖΧ", "oaeivtpkOAEINTPKBMHZX", strict=True)),
        **dict(zip("013457@$", "oieastas", strict=True)),
    }
)
_BASE64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,4096}={0,2}(?![A-Za-z0-9+/=])")
MAX_BASE64_RUNS = 20

# Characters that change what a model reads without changing what a person sees.
# Characters that change what a model reads without changing what a person sees. One
# character class (sre scans for it at C speed); what a run means is decided in `_hidden`.
_HIDDEN = re.compile(
    "[\U000e0000-\U000e007f"  # Unicode tags: invisible ASCII ("ASCII smuggling")
    "\u202a-\u202e\u2066-\u2069"  # bidirectional overrides and isolates (Trojan Source)
    "\u200b-\u200d\u2060-\u2064\u180e\u00ad\u034f\u115f\u1160\u3164\uffa0"  # zero-width, fillers
    "\ufeff"  # a byte-order mark (only suspicious after the start)
    "\U000e0100-\U000e01ef"  # variation selectors supplement: data hidden in 'emoji'
    "\x00-\x08\x0b-\x0d\x0e-\x1f\x7f-\x9f]+"  # control characters (terminal escapes, lone CR)
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]+")  # what `_HIDDEN` can find in ASCII text
_JOINERS = frozenset("\u200c\u200d")
_VISIBLE_ASCII = frozenset(chr(code) for code in range(0x21, 0x7F))


def _hidden(text: str, start: int, run: str) -> str | None:
    """Why a run of invisible characters is suspicious, or None when it is innocent: a
    CR ending a CRLF line, a byte-order mark at the start, joiners inside emoji or scripts
    that need them (only joiners between two ASCII characters have no use)."""
    if run == "\r" and text.startswith("\n", start + 1):
        return None
    if start == 0 and run == "\ufeff":
        return None
    if all(char in _JOINERS for char in run):
        before = text[start - 1] if start else ""
        after = text[start + len(run)] if start + len(run) < len(text) else ""
        if not (before in _VISIBLE_ASCII and after in _VISIBLE_ASCII):
            return None
    if run.strip("\r") == "" and text.startswith("\n", start + len(run)):
        return None  # CR CR LF and the like: odd line endings, nothing hidden
    return _hidden_reason(run.lstrip("\r") or run)


_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


def _hidden_reason(chars: str) -> str:
    first = ord(chars[0])
    if 0xE0000 <= first <= 0xE007F:
        return f"{len(chars)} invisible Unicode tag character(s) (hidden text)"
    if 0xE0100 <= first <= 0xE01EF:
        return f"{len(chars)} invisible variation selector(s) (hidden data)"
    if 0x202A <= first <= 0x202E or 0x2066 <= first <= 0x2069:
        return f"bidirectional control U+{first:04X} (text reads differently than it is)"
    if first == 0x0D:
        return "carriage return inside a line (a terminal overprints the text before it)"
    if first < 0x20 or 0x7F <= first <= 0x9F:
        return f"control character U+{first:04X}" + (" (terminal escape)" if first == 0x1B else "")
    return f"invisible character U+{first:04X}"


def _signal_excerpt(lines: _Lines, line: int, offset: int) -> str:
    start, end = lines.bounds(line)
    begin = max(start, offset - 20)
    text = printable(lines.text[begin : min(end, begin + EXCERPT_MAX * 2)]).strip()
    return ("…" if begin > start else "") + clip(text, EXCERPT_MAX)


def _rule_hits(text: str, note: str) -> list[tuple[int, str, str]]:
    """(offset, kind, reason + note) of every injection rule match in `text`."""
    hits: list[tuple[int, str, str]] = []
    lowered, aligned = _same_length_lower(text)
    for rule in _INJECTION_RULES:
        haystack = lowered if rule.flags & re.IGNORECASE else text
        if not any(needle in haystack for needle in rule.needles):
            continue
        compiled = _compiled_rule(rule.pattern, rule.flags)
        for match in _finditer(compiled, text, aligned):
            hits.append((match.start(), rule.kind, rule.reason + note))
            if len(hits) > MAX_SIGNALS * 4:
                return hits
    return hits


def _base64_hits(text: str) -> list[tuple[int, str, str]]:
    """Instructions hidden in base64: runs that decode to printable text the rules flag."""
    hits: list[tuple[int, str, str]] = []
    for count, match in enumerate(_BASE64_RUN.finditer(text)):
        if count >= MAX_BASE64_RUNS:
            break
        run = match.group()
        try:
            decoded = base64.b64decode(run + "=" * (-len(run) % 4), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if not decoded.isprintable() or not any(char == " " for char in decoded):
            continue
        inner = _rule_hits(decoded, "")
        if inner:
            _, kind, reason = inner[0]
            hits.append((match.start(), kind, reason + " (hidden in base64)"))
    return hits


def find_injection(text: str) -> tuple[InjectionSignal, ...]:
    """Signals that `text` is written to steer an agent rather than to inform it.

    At most one signal per (kind, reason, line) and `MAX_SIGNALS` in all, in line order.
    Cheap enough to run on every entry when the index is built.
    """
    hits = _rule_hits(text, "")
    folded = text.translate(_FOLD)
    if folded != text:
        # Only what the folded text adds: a rule that already fired on the line is not repeated.
        plain = {(kind, offset) for offset, kind, _ in hits}
        hits += [
            hit
            for hit in _rule_hits(folded, " (disguised with look-alike characters)")
            if (hit[1], hit[0]) not in plain
        ]
    hits += _base64_hits(text)
    for match in (_CONTROLS if text.isascii() else _HIDDEN).finditer(text):
        reason = _hidden(text, match.start(), match.group())
        if reason is not None:
            hits.append((match.start(), "hidden-unicode", reason))
            if len(hits) > MAX_SIGNALS * 8:
                break
    if not hits:
        return ()
    comments = [match.span() for match in _HTML_COMMENT.finditer(text)] if "<!--" in text else []
    lines = _Lines(text)
    seen: set[tuple[str, str, int]] = set()
    signals: list[InjectionSignal] = []
    for offset, kind, reason in sorted(hits):
        line = lines.number(offset)
        if (kind, reason, line) in seen:
            continue
        seen.add((kind, reason, line))
        hidden = kind != "hidden-unicode" and any(start <= offset < end for start, end in comments)
        shown_reason = reason + " inside an HTML comment (invisible when rendered)" if hidden else reason
        signals.append(InjectionSignal(kind, line, shown_reason, _signal_excerpt(lines, line, offset)))
        if len(signals) >= MAX_SIGNALS:
            break
    return tuple(signals)


def entry_flags(entry: Entry) -> tuple[InjectionSignal, ...]:
    """The injection signals of an entry as it is written to disk (lines are file lines)."""
    from .entry import dump_entry

    return find_injection(dump_entry(entry))


def summarize_signals(signals: Iterable[InjectionSignal], limit: int = 2) -> str:
    """`instruction-override at line 4 (...); role-markup at line 9 (...) and 3 more`."""
    items = list(signals)
    # One of each kind first: "role-markup" must not hide behind three instruction-overrides.
    firsts = {signal.kind: signal for signal in reversed(items)}
    items = [*reversed(firsts.values()), *(signal for signal in items if firsts[signal.kind] is not signal)]
    text = "; ".join(str(signal) for signal in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def iter_kinds(signals: Iterable[InjectionSignal]) -> Iterator[str]:
    """The distinct kinds among `signals`, in first-seen order (for compact markers)."""
    seen: set[str] = set()
    for signal in signals:
        if signal.kind not in seen:
            seen.add(signal.kind)
            yield signal.kind
