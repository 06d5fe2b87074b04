"""OpenAPI 3.x and Swagger 2: every operation becomes a tool.

`$ref`s are resolved with jsonref; a reference cycle is cut where it closes (the schema there says
it is recursive), and an operation whose references cannot be resolved is rejected alone. A reference
to another file is read only inside the spec's own folder; a remote one is fetched only from a host the
pipeline allows (the collection's `ref_hosts`), and never through a redirect to another host. Any other
reference is refused (`refused_ref`, naming the reference).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jsonref
import yaml
from .records import Rejection, ToolSpec, content_hash, safe_name
from .schemas import normalise_schema, schema_problem

FORMAT = "openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_MAX_DEPTH = 32  # nesting levels of the JSON (a schema level is about two)
_MAX_NODES = 50_000  # per materialised part: shared references can multiply a spec's size
_SWAGGER_SCHEMA_KEYS = (
    "type",
    "format",
    "enum",
    "items",
    "default",
    "minimum",
    "maximum",
    "pattern",
    "minLength",
    "maxLength",
    "description",
    "collectionFormat",
)


def looks_like(doc) -> bool:
    return isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc) and isinstance(doc.get("paths"), dict)


class BrokenRef(Exception):
    pass


class RefusedRef(Exception):
    """A reference that would read outside the spec's folder or from the network."""


_REMOTE_REF_BYTES = 8 * 2**20
_REMOTE_REF_TIMEOUT_S = 20


def _allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """A host of the allow-list: 'host' (any port) or 'host:port', over http or https."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname in hosts or parts.netloc in hosts)


def _fetch(uri: str, hosts: tuple[str, ...]):
    import urllib.request

    class SameHosts(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if not _allowed(newurl, hosts):
                raise RefusedRef(f"{uri}: redirected to {newurl}, a host not in ref_hosts")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(SameHosts)
    with opener.open(uri.split("#", 1)[0], timeout=_REMOTE_REF_TIMEOUT_S) as response:
        body = response.read(_REMOTE_REF_BYTES + 1)
    if len(body) > _REMOTE_REF_BYTES:
        raise ValueError(f"{uri}: larger than {_REMOTE_REF_BYTES // 2**20} MB")
    return yaml.safe_load(body.decode("utf-8"))  # JSON is YAML


def _loader(folder: Path | None, ref_hosts: tuple[str, ...] = ()):
    """jsonref's loader, confined: files inside `folder` only (none without one); URLs only on `ref_hosts`."""

    def load(uri: str):
        parts = urlsplit(uri)
        if parts.scheme in ("http", "https") and _allowed(uri, ref_hosts):
            return _fetch(uri, ref_hosts)
        if parts.scheme not in ("", "file") or parts.netloc:
            raise RefusedRef(f"{uri}: remote references are fetched only from the collection's ref_hosts")
        path = Path(url2pathname(parts.path)).resolve()
        if folder is None or not path.is_relative_to(folder.resolve()):
            raise RefusedRef(f"{uri}: outside the spec's folder")
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)

    return load


def materialize(node, stack: tuple = (), depth: int = 0, budget: list | None = None):
    """Plain JSON from a jsonref-proxied tree; cycles, runaway depth and runaway size become a described stub."""
    budget = [_MAX_NODES] if budget is None else budget
    budget[0] -= 1
    if isinstance(node, jsonref.JsonRef):
        ref = node.__reference__.get("$ref", "?")
        if ref in stack:
            return {"type": "object", "description": f"(recursive: {ref.rsplit('/', 1)[-1]})"}
        if depth > _MAX_DEPTH or budget[0] < 0:
            return {
                "type": "object",
                "description": f"({ref.rsplit('/', 1)[-1]}: not expanded, the schema is too large)",
            }
        try:
            target = node.__subject__
        except jsonref.JsonRefError as e:
            if isinstance(e.cause, RefusedRef):
                raise RefusedRef(f"$ref {ref!r} refused: {e.cause}") from None
            raise BrokenRef(f"cannot resolve $ref {ref!r}: {getattr(e, 'message', e)}") from None
        return materialize(target, stack + (ref,), depth + 1, budget)
    if isinstance(node, dict):  # vendor extensions (x-...) are not part of a tool's definition
        return {
            k: materialize(v, stack, depth + 1, budget)
            for k, v in node.items()
            if not (isinstance(k, str) and k.startswith("x-"))
        }
    if isinstance(node, list):
        return [materialize(v, stack, depth + 1, budget) for v in node]
    return node


def _swagger_param_schema(p: dict) -> dict:
    schema = {k: p[k] for k in _SWAGGER_SCHEMA_KEYS if k in p and k != "collectionFormat"}
    if schema.get("type") == "file":
        schema.update(type="string", format="binary")
    return schema


def _json_content(content: dict | None) -> tuple[dict | None, str | None]:
    """(schema, media type) of the JSON media type of a content map, else of the first one."""
    if not isinstance(content, dict) or not content:
        return None, None
    for media, body in content.items():
        if "json" in media or media == "*/*":
            return (body or {}).get("schema"), media
    media, body = next(iter(content.items()))
    return {"type": "string", "contentMediaType": media}, media


def _success_response(responses) -> dict:
    for code in ("200", "201", "202", "2XX", "default"):
        r = responses.get(code) or (responses.get(int(code)) if code.isdigit() else None)
        if r is not None:
            return {code: materialize(r)}
    return {}


def _response_schema(op: dict, swagger: bool) -> dict | None:
    responses = op.get("responses") or {}
    for code in ("200", "201", "202", "2XX", "default"):
        r = responses.get(code) or (responses.get(int(code)) if code.isdigit() else None)
        if isinstance(r, dict):
            return r.get("schema") if swagger else _json_content(r.get("content"))[0]
    return None


def _response_example(op: dict, swagger: bool):
    """The success response's documented example (OpenAPI `example`/`examples`, Swagger `examples`),
    else its schema's own `example`; None when it documents none. The simulator follows it."""
    responses = op.get("responses") or {}
    r = next((v for v in responses.values() if isinstance(v, dict)), None)
    if r is None:
        return None
    if swagger:
        found = [v for k, v in (r.get("examples") or {}).items() if "json" in str(k)]
        schema = r.get("schema")
    else:
        content = r.get("content") if isinstance(r.get("content"), dict) else {}
        body = next((b for m, b in content.items() if "json" in m or m == "*/*"), None) or {}
        found = [body["example"]] if "example" in body else []
        found += [e["value"] for e in (body.get("examples") or {}).values() if isinstance(e, dict) and "value" in e]
        schema = body.get("schema")
    if not found and isinstance(schema, dict) and "example" in schema:
        found = [schema["example"]]
    return next((v for v in found if isinstance(v, (dict, list)) and v), None)


def _parameters(path_item: dict, op: dict, swagger: bool) -> tuple[dict, list[str], dict]:
    """(parameter schema, required keys, key -> [where, wire name]): the HTTP executor needs where each goes."""
    merged: dict[tuple, dict] = {}
    for p in list(path_item.get("parameters") or []) + list(op.get("parameters") or []):
        if isinstance(p, dict) and "name" in p:
            merged[(p["name"], p.get("in"))] = p
    props, required, locations = {}, [], {}
    for (name, where), p in merged.items():
        if where == "cookie" or (
            where == "header" and name.lower() in ("authorization", "x-api-key", "x-rapidapi-key")
        ):
            continue
        if where == "body":  # Swagger 2
            body = p.get("schema") or {}
            _merge_body(body, p.get("required", False), props, required, locations)
            continue
        schema = dict(p.get("schema") or {}) if not swagger else _swagger_param_schema(p)
        if p.get("description") and "description" not in schema:
            schema["description"] = p["description"]
        key = name if name not in props else f"{where}_{name}"
        props[key] = schema
        locations[key] = ["form" if where == "formData" else where, name]
        if p.get("required") or where == "path":
            required.append(key)
    if not swagger and isinstance(op.get("requestBody"), dict):
        body, _ = _json_content(op["requestBody"].get("content"))
        _merge_body(body or {}, op["requestBody"].get("required", False), props, required, locations)
    return {"type": "object", "properties": props, "required": required}, required, locations


def _merge_body(body: dict, body_required: bool, props: dict, required: list, locations: dict) -> None:
    if body.get("type", "object") == "object" and isinstance(body.get("properties"), dict):
        for name, schema in body["properties"].items():
            key = name if name not in props else f"body_{name}"
            props[key] = schema
            locations[key] = ["body", name]
            if body_required and name in (body.get("required") or []):
                required.append(key)
    elif body:
        props["body"] = body
        locations["body"] = ["body", None]
        if body_required:
            required.append("body")


def _servers(doc: dict, swagger: bool) -> list[str]:
    """Base URLs the spec declares (Swagger 2: scheme + host + basePath)."""
    if swagger:
        host = doc.get("host")
        scheme = (doc.get("schemes") or ["https"])[0]
        return [f"{scheme}://{host}{doc.get('basePath') or ''}"] if host else []
    return [s["url"] for s in doc.get("servers") or [] if isinstance(s, dict) and isinstance(s.get("url"), str)]


def parse(
    doc,
    source: str,
    stage: str = "ingest",
    prefix: str = "",
    folder: Path | None = None,
    ref_hosts: tuple[str, ...] = (),
):
    """The operations of one spec; `folder`: where it lies, the only place other files it references are read;
    `ref_hosts`: hosts its remote references may be fetched from."""
    swagger = "swagger" in doc
    servers = _servers(doc, swagger)
    base = folder.resolve().as_uri() + "/" if folder is not None else ""
    resolved = jsonref.replace_refs(
        doc, base_uri=base, loader=_loader(folder, tuple(ref_hosts)), lazy_load=True, proxies=True, merge_props=True
    )
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            yield Rejection(stage, f"{source}#{path}", "spec", "bad_path_item", f"{path}: expected an object")
            continue
        if str(path).startswith("//") or not str(path).startswith("/") and re.match(r"[^/]*[@:]", str(path)):
            # '//evil/p' or 'x@evil:80/p' after the base URL would send the call, and its credential, elsewhere
            yield Rejection(
                stage,
                f"{source}#{path}",
                "spec",
                "bad_path",
                f"{path}: the path would change the host of the base URL it is joined to",
            )
            continue
        wire_path = path if str(path).startswith("/") else f"/{path}"  # 'api/fruit/{name}': what its author meant
        for method in (m for m in METHODS if m in item):
            yield _operation(resolved, path, method, wire_path, swagger, servers, source, stage, prefix)


def _operation(
    resolved, path: str, method: str, wire_path: str, swagger: bool, servers, source: str, stage: str, prefix: str
):
    """One operation as a ToolSpec, or the Rejection that says why it cannot be one."""
    where = f"{source}#{method.upper()} {path}"
    try:
        raw_op = resolved["paths"][path][method]
        # only what a tool needs is resolved, so a broken error-response schema loses nothing
        op = {k: materialize(raw_op[k]) for k in ("parameters", "requestBody") if k in raw_op}
        op.update({k: raw_op[k] for k in ("operationId", "summary", "description") if isinstance(raw_op.get(k), str)})
        op["responses"] = _success_response(raw_op.get("responses") or {})
        path_item = {"parameters": materialize(resolved["paths"][path].get("parameters") or [])}
        params, _, locations = _parameters(path_item, op, swagger)
        params = normalise_schema(params)
        returns = normalise_schema(_response_schema(op, swagger))
        example = _response_example(op, swagger)
    except BrokenRef as e:
        return Rejection(stage, where, "spec", "unresolvable_ref", f"{where}: {e}")
    except RefusedRef as e:
        return Rejection(stage, where, "spec", "refused_ref", f"{where}: {e}")
    except (AttributeError, TypeError, KeyError) as e:
        return Rejection(stage, where, "spec", "malformed_operation", f"{where}: {type(e).__name__}: {e}")
    problem = schema_problem(params)
    if problem:
        return Rejection(stage, where, "spec", "invalid_schema", f"{where}: parameters: {problem}")
    description = " ".join(x.strip() for x in (op.get("summary") or "", op.get("description") or "") if x and x.strip())
    meta = {"method": method.upper(), "path": wire_path, "params": locations, "servers": servers}
    meta.update({"summary": op["summary"].strip()} if (op.get("summary") or "").strip() else {})
    meta.update({"example_response": example} if example is not None else {})
    return ToolSpec(
        name=safe_name(prefix + (op.get("operationId") or f"{method}_{path}")),
        description=description,
        parameters=params,
        returns=returns if isinstance(returns, dict) else None,
        source_format=FORMAT,
        source_file=source,
        spec_hash=content_hash([method, path, op]),
        meta=meta,
    )
