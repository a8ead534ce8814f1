#!/usr/bin/env python3
"""Where a risklane-beam CPU profile's time goes, by who does the work.

Reads `go tool pprof -traces BINARY PROFILE` on stdin. Each sample goes to
the leaf-most frame that is not the Go runtime or standard library (an
allocation, a sort or a copy counts for the code that asked for it), in one
of these classes; samples with only runtime frames (background GC, the
scheduler) are "Go runtime (GC, scheduler)".
"""
import re
import sys

CLASSES = [
    ("risklane/beam/", "risklane's Beam stages (glue: batching, sorting, placing)"),
    ("risklane/", "risklane's packages (ingest, features, models, score, rank)"),
    ("github.com/apache/arrow-go/", "Arrow, Parquet (reading and writing files)"),
    ("github.com/parquet-go/", "Arrow, Parquet (reading and writing files)"),
    ("github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism/", "Prism runner (element manager, shuffle, watermarks)"),
    ("github.com/apache/beam/", "Beam SDK harness (coders, element handling)"),
    ("google.golang.org/", "gRPC and protobuf (runner <-> worker)"),
    ("golang.org/x/net/", "gRPC and protobuf (runner <-> worker)"),
]


def klass(frames):
    for f in frames:  # leaf first
        name = f.split()[0] if f.split() else f
        for prefix, label in CLASSES:
            if name.startswith(prefix):
                return label
        if "/" in name and "." in name.split("/")[0]:
            # another module (github.com/..., go.opentelemetry.io, ...)
            return "other modules"
    return "Go runtime (GC, scheduler)"


def main():
    total = {}
    frames, value = [], None
    unit = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60.0, "hrs": 3600.0}

    def flush():
        if value is not None and frames:
            k = klass(frames)
            total[k] = total.get(k, 0.0) + value

    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.startswith("-----------+"):
            flush()
            frames, value = [], None
            continue
        m = re.match(r"^\s*([0-9.]+)(ns|us|µs|ms|s|min|hrs)\s+(\S.*)$", line)
        if m and value is None:
            value = float(m.group(1)) * unit[m.group(2)]
            frames = [m.group(3).strip()]
            continue
        if value is not None and line.strip():
            frames.append(line.strip())
    flush()
    s = sum(total.values()) or 1.0
    for k, v in sorted(total.items(), key=lambda kv: -kv[1]):
        print(f"    {100 * v / s:5.1f}%  {v:8.2f} s  {k}")


if __name__ == "__main__":
    main()
