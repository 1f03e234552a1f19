#!/usr/bin/env python3
"""make-plans.py - write the hostile plan corpus (tests/hostile/plans/) from base.json.

    python3 tests/hostile/make-plans.py

base.json is what `spotenv plan -o` saves for the prepared world of
tests/cli/0330-untrusted-hostile-plans.bats (environment web of
tests/cli/fixtures/web.yaml running its 3 instances, planned at capacity 5:
2 launches), with what differs from run to run as placeholders the test
fills in: @ENDPOINT@, @ACCOUNT@, @BASIS@, @ENV_BASIS@, "@OBSERVED@" (the
observed list), and in the corpus @ID_WEB@ (one of web's instances),
@ID_UNTAGGED@, @ID_OTHER_SCOPE@ and @ID_ENV_ONLY@ (instances the test
launches without spotenv's tags, in scope 'other', and with only
spotenv:env).  Applied as it is, base.json launches 2 instances (the
test's control); every file written here is a tampering of it (issue 12's
list and more) that apply must refuse with nothing done.  Each NAME.json
has a NAME.expect: a piece of the refusal apply prints.

The files are committed; run this again after changing base.json or the
list below, and commit what changed.
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "plans")
BASE = json.load(open(os.path.join(HERE, "base.json")))

corpus = {}  # name -> (bytes, expected piece of stderr)


def plan(name, expect, edit):
    p = copy.deepcopy(BASE)
    edit(p, p["environments"][0])
    data = json.dumps(p, indent=2)
    if len(data) > 65536:  # big ones compact: the corpus stays small
        data = json.dumps(p, separators=(",", ":"))
    corpus[name] = (data.encode() + b"\n", expect)


def raw(name, expect, data):
    corpus[name] = (data if isinstance(data, bytes) else data.encode(), expect)


def release(e, ident, **over):
    r = {"id": ident, "env": e["name"], "region": e["region"], "zone": "ap-guangzhou-3",
         "instance_type": "S5.MEDIUM4", "state": "RUNNING", "reason": "excess", "detail": None}
    r.update(over)
    e["releases"].append(r)
    e["to_release"] += 1


def launch(e):
    return e["launches"][0]


def settag(l, key, value):
    for t in l["tags"]:
        if t["key"] == key:
            t["value"] = value


# --- releases the live world must refuse (apply_verify_plan), counts kept consistent
plan("release-untagged", "release of '@ID_UNTAGGED@' is not an instance spotenv owns",
     lambda p, e: release(e, "@ID_UNTAGGED@"))
plan("release-other-scope", "release of '@ID_OTHER_SCOPE@' does not carry this environment's",
     lambda p, e: release(e, "@ID_OTHER_SCOPE@"))
plan("release-env-tag-only", "release of '@ID_ENV_ONLY@' does not carry this environment's",
     lambda p, e: release(e, "@ID_ENV_ONLY@"))
plan("release-unknown-instance", "release of 'ins-zz99zz99' is not an instance spotenv owns",
     lambda p, e: release(e, "ins-zz99zz99"))
# --- releases the plan itself gives away (plan_check, or the reader)
plan("release-not-an-id", "release 1: not an instance id",
     lambda p, e: release(e, "i-12345; rm -rf /"))
plan("release-names-other-env", "it names environment 'jobs'",
     lambda p, e: release(e, "@ID_WEB@", env="jobs"))
plan("release-region-null", "'environments[0].releases[0].region': expected a string",
     lambda p, e: release(e, "@ID_WEB@", region=None))
plan("release-other-region", "release 1: its region is not the environment's",
     lambda p, e: release(e, "@ID_WEB@", region="ap-shanghai"))
plan("release-twice", "release of instance '@ID_WEB@' appears more than once",
     lambda p, e: (release(e, "@ID_WEB@"), release(e, "@ID_WEB@")))
plan("release-counts-hidden", "are not its to_launch 2, to_release 0",
     lambda p, e: (release(e, "@ID_WEB@"), e.__setitem__("to_release", 0)))
plan("release-orphan-reason", "an orphan release of an environment in the specs",
     lambda p, e: release(e, "@ID_WEB@", reason="orphan"))
# --- launches
plan("launch-no-tags", "tag 'spotenv:env' must be 'web' once",
     lambda p, e: launch(e).__setitem__("tags", []))
plan("launch-foreign-tags", "tag 'spotenv:scope' must be 'default' once",
     lambda p, e: (settag(launch(e), "spotenv:env", "web"),
                   settag(launch(e), "spotenv:scope", "other")))
plan("launch-empty-tags", "tag 'spotenv:env' must be 'web' once",
     lambda p, e: launch(e).__setitem__("tags", [{"key": "", "value": ""}] * 3))
plan("launch-tag-twice", "tag 'spotenv:env' must be 'web' once",
     lambda p, e: launch(e)["tags"].append({"key": "spotenv:env", "value": "web"}))
plan("launch-bid-99999", "the bid is not pool 1's bid",
     lambda p, e: launch(e).__setitem__("bid", "99999.99"))
plan("launch-other-zone", "zone, type or subnet differ from pool 1",
     lambda p, e: launch(e).__setitem__("zone", "ap-guangzhou-7"))
plan("launch-zone-other-region", "its zone is not in the environment's region",
     lambda p, e: (launch(e).__setitem__("zone", "ap-shanghai-2"),
                   e["pools"][0].__setitem__("zone", "ap-shanghai-2")))
plan("launch-count-5000", "'environments[0].launches[0].count': expected an integer in range",
     lambda p, e: launch(e).__setitem__("count", 5000))
plan("launch-200-copies", "appears more than once",
     lambda p, e: e.__setitem__("launches", e["launches"] * 200))
plan("launch-ones", "launches for",
     lambda p, e: (e.__setitem__("desired", 10000), e.__setitem__("to_launch", 50),
                   e["pools"][0].__setitem__("launch", 50),
                   e.__setitem__("launches", [dict(launch(e), count=1, chunk=i,
                                                   client_token="se-%040d" % i)
                                              for i in range(50)])))
plan("launch-template-null", "launches without a launch template",
     lambda p, e: e.__setitem__("template", None))
plan("launch-image-edited", "its template hash is not that of the environment's launch template",
     lambda p, e: e["template"].__setitem__("image", "img-evil0000"))
plan("launch-user-data-edited", "its template hash is not that of the environment's launch template",
     lambda p, e: e["template"].__setitem__("user_data_b64", "Y3VybCBldmlsIHwgc2g="))
plan("launch-pool-unusable", "pool 1 is not usable",
     lambda p, e: (e["pools"][0].__setitem__("usable", False),
                   e.__setitem__("fallback", [1])))
plan("launch-fallback-unusable", "fallback pool 2 is not a usable pool",
     lambda p, e: e["pools"][1].__setitem__("usable", False))
plan("launch-capacity-20000", "a capacity over 10000",
     lambda p, e: e.__setitem__("desired", 20000))
plan("launch-over-capacity", "launches 2 instances for a capacity of 1",
     lambda p, e: e.__setitem__("desired", 1))
plan("launch-token-control-chars", "the ClientToken is not 1 to 64 printable characters",
     lambda p, e: launch(e).__setitem__("client_token", "se-\u001b]0;x\u0007"))
plan("launch-in-destroy-plan", "launches without a launch template, or in an orphan or destroy plan",
     lambda p, e: p.__setitem__("kind", "destroy"))
plan("launch-in-orphan", "launches without a launch template, or in an orphan or destroy plan",
     lambda p, e: e.__setitem__("orphan", True))
plan("pools-shuffled", "pool 1: its index is 2",
     lambda p, e: e.__setitem__("pools", list(reversed(e["pools"]))))
plan("region-header-injection", "its region is not a region name",
     lambda p, e: e.__setitem__("region", "ap-guangzhou\r\nX-Evil: 1"))
plan("template-id-injection", "its launch template holds a malformed id, name or user data",
     lambda p, e: e["template"].__setitem__("security_group_ids", ["sg-1\r\nX-Evil: 1"]))
plan("pool-type-injection", "a malformed zone, instance type or subnet",
     lambda p, e: e["pools"][0].__setitem__("instance_type", "S5.MEDIUM4\"}, {\"x\": \""))
# --- statuses and environments
plan("status-error-no-errors", "status error without errors",
     lambda p, e: e.__setitem__("status", "error"))
plan("status-converged-with-actions", "actions in an environment whose status is converged",
     lambda p, e: e.__setitem__("status", "converged"))
plan("duplicate-environments", "environment 'web' appears more than once",
     lambda p, e: p.__setitem__("environments", [e, copy.deepcopy(e)]))
plan("scope-not-in-scopes", "its scope is not one of the plan's scopes",
     lambda p, e: p.__setitem__("scopes", ["other"]))
plan("name-control-chars", "its name or scope is missing or not printable",
     lambda p, e: e.__setitem__("name", "web\u001b[2J\u001b]0;pwned\u0007"))
plan("errors-listed", "the saved plan has errors",
     lambda p, e: e.__setitem__("errors", ["a guardrail"]))
# --- where it was made
plan("other-endpoint", "plan was made against https://cvm.tencentcloudapi.com/ (account @ACCOUNT@), not",
     lambda p, e: p.__setitem__("endpoint", "https://cvm.tencentcloudapi.com/"))
plan("other-account", "plan was made against @ENDPOINT@ (account 1300000000), not @ENDPOINT@ (account @ACCOUNT@)",
     lambda p, e: p.__setitem__("account", "1300000000"))
plan("unbound", "it does not say where it was made",
     lambda p, e: (p.pop("endpoint"), p.pop("account")))
plan("endpoint-not-a-url", "'endpoint': expected an http:// or https:// URL",
     lambda p, e: p.__setitem__("endpoint", "file:///etc/passwd"))
plan("stale-basis", "plan is stale",
     lambda p, e: p.__setitem__("basis", "0" * 64))
# --- documents that are not plans
plan("huge-string", "string too long",
     lambda p, e: e.__setitem__("name", "w" * 70000))
plan("huge-array", "'environments[0].warnings': too many elements",
     lambda p, e: e.__setitem__("warnings", ["x"] * 10001))
plan("deep-nesting", "nested too deeply",
     lambda p, e: e.__setitem__("x", json.loads("[" * 200 + "]" * 200)))
raw("deeper-than-json-allows", "is not valid JSON", '{"format_version": "1", "x": ' + "[" * 20000 + "]" * 20000 + "}")
raw("duplicate-members", "'kind': appears twice",
    json.dumps(BASE, indent=2).replace('"kind": "plan",', '"kind": "plan",\n  "kind": "destroy",', 1))
raw("duplicate-count", "'count': appears twice",
    json.dumps(BASE, indent=2).replace('"count": 2,', '"count": 2, "count": 100,', 1))
raw("nul-in-string", "a string holds \\u0000",
    json.dumps(BASE, indent=2).replace('"name": "web"', '"name": "web\\u0000evil"', 1))
plan("many-members", "too many members",
     lambda p, e: e.update({"x%d" % i: i for i in range(1000)}))
plan("type-count-string", "'environments[0].launches[0].count': expected an integer in range",
     lambda p, e: launch(e).__setitem__("count", "2"))
plan("type-count-float", "'environments[0].launches[0].count': expected an integer in range",
     lambda p, e: launch(e).__setitem__("count", 1.5))
plan("type-tags-object", "'environments[0].launches[0].tags': expected an array",
     lambda p, e: launch(e).__setitem__("tags", {"spotenv:env": "web"}))
plan("type-environments-object", "'environments': expected an array",
     lambda p, e: p.__setitem__("environments", {"web": e}))
plan("type-scopes-numbers", "'scopes': expected an array of strings",
     lambda p, e: p.__setitem__("scopes", [1, 2]))
plan("type-bid-number", "'environments[0].launches[0].bid': expected a string",
     lambda p, e: launch(e).__setitem__("bid", 0.5))
plan("type-status-unknown", "'environments[0].status': unknown value",
     lambda p, e: e.__setitem__("status", "approved"))
plan("type-template-string", "'environments[0].template': expected an object",
     lambda p, e: e.__setitem__("template", "img-aaaaaaaa"))
plan("type-pool-index-negative", "'environments[0].pools[0].index': expected an integer in range",
     lambda p, e: e["pools"][0].__setitem__("index", -1))
plan("type-desired-huge", "'environments[0].desired': expected an integer in range",
     lambda p, e: e.__setitem__("desired", 1e300))
plan("type-observed-garbage", "'observed': expected [id, state, template] entries",
     lambda p, e: p.__setitem__("observed", [["ins-a", 1, None]]))
plan("type-everything-null", "expected",
     lambda p, e: [e.__setitem__(k, None) for k in list(e)])
raw("truncated", "is not valid JSON", json.dumps(BASE, indent=2)[:1500])
raw("not-json", "is not a spotenv plan", b"{\x00\x01\x02\xff\xfe garbage \x1b[2J")
raw("empty-object", "no 'format_version'", "{}")
raw("format-version-2", "unsupported plan format_version '2'",
    json.dumps(dict(BASE, format_version="2")))
raw("array-not-object", "error:", "[" + json.dumps(BASE) + "]")

os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.unlink(os.path.join(OUT, f))
for name, (data, expect) in sorted(corpus.items()):
    open(os.path.join(OUT, name + ".json"), "wb").write(data)
    open(os.path.join(OUT, name + ".expect"), "w").write(expect + "\n")
print("%d hostile plans in %s" % (len(corpus), OUT))
