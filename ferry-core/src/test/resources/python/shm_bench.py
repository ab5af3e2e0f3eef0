"""64-byte round trips, CPython to CPython: ferry_shm lanes (spinning and not) against stock
multiprocessing.connection over the same kind of Unix socket, in one run.

    python shm_bench.py [--module-dir DIR] [--runs 5] [--trips 2000] [--spin-us 1000]

Each configuration starts an echo server process, then times `send_bytes` + `recv_bytes` of 64
bytes one at a time. A run's figure is the median round trip of its trips; the table shows the
median, lowest and highest of those over the runs. Then both ends of a lane sit idle for a second
and the CPU they used is printed (the target is zero once the spin budget has passed). Last,
messages of 64 KiB, 1 MiB and 8 MiB go one way, stock against lane.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _import(module_dir):
    for d in ([module_dir] if module_dir else
              [HERE, os.path.join(HERE, "..", "..", "..", "main", "resources", "dev", "ferry",
                                  "handle")]):
        if os.path.exists(os.path.join(d, "ferry_shm.py")):
            sys.path.insert(0, os.path.abspath(d))
            break
    import ferry_shm
    return ferry_shm


def echo(kind, addr, spin_us, module_dir, ready):
    ferry_shm = _import(module_dir)
    from multiprocessing.connection import Listener
    listener = (Listener(addr, authkey=b"bench") if kind == "stock" else
                ferry_shm.Listener(addr, authkey=b"bench", spin_us=spin_us))
    ready.send("ready")
    with listener, listener.accept() as conn:
        while True:
            try:
                conn.send_bytes(conn.recv_bytes())
            except EOFError:
                return


def sink(kind, addr, module_dir, ready):
    ferry_shm = _import(module_dir)
    from multiprocessing.connection import Listener
    listener = (Listener(addr, authkey=b"bench") if kind == "stock" else
                ferry_shm.Listener(addr, authkey=b"bench"))
    ready.send("ready")
    total = 0
    with listener, listener.accept() as conn:
        while True:
            try:
                total += len(conn.recv_bytes())
            except EOFError:
                break
    ready.send(total)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--module-dir")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trips", type=int, default=2000)
    parser.add_argument("--spin-us", type=int, default=1000)
    parser.add_argument("--stream-mib", type=int, default=64,
                        help="MiB sent one way per size and run (0: no throughput table)")
    args = parser.parse_args()
    ferry_shm = _import(args.module_dir)
    import multiprocessing
    from multiprocessing.connection import Client
    mp = multiprocessing.get_context("fork")
    configs = [("stock multiprocessing.connection, Unix socket", "stock", 0),
               ("ferry_shm lane, no spin (default)", "lane", 0),
               ("ferry_shm lane, spin %d us both ends" % args.spin_us, "lane", args.spin_us)]
    print("python %s, %d CPUs, load average %.2f %.2f %.2f, lane supported: %s"
          % ((sys.version.split()[0], os.cpu_count()) + os.getloadavg()
             + (ferry_shm.lane_supported,)))
    print("%d runs x %d round trips of 64 B each; per run the median round trip" % (args.runs,
                                                                                   args.trips))
    msg = b"x" * 64
    results = {}
    idle = {}
    for name, kind, spin in configs:
        per_run = []
        for run in range(args.runs):
            addr = "\0ferry-bench-%d-%s-%d-%d" % (os.getpid(), kind, spin, run)
            parent, child = mp.Pipe()
            p = mp.Process(target=echo, args=(kind, addr, spin, args.module_dir, child))
            p.start()
            parent.recv()
            conn = (Client(addr, authkey=b"bench") if kind == "stock" else
                    ferry_shm.Client(addr, authkey=b"bench", spin_us=spin))
            assert kind == "stock" or conn.lane, "no lane"
            for _ in range(200):
                conn.send_bytes(msg)
                conn.recv_bytes()
            times = []
            clock = time.perf_counter_ns
            for _ in range(args.trips):
                t = clock()
                conn.send_bytes(msg)
                conn.recv_bytes()
                times.append(clock() - t)
            per_run.append(statistics.median(times) / 1000)
            if kind == "lane" and run == args.runs - 1:
                # Both ends are now parked on their sockets: measure a second of idleness.
                time.sleep(0.05 + spin / 1e6)
                server0, client0 = cpu_seconds(p.pid), time.process_time()
                time.sleep(1.0)
                idle[name] = (cpu_seconds(p.pid) - server0, time.process_time() - client0)
            conn.close()
            p.join(10)
        results[name] = per_run
    stock = statistics.median(results[configs[0][0]])
    print("%-48s %9s %9s %9s %8s" % ("configuration", "median", "min run", "max run", "x stock"))
    for name, _kind, _spin in configs:
        runs = results[name]
        med = statistics.median(runs)
        print("%-48s %7.2f us %6.2f us %6.2f us %7.2fx" % (name, med, min(runs), max(runs),
                                                         med / stock))
    for name, (server, client) in idle.items():
        print("idle 1 s after the budget, %s: server %.0f ms CPU, client %.0f ms CPU"
              % (name, server * 1000, client * 1000))
    if not args.stream_mib:
        return
    print("one way, %d MiB per run, median of %d runs (default 1 MiB ring, no spin)"
          % (args.stream_mib, args.runs))
    print("%-10s %14s %14s %8s" % ("message", "stock", "ferry_shm", "x stock"))
    for size in (64 << 10, 1 << 20, 8 << 20):
        rates = {}
        for kind in ("stock", "lane"):
            per_run = []
            for run in range(args.runs):
                addr = "\0ferry-bench-sink-%d-%s-%d-%d" % (os.getpid(), kind, size, run)
                parent, child = mp.Pipe()
                p = mp.Process(target=sink, args=(kind, addr, args.module_dir, child))
                p.start()
                parent.recv()
                conn = (Client(addr, authkey=b"bench") if kind == "stock" else
                        ferry_shm.Client(addr, authkey=b"bench"))
                data = os.urandom(size)
                t = time.perf_counter()
                for _ in range((args.stream_mib << 20) // size):
                    conn.send_bytes(data)
                conn.close()
                got = parent.recv()
                per_run.append(got / (time.perf_counter() - t) / 2 ** 20)
                p.join(10)
            rates[kind] = statistics.median(per_run)
        print("%-10s %9.0f MiB/s %9.0f MiB/s %7.2fx" % (
            "%d KiB" % (size >> 10), rates["stock"], rates["lane"], rates["lane"] / rates["stock"]))


if __name__ == "__main__":
    main()
