"""How fast ``context.render`` describes a large DataFrame (target: a 1,000,000 x 30 frame in
<= 0.2 s, within its budget as counted by the batch estimate's token counter).

The frame has 20 float columns, 5 categorical and 5 text columns with missing values. The first
render pays for imports and the token counter's setup; the figure is the median of the rest.

Run: ``.venv/bin/python benchmarks/context.py [--rounds 9] [--budget 2000]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from orchestify_nb.context import render
from orchestify_nb.token_counting import get_token_counter

TARGET_S = 0.2


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    columns: dict[str, object] = {f"metric_{i}": rng.normal(size=rows) for i in range(20)}
    columns |= {f"segment_{i}": pd.Categorical(rng.choice(["a", "b", "c"], rows)) for i in range(5)}
    columns |= {f"comment_{i}": rng.choice(["on time", "late", None], rows) for i in range(5)}
    return pd.DataFrame(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--budget", type=int, default=2000)
    args = parser.parse_args()
    frame = make_frame(1_000_000)
    render(frame, args.budget)  # imports, token counter
    times = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        shown = render(frame, args.budget)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    within = shown.tokens <= args.budget
    verdict = "PASS" if median <= TARGET_S and within else "FAIL"
    print(
        f"render(1,000,000 x 30 DataFrame): {median:.3f} s median, {max(times):.3f} s max over "
        f"{args.rounds} rounds (target <= {TARGET_S} s); {shown.tokens:,} of {args.budget:,} "
        f"tokens ({get_token_counter().method}), cut: {', '.join(shown.cut) or 'nothing'} "
        f"{verdict}"
    )


if __name__ == "__main__":
    main()
