"""A local Hugging Face Hub: the endpoints huggingface_hub 2.x calls to log in, create a repo, upload, list and
download.

Point the real client at it with HF_ENDPOINT=<server.url> (read when huggingface_hub is imported). Files are
committed inline (every file is answered `uploadMode: "regular"`), so no LFS or Xet storage is involved.

    with HubServer() as hub:
        hub.add_token("hf_write", "alice", "write")
        hub.add_org("acme", {"alice": "read", "bob": "write"})  # alice may read acme's repositories, bob create them
        hub.whoami_leaves_out = {"roleInOrg"}  # answer whoami as a server that does not say the roles
        hub.fail_next("/preupload/", 500)        # the next preupload call gets a 500
        hub.fail_next("/api/repos/create", "drop")  # the next create closes the connection unanswered
        ...
        hub.repos["alice/run"].files["config.json"]  # what was pushed

Behaviour copied from the Hub where the client depends on it:
- every request body is read fully before answering, also when the answer is an error;
- a write needs `authorization: Bearer <token>` of a write token owned by the namespace, or of a member of the
  organization that owns it with a role that may write there: "write" and "admin" anywhere in it, "contributor"
  to create a repository and to write to the ones they created, "read" nothing (403, as the Hub answers);
- whoami-v2 lists the user's organizations ("orgs"), each with the user's "roleInOrg";
- a private repository of an organization is visible to its members, whatever their role;
- a repo that exists answers 409 with its `url` (the client's `exist_ok=True` relies on that);
- 409 "another conflicting operation is in progress" is never sent (the client retries it forever).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit


class Request(NamedTuple):
    method: str
    path: str  # with its query string
    headers: dict[str, str]  # lower-case names; the authorization value is replaced by "<redacted>"
    body_length: int


@dataclass
class HubRepo:
    repo_id: str
    owner: str
    private: bool = True
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)  # oldest first
    commit_messages: list[str] = field(default_factory=list)
    created_by: str = ""  # the user who created it (an organization's contributor may write only to theirs)

    @property
    def head(self) -> str:
        return self.commits[-1] if self.commits else hashlib.sha1(f"init {self.repo_id}".encode()).hexdigest()


@dataclass
class _Fault:
    substring: str
    action: int | str  # an HTTP status, or "drop"
    count: int


def git_blob_sha1(data: bytes) -> str:
    """The oid git (and the Hub) gives a regular file; huggingface_hub compares it to skip unchanged files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


_REPO = r"(?P<repo>[^/]+/[^/]+)"
_ROUTES = [
    ("GET", re.compile(r"^/api/whoami-v2$"), "whoami"),
    ("POST", re.compile(r"^/api/repos/create$"), "create_repo"),
    ("POST", re.compile(r"^/api/validate-yaml$"), "validate_yaml"),
    ("GET", re.compile(r"^/api/agent-harnesses$"), "agent_harnesses"),
    ("POST", re.compile(rf"^/api/models/{_REPO}/preupload/(?P<rev>[^/]+)$"), "preupload"),
    ("POST", re.compile(rf"^/api/models/{_REPO}/commit/(?P<rev>[^/]+)$"), "commit"),
    ("GET", re.compile(rf"^/api/models/{_REPO}/revision/(?P<rev>[^/]+)$"), "repo_info"),
    ("GET", re.compile(rf"^/api/models/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?$"), "tree"),
    ("GET", re.compile(rf"^/api/models/{_REPO}$"), "repo_info"),
    ("HEAD", re.compile(rf"^/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)$"), "resolve"),
    ("GET", re.compile(rf"^/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)$"), "resolve"),
]


class HubServer:
    """In-memory Hub on 127.0.0.1 (a free port), served from a daemon thread."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.tokens: dict[str, dict[str, str]] = {}
        self.orgs: dict[str, dict[str, str]] = {}  # organization -> {user: roleInOrg}
        self.whoami_leaves_out: set[str] = set()  # "orgs" or "roleInOrg": what an older server's whoami-v2 lacks
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[Request] = []
        self.unhandled: list[Request] = []  # requests no route answered: a sign the client changed
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ---- set-up -------------------------------------------------------------------------------------------

    def add_token(self, token: str, name: str, role: str = "write", display_name: str | None = None) -> str:
        self.tokens[token] = {"name": name, "role": role, "display_name": display_name or f"{name}-{role}"}
        return token

    def add_org(self, name: str, members: dict[str, str]) -> str:
        """An organization, with each member's role in it: "read", "contributor", "write" or "admin"."""
        self.orgs[name] = dict(members)
        return name

    def fail_next(self, path_substring: str, status: int | str, count: int = 1) -> None:
        """The next `count` requests whose path contains `path_substring` get `status` (or, for "drop", a closed
        connection and no answer at all)."""
        if status != "drop" and not isinstance(status, int):
            raise ValueError("status must be an HTTP status code or 'drop'")
        if status == 409:
            raise ValueError("409 makes the client retry create_repo forever; use another status")
        with self._lock:
            self._faults.append(_Fault(path_substring, status, count))

    def paths(self, method: str | None = None) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    def count(self, path_substring: str) -> int:
        return sum(path_substring in path for path in self.paths())

    # ---- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> HubServer:
        server = self

        class Handler(_Handler):
            hub = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)  # allow_reuse_address is on
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]  # a restart after stop() comes back on the same port and state
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering: afterwards a connection to `url` is refused until start() is called again."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- used by the handler ------------------------------------------------------------------------------

    def _take_fault(self, path: str) -> int | str | None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.substring in path:
                    fault.count -= 1
                    return fault.action
        return None

    def _record(self, request: Request, handled: bool) -> None:
        with self._lock:
            self.requests.append(request)
            if not handled:
                self.unhandled.append(request)


class _Reply(Exception):
    """Raised inside a route to answer with an error."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.0"  # one request per connection: "drop" and stop() need no pool bookkeeping
    server_version = "TestHub/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet test output

    # Every method funnels through here.
    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers, then the blank line
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()  # always, before any answer: a client still sending would see a reset
        split = urlsplit(self.path)
        path = split.path
        headers = {k.lower(): ("<redacted>" if k.lower() == "authorization" else v) for k, v in self.headers.items()}
        route = next(((name, match) for method, pattern, name in _ROUTES
                      if method == self.command and (match := pattern.match(path))), None)
        self.hub._record(Request(self.command, self.path, headers, len(body)), handled=route is not None)

        fault = self.hub._take_fault(self.path)
        if fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault is not None:
            self._json(int(fault), {"error": f"Injected fault: HTTP {fault}"})
            return
        if route is None:
            self._json(404, {"error": f"The test hub does not implement {self.command} {path}"})
            return
        name, match = route
        params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}  # optional groups: absent
        try:
            getattr(self, f"_route_{name}")(body=body, query=split.query, **params)
        except _Reply as reply:
            self._json(reply.status, {"error": reply.message, **reply.extra},
                       {"X-Error-Message": reply.message, **reply.headers})

    # ---- replies ------------------------------------------------------------------------------------------

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self._send_head(status, payload, headers)
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_head(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        """The status line and headers of `payload`'s reply (a slow test server then writes its body in pieces)."""
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    # ---- auth ---------------------------------------------------------------------------------------------

    def _token_info(self) -> dict[str, str] | None:
        value = self.headers.get("Authorization", "")
        if not value.lower().startswith("bearer "):
            return None
        return self.hub.tokens.get(value[7:].strip())

    def _require_user(self) -> dict[str, str]:
        info = self._token_info()
        if info is None:
            raise _Reply(401, "Invalid credentials in Authorization header")
        return info

    def _require_writer(self, namespace: str, what: str, repo: HubRepo | None = None) -> dict[str, str]:
        """A write in `namespace`: creating a repository there (`repo` None), or writing to `repo`."""
        info = self._require_user()
        role = self.hub.orgs.get(namespace, {}).get(info["name"])
        may = info["name"] == namespace or role in ("write", "admin") or (
            role == "contributor" and (repo is None or repo.created_by == info["name"]))
        if not may:
            raise _Reply(403, f"You don't have the rights to {what} under the namespace \"{namespace}\"")
        if info["role"] != "write":
            raise _Reply(403, f"You don't have the rights to {what} under the namespace \"{namespace}\": "
                              "this is a read-only token")
        return info

    def _visible_repo(self, repo_id: str) -> HubRepo:
        repo = self.hub.repos.get(repo_id)
        info = self._token_info()
        member = info is not None and (info["name"] == repo_id.split("/")[0]
                                       or info["name"] in self.hub.orgs.get(repo_id.split("/")[0], {}))
        if repo is None or (repo.private and not member):
            raise _Reply(404, "Repository not found", {"X-Error-Code": "RepoNotFound"})
        return repo

    def _check_revision(self, repo: HubRepo, rev: str) -> None:
        if rev not in ("main", repo.head):
            raise _Reply(404, f"Invalid rev id: {rev}", {"X-Error-Code": "RevisionNotFound"})

    # ---- routes -------------------------------------------------------------------------------------------

    def _route_whoami(self, body: bytes, query: str) -> None:
        info = self._require_user()
        leaves_out = self.hub.whoami_leaves_out
        orgs = [{key: value for key, value in {
            "type": "org", "id": hashlib.md5(org.encode()).hexdigest()[:24], "name": org, "fullname": org.title(),
            "email": None, "canPay": False, "periodEnd": None, "avatarUrl": f"{self.hub.url}/avatars/{org}.png",
            "roleInOrg": members[info["name"]], "isEnterprise": False}.items() if key not in leaves_out}
            for org, members in sorted(self.hub.orgs.items()) if info["name"] in members]
        answer = {
            "type": "user", "id": hashlib.md5(info["name"].encode()).hexdigest()[:24], "name": info["name"],
            "fullname": info["name"].title(), "email": None, "emailVerified": False, "isPro": False, "orgs": orgs,
            "auth": {"type": "access_token",
                     "accessToken": {"displayName": info["display_name"], "role": info["role"],
                                     "createdAt": "2025-01-01T00:00:00.000Z"}},
        }
        self._json(200, {key: value for key, value in answer.items() if key not in leaves_out})

    def _route_agent_harnesses(self, body: bytes, query: str) -> None:
        self._json(200, {"standardEnvVars": [], "harnesses": {}})

    def _route_create_repo(self, body: bytes, query: str) -> None:
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError:
            raise _Reply(400, "The request body is not JSON") from None
        if payload.get("type", "model") not in (None, "model"):
            raise _Reply(400, "The test hub only holds model repositories")
        info = self._require_user()
        namespace = payload.get("organization") or info["name"]
        name = payload.get("name") or ""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", name):
            raise _Reply(400, f"Invalid repository name: {name!r}")
        repo_id = f"{namespace}/{name}"
        url = f"{self.hub.url}/{repo_id}"
        self._require_writer(namespace, "create a model")
        with self.hub._lock:
            if repo_id in self.hub.repos:
                raise _Reply(409, "You already created this model repo", extra={"url": url})
            private = payload.get("visibility", "private" if payload.get("private") else "public") != "public"
            self.hub.repos[repo_id] = HubRepo(repo_id, namespace, private, created_by=info["name"])
        self._json(200, {"url": url, "name": repo_id, "id": hashlib.md5(repo_id.encode()).hexdigest()[:24]})

    def _route_validate_yaml(self, body: bytes, query: str) -> None:
        import yaml

        content = json.loads(body or b"{}").get("content", "")
        match = re.match(r"^---\s*\n(.*?)\n---\s*\n", content, re.S)
        errors = []
        if match:
            try:
                if not isinstance(yaml.safe_load(match.group(1)), (dict, type(None))):
                    errors.append({"message": "metadata must be a YAML mapping"})
            except yaml.YAMLError as exc:
                errors.append({"message": f"invalid YAML: {exc}"})
        self._json(400 if errors else 200, {"errors": errors, "warnings": []})

    def _route_repo_info(self, body: bytes, query: str, repo: str, rev: str = "main") -> None:
        found = self._visible_repo(repo)
        self._check_revision(found, rev)
        self._json(200, {
            "id": repo, "modelId": repo, "author": found.owner, "sha": found.head, "private": found.private,
            "disabled": False, "gated": False, "downloads": 0, "likes": 0, "tags": [],
            "lastModified": "2025-01-01T00:00:00.000Z", "createdAt": "2025-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": name} for name in sorted(found.files)],
        })

    def _route_tree(self, body: bytes, query: str, repo: str, rev: str, path: str | None = None) -> None:
        """list_repo_tree (and list_repo_files, snapshot_download, transformers' tokenizer and sharded-model
        loading through them): the files and folders directly under `path` (the root by default), or every one
        below it with recursive=true; one page (no Link header). A path with nothing under it is a 404, as on
        the Hub."""
        found = self._visible_repo(repo)
        self._check_revision(found, rev)
        recursive = parse_qs(query).get("recursive", ["false"])[0].lower() == "true"
        prefix = path.strip("/") + "/" if path and path.strip("/") else ""
        entries: dict[str, dict[str, Any]] = {}
        for name, data in sorted(found.files.items()):
            if not name.startswith(prefix):
                continue
            parts = name[len(prefix):].split("/")
            for depth in range(1, len(parts) if recursive else min(2, len(parts))):
                folder = prefix + "/".join(parts[:depth])
                entries.setdefault(folder, {"type": "directory", "path": folder, "size": 0,
                                            "oid": hashlib.sha1(f"tree {found.head} {folder}".encode()).hexdigest()})
            if recursive or len(parts) == 1:
                entries[name] = {"type": "file", "path": name, "size": len(data), "oid": git_blob_sha1(data)}
        if prefix and not entries:
            raise _Reply(404, f"{path} does not exist on \"{rev}\"", {"X-Error-Code": "EntryNotFound"})
        self._json(200, list(entries.values()))

    def _route_preupload(self, body: bytes, query: str, repo: str, rev: str) -> None:
        found = self._visible_repo(repo)
        self._require_writer(found.owner, "upload to a model", found)
        self._check_revision(found, rev)
        files = json.loads(body or b"{}").get("files", [])
        answer = []
        for item in files:
            existing = found.files.get(item["path"])
            answer.append({"path": item["path"], "uploadMode": "regular", "shouldIgnore": False,
                           "oid": git_blob_sha1(existing) if existing is not None else None})
        self._json(200, {"files": answer, "commitOid": found.head})

    def _route_commit(self, body: bytes, query: str, repo: str, rev: str) -> None:
        found = self._visible_repo(repo)
        self._require_writer(found.owner, "commit to a model", found)
        self._check_revision(found, rev)
        summary, added, deleted = "", {}, []
        for number, line in enumerate(body.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                raise _Reply(400, f"Line {number} of the commit is not JSON") from None
            key, value = item.get("key"), item.get("value") or {}
            if key == "header":
                summary = value.get("summary", "")
            elif key == "file":
                if value.get("encoding") != "base64":
                    raise _Reply(400, f"Unsupported encoding for {value.get('path')}")
                added[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
            else:
                raise _Reply(400, f"The test hub does not support '{key}' commit operations")
        if not summary:
            raise _Reply(400, "A commit needs a summary")
        with self.hub._lock:
            for path in deleted:
                for name in [n for n in found.files if n == path or n.startswith(path.rstrip("/") + "/")]:
                    del found.files[name]
            found.files.update(added)
            oid = hashlib.sha1(f"{found.head}{summary}{time.time_ns()}{sorted(added)}".encode()).hexdigest()
            found.commits.append(oid)
            found.commit_messages.append(summary)
        self._json(200, {"success": True, "commitOid": oid, "commitUrl": f"{self.hub.url}/{repo}/commit/{oid}",
                         "pullRequestUrl": None})

    def _route_resolve(self, body: bytes, query: str, repo: str, rev: str, file: str) -> None:
        found = self._visible_repo(repo)
        self._check_revision(found, rev)
        data = found.files.get(file)
        common = {"X-Repo-Commit": found.head}
        if data is None:
            raise _Reply(404, "Entry not found", {"X-Error-Code": "EntryNotFound", **common})
        headers = {**common, "ETag": f'"{git_blob_sha1(data)}"', "Content-Type": "application/octet-stream",
                   "Accept-Ranges": "bytes"}
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", "").strip())
        if match and self.command == "GET":
            start = min(int(match.group(1)), len(data))
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            self._send(206, data[start:], headers)
            return
        self._send(200, data, headers)
