"""Precision and recall of the secrets and injection detectors on corpora written apart
from the patterns (tests/data/detectors/: see the header of each file for how).

The floors below are the figures measured when the corpora were last changed; a detector
change that loses recall or gains false positives fails here. Run this file with
`-s` and `MEM_DETECTOR_REPORT=1` to print the figures and every miss.
"""

from __future__ import annotations

import os
from pathlib import Path

from contextree.core.safety import find_injection, find_secrets

DATA = Path(__file__).parent / "data" / "detectors"

# Measured on the corpora below (see docs/security.md, "Detectors: measured"). Before the
# issue-18 rules: secrets 62/83, injections 27/66, 9 secret findings on the benign corpus.
SECRET_RECALL_FLOOR = 1.0  # 83/83
INJECTION_RECALL_FLOOR = 1.0  # 66/66
BENIGN_SECRET_FALSE_POSITIVES_CEILING = 0
BENIGN_INJECTION_FALSE_POSITIVES_CEILING = 0
# The held-out files were written after those rules and run once, never tuned against: the
# out-of-sample figures. What they miss is listed in docs/security.md.
HOLDOUT_SECRET_RECALL_FLOOR = 16 / 20
HOLDOUT_INJECTION_RECALL_FLOOR = 18 / 20


def cases(name: str) -> list[tuple[str, str]]:
    """The `%% kind` blocks of a corpus file, as (kind, text)."""
    blocks: list[tuple[str, list[str]]] = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("%% "):
            blocks.append((line[3:].strip(), []))
        elif blocks:
            blocks[-1][1].append(line)
    return [(kind, "\n".join(lines) + "\n") for kind, lines in blocks]


def report(title: str, misses: list[str]) -> None:
    if os.environ.get("MEM_DETECTOR_REPORT"):
        print(f"\n{title}: {len(misses)}")
        for miss in misses:
            print("  ", miss)


def test_corpora_are_big_enough() -> None:
    benign_lines = sum(len(text.splitlines()) for _, text in cases("benign.txt"))
    assert benign_lines >= 200
    assert len(cases("secrets.txt")) >= 60
    assert len(cases("injections.txt")) >= 60


def test_secret_recall() -> None:
    corpus = cases("secrets.txt")
    missed = [kind for kind, text in corpus if not find_secrets(text)]
    report("secrets missed", missed)
    recall = 1 - len(missed) / len(corpus)
    assert recall >= SECRET_RECALL_FLOOR, f"secret recall {recall:.3f}; missed {missed}"


def test_injection_recall() -> None:
    corpus = cases("injections.txt")
    missed = [kind for kind, text in corpus if not find_injection(text)]
    report("injections missed", missed)
    recall = 1 - len(missed) / len(corpus)
    assert recall >= INJECTION_RECALL_FLOOR, f"injection recall {recall:.3f}; missed {missed}"


def test_benign_prose_raises_nothing() -> None:
    corpus = cases("benign.txt")
    secret_hits = [f"{kind}: {finding}" for kind, text in corpus for finding in find_secrets(text)]
    injection_hits = [f"{kind}: {signal}" for kind, text in corpus for signal in find_injection(text)]
    report("benign flagged as secret", secret_hits)
    report("benign flagged as injection", injection_hits)
    assert len(secret_hits) <= BENIGN_SECRET_FALSE_POSITIVES_CEILING, secret_hits
    assert len(injection_hits) <= BENIGN_INJECTION_FALSE_POSITIVES_CEILING, injection_hits


def test_holdout_figures() -> None:
    secrets, injections, benign = (
        cases("holdout-secrets.txt"),
        cases("holdout-injections.txt"),
        cases("holdout-benign.txt"),
    )
    missed_secrets = [kind for kind, text in secrets if not find_secrets(text)]
    missed_injections = [kind for kind, text in injections if not find_injection(text)]
    flagged = [kind for kind, text in benign if find_secrets(text) or find_injection(text)]
    report("held-out secrets missed", missed_secrets)
    report("held-out injections missed", missed_injections)
    assert 1 - len(missed_secrets) / len(secrets) >= HOLDOUT_SECRET_RECALL_FLOOR, missed_secrets
    assert 1 - len(missed_injections) / len(injections) >= HOLDOUT_INJECTION_RECALL_FLOOR, missed_injections
    assert flagged == []
