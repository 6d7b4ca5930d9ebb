"""YAML without surprises: safe loading, dates kept as strings, line numbers for every key.

papermill #345: a YAML date became a ``datetime`` and broke serialization. Here every scalar
stays what it looks like to a person (a string, number or bool), and each key's line is kept so
validation errors can point at ``file, line N``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..core.errors import ParamsError


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when installed
    """SafeLoader without the timestamp resolver: `2026-10-01` stays a string."""


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _key_lines(node, path: Path, prefix=(), out=None) -> dict[tuple, int]:
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = prefix + (key_node.value,)
            line = key_node.start_mark.line + 1
            if key in out:  # PyYAML keeps the last silently: a second `timezone:` would win
                name = ".".join(str(k) for k in key)
                raise ParamsError(f"key '{name}' appears twice, on lines {out[key]} and {line}; "
                                  f"keep one", path=path, row=line)
            out[key] = line
            _key_lines(value_node, path, key, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[prefix + (i,)] = item.start_mark.line + 1
            _key_lines(item, path, prefix + (i,), out)
    return out


def load_yaml(path: Path) -> tuple[object, dict[tuple, int]]:
    """Return ``(data, lines)``: the document and a map from key path to its line number."""
    path = Path(path)
    if not path.exists():
        raise ParamsError("file not found. Create it (`stat-lib init` writes a skeleton).",
                          path=path)
    text = _text(path)
    try:
        node, data = _parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParamsError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path=path,
                          row=mark.line + 1 if mark else None) from None
    return (data if data is not None else {}), _key_lines(node, path)


def _parse(text: str):
    """The document's node (for the key lines) and its data, from one parse."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ParamsError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte {exc.start}); "
                          f"save the file as UTF-8", path=path, row=line) from None


def line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of the deepest key of ``loc`` that the file has."""
    for end in range(len(loc), 0, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return None
