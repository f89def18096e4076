#!/usr/bin/env python3
"""Drive the ORIGINAL OpenSecureConf Python client against a fresh oscd.

The client itself is not part of this repository: point --client-dir (or
$OSC_ORIG_CLIENT_DIR) at a directory that contains the original, unchanged
``opensecureconf_client.py`` (see tests/compat/README.md for how to get it).

For each variant (API key off, API key required) the driver starts its own
oscd on a free port in a temporary directory, exercises the client's whole
public surface (API.md §12) plus the wire-level MUSTs of API.md §14 that the
client happens not to look at, and prints one line per check:

    ok <name>
    FAIL <name>: <why>
    diff <name>: <why>   (a difference docs/compatibility.md documents, checked)

followed by a final line ``N passed, M failed, D documented differences``.  Exit
status is 1 when any check failed, 2 on a set-up error (client or oscd not
found).

Only the standard library plus requests/httpx (which the client needs) are
used.
"""

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    import requests
except ImportError:  # pragma: no cover - set-up error
    print("FAIL setup: the 'requests' module is required", flush=True)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

USER_KEY = "compat-user-key-0001"
OTHER_KEY = "compat-other-key-0002"
API_KEY = "compat-api-key-0123456789abcdef"

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
SHORT_FIELDS = ["id", "key", "category", "environment", "value"]
FULL_FIELDS = SHORT_FIELDS + ["created_at", "updated_at"]


class CheckFailed(Exception):
    pass


class Skip(Exception):
    pass


class Difference(Exception):
    """The check found oscd doing what docs/compatibility.md says it does differently."""


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def expect_eq(actual, expected, what):
    if actual != expected:
        a = repr(actual)
        e = repr(expected)
        if len(a) > 300:
            a = a[:300] + "...(%d chars)" % len(a)
        if len(e) > 300:
            e = e[:300] + "...(%d chars)" % len(e)
        raise CheckFailed("%s: expected %s, got %s" % (what, e, a))


def describe_response(r):
    body = r.text
    if len(body) > 300:
        body = body[:300] + "...(%d bytes)" % len(r.content)
    return "%s %s -> %d %s %s" % (r.request.method, r.request.path_url, r.status_code,
                                  r.headers.get("content-type", "-"), body)


class Results:
    def __init__(self, verbose=False):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.differences = 0
        self.verbose = verbose
        self.prefix = ""

    def ok(self, name):
        self.passed += 1
        print("ok %s%s" % (self.prefix, name), flush=True)

    def fail(self, name, why):
        self.failed += 1
        why = " ".join(str(why).split())
        print("FAIL %s%s: %s" % (self.prefix, name, why), flush=True)

    def difference(self, name, why):
        self.differences += 1
        print("diff %s%s: %s" % (self.prefix, name, why), flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print("skip %s%s: %s" % (self.prefix, name, why), flush=True)

    def note(self, text):
        print("#   %s" % text, flush=True)

    @contextlib.contextmanager
    def check(self, name):
        try:
            yield
        except Skip as e:
            self.skip(name, e)
        except Difference as e:
            self.difference(name, e)
        except CheckFailed as e:
            self.fail(name, e)
        except Exception as e:  # noqa: BLE001 - report everything
            self.fail(name, "%s: %s" % (type(e).__name__, e))
            if self.verbose:
                traceback.print_exc()
        else:
            self.ok(name)


# ---------------------------------------------------------------------------
# oscd process
# ---------------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, oscd, api_key_required, keep=False, extra_env=None):
        self.tmp = tempfile.mkdtemp(prefix="osc-compat-py-")
        self.keep = keep
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        env = {k: v for k, v in os.environ.items() if not k.startswith("OSC_")}
        env.update({
            "OSC_HOST": "127.0.0.1",
            "OSC_HOST_PORT": str(self.port),
            "OSC_DATABASE_PATH": os.path.join(self.tmp, "configurations.db"),
            "OSC_SALT_FILE_PATH": os.path.join(self.tmp, "encryption.salt"),
            "OSC_LOG_LEVEL": "WARNING",
            "OSC_API_KEY_REQUIRED": "true" if api_key_required else "false",
            # the checks of wrong API and user keys fail on purpose, many more than the ten
            # a client address may fail before oscd answers it 429 (which the original does
            # not do, and test-http-limits checks)
            "OSC_AUTH_FAIL_LIMIT": "0",
        })
        if api_key_required:
            env["OSC_API_KEY"] = API_KEY
        env.update(extra_env or {})
        self.log_path = os.path.join(self.tmp, "oscd.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([oscd, "--quiet"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("oscd exited with %s: %s" % (self.proc.returncode, self.log_tail()))
            try:
                if requests.get(self.base + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("oscd did not answer /health within 15 s: " + self.log_tail())
            time.sleep(0.05)

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


class Raw:
    """Plain requests without the client's retry logic, for wire-level checks."""

    def __init__(self, base, api_key=None):
        self.base = base
        self.api_key = api_key
        self.s = requests.Session()

    def __call__(self, method, path, user_key=USER_KEY, api=True, headers=None, **kw):
        h = {}
        if user_key is not None:
            h["X-User-Key"] = user_key
        if api and self.api_key:
            h["X-API-Key"] = self.api_key
        h.update(headers or {})
        kw.setdefault("timeout", 15)
        return self.s.request(method, self.base + path, headers=h, **kw)


def expect_json(r, status, what=None):
    what = what or "response"
    if r.status_code != status:
        raise CheckFailed("%s: expected HTTP %d, got %s" % (what, status, describe_response(r)))
    ct = r.headers.get("content-type", "")
    expect(ct.startswith("application/json"), "%s: Content-Type %r is not JSON (%s)" % (what, ct, describe_response(r)))
    try:
        return r.json()
    except ValueError:
        raise CheckFailed("%s: body is not JSON: %s" % (what, describe_response(r)))


def expect_detail_string(r, status, contains=None, exact=None):
    body = expect_json(r, status)
    expect(isinstance(body, dict) and isinstance(body.get("detail"), str),
           "detail is not a string: %s" % describe_response(r))
    if exact is not None:
        expect_eq(body["detail"], exact, "detail")
    if contains is not None:
        expect(contains.lower() in body["detail"].lower(),
               "detail %r does not contain %r" % (body["detail"], contains))
    return body["detail"]


def expect_detail_array(r, status=422):
    body = expect_json(r, status)
    expect(isinstance(body, dict) and isinstance(body.get("detail"), list) and body["detail"],
           "detail is not a non-empty array: %s" % describe_response(r))
    for item in body["detail"]:
        for f in ("type", "loc", "msg"):
            expect(f in item, "422 item without %r: %r" % (f, item))
        expect("input" in item, "422 item without 'input': %r" % (item,))
        expect(isinstance(item["loc"], list) and item["loc"], "422 loc is not a list: %r" % (item,))
    return body["detail"]


def check_full_form(obj, key=None, env=None, value=None, category=Ellipsis):
    expect(isinstance(obj, dict), "not an object: %r" % (obj,))
    expect_eq(sorted(obj.keys()), sorted(FULL_FIELDS), "full-form members")
    expect(isinstance(obj["id"], int) and not isinstance(obj["id"], bool), "id is not an integer: %r" % obj["id"])
    for ts in ("created_at", "updated_at"):
        expect(isinstance(obj[ts], str) and TS_RE.match(obj[ts]), "%s %r is not an ISO UTC timestamp" % (ts, obj[ts]))
    _check_common(obj, key, env, value, category)


def check_short_form(obj, key=None, env=None, value=None, category=Ellipsis):
    expect(isinstance(obj, dict), "not an object: %r" % (obj,))
    expect_eq(sorted(obj.keys()), sorted(SHORT_FIELDS), "short-form members")
    expect(isinstance(obj["id"], int) and not isinstance(obj["id"], bool), "id is not an integer: %r" % obj["id"])
    _check_common(obj, key, env, value, category)


def _check_common(obj, key, env, value, category):
    if key is not None:
        expect_eq(obj["key"], key, "key")
    if env is not None:
        expect_eq(obj["environment"], env, "environment")
    if value is not None:
        expect_eq(obj["value"], value, "value")
        expect_eq(type(obj["value"]), type(value), "type of value")
    if category is not Ellipsis:
        expect_eq(obj["category"], category, "category")


def wait_for(pred, timeout=5.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


async def async_wait_for(pred, timeout=5.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        await asyncio.sleep(step)
    return pred()


class BackgroundSubscriber(threading.Thread):
    """A wildcard SSEClient running in its own event loop for the whole variant.

    It is used to check that a subscriber without filters sees every change and
    that keep-alive comments arrive (API.md §5.5: at least every 30 s)."""

    def __init__(self, mod, base, api_key):
        super().__init__(daemon=True)
        self.mod = mod
        self.base = base
        self.api_key = api_key
        self.events = []
        self.sse = None
        self.error = None
        self.started_at = None
        self._stop_evt = threading.Event()
        self._ready = threading.Event()

    def run(self):
        try:
            asyncio.run(self._main())
        except Exception as e:  # noqa: BLE001
            self.error = e
            self._ready.set()

    async def _main(self):
        async def on_event(ev):
            self.events.append(ev)

        self.sse = self.mod.SSEClient(self.base, api_key=self.api_key, on_event=on_event,
                                      log_level="WARNING")
        async with self.sse:
            await self.sse.connect()
            self.started_at = time.time()
            await async_wait_for(lambda: self.sse.get_subscription_id() is not None, 10)
            self._ready.set()
            while not self._stop_evt.is_set():
                await asyncio.sleep(0.05)

    def wait_ready(self, timeout=10):
        self._ready.wait(timeout)
        return self.sse is not None and self.sse.get_subscription_id() is not None

    def stop(self):
        self._stop_evt.set()
        self.join(10)


# ---------------------------------------------------------------------------
# the scenario
# ---------------------------------------------------------------------------


def run_variant(R, mod, oscd, api_key_required, opts):
    label = "apikey" if api_key_required else "open"
    R.prefix = label + "/"
    print("# --- variant: %s (OSC_API_KEY_REQUIRED=%s) ---" % (label, "true" if api_key_required else "false"), flush=True)
    try:
        srv = Server(oscd, api_key_required, keep=opts.keep)
    except Exception as e:  # noqa: BLE001
        R.fail("server.start", e)
        return
    api_key = API_KEY if api_key_required else None
    raw = Raw(srv.base, api_key)
    Client = mod.OpenSecureConfClient
    bg = None
    try:
        bg = BackgroundSubscriber(mod, srv.base, api_key)
        bg.start()
        with R.check("sse.background_subscriber_connects"):
            expect(bg.wait_ready(10), "wildcard SSEClient got no 'connected' event within 10 s (error: %r)" % (bg.error,))

        client = Client(srv.base, USER_KEY, api_key=api_key, log_level="CRITICAL")
        run_basic(R, mod, client, srv, raw, api_key_required)
        run_crud(R, mod, client, srv, raw)
        run_bulk(R, mod, client)
        run_utilities(R, mod, client)
        run_errors(R, mod, client, srv, raw, api_key_required)
        run_sse(R, mod, client, srv, raw, api_key_required)
        run_spec(R, mod, client, srv, raw, api_key_required)
        run_background_checks(R, bg, opts)
        with R.check("client.close"):
            client.close()
            # a closed requests.Session transparently re-opens; just make sure close() is harmless
            expect(client.ping(), "ping after close() failed")
            client.close()
        with R.check("server.still_alive"):
            expect(srv.alive(), "oscd died during the run: " + srv.log_tail())
    finally:
        if bg is not None:
            bg.stop()
        srv.stop()


# -- service / cluster ------------------------------------------------------


def run_basic(R, mod, client, srv, raw, api_key_required):
    with R.check("ping"):
        expect(client.ping() is True, "ping() returned False")
    with R.check("get_service_info"):
        info = client.get_service_info()
        expect(isinstance(info, dict), "not an object: %r" % (info,))
        expect(isinstance(info.get("service"), str) and info["service"], "no 'service' member: %r" % (info,))
        expect(str(info.get("version", "")).startswith("3."), "version is not 3.x: %r" % info.get("version"))
        expect(info.get("status") == "operational", "status is not 'operational': %r" % info.get("status"))
        expect(isinstance(info.get("cluster"), dict) and info["cluster"].get("enabled") is False,
               "cluster member is not {'enabled': false}: %r" % info.get("cluster"))
    with R.check("get_cluster_status"):
        st = client.get_cluster_status()
        expect_eq(st, {"enabled": False, "mode": None, "node_id": None, "total_nodes": None, "healthy_nodes": None},
                  "cluster status")
    with R.check("get_cluster_health"):
        h = client.get_cluster_health()
        expect(isinstance(h, dict) and h.get("status") == "healthy", "not healthy: %r" % (h,))
        expect(isinstance(h.get("node_id"), str) and h["node_id"], "node_id missing: %r" % (h,))
        expect_eq(h["node_id"], "node-%d" % srv.port, "default node_id")
    with R.check("context_manager"):
        with mod.OpenSecureConfClient(srv.base, USER_KEY, api_key=client.api_key, log_level="CRITICAL") as c2:
            expect(c2.ping(), "ping inside 'with' failed")
            expect(isinstance(c2.list_all(), list), "list_all inside 'with' did not return a list")


# -- CRUD --------------------------------------------------------------------

ENV_P = "production"
ENV_S = "staging"
UNI_KEY = "clé-ключ-键-🔑 spaced"
UNI_ENV = "prødüction-環境"
UNI_CAT = "catégorie-カテゴリ"
UNI_VAL = {"grüße": "ünïcødé ✓ 🚀", "emoji": "😀", "zh": "中文", "nested": ["ä", {"ö": "ü"}]}
NESTED_VAL = {"db": {"host": "db.example", "port": 5432, "opts": {"ssl": True, "ratio": 0.25, "none": None}},
              "list": [1, "two", 3.5, False, None, {"deep": [[], {}]}]}


def run_crud(R, mod, client, srv, raw):
    C = {}
    with R.check("create.dict_with_category"):
        r = client.create("database", {"host": "db.prod", "port": 5432}, ENV_P, "config")
        check_full_form(r, "database", ENV_P, {"host": "db.prod", "port": 5432}, "config")
        expect_eq(r["created_at"], r["updated_at"], "created_at == updated_at on create")
        C["database"] = r
    with R.check("create.same_key_other_environment"):
        r = client.create("database", {"host": "db.staging", "port": 5432}, ENV_S, "config")
        check_full_form(r, "database", ENV_S, {"host": "db.staging", "port": 5432}, "config")
        expect(r["id"] != C["database"]["id"], "same id for a different environment")
    with R.check("create.string_value"):
        r = client.create("api_token", "secret-token-123", ENV_P, "auth")
        check_full_form(r, "api_token", ENV_P, "secret-token-123", "auth")
    with R.check("create.int_value"):
        r = client.create("max_retries", 3, ENV_P)
        check_full_form(r, "max_retries", ENV_P, 3, None)
    # The original stores integers of any size; oscd refuses those beyond 64 bits with a 422
    # rather than store them wrong (docs/compatibility.md). Checked: a clear error, nothing
    # stored.
    for name, v in (("big_int_value", 2 ** 70),
                    ("big_int_nested_value", {"id": 2 ** 64, "neg": -(2 ** 63) - 1, "list": [10 ** 30]})):
        with R.check("create." + name):
            key = name.replace("_value", "")
            try:
                r = client.create(key, v, ENV_P)
            except Exception as e:  # noqa: BLE001 - the client's own error class
                expect("64-bit" in str(e) or "422" in str(e), "unclear error: %r" % e)
                expect(not client.exists(key, ENV_P), "stored although refused")
                raise Difference("integers beyond 64 bits are refused (422, %r); the original "
                                 "stores them" % " ".join(str(e).split())[:80])
            check_full_form(r, key, ENV_P, v, None)
            expect_eq(client.read(key, ENV_P)["value"], v, "big int read back")
    with R.check("create.int64_limits"):
        v = [2 ** 63 - 1, -(2 ** 63)]
        r = client.create("int64_limits", v, ENV_P)
        check_full_form(r, "int64_limits", ENV_P, v, None)
        expect_eq(client.read("int64_limits", ENV_P)["value"], v, "int64 limits read back")
        client.delete("int64_limits", ENV_P)
    with R.check("create.bool_value"):
        r = client.create("debug", False, ENV_S, "settings")
        check_full_form(r, "debug", ENV_S, False, "settings")
    with R.check("create.list_value"):
        r = client.create("hosts", ["a", "b", 3, True], ENV_P, "net")
        check_full_form(r, "hosts", ENV_P, ["a", "b", 3, True], "net")
    with R.check("create.nested_value"):
        r = client.create("nested", NESTED_VAL, ENV_P, "config")
        check_full_form(r, "nested", ENV_P, NESTED_VAL, "config")
    with R.check("create.float_5.0_normalised_to_int_5"):
        r = client.create("five", 5.0, ENV_P)
        expect(r["value"] == 5 and type(r["value"]) is int, "create returned %r (%s), expected int 5" % (r["value"], type(r["value"]).__name__))
        rr = client.read("five", ENV_P)
        expect(rr["value"] == 5 and type(rr["value"]) is int, "read returned %r (%s), expected int 5" % (rr["value"], type(rr["value"]).__name__))
    with R.check("create.nested_floats_stay_floats"):
        v = {"f": 5.0, "g": [1.0, 0.0025, 1e20, -0.0, 100.0], "i": 5}
        for got in (client.create("nested_floats", v, ENV_S)["value"], client.read("nested_floats", ENV_S)["value"]):
            expect_eq(got, v, "value")
            types = [type(got["f"])] + [type(x) for x in got["g"]] + [type(got["i"])]
            expect_eq(types, [float] * 6 + [int], "nested number types (only a top-level 5.0 becomes 5)")
        client.delete("nested_floats", ENV_S)
    with R.check("create.category_null"):
        r = client.create("nocat", "x", ENV_S, None)
        check_full_form(r, "nocat", ENV_S, "x", None)
        body = raw("GET", "/configs/nocat", params={"environment": ENV_S}).json()
        expect("category" in body and body["category"] is None, "category not JSON null on read: %r" % (body,))
    with R.check("create.empty_string_category"):
        r = client.create("emptycat", "x", ENV_S, "")
        # the client sends "" (``category and len(...)`` lets it through); the original stores ""
        check_full_form(r, "emptycat", ENV_S, "x", "")
    with R.check("create.unicode_key_value_env_category"):
        r = client.create(UNI_KEY, UNI_VAL, UNI_ENV, UNI_CAT)
        check_full_form(r, UNI_KEY, UNI_ENV, UNI_VAL, UNI_CAT)
    with R.check("read.unicode_key"):
        r = client.read(UNI_KEY, UNI_ENV)
        check_short_form(r, UNI_KEY, UNI_ENV, UNI_VAL, UNI_CAT)
    big = "0123456789abcdef" * (500 * 1024 // 16)
    big_val = {"blob": big, "n": 1}
    with R.check("create.large_value_500KB"):
        r = client.create("large", big_val, ENV_S, "blob")
        check_full_form(r, "large", ENV_S, None, "blob")
        expect(r["value"] == big_val, "large value echoed differently (len %d)" % len(json.dumps(r["value"])))
    with R.check("read.large_value_500KB"):
        r = client.read("large", ENV_S)
        expect(r["value"] == big_val, "large value read back differently")
    with R.check("update.large_value_500KB"):
        big2 = big[::-1]
        r = client.update("large", ENV_S, big2)
        expect(r["value"] == big2, "large value update echoed differently")
        expect_eq(client.read("large", ENV_S)["value"], big2, "large value after update")
    with R.check("read.short_form"):
        r = client.read("database", ENV_P)
        check_short_form(r, "database", ENV_P, {"host": "db.prod", "port": 5432}, "config")
        expect_eq(r["id"], C["database"]["id"], "id")
    with R.check("read.per_environment_isolation"):
        expect_eq(client.read("database", ENV_S)["value"], {"host": "db.staging", "port": 5432}, "staging value")
    with R.check("read.all_value_types"):
        expect_eq(client.read("api_token", ENV_P)["value"], "secret-token-123", "string")
        v = client.read("max_retries", ENV_P)["value"]
        expect(v == 3 and type(v) is int, "int value read as %r" % (v,))
        v = client.read("debug", ENV_S)["value"]
        expect(v is False, "bool value read as %r" % (v,))
        expect_eq(client.read("hosts", ENV_P)["value"], ["a", "b", 3, True], "list")
        expect_eq(client.read("nested", ENV_P)["value"], NESTED_VAL, "nested")
    with R.check("update.value_keeps_category_when_none"):
        before = client.read("database", ENV_P)
        time.sleep(0.01)
        r = client.update("database", ENV_P, {"host": "db2.prod", "port": 5433})
        check_full_form(r, "database", ENV_P, {"host": "db2.prod", "port": 5433}, "config")
        expect_eq(r["id"], before["id"], "id after update")
        expect_eq(r["created_at"], C["database"]["created_at"], "created_at after update")
        expect(r["updated_at"] > r["created_at"], "updated_at %r not later than created_at %r" % (r["updated_at"], r["created_at"]))
        expect_eq(client.read("database", ENV_P)["value"], {"host": "db2.prod", "port": 5433}, "value read after update")
        expect_eq(client.read("database", ENV_S)["value"], {"host": "db.staging", "port": 5432}, "other environment untouched")
    with R.check("update.sets_category"):
        r = client.update("api_token", ENV_P, "new-token-456", "auth2")
        check_full_form(r, "api_token", ENV_P, "new-token-456", "auth2")
        expect_eq(client.read("api_token", ENV_P)["category"], "auth2", "category read after update")
    with R.check("update.change_value_type"):
        r = client.update("max_retries", ENV_P, [1, 2, 3])
        check_full_form(r, "max_retries", ENV_P, [1, 2, 3], None)
        r = client.update("max_retries", ENV_P, 7.0)
        expect(r["value"] == 7 and type(r["value"]) is int, "update with 7.0 returned %r" % (r["value"],))
    with R.check("update.unicode_key"):
        r = client.update(UNI_KEY, UNI_ENV, "ñ-updated-✓")
        check_full_form(r, UNI_KEY, UNI_ENV, "ñ-updated-✓", UNI_CAT)
    with R.check("delete.returns_message"):
        client.create("to_delete", "bye", ENV_S)
        r = client.delete("to_delete", ENV_S)
        expect_eq(r, {"message": "Configuration 'to_delete' deleted successfully"}, "delete response")
    with R.check("delete.really_deleted"):
        try:
            client.read("to_delete", ENV_S)
        except mod.ConfigurationNotFoundError:
            pass
        else:
            raise CheckFailed("read after delete did not raise ConfigurationNotFoundError")
    with R.check("delete.unicode_key"):
        client.create(UNI_KEY, 1, "tmp-env")
        expect_eq(client.delete(UNI_KEY, "tmp-env"), {"message": "Configuration '%s' deleted successfully" % UNI_KEY}, "delete response")
        expect(not client.exists(UNI_KEY, "tmp-env"), "still exists after delete")
        expect(client.exists(UNI_KEY, UNI_ENV), "same key in another environment vanished")
    with R.check("create.recreate_after_delete"):
        r = client.create("to_delete", "again", ENV_S)
        check_full_form(r, "to_delete", ENV_S, "again", None)
        client.delete("to_delete", ENV_S)

    # list_all
    with R.check("list_all.no_filter"):
        lst = client.list_all()
        expect(isinstance(lst, list), "not a list: %r" % (lst,))
        for o in lst:
            check_short_form(o)
        keys = {(o["key"], o["environment"]) for o in lst}
        for k in [("database", ENV_P), ("database", ENV_S), ("api_token", ENV_P), ("debug", ENV_S),
                  (UNI_KEY, UNI_ENV), ("large", ENV_S), ("nocat", ENV_S)]:
            expect(k in keys, "%r missing from list_all()" % (k,))
        ids = [o["id"] for o in lst]
        expect(ids == sorted(ids), "list not ordered by id: %r" % ids)
        uni = [o for o in lst if o["key"] == UNI_KEY][0]
        expect_eq(uni["value"], "ñ-updated-✓", "unicode entry value in list")
    with R.check("list_all.filter_environment"):
        lst = client.list_all(environment=ENV_S)
        expect(lst and all(o["environment"] == ENV_S for o in lst), "wrong environments: %r" % sorted({o["environment"] for o in lst}))
        expect_eq(sorted(o["key"] for o in lst), sorted(["database", "debug", "nocat", "emptycat", "large"]), "staging keys")
    with R.check("list_all.filter_category"):
        lst = client.list_all(category="config")
        expect_eq(sorted((o["key"], o["environment"]) for o in lst),
                  sorted([("database", ENV_P), ("database", ENV_S), ("nested", ENV_P)]), "category=config")
    with R.check("list_all.filter_both"):
        lst = client.list_all(category="config", environment=ENV_S)
        expect_eq([(o["key"], o["environment"]) for o in lst], [("database", ENV_S)], "category=config & environment=staging")
    with R.check("list_all.filter_unicode"):
        lst = client.list_all(category=UNI_CAT, environment=UNI_ENV)
        expect_eq([o["key"] for o in lst], [UNI_KEY], "unicode filters")
    with R.check("list_all.filter_no_match"):
        expect_eq(client.list_all(environment="no-such-env"), [], "no match")
        expect_eq(client.list_all(category="no-such-cat"), [], "no match")


# -- bulk --------------------------------------------------------------------


def run_bulk(R, mod, client):
    items = [
        {"key": "bulk1", "value": {"a": 1}, "environment": "bulk", "category": "b"},
        {"key": "bulk2", "value": "two", "environment": "bulk"},
        {"key": "bulk3", "value": [3], "environment": "bulk", "category": "b"},
    ]
    with R.check("bulk_create"):
        res = client.bulk_create(items)
        expect_eq(len(res), 3, "created count")
        for it, r in zip(items, res):
            check_full_form(r, it["key"], "bulk", it["value"], it.get("category"))
    with R.check("bulk_create.duplicate_raises"):
        try:
            client.bulk_create([{"key": "bulk4", "value": 4, "environment": "bulk"},
                                {"key": "bulk1", "value": 1, "environment": "bulk"}])
        except mod.ConfigurationExistsError as e:
            raise CheckFailed("raised ConfigurationExistsError directly (client wraps it): %s" % e)
        except mod.OpenSecureConfError as e:
            expect(isinstance(e.__cause__, mod.ConfigurationExistsError),
                   "cause is %r, expected ConfigurationExistsError" % (e.__cause__,))
            expect("already exists" in str(e), "message lacks 'already exists': %s" % e)
        else:
            raise CheckFailed("no exception for a duplicate in bulk_create")
        expect(client.exists("bulk4", "bulk"), "item before the failure was not created")
    with R.check("bulk_create.ignore_errors"):
        res = client.bulk_create([{"key": "bulk1", "value": 1, "environment": "bulk"},
                                  {"key": "bulk5", "value": 5, "environment": "bulk"}], ignore_errors=True)
        expect_eq([r["key"] for r in res], ["bulk5"], "created keys")
    with R.check("bulk_read"):
        res = client.bulk_read([{"key": "bulk1", "environment": "bulk"}, {"key": "bulk2", "environment": "bulk"}])
        expect_eq([r["value"] for r in res], [{"a": 1}, "two"], "values")
        for r in res:
            check_short_form(r)
    with R.check("bulk_read.missing_raises"):
        try:
            client.bulk_read([{"key": "bulk1", "environment": "bulk"}, {"key": "nope", "environment": "bulk"}])
        except mod.ConfigurationNotFoundError:
            pass
        else:
            raise CheckFailed("no ConfigurationNotFoundError for a missing key")
    with R.check("bulk_read.ignore_errors"):
        res = client.bulk_read([{"key": "nope", "environment": "bulk"}, {"key": "bulk3", "environment": "bulk"}],
                               ignore_errors=True)
        expect_eq([r["key"] for r in res], ["bulk3"], "read keys")
    with R.check("bulk_delete"):
        res = client.bulk_delete([{"key": "bulk4", "environment": "bulk"}, {"key": "bulk5", "environment": "bulk"}])
        expect_eq(res, {"deleted": [{"key": "bulk4", "environment": "bulk"}, {"key": "bulk5", "environment": "bulk"}],
                        "failed": []}, "bulk_delete result")
    with R.check("bulk_delete.missing_raises"):
        try:
            client.bulk_delete([{"key": "bulk4", "environment": "bulk"}])
        except mod.ConfigurationNotFoundError:
            pass
        else:
            raise CheckFailed("no ConfigurationNotFoundError when deleting a missing key")
    with R.check("bulk_delete.ignore_errors"):
        res = client.bulk_delete([{"key": "bulk4", "environment": "bulk"}, {"key": "bulk3", "environment": "bulk"}],
                                 ignore_errors=True)
        expect_eq(res["deleted"], [{"key": "bulk3", "environment": "bulk"}], "deleted")
        expect_eq([(f["key"], f["environment"]) for f in res["failed"]], [("bulk4", "bulk")], "failed")
        expect("not found" in res["failed"][0]["error"].lower(), "error text: %r" % res["failed"][0]["error"])


# -- utilities ---------------------------------------------------------------


def run_utilities(R, mod, client):
    with R.check("exists"):
        expect(client.exists("database", ENV_P) is True, "exists(database, production) is not True")
        expect(client.exists("database", "nowhere") is False, "exists(database, nowhere) is not False")
        expect(client.exists("no-such-key", ENV_P) is False, "exists(no-such-key) is not False")
    with R.check("get_or_default"):
        r = client.get_or_default("database", ENV_P, {"x": 1})
        expect_eq(r["value"], {"host": "db2.prod", "port": 5433}, "existing value")
        r = client.get_or_default("missing", ENV_P, {"x": 1})
        expect_eq(r, {"key": "missing", "value": {"x": 1}, "environment": ENV_P, "category": None}, "default")
    with R.check("count"):
        total = len(client.list_all())
        expect_eq(client.count(), total, "count()")
        expect_eq(client.count(environment="bulk"), 2, "count(environment=bulk)")
        expect_eq(client.count(category="config"), 3, "count(category=config)")
        expect_eq(client.count(category="b", environment="bulk"), 1, "count(category=b, environment=bulk)")
    with R.check("list_categories"):
        cats = client.list_categories()
        expect_eq(cats, sorted(["auth2", "b", "blob", "config", "net", "settings", UNI_CAT]), "categories")
    with R.check("list_environments"):
        envs = client.list_environments()
        expect_eq(envs, sorted(["bulk", ENV_P, ENV_S, UNI_ENV]), "environments")


# -- error mapping -----------------------------------------------------------


def run_errors(R, mod, client, srv, raw, api_key_required):
    Client = mod.OpenSecureConfClient
    api_key = API_KEY if api_key_required else None
    with R.check("error.not_found_read"):
        try:
            client.read("does-not-exist", ENV_P)
        except mod.ConfigurationNotFoundError as e:
            expect("does-not-exist" in str(e), "detail does not name the key: %s" % e)
        else:
            raise CheckFailed("no ConfigurationNotFoundError")
    with R.check("error.not_found_update"):
        try:
            client.update("does-not-exist", ENV_P, 1)
        except mod.ConfigurationNotFoundError:
            pass
        else:
            raise CheckFailed("no ConfigurationNotFoundError")
    with R.check("error.not_found_delete"):
        try:
            client.delete("does-not-exist", ENV_P)
        except mod.ConfigurationNotFoundError:
            pass
        else:
            raise CheckFailed("no ConfigurationNotFoundError")
    with R.check("error.duplicate_create"):
        try:
            client.create("database", {"dup": True}, ENV_P, "config")
        except mod.ConfigurationExistsError as e:
            expect_eq(str(e), "Configuration with key 'database' already exists in environment 'production'", "detail")
        else:
            raise CheckFailed("no ConfigurationExistsError")
        expect_eq(client.read("database", ENV_P)["value"], {"host": "db2.prod", "port": 5433}, "value after failed duplicate")
    with R.check("error.validation_422_is_OpenSecureConfError"):
        t0 = time.time()
        try:
            client.create("floaty", 2.5, ENV_P)
        except (mod.AuthenticationError, mod.ConfigurationNotFoundError, mod.ConfigurationExistsError) as e:
            raise CheckFailed("wrong subclass %s: %s" % (type(e).__name__, e))
        except mod.OpenSecureConfError as e:
            expect(str(e).startswith("API error (422)"), "message %r" % str(e))
        else:
            raise CheckFailed("2.5 accepted as a value")
        expect(time.time() - t0 < 1.5, "422 took %.1f s (retried?)" % (time.time() - t0))
    with R.check("error.null_value_422"):
        try:
            client.create("nully", None, ENV_P)
        except mod.OpenSecureConfError as e:
            expect(str(e).startswith("API error (422)"), "message %r" % str(e))
        else:
            raise CheckFailed("null accepted as a value")

    # D-3: a user key only opens what it encrypted
    other = Client(srv.base, OTHER_KEY, api_key=api_key, log_level="CRITICAL")
    with R.check("error.wrong_user_key_read_is_AuthenticationError_without_retry"):
        t0 = time.time()
        try:
            other.read("database", ENV_P)
        except mod.AuthenticationError:
            pass
        except Exception as e:  # noqa: BLE001
            raise CheckFailed("%s instead of AuthenticationError after %.1f s: %s" % (type(e).__name__, time.time() - t0, e))
        else:
            raise CheckFailed("a foreign user key could read the entry")
        dt = time.time() - t0
        expect(dt < 1.5, "took %.1f s: the client retried (server answered 5xx?)" % dt)
        r = raw("GET", "/configs/database", user_key=OTHER_KEY, params={"environment": ENV_P})
        expect_detail_string(r, 401)
    with R.check("error.wrong_user_key_update_refused"):
        try:
            other.update("database", ENV_P, "hijacked")
        except mod.AuthenticationError:
            pass
        else:
            raise CheckFailed("a foreign user key could overwrite the entry")
        expect_eq(client.read("database", ENV_P)["value"], {"host": "db2.prod", "port": 5433}, "value after refused update")
    with R.check("error.wrong_user_key_delete_refused"):
        try:
            other.delete("database", ENV_P)
        except mod.AuthenticationError:
            pass
        else:
            raise CheckFailed("a foreign user key could delete the entry")
        expect(client.exists("database", ENV_P), "entry gone after refused delete")
    with R.check("error.wrong_user_key_list_all_is_AuthenticationError"):
        try:
            res = other.list_all()
        except mod.AuthenticationError:
            pass
        else:
            raise CheckFailed("list_all with a key that opens nothing returned %d entries instead of 401" % len(res))
    with R.check("error.wrong_user_key_duplicate_create_still_400"):
        try:
            other.create("database", 1, ENV_P)
        except mod.ConfigurationExistsError:
            pass
        else:
            raise CheckFailed("no ConfigurationExistsError for a foreign key's duplicate")
    with R.check("multi_key.list_returns_only_own_entries"):
        other.create("other-secret", {"mine": True}, "other-env", "config")
        lst = other.list_all()
        expect_eq([(o["key"], o["environment"]) for o in lst], [("other-secret", "other-env")], "other key's list")
        lst = other.list_all(category="config")
        expect_eq([o["key"] for o in lst], ["other-secret"], "other key's list filtered by a shared category")
        mine = client.list_all()
        expect(("other-secret", "other-env") not in {(o["key"], o["environment"]) for o in mine},
               "owner's list contains the other key's entry")
        expect_eq(client.count(category="config"), 3, "owner's count(category=config)")
        other.delete("other-secret", "other-env")
    other.close()

    if api_key_required:
        noapi = Client(srv.base, USER_KEY, log_level="CRITICAL")
        badapi = Client(srv.base, USER_KEY, api_key="wrong-api-key-000000", log_level="CRITICAL")
        with R.check("apikey.missing_is_AuthenticationError"):
            for fn, args in ((noapi.read, ("database", ENV_P)), (noapi.create, ("x", 1, ENV_P)), (noapi.list_all, ())):
                t0 = time.time()
                try:
                    fn(*args)
                except mod.AuthenticationError as e:
                    expect("Forbidden" in str(e), "not the 403 mapping: %s" % e)
                else:
                    raise CheckFailed("%s without X-API-Key succeeded" % fn.__name__)
                expect(time.time() - t0 < 1.5, "slow (retried?)")
        with R.check("apikey.invalid_is_AuthenticationError"):
            try:
                badapi.read("database", ENV_P)
            except mod.AuthenticationError as e:
                expect("Forbidden" in str(e), "not the 403 mapping: %s" % e)
            else:
                raise CheckFailed("wrong X-API-Key accepted")
        with R.check("apikey.cluster_status_without_key_is_ClusterError"):
            try:
                noapi.get_cluster_status()
            except mod.ClusterError as e:
                expect("Forbidden" in str(e), "unexpected message %s" % e)
            else:
                raise CheckFailed("/cluster/status answered without X-API-Key")
        with R.check("apikey.open_routes_without_key"):
            expect(noapi.ping(), "ping without API key failed")
            expect(noapi.get_service_info().get("service"), "get_service_info without API key failed")
            expect(noapi.get_cluster_health().get("status") == "healthy", "cluster health without API key failed")
        noapi.close()
        badapi.close()

    with R.check("error.connection_refused_is_OpenSecureConfError"):
        dead = Client("http://127.0.0.1:%d" % free_port(), USER_KEY, enable_retry=False, log_level="CRITICAL")
        try:
            dead.read("x", "y")
        except mod.OpenSecureConfError as e:
            expect(str(e).startswith("Request failed"), "message %r" % str(e))
        else:
            raise CheckFailed("no error for a closed port")
        expect(dead.ping() is False, "ping() on a closed port is not False")
        dead.close()
    with R.check("client.local_validation"):
        for args in (("", 1, ENV_P), ("k", 1, ""), ("k" * 256, 1, ENV_P), ("k", 1, "e" * 101)):
            try:
                client.create(*args)
            except ValueError:
                pass
            else:
                raise CheckFailed("client accepted %r" % (args[:1],))
        try:
            Client(srv.base, "short")
        except ValueError:
            pass
        else:
            raise CheckFailed("client accepted a 5-character user key")
    with R.check("create.key_255_chars_and_env_100_chars"):
        k = "k" * 255
        e = "e" * 100
        r = client.create(k, "long", e, "c" * 100)
        check_full_form(r, k, e, "long", "c" * 100)
        expect_eq(client.read(k, e)["value"], "long", "read back")
        client.delete(k, e)


# -- SSE ---------------------------------------------------------------------


def run_sse(R, mod, client, srv, raw, api_key_required):
    with R.check("sse.create_sse_client_without_log_level_D48"):
        # Defect D48 of the original client: the numeric logger level is passed
        # where a string is expected.  Nothing the server can do about it; we
        # only record that the client behaves as documented.
        try:
            client.create_sse_client()
        except AttributeError as e:
            expect("upper" in str(e), "unexpected AttributeError: %s" % e)
            R.note("create_sse_client() without log_level raises %r (client defect D48, as documented)" % str(e))
        else:
            R.note("create_sse_client() without log_level did not fail (client differs from the documented D48)")
    try:
        asyncio.run(_sse_async(R, mod, client, srv, raw, api_key_required))
    except Exception as e:  # noqa: BLE001
        R.fail("sse.scenario", "%s: %s" % (type(e).__name__, e))
        if R.verbose:
            traceback.print_exc()


async def _sse_async(R, mod, client, srv, raw, api_key_required):
    env_ev, key_ev, cat_ev = [], [], []

    async def on_env(ev):
        env_ev.append(ev)

    async def on_key(ev):
        key_ev.append(ev)

    async def on_cat(ev):
        cat_ev.append(ev)

    ENV = "sse-env-✓"
    KEY = "sse-key-ü"
    CAT = "sse-cat"
    health0 = raw("GET", "/sse/health").json()["active_subscriptions"]

    sse_env = client.create_sse_client(environment=ENV, on_event=on_env, log_level="WARNING")
    sse_key = client.create_sse_client(key=KEY, on_event=on_key, log_level="WARNING")
    sse_cat = client.create_sse_client(category=CAT, on_event=on_cat, log_level="WARNING")
    call = asyncio.to_thread

    async with sse_env, sse_key, sse_cat:
        await sse_env.connect()
        await sse_key.connect()
        await sse_cat.connect()
        with R.check("sse.connect_and_connected_event"):
            for name, s, evs in (("env", sse_env, env_ev), ("key", sse_key, key_ev), ("cat", sse_cat, cat_ev)):
                got = await async_wait_for(lambda: s.get_subscription_id() is not None, 10)
                expect(got, "%s subscriber: no 'connected' event within 10 s (stats %r)" % (name, s.get_statistics()))
                expect(s.is_connected(), "%s subscriber: is_connected() is False" % name)
                expect(evs and evs[0].event_type == "connected", "%s subscriber: first event %r" % (name, evs[:1]))
                sid = s.get_subscription_id()
                expect(isinstance(sid, str) and len(sid) >= 8, "subscription_id %r" % (sid,))
                rd = evs[0].raw_data
                expect(isinstance(rd.get("filters"), dict), "connected.filters missing: %r" % (rd,))
                expect("server_time" in rd, "connected.server_time missing: %r" % (rd,))
            expect_eq(env_ev[0].raw_data["filters"], {"key": None, "environment": ENV, "category": None}, "env subscriber filters echo")
            expect_eq(key_ev[0].raw_data["filters"], {"key": KEY, "environment": None, "category": None}, "key subscriber filters echo")
        with R.check("sse.subscriptions_listed_by_server"):
            subs = expect_json(raw("GET", "/sse/subscriptions"), 200)
            ids = {s.get("subscription_id"): s for s in subs}
            for s in (sse_env, sse_key, sse_cat):
                expect(s.get_subscription_id() in ids, "subscription %s not in /sse/subscriptions" % s.get_subscription_id())
            item = ids[sse_env.get_subscription_id()]
            for f in ("subscription_id", "filters", "created_at", "duration_seconds", "queue_size", "queue_max_size"):
                expect(f in item, "/sse/subscriptions item lacks %r: %r" % (f, item))
            expect_eq(item["filters"], {"key": None, "environment": ENV, "category": None}, "filters")
        with R.check("sse.health_counts_subscriptions"):
            h = raw("GET", "/sse/health").json()
            expect(h.get("active_subscriptions") == health0 + 3, "active_subscriptions %r, expected %d" % (h, health0 + 3))

        # --- writes -------------------------------------------------------
        await call(client.create, KEY, {"v": 1, "ü": "✓"}, ENV, CAT)          # env, key, cat
        await call(client.create, "sse-other", "x", "sse-other-env", None)  # none of the three
        await call(client.update, KEY, ENV, {"v": 2}, CAT)                   # env, key, cat
        await call(client.update, KEY, ENV, {"v": 3})                        # env, key, cat(D-4: stored category)
        await call(client.create, "sse-other2", "y", ENV)                    # env
        await call(client.delete, "sse-other2", ENV)                         # env
        await call(client.delete, KEY, ENV)                                  # env, key, cat(D-4)
        await call(client.delete, "sse-other", "sse-other-env")              # none

        def names(evs):
            return [(e.event_type, e.key) for e in evs if e.event_type != "connected"]

        want_env = [("created", KEY), ("updated", KEY), ("updated", KEY), ("created", "sse-other2"),
                    ("deleted", "sse-other2"), ("deleted", KEY)]
        want_key = [("created", KEY), ("updated", KEY), ("updated", KEY), ("deleted", KEY)]
        want_cat = [("created", KEY), ("updated", KEY), ("updated", KEY), ("deleted", KEY)]
        await async_wait_for(lambda: len(names(env_ev)) >= len(want_env) and len(names(key_ev)) >= len(want_key)
                             and len(names(cat_ev)) >= len(want_cat), 5)
        await asyncio.sleep(0.3)  # let any unexpected extra event arrive

        with R.check("sse.environment_filter"):
            expect_eq(names(env_ev), want_env, "events seen by environment=%s" % ENV)
        with R.check("sse.key_filter"):
            expect_eq(names(key_ev), want_key, "events seen by key=%s" % KEY)
        with R.check("sse.category_filter_matches_stored_category_D4"):
            expect_eq(names(cat_ev), want_cat, "events seen by category=%s" % CAT)

        ev = [e for e in env_ev if e.event_type != "connected"]
        with R.check("sse.created_event_fields"):
            e = ev[0]
            expect_eq((e.event_type, e.key, e.environment, e.category), ("created", KEY, ENV, CAT), "created event")
            expect(isinstance(e.timestamp, str) and e.timestamp, "timestamp %r" % (e.timestamp,))
            for f in ("key", "environment", "category", "timestamp", "node_id", "data"):
                expect(f in e.raw_data, "created data lacks %r: %r" % (f, e.raw_data))
            # D-4: without X-User-Key on the subscription the value is withheld (data null)
            expect(e.data is None or e.data == {"value": {"v": 1, "ü": "✓"}}, "data %r" % (e.data,))
            if e.data is None:
                R.note("created.data is null (D-4: the Python SSEClient sends no X-User-Key; the original sent {'value': ...})")
        with R.check("sse.updated_event_fields"):
            e = ev[1]
            expect_eq((e.event_type, e.key, e.environment, e.category), ("updated", KEY, ENV, CAT), "updated event with category")
            expect(e.data is None or e.data == {"value": {"v": 2}}, "data %r" % (e.data,))
            e = ev[2]
            expect_eq((e.event_type, e.key, e.environment), ("updated", KEY, ENV), "updated event without category")
            expect(e.category in (None, CAT), "category %r" % (e.category,))
            R.note("updated-without-category event carries category=%r (original: None)" % (e.category,))
        with R.check("sse.deleted_event_fields"):
            e = ev[5]
            expect_eq((e.event_type, e.key, e.environment), ("deleted", KEY, ENV), "deleted event")
            expect(e.category in (None, CAT), "category %r" % (e.category,))
            expect(e.data is None, "deleted.data is %r, expected null" % (e.data,))
            R.note("deleted event carries category=%r (original: None)" % (e.category,))
        with R.check("sse.unicode_in_events"):
            expect_eq(ev[0].key, KEY, "unicode key")
            expect_eq(ev[0].environment, ENV, "unicode environment")

        with R.check("sse.get_statistics"):
            st = sse_env.get_statistics()
            for f in ("events_received", "events_by_type", "keepalives_received", "reconnections", "connected_at",
                      "last_event_at", "errors", "uptime_seconds"):
                expect(f in st, "statistics lack %r" % f)
            expect_eq(st["events_received"], 1 + len(want_env), "events_received")
            expect_eq(st["events_by_type"], {"connected": 1, "created": 2, "updated": 2, "deleted": 2, "sync": 0}, "events_by_type")
            expect_eq(st["errors"], 0, "errors")
            expect_eq(st["reconnections"], 0, "reconnections")
            expect(st["connected_at"] is not None and st["last_event_at"] is not None, "timestamps %r" % st)
            expect(st["uptime_seconds"] > 0, "uptime_seconds %r" % st["uptime_seconds"])

        with R.check("sse.server_stats_shape"):
            s = expect_json(raw("GET", "/sse/stats"), 200)
            for sect, members in (("subscriptions", ["total_created", "active", "closed", "wildcard", "by_key", "by_environment",
                                                     "by_category", "last_created_at"]),
                                  ("events", ["total_sent", "by_type", "dropped_queue_full", "last_sent_at"]),
                                  ("connection_health", ["keepalive_sent", "disconnections_detected"]),
                                  ("performance", ["average_subscription_duration_seconds", "max_queue_size_reached"])):
                expect(isinstance(s.get(sect), dict), "/sse/stats lacks %r: %r" % (sect, s))
                for m in members:
                    expect(m in s[sect], "/sse/stats.%s lacks %r" % (sect, m))
            expect(s["subscriptions"]["active"] >= 3, "active %r" % s["subscriptions"]["active"])
            expect(s["subscriptions"]["by_environment"].get(ENV) == 1, "by_environment %r" % s["subscriptions"]["by_environment"])
            expect(s["events"]["by_type"].get("created", 0) >= 2, "by_type %r" % s["events"]["by_type"])

    # async with has called disconnect() on all three
    with R.check("sse.disconnect"):
        for s in (sse_env, sse_key, sse_cat):
            expect(not s.is_connected(), "is_connected() still True after disconnect")
        # API.md §5.6: on client disconnect the subscription is removed.  Allow
        # 2 s; wait up to 20 s more only to report how long the server took.
        t0 = time.time()
        active = lambda: raw("GET", "/sse/health").json()["active_subscriptions"]  # noqa: E731
        ok = wait_for(lambda: active() == health0, 20, 0.2)
        dt = time.time() - t0
        expect(ok and dt <= 2.0,
               "GET /sse/health still counted the 3 closed subscriptions for %s after disconnect() "
               "(expected active_subscriptions=%d within 2 s)" % ("%.1f s" % dt if ok else "more than 20 s", health0))

    with R.check("sse.reconnect_via_connect_again"):
        evs = []

        async def on_ev(ev):
            evs.append(ev)

        s = client.create_sse_client(key="recon", on_event=on_ev, log_level="WARNING")
        await s.connect()
        expect(await async_wait_for(lambda: s.get_subscription_id() is not None, 10), "no connected event")
        await call(client.create, "recon", 1, "r")
        expect(await async_wait_for(lambda: any(e.event_type == "created" for e in evs), 5), "no created event")
        await s.disconnect()
        await call(client.delete, "recon", "r")

    if api_key_required:
        for label, key in (("missing", None), ("invalid", "wrong-api-key-000000")):
            with R.check("sse.apikey_%s_is_SSEError_403" % label):
                s = mod.SSEClient(srv.base, api_key=key, auto_reconnect=False, log_level="CRITICAL")
                async with s:
                    await s.connect()
                    try:
                        await asyncio.wait_for(s._connection_task, 10)
                    except mod.SSEError as e:
                        expect("HTTP 403" in str(e), "unexpected SSEError %s" % e)
                    except asyncio.TimeoutError:
                        raise CheckFailed("subscription without a valid API key stayed open")
                    else:
                        raise CheckFailed("connection loop ended without SSEError")


def run_background_checks(R, bg, opts):
    with R.check("sse.wildcard_subscriber_sees_all_changes"):
        expect(bg.error is None, "background subscriber failed: %r" % (bg.error,))
        created = {(e.key, e.environment) for e in bg.events if e.event_type == "created"}
        for k in (("database", ENV_P), (UNI_KEY, UNI_ENV), ("large", ENV_S), ("five", ENV_P),
                  ("sse-key-ü", "sse-env-✓"), ("sse-other", "sse-other-env")):
            expect(k in created, "wildcard subscriber missed created %r" % (k,))
        st = bg.sse.get_statistics()
        expect_eq(st["reconnections"], 0, "reconnections of the wildcard subscriber")
        expect_eq(st["errors"], 0, "errors of the wildcard subscriber")
        expect_eq(st["events_by_type"]["connected"], 1, "connected events of the wildcard subscriber")
    with R.check("sse.keepalive_within_30s"):
        if opts.no_keepalive_wait:
            raise Skip("--no-keepalive-wait")
        expect(bg.started_at is not None, "the wildcard subscriber never connected")
        remaining = bg.started_at + 31 - time.time()
        if remaining > 0:
            print("#   waiting %.0f s for a keep-alive comment" % remaining, flush=True)
            time.sleep(remaining)
        st = bg.sse.get_statistics()
        expect(st["keepalives_received"] >= 1, "no ': ' comment line in 31 s (keepalives_received=%d)" % st["keepalives_received"])


# -- wire-level MUSTs the client does not look at ---------------------------


def run_spec(R, mod, client, srv, raw, api_key_required):
    with R.check("spec.health_ready"):
        expect_eq(expect_json(raw("GET", "/health", user_key=None, api=False), 200), {"status": "healthy"}, "/health")
        expect_eq(expect_json(raw("GET", "/ready", user_key=None, api=False), 200), {"ready": True}, "/ready")
    with R.check("spec.metrics_open_and_named"):
        r = raw("GET", "/metrics", user_key=None, api=False)
        expect(r.status_code == 200, describe_response(r))
        expect(r.headers.get("content-type", "").startswith("text/plain"), "content-type %r" % r.headers.get("content-type"))
        for m in ("osc_http_requests_total", "osc_config_entries_total", "osc_encryption_operations_total",
                  "osc_api_errors_total", "osc_config_operations_total", "osc_http_request_duration_seconds"):
            expect(m in r.text, "metric %s missing" % m)
    with R.check("spec.user_key_absent_422"):
        r = raw("GET", "/configs", user_key=None)
        items = expect_detail_array(r)
        expect(any(i["loc"] == ["header", "x-user-key"] and i["type"] == "missing" for i in items),
               "no missing x-user-key item: %r" % items)
    with R.check("spec.user_key_empty_401"):
        expect_detail_string(raw("GET", "/configs", user_key=""), 401,
                             exact="X-User-Key header is required for configuration operations")
    with R.check("spec.user_key_short_401"):
        expect_detail_string(raw("GET", "/configs", user_key="short"), 401,
                             exact="X-User-Key must be at least 8 characters long")
    with R.check("spec.unknown_path_404"):
        expect_detail_string(raw("GET", "/no/such/route"), 404, exact="Not Found")
    with R.check("spec.wrong_method_405"):
        r = raw("PATCH", "/configs")
        expect_detail_string(r, 405, exact="Method Not Allowed")
        expect("Allow" in r.headers, "no Allow header")
    with R.check("spec.read_mode_full_and_short"):
        full = expect_json(raw("GET", "/configs/database", params={"environment": ENV_P, "mode": "full"}), 200)
        check_full_form(full, "database", ENV_P)
        short = expect_json(raw("GET", "/configs/database", params={"environment": ENV_P, "mode": "short"}), 200)
        check_short_form(short, "database", ENV_P)
        lst = expect_json(raw("GET", "/configs", params={"mode": "full", "environment": ENV_P}), 200)
        for o in lst:
            check_full_form(o, env=ENV_P)
    with R.check("spec.read_bad_mode_422"):
        expect_detail_array(raw("GET", "/configs/database", params={"environment": ENV_P, "mode": "FULL"}))
    with R.check("spec.read_environment_absent_422"):
        items = expect_detail_array(raw("GET", "/configs/database"))
        expect(any(i["loc"] == ["query", "environment"] for i in items), "no query.environment item: %r" % items)
    with R.check("spec.read_environment_empty_404"):
        expect_detail_string(raw("GET", "/configs/database", params={"environment": ""}), 404, exact="environment is required")
    with R.check("spec.create_value_2.5_422_five_items"):
        items = expect_detail_array(raw("POST", "/configs", json={"key": "f", "value": 2.5, "environment": "e"}))
        expect(len(items) == 5, "expected 5 union items, got %d: %r" % (len(items), items))
    with R.check("spec.create_text_plain_422_not_500"):
        r = raw("POST", "/configs", data='{"key":"t","value":1,"environment":"e"}', headers={"Content-Type": "text/plain"})
        expect_detail_array(r)
    with R.check("spec.create_malformed_json_422"):
        r = raw("POST", "/configs", data='{"key":', headers={"Content-Type": "application/json"})
        items = expect_detail_array(r)
        expect(items[0]["type"] == "json_invalid", "type %r" % items[0]["type"])
    with R.check("spec.create_nan_422"):
        r = raw("POST", "/configs", data='{"key":"n","value":{"x":NaN},"environment":"e"}',
                headers={"Content-Type": "application/json"})
        expect_detail_array(r)
    with R.check("spec.create_array_body_422"):
        expect_detail_array(raw("POST", "/configs", json=[1, 2]))
    with R.check("spec.create_key_256_422"):
        expect_detail_array(raw("POST", "/configs", json={"key": "k" * 256, "value": 1, "environment": "e"}))
    with R.check("spec.create_no_content_type_parsed"):
        r = raw("POST", "/configs", data=json.dumps({"key": "noct", "value": 1, "environment": "e"}).encode())
        expect(r.status_code == 201, "RECOMMENDED parse of a body without Content-Type: %s" % describe_response(r))
        raw("DELETE", "/configs/noct", params={"environment": "e"})
    with R.check("spec.stats"):
        s = expect_json(raw("GET", "/stats"), 200)
        for f in ("total_keys", "total_categories", "total_environments", "keys_by_category", "keys_by_environment"):
            expect(f in s, "/stats lacks %r: %r" % (f, s))
        expect("uncategorized" in s["keys_by_category"], "null/empty categories not counted as 'uncategorized': %r" % s["keys_by_category"])
    with R.check("spec.stats_operations"):
        s = expect_json(raw("GET", "/stats/operations", user_key=None), 200)
        for f in ("read_operations", "write_operations", "encryption_operations", "total_http_requests"):
            expect(isinstance(s.get(f), dict), "/stats/operations lacks %r: %r" % (f, s))
    with R.check("spec.cluster_distribution_400"):
        expect_detail_string(raw("GET", "/cluster/distribution"), 400, exact="Clustering is not enabled")
    with R.check("spec.cluster_configs"):
        lst = expect_json(raw("GET", "/cluster/configs", user_key=None), 200)
        expect(isinstance(lst, list) and lst, "empty or not a list: %r" % (lst,))
        for o in lst:
            expect_eq(sorted(o.keys()), sorted(["key", "category", "environment", "created_at", "updated_at"]), "members")
        expect(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$", lst[0]["created_at"]),
               "created_at %r is not raw SQLite text" % lst[0]["created_at"])
    with R.check("spec.cluster_salt"):
        r = raw("GET", "/cluster/salt", user_key=None)
        expect(r.status_code == 200 and len(r.content) == 64, describe_response(r))
        expect(r.headers.get("content-type", "").startswith("application/octet-stream"), "content-type %r" % r.headers.get("content-type"))
    with R.check("spec.sse_framing"):
        r = raw("GET", "/sse/subscribe", user_key=None, params={"environment": "framing"}, stream=True, timeout=(5, 5))
        try:
            expect(r.status_code == 200, "status %d" % r.status_code)
            expect(r.headers.get("content-type", "").startswith("text/event-stream"), "content-type %r" % r.headers.get("content-type"))
            lines = []
            for line in r.iter_lines(decode_unicode=False):
                lines.append(line.decode("utf-8"))
                if line == b"" and any(x.startswith("data: ") for x in lines):
                    break
            expect(lines[0] == "event: connected", "first line %r" % lines[0])
            datas = [x for x in lines if x.startswith("data: ")]
            expect(len(datas) == 1, "expected exactly one data line: %r" % lines)
            d = json.loads(datas[0][6:])
            expect(isinstance(d.get("subscription_id"), str), "subscription_id %r" % d)
            expect(lines.index(datas[0]) > 0, "data before event")
        finally:
            r.close()
    with R.check("spec.etag_and_if_match_D8"):
        r = raw("GET", "/configs/database", params={"environment": ENV_P})
        et = r.headers.get("ETag")
        expect(et, "no ETag on read")
        r2 = raw("PUT", "/configs/database", params={"environment": ENV_P}, json={"value": "x"}, headers={"If-Match": '"999999"'})
        # 412 Precondition Failed, as the REST API issue decides (API.md's D-7 says 409;
        # HTTP specifies 412 for a failed If-Match; docs/compatibility.md records it)
        expect_detail_string(r2, 412)
        r3 = raw("PUT", "/configs/database", params={"environment": ENV_P}, json={"value": {"host": "db2.prod", "port": 5433}},
                 headers={"If-Match": et})
        expect(r3.status_code == 200, describe_response(r3))
    with R.check("spec.head_on_get_routes_D8"):
        r = raw("HEAD", "/configs/database", params={"environment": ENV_P})
        expect(r.status_code == 200 and not r.content, "HEAD: %d, %d bytes" % (r.status_code, len(r.content)))
    with R.check("spec.cors_preflight_allows_backup_password_D8"):
        r = raw("OPTIONS", "/backup", user_key=None, api=False,
                headers={"Origin": "http://example.test", "Access-Control-Request-Method": "POST",
                         "Access-Control-Request-Headers": "x-backup-password,x-user-key,x-api-key,content-type"})
        expect(r.status_code == 200, describe_response(r))
        expect(r.headers.get("Access-Control-Allow-Origin") == "http://example.test",
               "Allow-Origin %r" % r.headers.get("Access-Control-Allow-Origin"))
    with R.check("spec.path_percent_decoded_exactly_once"):
        # API.md §1.6: the path is percent-decoded once (what the JS client's
        # encodeURIComponent relies on): /configs/100%25 is key '100%' and
        # /configs/p%2541q is key 'p%41q', never 'pAq'.
        for k, v in (("100%", "percent"), ("p%41q", "literal"), ("pAq", "plain")):
            r = raw("POST", "/configs", json={"key": k, "value": v, "environment": "pct"})
            expect(r.status_code == 201, describe_response(r))
        try:
            got = []
            for path in ("/configs/100%25", "/configs/p%2541q"):
                r = raw("GET", path, params={"environment": "pct"})
                got.append(r.json().get("value") if r.status_code == 200 else describe_response(r))
            expect_eq(got, ["percent", "literal"], "values read through /configs/100%25 and /configs/p%2541q")
        finally:
            for o in raw("GET", "/configs", params={"environment": "pct"}).json():
                raw("DELETE", "/configs/" + requests.utils.quote(o["key"], safe=""), params={"environment": "pct"})
    with R.check("spec.key_with_slash_MAY"):
        r = raw("POST", "/configs", json={"key": "a/b", "value": 1, "environment": "slash"})
        expect(r.status_code == 201, describe_response(r))
        r = raw("GET", "/configs/a%2Fb", params={"environment": "slash"})
        if r.status_code != 200:
            raw("DELETE", "/configs/a%2Fb", params={"environment": "slash"})
            raise Skip("keys with '/' not reachable through %%2F (MAY): %s" % describe_response(r))
        raw("DELETE", "/configs/a%2Fb", params={"environment": "slash"})

    if api_key_required:
        with R.check("spec.apikey_missing_403_exact"):
            expect_detail_string(raw("GET", "/configs", api=False), 403,
                                 exact="API key required but missing. Provide X-API-Key header.")
        with R.check("spec.apikey_invalid_403_exact"):
            expect_detail_string(raw("GET", "/configs", api=False, headers={"X-API-Key": "nope-nope-nope"}), 403,
                                 exact="Invalid API key")
        with R.check("spec.apikey_checked_before_user_key"):
            expect_detail_string(raw("GET", "/configs", api=False, user_key=None), 403)
        with R.check("spec.apikey_open_routes"):
            for p in ("/", "/health", "/ready", "/metrics", "/cluster/health", "/sse/health"):
                r = raw("GET", p, api=False, user_key=None)
                expect(r.status_code == 200, "%s without API key: %s" % (p, describe_response(r)))
        with R.check("spec.apikey_protected_routes_403"):
            for p in ("/stats/operations", "/sse/stats", "/sse/subscriptions", "/cluster/status", "/cluster/configs",
                      "/cluster/salt", "/sse/subscribe", "/stats"):
                r = raw("GET", p, api=False, user_key=None)
                expect(r.status_code == 403, "%s without API key: %s" % (p, describe_response(r)))
                r.close()


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--client-dir", default=os.environ.get("OSC_ORIG_CLIENT_DIR"),
                    help="directory holding the original opensecureconf_client.py ($OSC_ORIG_CLIENT_DIR)")
    ap.add_argument("--oscd", default=os.environ.get("OSCD", os.path.join(REPO, "_build", "server", "oscd", "oscd")),
                    help="oscd binary (default: <repo>/_build/server/oscd/oscd or $OSCD)")
    ap.add_argument("--variant", choices=["both", "open", "apikey"], default="both")
    ap.add_argument("--no-keepalive-wait", action="store_true",
                    help="do not wait up to 31 s per variant for a keep-alive comment")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories (database, salt, oscd.log)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print tracebacks of unexpected exceptions")
    opts = ap.parse_args()

    if not opts.client_dir or not os.path.isfile(os.path.join(opts.client_dir, "opensecureconf_client.py")):
        print("FAIL setup: no opensecureconf_client.py in --client-dir/$OSC_ORIG_CLIENT_DIR (%r); "
              "see tests/compat/README.md" % (opts.client_dir,), flush=True)
        print("0 passed, 1 failed")
        return 2
    if not os.access(opts.oscd, os.X_OK):
        print("FAIL setup: oscd not found or not executable: %s (use --oscd)" % opts.oscd, flush=True)
        print("0 passed, 1 failed")
        return 2
    sys.path.insert(0, os.path.abspath(opts.client_dir))
    mod = importlib.import_module("opensecureconf_client")
    if not getattr(mod, "HTTPX_AVAILABLE", True):
        print("FAIL setup: %s has no 'httpx' module, which the client's SSEClient needs "
              "(Debian: python3-httpx; or run with /usr/bin/python3)" % sys.executable, flush=True)
        print("0 passed, 1 failed")
        return 2
    print("# client: %s" % os.path.abspath(mod.__file__), flush=True)
    print("# oscd:   %s" % os.path.abspath(opts.oscd), flush=True)

    R = Results(opts.verbose)
    variants = {"both": [False, True], "open": [False], "apikey": [True]}[opts.variant]
    for v in variants:
        run_variant(R, mod, opts.oscd, v, opts)
    R.prefix = ""
    if R.skipped:
        print("# %d skipped" % R.skipped)
    print("%d passed, %d failed, %d documented differences" % (R.passed, R.failed, R.differences),
          flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
