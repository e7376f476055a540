#!/usr/bin/env python3
"""Sum cubecl's per-kernel device times by kernel name.

cubecl writes one line per launch, ``| 1.23ms | KernelName | ...``, to the file named by
``CUBECL_DEBUG_LOG`` when ``CUBECL_DEBUG_OPTION=profile``; kernel compilations are logged in the same
file between ``[START_KERNEL_COMPILATION]`` and ``[END_KERNEL_COMPILATION]``. This script keeps the
launches after the last compilation (the steady state: later steps compile nothing new), groups
them by name and prints the total, the count and the share of each group, largest first.

    CUBECL_DEBUG_LOG=/tmp/tiger.log CUBECL_DEBUG_OPTION=profile \\
        tiger-bench run --only tiger --warmup 3 --steps 10
    python3 crates/tiger-bench/kernel_profile.py /tmp/tiger.log --top 25 --steps 10
"""

import argparse
import re
import sys
from collections import defaultdict

LAUNCH = re.compile(r"^\|\s*([0-9.]+)(ns|µs|us|ms|s)\s*\|\s*(.*)$")
SCALE = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", help="cubecl's debug log")
    parser.add_argument("--top", type=int, default=25, help="groups to print")
    parser.add_argument("--steps", type=int, default=0, help="divide totals by this many steps")
    parser.add_argument("--width", type=int, default=70, help="characters of each name kept")
    args = parser.parse_args()

    with open(args.log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    last_compile = max(
        (i for i, l in enumerate(lines) if "KERNEL_COMPILATION]" in l), default=-1
    )
    totals = defaultdict(float)
    counts = defaultdict(int)
    for line in lines[last_compile + 1 :]:
        m = LAUNCH.match(line)
        if not m:
            continue
        ms = float(m.group(1)) * SCALE[m.group(2)]
        # Drop the hash suffix cubecl appends to a kernel's name, then shorten.
        name = re.sub(r"_[0-9a-f]{8}$", "", m.group(3).strip())
        if name.startswith("MatmulEntry"):
            # Matrix products share a long generic prefix; their family tells them apart.
            family = re.findall(r"\w+MatmulFamily", name)
            fused = "fused" if "FusedMatmulArgs" in name else "plain"
            name = f"MatmulEntry ({fused}) {' '.join(family)}"
        name = name[: args.width]
        totals[name] += ms
        counts[name] += 1
    total = sum(totals.values())
    if total == 0:
        print(f"{args.log}: no kernel launches after the last compilation", file=sys.stderr)
        return 1
    per = max(args.steps, 1)
    unit = "ms/step" if args.steps else "ms"
    print(f"{sum(counts.values())} launches, {total / per:.2f} {unit} of kernel time")
    for name, ms in sorted(totals.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{ms / per:9.3f} {unit} {100 * ms / total:5.1f} % {counts[name] / per:7.1f} x  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
