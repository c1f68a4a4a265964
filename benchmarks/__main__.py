"""Run every benchmark and print one line of figures each."""

import sys

from benchmarks import (
    bench_benefits,
    bench_crypto,
    bench_personal_data_reads,
    bench_roster_import,
)

BENCHES = {"crypto": bench_crypto.main, "personal-data-reads": bench_personal_data_reads.main,
           "roster-import": bench_roster_import.main, "benefits": bench_benefits.main}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHES)
    for name in chosen:
        if name not in BENCHES:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}", file=sys.stderr)
            return 2
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
