#!/usr/bin/env python3
"""Where otpd's CPU goes, by component and thread, from a perf profile with DWARF call graphs.

    perf record --call-graph dwarf,32768 -F 499 -p $(pidof otpd) -o perf.data -- sleep 10
    perf script -i perf.data -F tid,ip,sym --no-inline > perf.txt
    python3 bench/perf_components.py perf.txt [--main-tid PID] [--per-request-us N]

Each sample goes to the innermost frame of its stack that matches a component below (the
stack read from the leaf up), generic Asio and store frames only when nothing more specific
matches. With --per-request-us (otpd's CPU per request measured in the same run), shares are
also shown in microseconds per request. bench/gateway_bench.sh runs it with PERF=1.
"""
import re, sys, collections
pats = [
 ("sqlite: checkpoint", r"sqlite3WalCheckpoint|sqlite3_wal_checkpoint|walCheckpoint"),
 ("store: insert", r"sqlite_store::insert|store_executor::insert"),
 ("store: modify", r"sqlite_store::modify|store_executor::modify"),
 ("store: add_correlations", r"sqlite_store::add_correlations|store_executor::add_correlations"),
 ("store: commit (end_batch)", r"sqlite_store::end_batch"),
 ("store: begin_batch", r"sqlite_store::begin_batch"),
 ("store: post completion", r"store_job_impl<.*>::deliver"),
 ("store: queue/wake", r"store_executor::(submit|run_batch|loop)"),
 ("engine: code/MAC/start", r"engine::(start|generate_code|new_verification_id)|code_protector|hmac|HMAC"),
 ("engine: request_hash/canonical", r"engine::request_hash|canonical"),
 ("engine: render_sms", r"engine::render_sms"),
 ("engine: on_submitted", r"engine::on_submitted"),
 ("api: to_json", r"service::to_json|verification_json"),
 ("api: parse JSON body", r"parse_json_object|json::parse|basic_parser<.*json|json::stream_parser"),
 ("log", r"log::logger"),
 ("metrics", r"metrics::"),
 ("routing/number", r"routing::"),
 ("smpp: session/fsm", r"smpp::session|smpp::session_fsm|smpp::codec|smpp::encode|bind_pool"),
 ("smpp text encoding", r"smpp::text|transliterat|gsm7"),
 ("sms_gateway", r"sms_gateway::"),
 ("service: send_sms", r"verification_service::send_sms"),
 ("service: create", r"verification_service::create"),
 ("api: create handler", r"api::\(anonymous namespace\)::create"),
 ("http: auth", r"api_key_auth|http::.*auth"),
 ("http: router", r"http::router"),
 ("http: server (parse/write)", r"http::server::impl|beast::http"),
]
generic = [("store: other", r"sqlite_store::"), ("asio scheduler/executors", r"boost::asio::")]
cp = [(n, re.compile(p)) for n, p in pats]
cg = [(n, re.compile(p)) for n, p in generic]
threads = collections.defaultdict(collections.Counter)
tot = collections.Counter()
kinds = [
 ("socket syscalls", re.compile(r"sendmsg|recvmsg|recvfrom|__libc_send|__libc_recv|__send|__recv|readv|writev|epoll_wait")),
 ("file syscalls (pwrite/pread/fdatasync)", re.compile(r"pwrite|pread|fdatasync|fsync|__libc_write|__libc_read")),
 ("futex/condvar wake+wait", re.compile(r"futex|pthread_cond|__lll_lock")),
 ("malloc/free", re.compile(r"malloc|_int_free|cfree|__libc_free|operator new|operator delete|unlink_chunk|malloc_consolidate")),
 ("sqlite3 (user)", re.compile(r"sqlite3")),
]
leaf_kinds = collections.defaultdict(collections.Counter)
def flush(tid, frames):
    if tid is None: return
    kind = "other user code"
    for f in frames:
        hit = next((n for n, c in kinds if c.search(f)), None)
        if hit:
            kind = hit; break
    if kind == "other user code" and frames and ("[k]" in frames[0] or frames[0].startswith("[unknown]")):
        kind = "other kernel"
    leaf_kinds[tid][kind] += 1
    cat = "other"
    for f in frames:
        for n, c in cp:
            if c.search(f):
                cat = n; break
        if cat != "other": break
    if cat == "other":
        for f in frames:
            for n, c in cg:
                if c.search(f):
                    cat = n; break
            if cat != "other": break
    if cat == "other" and frames:
        leaf = frames[0]
        if "[k]" in leaf or leaf.startswith("[unknown]"): cat = "other (kernel/unknown)"
    threads[tid][cat] += 1; tot[tid] += 1
tid=None; frames=[]
import argparse
ap = argparse.ArgumentParser()
ap.add_argument("perf_script_output")
ap.add_argument("--main-tid", default="")
ap.add_argument("--per-request-us", type=float, default=0)
args = ap.parse_args()
main_tid, per_request = args.main_tid, args.per_request_us
for line in open(args.perf_script_output, errors="replace"):
    if re.match(r"^\s*\d+\s*$", line):  # a sample's header: its thread id
        flush(tid, frames); tid=line.split()[0]; frames=[]
    else:
        s=line.strip()
        if not s: continue
        parts=s.split(None,1)
        frames.append(parts[1] if len(parts)>1 else parts[0])
flush(tid, frames)
allt=sum(tot.values())
def us(share):
    return f"{share * per_request:6.1f} us" if per_request else ""
for t in sorted(threads, key=lambda t:-tot[t]):
    role = " (main: I/O)" if t == main_tid else ""
    print(f"thread {t}{role}: {tot[t]} samples, {100*tot[t]/allt:.1f}% of otpd {us(tot[t]/allt)}")
    for n,c in threads[t].most_common(30):
        print(f"   {100*c/allt:5.1f}% {us(c/allt)}  {n}")
    print("   by kind of work (innermost match):")
    for n,c in leaf_kinds[t].most_common():
        print(f"   {100*c/allt:5.1f}% {us(c/allt)}  {n}")
