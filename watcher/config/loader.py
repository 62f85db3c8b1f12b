"""Reads the YAML config into a WatcherConfig; each problem becomes a `file:line: key: message`."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from pydantic import BaseModel, ValidationError

from watcher.config.models import (
    CONTEXT_CONFIG_FILE,
    CameraConfig,
    WatcherConfig,
)
from watcher.config.sections import CAMERA_SECTIONS
from watcher.constants import DEFAULT_CONFIG_PATH, ENV_CONFIG

Loc = tuple[Any, ...]
Problem = tuple[Loc, int | None, str]  # key path, 1-based line, message

_MERGE_TAG = "tag:yaml.org,2002:merge"
# libyaml's parser when PyYAML was built with it: 1 ms for the shipped config instead of 8
# (every command and the page parse it at start); the same nodes, marks, errors and methods.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_RECORDED_KEYS = 100_000  # an alias bomb must not make the line map explode
_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)(.*)$", re.DOTALL)
_PORT_THEN_PATH = re.compile(r"^\d*(?:[/?#]|$)")
_LOADER_KEYS = frozenset({"name", "config_path"})  # filled in by the loader, never written


class ConfigError(Exception):
    """The config cannot be used; `errors` holds one `file:line: key: message` per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    def __str__(self) -> str:
        return "\n".join(self.errors)


def default_config_path() -> Path:
    """Return `$WATCHER_CONFIG` if set, else config/watcher.yaml under the current folder."""
    return Path(os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG_PATH)


def load_config(path: Path | str | None = None) -> WatcherConfig:
    """Read, validate and resolve a config file; raise ConfigError listing every problem."""
    file = Path(path) if path is not None else default_config_path()
    name = str(file)
    text = _read(file, name)
    data, lines, problems = _parse(text, name)
    if data is None:
        raise ConfigError([f"{name}: the file is empty; it needs at least a `cameras:` section"])
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else type(data).__name__
        raise ConfigError([f"{name}:1: the top level must be a mapping of keys, not a {kind}"])
    config: WatcherConfig | None = None
    try:
        absolute = Path(os.path.abspath(file.expanduser()))
        config = WatcherConfig.model_validate(data, context={CONTEXT_CONFIG_FILE: absolute})
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, data, lines))
    if problems or config is None:
        raise ConfigError(_format(name, problems))
    return config


def _read(file: Path, name: str) -> str:
    """Return the file's text, or raise ConfigError saying why it cannot be read."""
    try:
        return file.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = f"pass a config path or set ${ENV_CONFIG}"
        raise ConfigError([f"{name}: config file not found ({hint})"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{name}: is a folder, not a config file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{name}: not UTF-8 text (bad byte at offset {exc.start})"]) from None
    except (OSError, RuntimeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError([f"{name}: cannot read the config file: {reason}"]) from None


def _parse(text: str, name: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Parse YAML into data, the 1-based line of each key path, and duplicate-key problems."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: dict[Loc, int] = {}
        problems: list[Problem] = []
        _walk(loader, node, (), lines, problems, frozenset())
        return loader.construct_document(node), lines, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        detail = ": ".join(part for part in (exc.context, exc.problem) if part) or "cannot parse"
        raise ConfigError([mask_url(f"{where}: invalid YAML: {detail}")]) from None
    except Exception as exc:  # any other YAML or value construction failure
        raise ConfigError([mask_url(f"{name}: invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def _walk(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Loc,
    lines: dict[Loc, int],
    problems: list[Problem],
    stack: frozenset[int],
) -> None:
    """Record the line of every key under `node`, noting duplicate keys on the way."""
    if id(node) in stack or len(lines) > _MAX_RECORDED_KEYS:
        return
    stack = stack | {id(node)}
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(loader, item, (*path, index), lines, problems, stack)
    if not isinstance(node, yaml.MappingNode):
        return
    first_line: dict[Any, int] = {}
    merged: list[yaml.Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:  # `<<: *anchor`: explicit keys win, so do these last
            is_list = isinstance(value_node, yaml.SequenceNode)
            merged.extend(value_node.value if is_list else [value_node])
            continue
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in first_line:
            problems.append(
                ((*path, key), line, f"duplicate key (first on line {first_line[key]})")
            )
        first_line.setdefault(key, line)
        lines[(*path, key)] = line
        _walk(loader, value_node, (*path, key), lines, problems, stack)
    for source in merged:
        inherited: dict[Loc, int] = {}
        _walk(loader, source, path, inherited, [], stack)
        for loc, line in inherited.items():
            lines.setdefault(loc, line)


def _validation_problems(
    exc: ValidationError, data: dict[str, Any], lines: dict[Loc, int]
) -> list[Problem]:
    """Turn pydantic errors into problems located where the bad value was written."""
    problems: list[Problem] = []
    seen: set[tuple[Loc, str]] = set()
    for error in exc.errors(include_url=False, include_input=False):
        on_key = error["loc"][-1:] == ("[key]",)
        loc = _written_loc(tuple(error["loc"]), data)
        message = _message(error["type"], error["msg"], loc)
        message = f"bad key: {message}" if on_key and error["type"] == "string_type" else message
        if (loc, message) in seen:  # a global value inherited by several cameras
            continue
        seen.add((loc, message))
        problems.append((loc, _line_of(loc, lines), message))
    return problems


def _written_loc(loc: Loc, data: dict[str, Any]) -> Loc:
    """Map a merged camera key that came from the global section back to that section."""
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    if len(loc) < 4 or loc[0] != "cameras" or loc[2] not in CAMERA_SECTIONS:
        return loc
    cameras = data.get("cameras")
    camera = cameras.get(loc[1]) if isinstance(cameras, dict) else None
    own = camera.get(loc[2]) if isinstance(camera, dict) else None
    if isinstance(own, dict) and loc[3] in own:
        return loc
    section = data.get(loc[2])
    return (loc[2], *loc[3:]) if isinstance(section, dict) and loc[3] in section else loc


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    """Return the line of `loc`, or of its nearest written parent; None at the top level."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _message(kind: str, message: str, loc: Loc) -> str:
    """Word a pydantic error for a config file's author."""
    if kind == "missing":
        return "required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping of keys (key: value lines)"
    if kind == "extra_forbidden" and not message.startswith("unknown key"):
        model = _model_at(loc[:-1])
        known = sorted(set(model.model_fields) - _LOADER_KEYS) if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        return f"unknown key; did you mean '{close[0]}'?" if close else "unknown key"
    return message.removeprefix("Value error, ")


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """Return the model whose fields are the keys allowed at `loc`."""
    model: type[BaseModel] = WatcherConfig
    index = 0
    while index < len(loc):
        if model is WatcherConfig and loc[index] == "cameras":
            model, index = CameraConfig, index + 2
            continue
        field = model.model_fields.get(str(loc[index]))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model, index = annotation, index + 1
    return None if index > len(loc) else model


def _format(name: str, problems: list[Problem]) -> list[str]:
    """Render problems as `file:line: dotted.key: message`, ordered by line."""
    ordered = sorted(problems, key=lambda p: (p[1] is None, p[1] or 0))
    out = []
    for loc, line, message in ordered:
        where = f"{name}:{line}" if line is not None else name
        key = ".".join(str(part) for part in loc)
        out.append(mask_url(f"{where}: {key}: {message}" if key else f"{where}: {message}"))
    return out


# Query (or path) parameters whose value is a secret, masked as a URL's password is
# (rtsp://cam/live?user=admin&password=***). A name is a secret when one of the words
# it is made of is one of these (api_key, accessToken, X-Amz-Signature)...
_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pass", "pwd", "pw", "passphrase", "passcode",
        "token", "key", "apikey", "authkey", "auth", "authorization",
        "secret", "signature", "sig", "credential", "credentials", "session", "sessionid",
    }
)  # fmt: skip
# ...or when it ends with one of these (adminpassword, usertoken, clientsecret).
_SECRET_SUFFIXES = ("password", "passwd", "pwd", "token", "secret", "apikey", "signature")
_PARAM_NAME = re.compile(r"([A-Za-z0-9_.~%+-]+)=")
_PARAM_END = re.compile(r"[&;#\s]")
_MASK = "***"


def mask_url(text: str) -> str:
    """Return `text` (a URL, or a message holding URLs) with URL secrets replaced by `***`.

    The password of the userinfo (rtsp://user:***@host) and the value of every
    parameter whose name says it is a secret (?user=admin&password=***, token=,
    api_key=, sig=, ...; any case), in the query, the fragment or the path.
    """
    return _ANY_URL.sub(lambda match: _mask_found(text, match), _mask_one(text))


def _mask_found(text: str, match: re.Match[str]) -> str:
    """Mask a URL found in a message; a quote before it ends it ('rtsp://...': refused)."""
    url = match.group(0)
    quote = text[match.start() - 1] if match.start() else ""
    if quote in ("'", '"') and quote in url:
        end = url.rindex(quote)
        return _mask_one(url[:end]) + url[end:]
    return _mask_one(url)


def _mask_one(url: str) -> str:
    """Mask the password and secret parameters of the URL `url` starts with.

    The password may hold '/', '@' or spaces; a parameter's value ends at '&',
    ';', '#' or a space.
    """
    match = _URL.match(url)
    if match is None:
        return url
    prefix, rest = match.groups()
    userinfo = _userinfo(rest)
    if userinfo is None:
        return prefix + _mask_params(rest)
    user = userinfo.partition(":")[0]
    return f"{prefix}{user}:{_MASK}{_mask_params(rest[len(userinfo) :])}"


def _userinfo(rest: str) -> str | None:
    """The `user:password` that `rest` (a URL after its scheme) starts with, if it has one."""
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        userinfo = authority.rpartition("@")[0]
    elif "@" in rest:  # a password holding '/', '?' or '#' ends the authority early
        userinfo = rest.partition("@")[0]
        if _PORT_THEN_PATH.match(userinfo.partition(":")[2]):
            return None  # host:port/path@..., not a password
    else:
        return None
    user, colon, password = userinfo.partition(":")
    if not colon or not password or any(c in user for c in "/?#"):
        return None
    return userinfo


def _mask_params(rest: str) -> str:
    """`rest` with the value of every secret-looking `name=value` replaced by `***`."""
    out: list[str] = []
    done = 0  # rest[:done] is in out
    for match in _PARAM_NAME.finditer(rest):
        start = match.end()
        if match.start() < done or not _is_secret(match.group(1)):
            continue
        if _masked_already(rest, start):
            continue  # a message that holds a masked URL: "...token=***: refused"
        end_match = _PARAM_END.search(rest, start)
        end = len(rest) if end_match is None else end_match.start()
        if end == start:
            continue  # no value: nothing to hide (as rtsp://user@host shows no password)
        out += [rest[done:start], _MASK]
        done = end
    return "".join(out) + rest[done:]


def _masked_already(rest: str, start: int) -> bool:
    """Whether the value at `start` is a mask already (not a password that starts with one)."""
    end = start + len(_MASK)
    return rest.startswith(_MASK, start) and (end == len(rest) or not rest[end].isalnum())


def _is_secret(name: str) -> bool:
    """Whether a parameter name looks like it holds a credential (case-insensitive)."""
    name = unquote(name)
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()  # accessToken: access_token
    words = [w for w in re.split(r"[^a-z0-9]+", spaced) if w]
    return any(w in _SECRET_WORDS for w in words) or "".join(words).endswith(_SECRET_SUFFIXES)


def summary(config: WatcherConfig) -> str:
    """Describe a loaded config in a few lines (passwords masked), for `check-config`."""
    enabled = len(config.enabled_cameras())
    out = [
        f"config:          {config.config_path or '(not from a file)'}",
        f"base_dir:        {config.base_dir}",
        f"known_faces_dir: {config.known_faces_dir}",
        f"recordings_dir:  {config.recordings_dir}",
        f"database_url:    {mask_url(config.database_url)}",
        f"log_level:       {config.log_level}",
        f"cameras:         {len(config.cameras)} ({enabled} enabled)",
    ]
    for camera in config.cameras.values():
        faces, record = camera.faces, camera.record
        state = "enabled" if camera.enabled else "disabled"
        out.append(f"  {camera.name}: {mask_url(camera.source)} ({state})")
        out.append(
            f"    tolerance {faces.tolerance:g}, analyse_fps {faces.analyse_fps:g}, "
            f"pre {record.pre_capture_s:g} s, post {record.post_capture_s:g} s"
        )
    return "\n".join(out)
