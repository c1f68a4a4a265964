"""Run every benchmark and print one line of figures each."""

import sys

from benchmarks import (
    bench_benefits,
    bench_crypto,
    bench_http,
    bench_pdf,
    bench_personal_data_reads,
    bench_queues,
    bench_roster_import,
)

BENCHES = {"crypto": bench_crypto.main, "personal-data-reads": bench_personal_data_reads.main,
           "roster-import": bench_roster_import.main, "benefits": bench_benefits.main,
           "http": bench_http.main, "queues": bench_queues.main, "pdf": bench_pdf.main}


def main(argv: list[str]) -> int:
    # `NAME... [--options]`: the options go to each named benchmark (e.g. `http --quick`)
    split = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    chosen, options = argv[:split] or list(BENCHES), argv[split:]
    for name in chosen:
        if name not in BENCHES:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHES)}", file=sys.stderr)
            return 2
        BENCHES[name](*([options] if options else []))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
