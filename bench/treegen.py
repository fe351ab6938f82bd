"""Generate a synthetic memory tree of N entries with varied, realistic-looking text.

Word frequencies follow a Zipf law over a vocabulary that mixes common English words,
software terms and a long tail of generated identifiers (service names, error codes), so
the vocabulary grows with the tree the way a real team's memory does. Deterministic for a
given seed. Used by bench/scale.py and bench/watch_latency.py.

    .venv/bin/python bench/treegen.py OUT_DIR N [--seed 7]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contextree.core.entry import Entry, dump_entry

GENERATOR_VERSION = "2"

COMMON = """
the a to of and in is for on with that this it we be are as by not or from at use when
should must if our run can will all new has have after before only more than then so
each into out up do does set get its one two no any which who what how why where keep
""".split()
DOMAIN_WORDS = """
deploy release rollback service database postgres redis cache queue worker celery kafka
cluster node pod kubernetes helm terraform network latency timeout retry backoff error
exception crash incident alert metric dashboard grafana prometheus log trace sentry api
endpoint request response header token session auth login password secret key rotate
certificate tls dns proxy nginx gateway load balancer replica primary failover backup
restore migration schema index query transaction lock deadlock pool connection limit
memory cpu disk volume storage bucket s3 upload download file image video frontend
react typescript python django flask test fixture flaky ci pipeline build artifact cache
branch merge review pull commit tag version semver changelog feature flag rollout canary
customer tenant account billing invoice payment stripe webhook subscription plan price
email notification sms push mobile ios android browser safari chrome cookie cors csrf
owner team oncall rotation escalation runbook postmortem decision convention gotcha rule
""".split()
SYLLABLES = "ka lo mi ne ru sa to vi ze qu ar en il or ux by cr dr fl gr pl st tr zo".split()


def _identifier(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return word + (str(rng.randint(1, 999)) if rng.random() < 0.2 else "")


class Vocabulary:
    """Zipf-distributed words: a fixed head and a tail that grows with the tree size."""

    def __init__(self, rng: random.Random, size: int) -> None:
        tail = {_identifier(rng) for _ in range(size)}
        self.words = DOMAIN_WORDS + sorted(tail)
        rng.shuffle(self.words)
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng

    def word(self) -> str:
        point = self.rng.random() * self.cumulative[-1]
        return self.words[bisect.bisect_left(self.cumulative, point)]

    def sentence(self, length: int) -> str:
        words = [self.word() if self.rng.random() < 0.65 else self.rng.choice(COMMON) for _ in range(length)]
        return " ".join(words).capitalize() + "."


def slug(text: str) -> str:
    return "-".join(part for part in "".join(c if c.isalnum() else " " for c in text.lower()).split())[:60]


def layout(n: int) -> tuple[int, int]:
    """(domains, topics per domain) for n entries: about 10-100 entries per topic."""
    domains = max(3, min(20, round(n**0.33)))
    per_topic = max(10, min(100, n // (domains * 10) or 10))
    topics = max(2, n // (domains * per_topic))
    return domains, topics


def generate(root: Path, n: int, seed: int = 7) -> list[str]:
    """Write n entries under root (created with .gitignore and config); return their paths."""
    from contextree import Memory

    rng = random.Random(seed)
    Memory.init(root)
    vocabulary = Vocabulary(rng, size=max(2000, n // 2))
    domains, topics = layout(n)
    domain_names = [f"{slug(vocabulary.word())}-{d}" for d in range(domains)]
    topic_names = [[f"{slug(vocabulary.word())}-{t}" for t in range(topics)] for _ in range(domains)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    paths: list[str] = []
    for index in range(n):
        domain = domain_names[index % domains]
        topic = topic_names[index % domains][(index // domains) % topics]
        title = vocabulary.sentence(rng.randint(4, 9)).rstrip(".")
        path = f"{domain}/{topic}/{slug(title)[:40]}-{index}"
        paragraphs = [vocabulary.sentence(rng.randint(8, 24)) for _ in range(rng.randint(2, 8))]
        if rng.random() < 0.3:
            paragraphs.append(f"```\n$ {vocabulary.word()} --{vocabulary.word()} {vocabulary.word()}\n```")
        updated = start + timedelta(minutes=rng.randint(0, 60 * 24 * 600))
        entry = Entry(
            path=path,
            title=title,
            body="\n\n".join(paragraphs) + "\n",
            summary=vocabulary.sentence(rng.randint(6, 12)) if rng.random() < 0.5 else "",
            tags=tuple(dict.fromkeys(vocabulary.word() for _ in range(rng.randint(1, 3)))),
            keywords=tuple(dict.fromkeys(vocabulary.word() for _ in range(rng.randint(2, 5)))),
            importance=rng.randint(20, 95),
            maturity=rng.choice(["draft", "draft", "validated", "validated", "core"]),
            decay=rng.choice(["normal", "normal", "slow", "never"]),
            created=updated - timedelta(days=rng.randint(0, 90)),
            updated=updated,
            source=rng.choice(["user", "agent:claude-code", "agent:codex", "curate:slack"]),
        )
        file = root / (path + ".md")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(dump_entry(entry), encoding="utf-8")
        paths.append(path)
    (root / ".treegen").write_text(f"{GENERATOR_VERSION} {n} {seed}\n")
    return paths


def ensure_tree(root: Path, n: int, seed: int = 7) -> list[str]:
    """Reuse a tree generated earlier with the same parameters, else (re)generate it."""
    marker = root / ".treegen"
    if marker.exists() and marker.read_text().split() == [GENERATOR_VERSION, str(n), str(seed)]:
        return sorted(p.relative_to(root).as_posix()[:-3] for p in root.rglob("*.md") if p.name != "_index.md")
    if root.exists():
        import shutil

        shutil.rmtree(root)
    return generate(root, n, seed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    written = ensure_tree(arguments.out, arguments.n, arguments.seed)
    print(f"{len(written)} entries in {arguments.out}")
