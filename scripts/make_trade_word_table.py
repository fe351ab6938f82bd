"""Regenerate core/data/trade-words.txt: how common each word is in the trade's own English -
what developers write to each other about their code - beside core/data/english-words.txt,
which says how common it is in English at large (docs/recall.md, "Word weights").

A prompt to a coding agent is made of the trade's words ("fix the failing test", "add a
timeout to the request"): rare in English at large, so the English table rates them as
informative, yet they say nothing about which subject is meant. The corpus here is the
register closest to such prompts: commit messages, imperative sentences about code. They come
from the history of public, permissively licensed projects across languages and fields (the
list is REPOSITORIES below; each one's licence is named there; `fetch` or `git clone` them).
Only word counts are shipped, never the text.

A word of the trade is common in many projects, not in a few: `pod` fills the history of a
Kubernetes project and `celery` of a task-queue one, yet neither says "programming". So the
frequency of a word is taken per project and averaged over the projects *after dropping the
TRIM projects where it is most frequent*: one project's (or a few projects') jargon counts
for little, a word all of them use keeps its rate.

Per project: the most recent MAX_MESSAGES commit messages that are not merges, not from bots,
without trailers (Signed-off-by: ...), URLs or hashes; words folded as the index folds them
and keyed by `lexicon.light_key` (so `fails`, `failed`, `failing` are one word); a word's rate
is -ln(1 - share of messages containing it) / mean words per message, i.e. per running word
as the English table's Zipf frequency is. The table gives ten times the Zipf frequency
(log10 of the rate per billion words) of each key at or above MINIMUM_ZIPF.

    .venv/bin/python scripts/make_trade_word_table.py /path/to/clones/* > core/data/trade-words.txt

(each argument a git directory or a clone of one of REPOSITORIES; others are refused.)
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from contextree.core.lexicon import light_key  # the installed project (make test's .venv)

# owner/name: licence (every one permits use; only counts of words are derived).
REPOSITORIES = {
    "Alamofire/Alamofire": "MIT",
    "BurntSushi/ripgrep": "MIT or Unlicense",
    "JamesNK/Newtonsoft.Json": "MIT",
    "Textualize/rich": "MIT",
    "aio-libs/aiohttp": "Apache-2.0",
    "alacritty/alacritty": "Apache-2.0 or MIT",
    "axios/axios": "MIT",
    "caddyserver/caddy": "Apache-2.0",
    "clap-rs/clap": "Apache-2.0 or MIT",
    "composer/composer": "MIT",
    "encode/httpx": "BSD-3-Clause",
    "eslint/eslint": "MIT",
    "expressjs/express": "MIT",
    "fastapi/fastapi": "MIT",
    "fmtlib/fmt": "MIT",
    "getsentry/sentry-python": "MIT",
    "gin-gonic/gin": "MIT",
    "gohugoio/hugo": "Apache-2.0",
    "google/gson": "Apache-2.0",
    "jekyll/jekyll": "MIT",
    "jestjs/jest": "MIT",
    "jqlang/jq": "MIT",
    "junegunn/fzf": "MIT",
    "ktorio/ktor": "Apache-2.0",
    "laravel/framework": "MIT",
    "libuv/libuv": "MIT",
    "nlohmann/json": "MIT",
    "numpy/numpy": "BSD-3-Clause",
    "pallets/click": "BSD-3-Clause",
    "pallets/flask": "BSD-3-Clause",
    "phoenixframework/phoenix": "MIT",
    "prettier/prettier": "MIT",
    "psf/black": "MIT",
    "psf/requests": "Apache-2.0",
    "pydantic/pydantic": "MIT",
    "pytest-dev/pytest": "MIT",
    "python-poetry/poetry": "MIT",
    "rubocop/rubocop": "MIT",
    "rust-lang/cargo": "Apache-2.0 or MIT",
    "scrapy/scrapy": "BSD-3-Clause",
    "serde-rs/serde": "Apache-2.0 or MIT",
    "sharkdp/bat": "Apache-2.0 or MIT",
    "sinatra/sinatra": "MIT",
    "spf13/cobra": "Apache-2.0",
    "sqlalchemy/sqlalchemy": "MIT",
    "square/okhttp": "Apache-2.0",
    "square/retrofit": "Apache-2.0",
    "sveltejs/svelte": "MIT",
    "tokio-rs/tokio": "MIT",
    "traefik/traefik": "MIT",
    "urllib3/urllib3": "MIT",
    "vitejs/vite": "MIT",
    "vuejs/core": "MIT",
    "webpack/webpack": "MIT",
}
MAX_MESSAGES = 5000
TRIM = 0.1  # the share of projects dropped, per word, where the word is most frequent
MINIMUM_ZIPF = 3.0
MINIMUM_PROJECTS = 5  # a word met in fewer projects is no word of the trade

WORD = re.compile(r"\w+")
URL = re.compile(r"\S+://\S+|\S+@\S+\.\S+")
HASH = re.compile(r"^[0-9a-f]{7,40}$")
TRAILER = re.compile(r"^[A-Za-z-]+-by:|^Change-Id:|^Reviewed-on:|^Closes?:|^Fixes:|^Refs?:", re.IGNORECASE)
BOT = re.compile(r"\[bot\]|dependabot|renovate|github-actions|pre-commit-ci|greenkeeper", re.IGNORECASE)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def messages(repo: Path) -> Iterable[str]:
    command = ["git", "-C", str(repo), "log", "--no-merges", f"-n{MAX_MESSAGES * 2}", "--format=%an%x1f%B%x1e", "HEAD"]
    log = subprocess.run(  # noqa: S603 - git on a repository the caller named
        command,
        capture_output=True,
        text=True,
        errors="replace",
        check=True,
    ).stdout
    taken = 0
    for record in log.split("\x1e"):
        author, _, body = record.strip("\n").partition("\x1f")
        if not body.strip() or BOT.search(author):
            continue
        lines = [line for line in body.splitlines() if not TRAILER.match(line.strip())]
        yield URL.sub(" ", "\n".join(lines))
        taken += 1
        if taken >= MAX_MESSAGES:
            return


def words(text: str) -> list[str]:
    found = []
    for word in WORD.findall(fold(text)):
        if word.isdigit() or HASH.match(word) or not any(char.isalpha() for char in word) or word == "_":
            continue
        found.append(light_key(word))
    return found


def project_rates(repo: Path) -> dict[str, float]:
    """The rate per running word of each key in one project's messages."""
    containing: Counter[str] = Counter()
    running = 0
    count = 0
    for message in messages(repo):
        found = words(message)
        if not found:
            continue
        count += 1
        running += len(found)
        containing.update(set(found))
    if not count:
        return {}
    per_message = running / count
    return {key: -math.log1p(-min(n / count, 0.999)) / per_message for key, n in containing.items()}


def name_of(repo: Path) -> str:
    """owner/name of a fetched mirror (/.../owner+name/repo) or of a clone (.../name)."""
    for part in (repo.parent.name, repo.name):
        if "+" in part:
            return part.replace("+", "/", 1)
    command = ["git", "-C", str(repo), "config", "--get", "remote.origin.url"]
    remote = subprocess.run(  # noqa: S603
        command,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return "/".join(remote.removesuffix(".git").split("/")[-2:])


def main(arguments: list[str]) -> int:
    projects: dict[str, dict[str, float]] = {}
    for argument in arguments:
        repo = Path(argument)
        name = name_of(repo)
        if name not in REPOSITORIES:
            print(f"{name} ({repo}) is not in REPOSITORIES: refused", file=sys.stderr)
            return 2
        projects[name] = project_rates(repo)
        print(f"{name}: {len(projects[name])} words", file=sys.stderr)
    missing = sorted(set(REPOSITORIES) - set(projects))
    if missing:
        print(f"missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    total = len(projects)
    dropped = round(TRIM * total)
    keys = set().union(*projects.values())
    groups: dict[int, list[str]] = {}
    for key in keys:
        rates = sorted((project.get(key, 0.0) for project in projects.values()), reverse=True)
        if sum(1 for rate in rates if rate > 0) < MINIMUM_PROJECTS:
            continue
        kept = rates[dropped:]
        rate = sum(kept) / len(kept)
        if rate <= 0:
            continue
        zipf = math.log10(rate * 1e9)
        if zipf >= MINIMUM_ZIPF:
            groups.setdefault(round(zipf * 10), []).append(key)
    out = sys.stdout
    out.write(f"# How common words are in commit messages of {total} public projects\n")
    out.write("# (scripts/make_trade_word_table.py lists them and their licences: MIT, Apache-2.0,\n")
    out.write("# BSD-3-Clause, Unlicense; only counts of words are derived, no text).\n")
    out.write(f"# Per project, then averaged without the {dropped} projects where the word is most frequent.\n")
    out.write("# Keyed by lexicon.light_key. Each line: ten times the Zipf frequency, a colon, then the keys.\n")
    for tenths in sorted(groups, reverse=True):
        out.write(f"{tenths}: " + " ".join(sorted(groups[tenths])) + " \n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
