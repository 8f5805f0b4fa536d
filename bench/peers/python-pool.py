# Seed 004's workload on Python's multiprocessing.Pool(2): x * 10 over a million numbers.
# With --cold, the first map of a fresh pool is timed (no warm-up map), as a first program's is.
import json, sys, time
from multiprocessing import Pool

def mul(x):
    return x * 10

if __name__ == "__main__":
    n = int(sys.argv[1])
    cold = "--cold" in sys.argv
    items = list(range(n))
    with Pool(processes=2) as p:
        if not cold:
            p.map(mul, [0])  # workers started before timing, as tsray's are
        t = time.perf_counter()
        out = p.map(mul, items)
        elapsed = time.perf_counter() - t
    assert out[-1] == (n - 1) * 10
    print(json.dumps({"seconds": elapsed}))
