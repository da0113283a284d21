#!/usr/bin/env python3
"""Checks docs/grafana-dashboard.json, and the metrics table of docs/operations.md, against
the series a running otpd exports.

    check_dashboard.py OTPD_BINARY DASHBOARD_JSON [OPERATIONS_MD]

1. The dashboard is valid JSON, has a title, a uid and the ${DS_PROMETHEUS} input, and every
   panel (rows and the panels inside collapsed rows included) has a title.
2. Every metric name in every PromQL expression (panel targets' `expr`, query variables) is
   taken out: string literals, label matchers, range selectors, Grafana variables, function
   and aggregation names, `by (...)` / `on (...)` label lists and keywords are dropped.
3. otpd is started on a minimal configuration in a temporary directory (one API key, one
   carrier whose one bind points at a closed port and keeps retrying, one SIP trunk), its ops
   listener's port read from its `ops_listening ... port=N` log line, and GET /metrics there
   parsed for `# TYPE` lines.
   otpd writes the HELP and TYPE lines of every registered family even before it has a series.
4. Each name must be an exported counter or gauge, or `<histogram>_bucket`, `_sum`, `_count`
   of an exported histogram. Anything else fails the test.
5. With OPERATIONS_MD: its metrics table (rows "| `name` | type | labels | meaning |") names
   every family otpd exports, each once and with its type, and nothing else.

Standard library only. Exit 0 when everything holds, 1 otherwise.
"""

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

START_TIMEOUT = 60.0  # otpd synthesises the voice prompts before it listens
STOP_TIMEOUT = 15.0

# --- the dashboard ------------------------------------------------------------------------------


def walk_panels(panels):
    for p in panels or []:
        yield p
        yield from walk_panels(p.get("panels"))


def dashboard_exprs(dash, errors):
    """(where, expr) for every PromQL expression of the dashboard."""
    out = []
    if not isinstance(dash.get("title"), str) or not dash["title"].strip():
        errors.append("the dashboard has no title")
    if not isinstance(dash.get("uid"), str) or not dash["uid"].strip():
        errors.append("the dashboard has no uid")
    inputs = [i.get("name") for i in dash.get("__inputs", [])]
    if "DS_PROMETHEUS" not in inputs:
        errors.append("the dashboard has no DS_PROMETHEUS input (__inputs)")
    panels = list(walk_panels(dash.get("panels")))
    if not panels:
        errors.append("the dashboard has no panels")
    for i, p in enumerate(panels):
        title = p.get("title")
        where = f"panel {p.get('id', i)} ({title!r})"
        if not isinstance(title, str) or not title.strip():
            errors.append(f"panel {p.get('id', i)} of type {p.get('type')!r} has no title")
        for t in p.get("targets") or []:
            expr = t.get("expr")
            if isinstance(expr, str) and expr.strip():
                out.append((f"{where} target {t.get('refId')}", expr))
            elif p.get("type") != "text":
                errors.append(f"{where} target {t.get('refId')} has no expr")
    for v in (dash.get("templating") or {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        for text in {q, v.get("definition")}:
            if isinstance(text, str) and text.strip():
                expr = variable_query_expr(text)
                if expr:
                    out.append((f"variable {v.get('name')!r}", expr))
    return out


def variable_query_expr(q):
    """The PromQL inside a Grafana Prometheus variable query, or None when it names no series."""
    q = q.strip()
    m = re.fullmatch(r"label_values\s*\((.*)\)", q, re.S)
    if m:
        inner = m.group(1)
        # label_values(label) has no series; label_values(selector, label) has one.
        depth = 0
        last_comma = -1
        for i, c in enumerate(inner):
            if c in "({[":
                depth += 1
            elif c in ")}]":
                depth -= 1
            elif c == "," and depth == 0:
                last_comma = i
        return inner[:last_comma] if last_comma >= 0 else None
    m = re.fullmatch(r"query_result\s*\((.*)\)", q, re.S)
    if m:
        return m.group(1)
    if re.fullmatch(r"(label_names|metrics)\s*\(.*\)", q, re.S):
        return None
    return q


# --- PromQL: the metric names of an expression -------------------------------------------------

KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and",
    "or", "unless", "atan2", "inf", "nan", "start", "end",
}
LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")


def metric_names(expr):
    s = expr
    # Grafana variables: ${name}, ${name:format}, $name, [[name]].
    s = re.sub(r"\$\{[^}]*\}", " ", s)
    s = re.sub(r"\[\[[^\]]*\]\]", " ", s)
    s = re.sub(r"\$\w+", " ", s)
    # String literals (label values, label_replace arguments), then comments.
    s = re.sub(r'"(?:[^"\\]|\\.)*"', ' "" ', s)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", " '' ", s)
    s = re.sub(r"`[^`]*`", " `` ", s)
    s = re.sub(r"#[^\n]*", " ", s)
    # Label matchers, range and subquery selectors.
    s = re.sub(r"\{[^{}]*\}", " ", s)
    s = re.sub(r"\[[^\[\]]*\]", " ", s)
    # Label lists of aggregations and vector matching.
    s = LABEL_LISTS.sub(" ", s)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", s):
        word = m.group(0)
        start, end = m.span()
        if start > 0 and (s[start - 1].isdigit() or s[start - 1] == "."):
            continue  # a number's exponent or a duration's unit (1e3, 5m)
        if word.lower() in KEYWORDS:
            continue
        if re.match(r"\s*\(", s[end:]):
            continue  # a function or an aggregation
        names.add(word)
    return names


def self_test():
    cases = {
        'sum by (carrier, le) (rate(otpd_sms_submit_seconds_bucket{instance=~"$instance", '
        'carrier=~"$carrier"}[$__rate_interval]))': {"otpd_sms_submit_seconds_bucket"},
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y{z}"}[5m])))': {"a_bucket"},
        "sum(rate(a_sum[1m])) / sum(rate(a_count[1m])) > 1e3": {"a_sum", "a_count"},
        "max by (instance, carrier) (b) == bool 0 unless on (job) c offset 5m": {"b", "c"},
        'label_replace(d, "dst", "$1", "src", "(.*)")': {"d"},
        "increase(e[10m:1m]) * on (x) group_left (y) f": {"e", "f"},
        'count({__name__=~"g.*"})': set(),
    }
    for expr, want in cases.items():
        got = metric_names(expr)
        if got != want:
            raise AssertionError(f"metric_names({expr!r}) = {sorted(got)}, expected {sorted(want)}")
    assert variable_query_expr('label_values(h{i=~"$i"}, carrier)') == 'h{i=~"$i"}'
    assert variable_query_expr("label_values(instance)") is None


# --- otpd -----------------------------------------------------------------------------------------


def closed_port():
    """A TCP port on 127.0.0.1 that nothing listens on (the OS picked it, then it was let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder, smsc_port):
    api_key = "docs-test-key-" + os.urandom(8).hex()
    yaml = f"""# written by tests/docs/check_dashboard.py
listeners:
  - address: 127.0.0.1
    port: 0
ops:
  address: 127.0.0.1
  port: 0
api_keys:
  - name: docs-test
    sha256: {hashlib.sha256(api_key.encode()).hexdigest()}
routing:
  carriers:
    - name: testcarrier
      prefixes: ["8491"]
      sender: {{addr: OTPD, ton: 5, npi: 0}}
      binds:
        - name: testcarrier-trx-1
          host: 127.0.0.1
          port: {smsc_port}
          bind: transceiver
          system_id: otpd
          password: ${{env:OTPD_DOCS_SMSC_PASSWORD}}
          timeouts: {{connect: 2s, bind: 2s}}
          reconnect: {{initial: 1s, max: 2s}}
voice:
  trunks:
    - name: test-trunk
      uri: sip:127.0.0.1:9
      local_address: 127.0.0.1
store:
  kind: sqlite
  sqlite_path: {json.dumps(os.path.join(folder, "otpd.db"))}
secrets:
  code_mac_key: ${{env:OTPD_DOCS_MAC_KEY}}
logging:
  format: journal
  level: info
"""
    path = os.path.join(folder, "otpd.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(yaml)
    return path


class Otpd:
    def __init__(self, binary, config, folder):
        env = dict(os.environ)
        env["OTPD_DOCS_SMSC_PASSWORD"] = "secret12"
        env["OTPD_DOCS_MAC_KEY"] = os.urandom(32).hex()
        self.lines = []
        self.cond = threading.Condition()
        self.ended = False
        self.proc = subprocess.Popen(
            [binary, "--config", config], cwd=folder, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def wait_port(self, timeout):
        """The ops listener's port (/metrics is served there, not on the API's)."""
        deadline = time.monotonic() + timeout
        pattern = re.compile(r"\bops_listening\b.*\bport=(\d+)")
        seen = 0
        with self.cond:
            while True:
                for line in self.lines[seen:]:
                    m = pattern.search(line)
                    if m and int(m.group(1)) != 0:
                        return int(m.group(1))
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    return None
                self.cond.wait(left)

    def output(self):
        with self.cond:
            return "\n".join(self.lines)

    def stop(self):
        """SIGTERM to otpd's own PID, a bounded wait, then SIGKILL. Returns the exit status."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"otpd did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM; SIGKILL",
                      file=sys.stderr)
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
        self.reader.join(timeout=STOP_TIMEOUT)
        return self.proc.returncode


def exported_families(binary):
    """{name: type} from the # TYPE lines of a freshly started otpd's /metrics."""
    with tempfile.TemporaryDirectory(prefix="otpd-docs-") as folder:
        config = write_config(folder, closed_port())
        otpd = Otpd(binary, config, folder)
        try:
            port = otpd.wait_port(START_TIMEOUT)
            if port is None:
                raise RuntimeError("otpd did not log 'ops_listening ... port=N' within "
                                   f"{START_TIMEOUT:.0f} s; its output:\n{otpd.output()}")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                if r.status != 200:
                    raise RuntimeError(f"GET /metrics answered {r.status}")
                text = r.read().decode("utf-8")
        finally:
            rc = otpd.stop()
            if rc not in (0, None):
                print(f"note: otpd exited with status {rc} after SIGTERM", file=sys.stderr)
    families = {}
    for line in text.splitlines():
        m = re.match(r"#\s+TYPE\s+([A-Za-z_:][A-Za-z0-9_:]*)\s+(\w+)\s*$", line)
        if m:
            families[m.group(1)] = m.group(2)
    if not families:
        raise RuntimeError("/metrics has no # TYPE lines:\n" + text[:2000])
    return families


def series_names(families):
    """Every sample name the families produce: histograms' _bucket/_sum/_count, summaries'
    _sum/_count next to the name itself, counters and gauges as they are."""
    names = {}
    for name, kind in families.items():
        if kind == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                names[name + suffix] = name
        elif kind == "summary":
            for suffix in ("", "_sum", "_count"):
                names[name + suffix] = name
        else:
            names[name] = name
    return names


def check_metrics_table(path, families, errors):
    """The metrics table of docs/operations.md against the exported families."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    documented = {}
    for m in re.finditer(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary)\s*\|",
                         text, re.M):
        name, kind = m.group(1), m.group(2)
        if name in documented:
            errors.append(f"{path}: {name} is in the metrics table twice")
        documented[name] = kind
    if not documented:
        errors.append(f"{path}: no metrics table found")
        return
    for name, kind in sorted(documented.items()):
        if name not in families:
            errors.append(f"{path}: {name} is in the metrics table but otpd does not export it")
        elif families[name] != kind:
            errors.append(f"{path}: {name} is a {families[name]}, the table says {kind}")
    for name in sorted(set(families) - set(documented)):
        errors.append(f"{path}: otpd exports {name} ({families[name]}), the metrics table "
                      "does not list it")
    print(f"{len(documented)} metrics in the table of {os.path.basename(path)}")


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    binary, dashboard_path = os.path.abspath(argv[1]), argv[2]
    self_test()

    errors = []
    try:
        with open(dashboard_path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{dashboard_path}: not valid JSON: {e}", file=sys.stderr)
        return 1
    exprs = dashboard_exprs(dash, errors)

    families = exported_families(binary)
    valid = series_names(families)
    used = set()
    for where, expr in exprs:
        names = metric_names(expr)
        if not names:
            errors.append(f"{where}: no metric name in {expr!r}")
        for n in sorted(names):
            if n in valid:
                used.add(valid[n])
                continue
            kind = families.get(n)
            hint = (f" ({n} is a {kind}: use {n}_bucket, _sum or _count)" if kind in
                    ("histogram", "summary") else "")
            errors.append(f"{where}: {n} is not a series otpd exports{hint}")

    print(f"{len(exprs)} expressions checked against {len(families)} families otpd exports")
    if len(argv) == 4:
        check_metrics_table(argv[3], families, errors)
    unused = sorted(set(families) - used)
    if unused:
        print("exported but not on the dashboard: " + ", ".join(unused))
    if errors:
        for e in errors:
            print("error: " + e, file=sys.stderr)
        print("exported: " + ", ".join(f"{n} ({k})" for n, k in sorted(families.items())),
              file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
