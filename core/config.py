"""`config.yaml`: every key optional, every key with a default, every value type-checked.

The schema is the set of frozen dataclasses below: one per top-level section. Reading merges
the file over the defaults; a value of the wrong type is an error naming the key, an unknown
key is a warning (a typo should be visible, not fatal). `config set` edits the file with
ruamel.yaml so the comments a person wrote survive.
"""

from __future__ import annotations

import dataclasses
import io
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .display import clip, shown
from .errors import InvalidError, MemError, NotFoundError
from .safeio import read_regular
from .suggest import did_you_mean

CONFIG_FILE = "config.yaml"
# Provenance of a write when neither --source nor `source:` is given (before write.default_source);
# agent hooks set it (core/agents.py), and git's author name falls back to it (core/git.py).
SOURCE_ENV = "MEM_SOURCE"
CONFIG_MAX_BYTES = 1024 * 1024  # a configuration is a few hundred bytes


@dataclass(frozen=True)
class LimitsConfig:
    """Size and waiting limits of reads and writes."""

    max_body_bytes: int = 1 << 20  # an entry body larger than this is refused (1 MiB)
    lock_timeout_seconds: float = 10.0  # how long a writer waits for the tree's write lock


@dataclass(frozen=True)
class WriteConfig:
    """Defaults of writes."""

    default_source: str = "user"  # provenance when neither --source nor MEM_SOURCE is given


@dataclass(frozen=True)
class RecallConfig:
    """Ranking, candidates and gates of the cheap recall tiers (docs/recall.md)."""

    k: int = 10  # results returned by default
    candidates: int = 100  # BM25 candidates re-ranked per query ...
    # ... in a scope of more entries than this; in a smaller one every BM25 match is re-ranked:
    # the cap is for speed at scale, and under it the ranking aids (forms, feedback, topic
    # context, speakers) reach entries BM25 alone ranks low.
    rerank_all_entries: int = 1000
    # Words in more than this share of the entries, and in more than `common_term_entries`
    # entries, do not select BM25 candidates (they still count in the coverage): speed at scale.
    common_term_share: float = 0.2
    common_term_entries: int = 1000
    # BM25 field weights: title, keywords+tags, path words, summary, body. Equal weights
    # measured best on both benchmarks (docs/benchmarks.md): BM25's length normalisation
    # already favours a match in a short field such as the title.
    weight_title: float = 1.0
    weight_keywords: float = 1.0
    weight_path: float = 1.0
    weight_summary: float = 1.0
    weight_body: float = 1.0
    # Topic context: share of an entry's keyword relevance that comes from how relevant its
    # folder is as a whole (the sum of its best `topic_top` entries' relevance).
    topic_context: float = 0.3
    topic_top: int = 5
    # Relevance passed to the lifecycle ranking is (score / best score) ** sharpness: higher
    # values let relevance dominate importance and recency more.
    relevance_sharpness: float = 2.0
    # How fast the tree's own word statistics take over from the language's (docs/recall.md,
    # "Word weights"): at this many entries they count half.
    tree_trust_entries: float = 50.0
    # An entry gains this share of the relevance of the entries it is explicitly linked with
    # (`related`, supersedes): docs/recall.md, "Links".
    link_share: float = 0.3
    # Pseudo-relevance feedback, for ranking only: the most distinctive words of the best
    # `feedback_entries` keyword matches (`feedback_words` of them) lift the entries that have
    # them by up to `feedback_share` of the best match (docs/recall.md, "Feedback"); 0 turns it off.
    feedback_share: float = 0.3
    feedback_entries: int = 10
    feedback_words: int = 10
    # A question that names a person ("what did Caroline paint?"): the entries that person
    # said (`speaker`, or a transcript's "Caroline: ..." turn) have their relevance multiplied
    # by 1 + `speaker_gain`, for ranking only (docs/recall.md, "Speakers"); 0 turns it off.
    speaker_gain: float = 0.5
    # Kinds of answer, for ranking only (docs/recall.md, "Kinds of answer"): a question asking
    # when or how many multiplies the relevance of entries that say a time or a number by
    # 1 + `answer_gain`; an entry whose text is a question keeps 1 - `question_penalty` of it.
    answer_gain: float = 0.5
    question_penalty: float = 0.15
    # A list-like question ("which books has Ana read"): each place a folder already has
    # multiplies its next entry's score by `diversity_penalty` against entries of other
    # folders whose coverage is at least `diversity_comparable` x its own (docs/recall.md,
    # "Diversity"); a penalty of 1 turns it off.
    diversity_penalty: float = 0.8
    diversity_comparable: float = 0.9
    superseded_penalty: float = 0.5  # score factor for entries marked `superseded_by` a newer one
    # Gates (docs/recall.md). A tier is confident - the query is resolved - when its best
    # hit's coverage (0-1, the share of the query's informative content it accounts
    # for) reaches the floor and leads the runner-up by the margin. A query
    # is about something the memory knows when some hit reaches its tier's minimum;
    # otherwise the answer is "no memory about this" and no hit is shown.
    keyword_floor: float = 0.5
    keyword_margin: float = 0.08
    keyword_minimum: float = 0.15
    fuzzy_floor: float = 0.72
    fuzzy_margin: float = 0.05
    fuzzy_minimum: float = 0.4
    # A tier's minimum is at least this when a heavy word of the question is foreign: in no
    # form in the memory and no common word (a name: "Vercel"; docs/recall.md, "Foreign words").
    foreign_minimum: float = 0.3
    # An entry that shares a single word with a question of several must cover at least this
    # share of it to count (a coincidence otherwise: "rotate ssh keys on the bastion host"
    # against a password-rotation runbook; docs/recall.md, "One word in common").
    one_word_minimum: float = 0.4
    fuzzy_min_similarity: float = 80.0  # rapidfuzz ratio (0-100) for a word to count as a typo match
    # Jaro-Winkler similarity (0-1) for a word that may be a person's name to match a name
    # written another way (`dmitry`/Dmitri 0.93, `tim`/Tom 0.80): docs/recall.md, "Names".
    name_min_similarity: float = 0.9
    record_access: bool = True  # count uses in .mem/state.db: read in full, confirmed, cited (docs/lifecycle.md)


@dataclass(frozen=True)
class LifecycleConfig:
    """Importance, recency, maturity and archiving (docs/lifecycle.md has the formulas)."""

    importance_bump_on_update: int = 5  # frontmatter importance rises by this on every update
    access_bonus: float = 3.0  # added to importance per use (read in full, confirmed, cited by a model)
    importance_daily_decay: float = 0.995  # effective importance x this ^ days since update (decay: normal)
    importance_daily_decay_slow: float = 0.999  # the same for decay: slow (decay: never does not fade)
    half_life_days_normal: float = 21.0  # recency halves every 21 days without update or access
    half_life_days_slow: float = 180.0
    # rank = relevance x (1 + tie_window x (2 x standing - 1)), standing = the importance and
    # recency blend below x maturity boost / core's boost (0-1): docs/lifecycle.md "Ranking".
    tie_window: float = 0.15
    weight_importance: float = 0.2
    weight_recency: float = 0.2
    boost_core: float = 1.15
    boost_validated: float = 1.0
    boost_draft: float = 0.85
    promote_validated_at: float = 65.0  # draft -> validated
    promote_core_at: float = 85.0  # any -> core
    promote_min_days: float = 7.0  # usage cannot promote an entry updated fewer days ago than this
    demote_core_below: float = 60.0  # core -> validated
    demote_validated_below: float = 35.0  # validated -> draft
    archive_below: float = 35.0  # drafts under this effective importance ...
    archive_after_days: float = 60.0  # ... untouched this long are archived by consolidate
    # Near-duplicates (`mem consolidate`): two entries are proposed for a merge when they share
    # this share of their distinct words (Jaccard) ...
    duplicate_min_overlap: float = 0.3
    # ... and 0.3 x rapidfuzz token_set_ratio(titles) + 0.7 x token_set_ratio(bodies) >= this.
    duplicate_min_similarity: float = 68.0
    duplicate_title_weight: float = 0.3


@dataclass(frozen=True)
class GitConfig:
    """Commits of writes and `mem sync` (docs/git.md)."""

    # null: commit each write when the memory folder is a repository of its own (`mem init
    # --git`, or a clone of one), never when it sits inside a larger repository.
    autocommit: bool | None = None
    author_name: str | None = None  # else MEM_GIT_AUTHOR_NAME, else "NAME (mem)" for MEM_SOURCE=agent:NAME, else git's
    author_email: str | None = None  # else MEM_GIT_AUTHOR_EMAIL, else git's own configuration
    remote: str = "origin"  # the remote `mem sync` pulls from and pushes to
    branch: str | None = None  # the branch `mem sync` works on; null: the current one


@dataclass(frozen=True)
class LLMConfig:
    """The model behind the `llm` and `agent` tiers and `mem curate` (docs/llm.md).

    MEM_LLM_MODEL, MEM_LLM_API_BASE and MEM_LLM_API_KEY override model, api_base and
    api_key; keep keys in the environment (or the provider's own variable, e.g.
    OPENAI_API_KEY), not in this file, which is usually committed.
    """

    model: str | None = None  # a litellm model name: openai/gpt-4o-mini, anthropic/..., ollama_chat/llama3.1
    api_base: str | None = None  # for Ollama or any OpenAI-compatible server
    api_key: str | None = None
    timeout_seconds: float = 30.0  # per attempt, the whole call (connect, wait, read), not per read
    # The whole model escalation of one recall (llm and agent tiers, retries included): past
    # it, recall answers from the cheap tiers with a note.
    recall_deadline_seconds: float = 20.0
    # An endpoint that refused or could not be reached is skipped (with a note) for this long:
    # remembered in .mem/llm-unreachable.json, so a model that is away costs nothing twice.
    unreachable_ttl_seconds: float = 60.0
    max_retries: int = 2  # more attempts after a rate limit (429), a 5xx or a dropped connection
    retry_backoff_seconds: float = 1.0  # first wait; doubles on each retry (a Retry-After header wins, capped)
    max_tokens: int = 1024  # the longest reply asked for
    temperature: float = 0.0
    json_mode: bool = True  # ask for a JSON object (response_format); off for servers that refuse it
    candidate_budget_tokens: int = 3000  # entry text sent to the llm tier, spread over the candidates
    max_candidates: int = 8  # entries the llm tier may choose from
    agent_max_steps: int = 6  # model calls the agent tier may make
    agent_max_tokens: int = 20000  # tokens (in + out) the agent tier may spend
    cache: bool = True  # keep answers in .mem/llm-cache.db, keyed by query and content version
    curate_chunk_tokens: int = 2000  # `mem curate` reads long text in chunks of about this size
    curate_max_items: int = 40  # knowledge items taken from one `mem curate` input


@dataclass(frozen=True)
class WatchConfig:
    """The watcher: `mem watch`, and the one `mem mcp` runs (docs/watch.md)."""

    # docs/watch.md. A flush waits until no event came for debounce_ms (an editor's save or
    # a checkout is a burst of events), but never longer than max_delay_ms after the first
    # pending event, so a steady stream of changes is still applied about once a second.
    debounce_ms: int = 200
    max_delay_ms: int = 1000
    mcp: bool = True  # `mem mcp` runs a watcher in-process (recall then skips its stat scan)


HOOK_EVENTS = ("session-start", "prompt", "pre-compact", "session-end", "stop")


@dataclass(frozen=True)
class HooksConfig:
    """`mem hook EVENT`, called by the agents' hook systems (docs/agents.md#hooks)."""

    # Which events `mem init --agent NAME --hooks` installs (an agent without an event skips
    # it; Codex has no session end, so it captures at `stop`, after every turn, instead).
    events: tuple[str, ...] = ("session-start", "prompt", "pre-compact", "session-end")
    deadline_ms: int = 1500  # the prompt hook gives up and prints nothing after this long
    prompt_budget_tokens: int = 400  # memory injected before one prompt, at most
    prompt_max_entries: int = 3  # confident entries injected before one prompt, at most
    prompt_lines_per_entry: int = 6  # lines of each entry's body shown (the rest: `mem show PATH`)
    prompt_max_tier: str = "fuzzy"  # the last recall tier the prompt hook walks (llm: also the model)
    prompt_extra_floor: float = 0.0  # an injected hit clears its tier's recall floor by this much more
    session_budget_tokens: int = 800  # the session-start briefing, at most
    session_deadline_ms: int = 5000  # the session-start hook gives up after this long
    capture: bool = True  # pre-compact, session-end and stop capture the new turns of the transcript
    capture_max_tokens: int = 6000  # transcript text taken by one capture (the rest: the next one)
    capture_deadline_seconds: float = 110.0  # a capture stops after this long (the agent's timeout: 120)


@dataclass(frozen=True)
class LayersConfig:
    """Other memories searched beside this one (docs/concepts.md, "Layers of memory")."""

    personal: bool = True  # search (and write with --personal) the user's personal memory (MEM_PERSONAL_ROOT)
    # Read-only memories searched too: paths relative to this memory's folder, `name=path` to name one.
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """The whole configuration: one section per top-level key of config.yaml."""

    limits: LimitsConfig = field(default_factory=LimitsConfig)
    write: WriteConfig = field(default_factory=WriteConfig)
    recall: RecallConfig = field(default_factory=RecallConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    git: GitConfig = field(default_factory=GitConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)
    layers: LayersConfig = field(default_factory=LayersConfig)
    hooks: HooksConfig = field(default_factory=HooksConfig)
    # Problems found while reading the file that did not stop it from loading.
    warnings: tuple[str, ...] = field(default=(), compare=False)


_SECTION_NAMES = tuple(f.name for f in dataclasses.fields(Config) if f.name != "warnings")


def _section_types() -> dict[str, type[Any]]:
    hints = typing.get_type_hints(Config)
    return {name: hints[name] for name in _SECTION_NAMES}


# Allowed ranges, inclusive. Every number not listed must be finite, >= 0 and <= NUMBER_MAX:
# a shared, committed config.yaml must not hang (a NaN lock timeout), crash (a zero half
# life, a 10**30 candidate count) or be formatted into SQL as "nan".
NUMBER_MAX = 1_000_000_000
PERCENT = (0.0, 100.0)
SHARE = (0.0, 1.0)
_RANGES: dict[str, tuple[float, float]] = {
    "limits.max_body_bytes": (1, 1 << 30),
    "limits.lock_timeout_seconds": (0.0, 3600.0),
    "recall.k": (1, 1000),
    "recall.candidates": (1, 100_000),
    "recall.rerank_all_entries": (0, 100_000),
    "recall.common_term_share": SHARE,
    "recall.common_term_entries": (1, NUMBER_MAX),
    "recall.weight_title": (0.0, 1000.0),
    "recall.weight_keywords": (0.0, 1000.0),
    "recall.weight_path": (0.0, 1000.0),
    "recall.weight_summary": (0.0, 1000.0),
    "recall.weight_body": (0.0, 1000.0),
    "recall.topic_context": SHARE,
    "recall.topic_top": (1, 1000),
    "recall.diversity_penalty": SHARE,
    "recall.diversity_comparable": SHARE,
    "recall.relevance_sharpness": (0.0, 100.0),
    "recall.superseded_penalty": SHARE,
    "recall.keyword_floor": SHARE,
    "recall.keyword_margin": SHARE,
    "recall.keyword_minimum": SHARE,
    "recall.fuzzy_floor": SHARE,
    "recall.fuzzy_margin": SHARE,
    "recall.fuzzy_minimum": SHARE,
    "recall.foreign_minimum": SHARE,
    "recall.one_word_minimum": SHARE,
    "recall.fuzzy_min_similarity": PERCENT,
    "recall.name_min_similarity": SHARE,
    "recall.feedback_share": SHARE,
    "recall.feedback_entries": (0, 1000),
    "recall.feedback_words": (1, 1000),
    "recall.speaker_gain": (0.0, 100.0),
    "recall.answer_gain": (0.0, 100.0),
    "recall.question_penalty": SHARE,
    "lifecycle.importance_bump_on_update": (0, 100),
    "lifecycle.access_bonus": (0.0, 100.0),
    "lifecycle.importance_daily_decay": (0.5, 1.0),
    "lifecycle.importance_daily_decay_slow": (0.5, 1.0),
    "lifecycle.half_life_days_normal": (0.01, 36_500.0),
    "lifecycle.half_life_days_slow": (0.01, 36_500.0),
    "lifecycle.weight_importance": SHARE,
    "lifecycle.weight_recency": SHARE,
    "lifecycle.boost_core": (0.0, 10.0),
    "lifecycle.boost_validated": (0.0, 10.0),
    "lifecycle.boost_draft": (0.0, 10.0),
    "lifecycle.promote_validated_at": PERCENT,
    "lifecycle.promote_core_at": PERCENT,
    "lifecycle.demote_core_below": PERCENT,
    "lifecycle.demote_validated_below": PERCENT,
    "lifecycle.archive_below": PERCENT,
    "lifecycle.archive_after_days": (0.0, 36_500.0),
    "lifecycle.duplicate_min_overlap": SHARE,
    "lifecycle.duplicate_min_similarity": PERCENT,
    "lifecycle.duplicate_title_weight": SHARE,
    "llm.timeout_seconds": (0.1, 3600.0),
    "llm.recall_deadline_seconds": (0.1, 3600.0),
    "llm.max_retries": (0, 10),
    "llm.retry_backoff_seconds": (0.0, 60.0),
    "llm.unreachable_ttl_seconds": (0.0, 86_400.0),
    "llm.max_tokens": (1, 1_000_000),
    "llm.temperature": (0.0, 2.0),
    "llm.candidate_budget_tokens": (1, 1_000_000),
    "llm.max_candidates": (1, 100),
    "llm.agent_max_steps": (1, 100),
    "llm.agent_max_tokens": (1, 10_000_000),
    "llm.curate_chunk_tokens": (100, 1_000_000),
    "llm.curate_max_items": (1, 10_000),
    "watch.debounce_ms": (0, 60_000),
    "watch.max_delay_ms": (0, 600_000),
}
STRING_MAX = 1000  # characters of a config string (a model name, an author, a URL)
MAX_LIST = 1000  # items of a config list


def _check_range(key: str, value: Any) -> Any:
    """A coerced value inside its allowed range (see _RANGES), else InvalidError naming the key."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        if len(value) > STRING_MAX:
            raise InvalidError(f"config key '{key}' is {len(value):,} characters long; at most {STRING_MAX} allowed")
        return value
    if isinstance(value, tuple):
        if len(value) > MAX_LIST or any(len(item) > STRING_MAX for item in value):
            raise InvalidError(f"config key '{key}' must be a list of at most {MAX_LIST} short strings")
        return value
    if isinstance(value, (int, float)):
        low, high = _RANGES.get(key, (0, NUMBER_MAX))
        if math.isnan(value) or not low <= value <= high:
            shown_value = "NaN" if math.isnan(value) else (f"{value:.3g}" if abs(value) > NUMBER_MAX else repr(value))
            raise InvalidError(f"config key '{key}' must be between {low:g} and {high:g}, not {shown_value}")
    return value


def _coerce(key: str, value: Any, expected: Any) -> Any:
    """Check a YAML value against a field type and its range; ints are accepted where floats
    are expected."""
    return _check_range(key, _coerce_type(key, value, expected))


def _coerce_type(key: str, value: Any, expected: Any) -> Any:
    """Check a YAML value against a field type; ints are accepted where floats are expected."""
    allowed = typing.get_args(expected) if isinstance(expected, types.UnionType) else (expected,)
    if value is None and type(None) in allowed:
        return None
    for kind in allowed:
        if kind is bool:
            if isinstance(value, bool):
                return value
        elif kind is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif kind is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif kind is str:
            if isinstance(value, str):
                return value
        elif (
            typing.get_origin(kind) is tuple
            and isinstance(value, list)
            and all(isinstance(item, str) for item in value)
        ):
            return tuple(value)
    names = " or ".join("null" if k is type(None) else getattr(k, "__name__", str(k)) for k in allowed)
    raise InvalidError(f"config key '{key}' must be {names}, not {shown(value)}")


def _build_section(name: str, cls: type[Any], values: Any, warnings: list[str]) -> Any:
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise InvalidError(f"config section '{name}' must be a mapping of keys")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            warnings.append(f"config.yaml: unknown key '{name}.{key}' is ignored")
            continue
        kwargs[key] = _coerce(f"{name}.{key}", value, hints[key])
    return cls(**kwargs)


def config_from_mapping(data: Any) -> Config:
    if data is None:
        return Config()  # no settings (an empty file, or comments only: the template)
    if not isinstance(data, dict):
        raise InvalidError("config.yaml must be a mapping of sections")
    warnings: list[str] = []
    sections: dict[str, Any] = {}
    section_types = _section_types()
    for name, values in data.items():
        if name not in section_types:
            warnings.append(f"config.yaml: unknown section '{name}' is ignored")
            continue
        sections[name] = _build_section(name, section_types[name], values, warnings)
    llm = sections.get("llm")
    if isinstance(llm, LLMConfig) and llm.api_key:
        warnings.append(
            "config.yaml holds llm.api_key: a committed key leaks; set MEM_LLM_API_KEY (or the provider's own "
            "variable, e.g. OPENAI_API_KEY) instead"
        )
    hooks = sections.get("hooks")
    if isinstance(hooks, HooksConfig):
        unknown = [event for event in hooks.events if event not in HOOK_EVENTS]
        if unknown:
            raise InvalidError(
                f"config key 'hooks.events' has unknown events {unknown}; known: {', '.join(HOOK_EVENTS)}"
            )
        if hooks.prompt_max_tier not in ("path", "keyword", "fuzzy", "llm", "agent"):
            raise InvalidError(
                f"config key 'hooks.prompt_max_tier' must be a recall tier, not {hooks.prompt_max_tier!r}"
            )
    return Config(**sections, warnings=tuple(warnings))


def load_config(root: Path) -> Config:
    path = root / CONFIG_FILE
    # Committed and shared, so read like any untrusted file: no link, no FIFO (which would
    # block every command), a size cap (a link to /dev/zero would never end).
    try:
        text = read_regular(path, CONFIG_MAX_BYTES).decode("utf-8")
    except NotFoundError:
        return Config()
    except MemError as error:
        raise InvalidError(f"cannot read {CONFIG_FILE}: {error.message}") from None
    except UnicodeDecodeError as error:
        raise InvalidError(f"cannot read {path}: not UTF-8 text (invalid byte at offset {error.start})") from None
    return config_from_mapping(_parse(text, path))


CONFIG_MAX_CHARS = 256 * 1024


def _parse(text: str, path: Path) -> Any:
    """config.yaml parsed like every YAML mem reads (`yamlsafe.load_yaml`: size, nesting and
    alias expansion bounded): the file is shared through git and read by every command.

    A file of comments and blank lines only (the template `mem init` writes) is no settings,
    without importing yaml: that import is a tenth of a recall's start-up."""
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        return None
    import yaml

    from .yamlsafe import load_yaml

    try:
        return load_yaml(text, what=str(path), max_chars=CONFIG_MAX_CHARS)
    except yaml.YAMLError as error:
        raise InvalidError(f"{path} is not valid YAML: {clip(str(error).splitlines()[0], 200)}") from None
    except ValueError as error:
        raise InvalidError(str(error)) from None


def config_as_dict(config: Config) -> dict[str, Any]:
    """The effective configuration as plain data (for `config get` and JSON)."""
    data = {name: dataclasses.asdict(getattr(config, name)) for name in _SECTION_NAMES}
    if data["llm"]["api_key"]:
        data["llm"]["api_key"] = "(set)"  # shown, not printed: `config get` output ends up in logs
    return data


def _all_keys() -> list[str]:
    """Every `section.key` there is (for "did you mean")."""
    return [f"{section}.{name}" for section, kind in _section_types().items() for name in typing.get_type_hints(kind)]


def get_value(config: Config, key: str) -> Any:
    data: Any = config_as_dict(config)
    for part in key.split(".") if key else []:
        if not isinstance(data, dict) or part not in data:
            raise NotFoundError(f"no config key '{key}'{did_you_mean(key, _all_keys())}")
        data = data[part]
    return data


def set_value(root: Path, key: str, raw_value: str) -> Any:
    """Set `section.key` in config.yaml, keeping the file's comments; return the typed value."""
    parts = key.split(".")
    if len(parts) != 2:
        raise InvalidError(f"config key '{key}' must look like section.key, e.g. limits.max_body_bytes")
    section, name = parts
    section_types = _section_types()
    if section not in section_types:
        raise NotFoundError(f"no config section '{section}' (known: {', '.join(section_types)})")
    hints = typing.get_type_hints(section_types[section])
    if name not in hints:
        raise NotFoundError(f"no config key '{key}'{did_you_mean(key, _all_keys())}")
    import yaml

    try:
        parsed = yaml.safe_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError:
        parsed = raw_value
    value = _coerce(key, parsed, hints[name])

    from ruamel.yaml import YAML  # only `config set` needs a comment-preserving round trip

    from .store import atomic_write_text

    path = root / CONFIG_FILE
    editor = YAML()
    editor.preserve_quotes = True
    try:
        text = read_regular(path, CONFIG_MAX_BYTES).decode("utf-8")
    except NotFoundError:
        text = ""
    except (MemError, UnicodeDecodeError) as error:
        raise InvalidError(f"cannot read {CONFIG_FILE}: {error}") from None
    stored = list(value) if isinstance(value, tuple) else value
    document = editor.load(text) if text.strip() else None
    if document is None:
        # Only comments so far (the template): ruamel would drop them, so append instead.
        addition = yaml.safe_dump({section: {name: stored}}, default_flow_style=False, sort_keys=False)
        new_text = text + ("\n" if text and not text.endswith("\n") else "") + "\n" + addition
    else:
        if not isinstance(document, dict):
            raise InvalidError(f"{path} must be a mapping of sections")
        if not isinstance(document.get(section), dict):
            document[section] = {}
        document[section][name] = stored
        out = io.StringIO()
        editor.dump(document, out)
        new_text = out.getvalue()
    config_from_mapping(_parse(new_text, path))  # never write a file we could not read back
    atomic_write_text(path, new_text)
    return value
