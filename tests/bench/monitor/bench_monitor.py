#!/usr/bin/python3
"""bench_monitor.py BERTH_MONITOR BERTH_RUNTIME FIXTURES_DIR — berth-monitor beside conmon.

Both monitors drive the same runtime (berth-runtime) on the same bundles, so the numbers are the
monitor's own:
- create: wall time from starting the monitor until it reports the container's pid on its sync
  pipe (the monitor's start, `runtime create`, the report), median of BENCH_RUNS;
- memory: VmRSS and Pss (/proc/PID/smaps_rollup) of the monitor process while it holds a running
  `sleep` container, median of BENCH_MEM_RUNS;
- log: wall time from `runtime start` until the exit file exists, for a container that prints
  BENCH_LOG_LINES lines into the CRI log, median of BENCH_LOG_RUNS, and the log's size.
It prints a table with ratios; it never asserts on time. Exit: 0, 1 when a monitor fails to run a
container, 77 (ctest skip) when root or conmon is missing.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("BENCH_RUNS", "20"))
MEM_RUNS = int(os.environ.get("BENCH_MEM_RUNS", "5"))
LOG_RUNS = int(os.environ.get("BENCH_LOG_RUNS", "5"))
LOG_LINES = int(os.environ.get("BENCH_LOG_LINES", "200000"))
SKIP = 77


class Bench:
    def __init__(self, monitor, runtime, fixtures, work):
        self.monitor, self.runtime, self.fixtures, self.work = monitor, runtime, fixtures, work
        self.root = os.path.join(work, "state")
        self.cgroup_parent = f"berth-bench-monitor-{os.getpid()}"
        self.seq = 0

    def bundle(self, name, args):
        path = os.path.join(self.work, name)
        subprocess.run([os.path.join(self.fixtures, "make-bundle.sh"), path, "--", *args],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
        config["linux"]["cgroupsPath"] = f"{self.cgroup_parent}/{name}"
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(config, f)
        return path

    def rt(self, *args):
        return subprocess.run([self.runtime, "--root", self.root, *args], capture_output=True)

    def start_monitor(self, kind, bundle):
        """Starts a monitor for a new container; returns (id, dir, seconds to the pid report)."""
        self.seq += 1
        cid = f"{kind}-{self.seq}"
        d = os.path.join(self.work, cid)
        os.makedirs(d)
        r, w = os.pipe()
        if kind == "berth-monitor":
            argv = [self.monitor, "--id", cid, "--bundle", bundle, "--runtime", self.runtime,
                    f"--runtime-arg=--root={self.root}", "--log-path", f"{d}/ctr.log",
                    "--exit-file", f"{d}/exit", "--socket-dir", f"{d}/sock",
                    "--sync-fd", str(w)]
            env = None
        else:
            os.makedirs(f"{d}/exits")
            os.makedirs(f"{d}/sock")
            argv = ["conmon", "--api-version", "1", "-c", cid, "-u", cid, "-n", cid,
                    "-r", self.runtime, "-b", bundle, "-p", f"{d}/pid",
                    "-l", f"k8s-file:{d}/ctr.log", "--exit-dir", f"{d}/exits",
                    "--socket-dir-path", f"{d}/sock", "--runtime-arg", f"--root={self.root}",
                    "--log-level", "error"]
            env = dict(os.environ, _OCI_SYNCPIPE=str(w))
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, pass_fds=[w], env=env, stdout=subprocess.DEVNULL,
                             stderr=open(f"{d}/monitor.err", "w"))
        os.close(w)
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(r, 4096)
            if not chunk:
                break
            line += chunk
        elapsed = time.perf_counter() - t0
        os.close(r)
        p.wait()
        report = json.loads(line or b"{}")
        pid = report.get("pid", report.get("data", -1))
        if not isinstance(pid, int) or pid <= 0:
            err = open(f"{d}/monitor.err").read()
            raise RuntimeError(f"{kind}: no container: {report} {err}")
        return cid, d, elapsed, pid

    def exit_path(self, kind, cid, d):
        return f"{d}/exit" if kind == "berth-monitor" else f"{d}/exits/{cid}"

    def remove(self, cid):
        self.rt("delete", "--force", cid)

    def create(self, kind, bundle):
        times = []
        for _ in range(RUNS):
            cid, _, t, _ = self.start_monitor(kind, bundle)
            times.append(t)
            self.remove(cid)
        return statistics.median(times) * 1000

    def memory(self, kind, bundle):
        rss, pss = [], []
        for _ in range(MEM_RUNS):
            cid, d, _, pid = self.start_monitor(kind, bundle)
            if self.rt("start", cid).returncode != 0:
                raise RuntimeError(f"{kind}: start failed")
            with open(f"/proc/{pid}/stat") as f:
                monitor_pid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{monitor_pid}/status") as f:
                rss.append(next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")))
            with open(f"/proc/{monitor_pid}/smaps_rollup") as f:
                pss.append(next(int(l.split()[1]) for l in f if l.startswith("Pss:")))
            self.remove(cid)
        return statistics.median(rss) / 1024, statistics.median(pss) / 1024

    def log(self, kind, bundle):
        times, size = [], 0
        for _ in range(LOG_RUNS):
            cid, d, _, _ = self.start_monitor(kind, bundle)
            exit_file = self.exit_path(kind, cid, d)
            t0 = time.perf_counter()
            if self.rt("start", cid).returncode != 0:
                raise RuntimeError(f"{kind}: start failed")
            deadline = t0 + 120
            while not os.path.exists(exit_file):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{kind}: no exit file after 120 s")
                time.sleep(0.001)
            times.append(time.perf_counter() - t0)
            size = os.path.getsize(f"{d}/ctr.log")
            # Full-line records ("F"); conmon also cuts lines at its read boundaries ("P").
            with open(f"{d}/ctr.log", "rb") as f:
                lines = sum(1 for line in f if line.split(b" ", 3)[2] == b"F")
            if lines != LOG_LINES:
                raise RuntimeError(f"{kind}: {lines} full log lines, want {LOG_LINES}")
            self.remove(cid)
        return statistics.median(times) * 1000, size / 1e6


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("bench-monitor: needs root (containers)", file=sys.stderr)
        return SKIP
    if not shutil.which("conmon"):
        print("bench-monitor: conmon is not installed (Debian package conmon)", file=sys.stderr)
        return SKIP
    monitor, runtime, fixtures = (os.path.abspath(a) for a in sys.argv[1:])
    work = tempfile.mkdtemp(prefix="berth-bench-monitor-")
    bench = Bench(monitor, runtime, fixtures, work)
    kinds = ["berth-monitor", "conmon"]
    results = {}
    try:
        true_bundle = bench.bundle("true", ["true"])
        sleep_bundle = bench.bundle("sleep", ["sleep", "1000"])
        log_bundle = bench.bundle("log", ["seq", str(LOG_LINES)])
        for kind in kinds:
            results[kind] = {"create": bench.create(kind, true_bundle),
                             "mem": bench.memory(kind, sleep_bundle),
                             "log": bench.log(kind, log_bundle)}
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"bench-monitor: {e}", file=sys.stderr)
        return 1
    finally:
        listing = bench.rt("list", "-q").stdout.decode().split()
        for cid in listing:
            bench.remove(cid)
        # The containers' parent cgroup (the runtime removed the containers' own), wherever
        # this process's cgroup is in each hierarchy.
        found = subprocess.run(["find", "/sys/fs/cgroup", "-depth", "-type", "d", "-name",
                                bench.cgroup_parent], capture_output=True, text=True).stdout
        for path in found.split():
            os.rmdir(path)
        shutil.rmtree(work, ignore_errors=True)

    b, c = results["berth-monitor"], results["conmon"]
    print(f"berth-monitor vs conmon {subprocess.run(['conmon', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}"
          f" (runtime: berth-runtime for both; medians)")
    print(f"{'':32}{'berth-monitor':>16}{'conmon':>16}{'ratio':>10}")
    print(f"{'create (start → pid report)':32}{b['create']:>13.2f} ms{c['create']:>13.2f} ms"
          f"{b['create'] / c['create']:>9.2f}x")
    print(f"{'RSS holding a container':32}{b['mem'][0]:>13.2f} MB{c['mem'][0]:>13.2f} MB"
          f"{b['mem'][0] / c['mem'][0]:>9.2f}x")
    print(f"{'PSS holding a container':32}{b['mem'][1]:>13.2f} MB{c['mem'][1]:>13.2f} MB"
          f"{b['mem'][1] / c['mem'][1]:>9.2f}x")
    print(f"{f'log {LOG_LINES} lines (start → exit)':32}{b['log'][0]:>13.1f} ms{c['log'][0]:>13.1f} ms"
          f"{b['log'][0] / c['log'][0]:>9.2f}x")
    print(f"{'log file size':32}{b['log'][1]:>13.2f} MB{c['log'][1]:>13.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
