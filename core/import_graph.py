"""The MCP reference memory server's knowledge graph (`memory.json`).

The server (modelcontextprotocol/servers, src/memory) stores one JSON object per line:
`{"type": "entity", "name": ..., "entityType": ..., "observations": [...]}` and
`{"type": "relation", "from": ..., "to": ..., "relationType": ...}` (docs/adopting.md cites
it). Some forks write the whole graph as one object `{"entities": [...], "relations": [...]}`;
both are read.

Each entity becomes an entry `<into>/<entity type>/<name>`: its observations are the body's
bullet list, its relations a `## Relations` list (`- works_at: Acme Corp`) and `related`
links to the entities they name. A line that is not valid JSON, or an entity without a name,
is skipped with a reason; the rest goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .import_format import Candidate, Skipped, place


def _records(text: str, label: str) -> Iterator[dict[str, Any] | Skipped]:
    stripped = text.strip()
    if stripped.startswith("{") and "\n" in stripped:
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict) and ("entities" in whole or "relations" in whole):
            for entity in whole.get("entities") or []:
                yield {"type": "entity", **entity} if isinstance(entity, dict) else Skipped(label, "bad entity")
            for relation in whole.get("relations") or []:
                yield {"type": "relation", **relation} if isinstance(relation, dict) else Skipped(label, "bad relation")
            return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Skipped(f"{label}:{number}", f"not JSON ({error.msg})")
            continue
        if isinstance(record, dict):
            yield record
        else:
            yield Skipped(f"{label}:{number}", "not a JSON object")


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""


def read_graph(source: Path, into: list[str]) -> Iterator[Candidate | Skipped]:
    label = source.name
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        yield Skipped(label, f"not UTF-8 text (byte {error.start})")
        return
    moment = datetime.fromtimestamp(source.stat().st_mtime, UTC).replace(microsecond=0)
    entities: dict[str, dict[str, Any]] = {}
    relations: list[tuple[str, str, str]] = []
    for record in _records(text, label):
        if isinstance(record, Skipped):
            yield record
            continue
        kind = record.get("type")
        if kind == "entity":
            name = _text(record.get("name"))
            if not name:
                yield Skipped(label, "an entity without a name")
                continue
            entities.setdefault(name, record)
        elif kind == "relation":
            source_name, target, relation = (_text(record.get(key)) for key in ("from", "to", "relationType"))
            if source_name and target:
                relations.append((source_name, relation or "relates_to", target))
        else:
            yield Skipped(label, f"a record of type {str(kind)[:40]!r} (not an entity or a relation)")
    for name, record in entities.items():
        entity_type = _text(record.get("entityType")) or "entity"
        observations = record.get("observations") or []
        lines = [f"- {_text(item)}\n" for item in observations if _text(item)]
        outgoing = [(relation, target) for source_name, relation, target in relations if source_name == name]
        body = "".join(lines)
        if outgoing:
            body += ("\n" if body else "") + "## Relations\n\n"
            body += "".join(f"- {relation}: {target}\n" for relation, target in outgoing)
        extra = {
            key: value for key, value in record.items() if key not in ("type", "name", "entityType", "observations")
        }
        meta = {"title": name[:300], "tags": [entity_type], "created": moment, "updated": moment, **extra}
        digest = hashlib.sha256(json.dumps([record, outgoing], sort_keys=True, default=str).encode()).hexdigest()
        yield Candidate(
            path=place(into, [entity_type], name),
            meta=meta,
            body=body,
            origin=f"{label}#{name[:120]}",
            digest=digest,
            links=tuple(f"name:{target}" for _, target in outgoing),
            names=(name,),
            file_key=label,
        )
