import time, sys
from comparisons import pairs
from comparisons.verify import judge, format_result
for key, pair in pairs.PAIRS.items():
    for m in pair.mistakes:
        t=time.time()
        for dt in ("float64","float32"):
            r = judge(pair, m.wrong, "wrong", dtype=dt)
            ok = (not r.passed) and r.hint and m.hint in r.hint
            if not ok:
                print("MISS", key, dt, m.hint[:50], "->", r.verdict, r.hint, r.error)
            if m.flag:
                r2 = judge(pair, m.wrong, "wrong", dict(m.flag), dtype=dt)
                if not r2.passed: print("FLAG FAIL", key, dt, m.flag, format_result(r2)[-600:])
        print(key, m.hint[:40], round(time.time()-t,2))
