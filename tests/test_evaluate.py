"""The two-core path of rule evaluation must give exactly what one process gives."""
from rules.dates import normalise_date
from rules.email import normalise_email
from rules.phone import normalise_phone
from rules.text import normalise_name
from sync import evaluate, forked
from sync.evaluate import ColumnJob

VALUES = {
    "phone": ["138 0013 8000", "123", None, 13800138000.0, "+8613900139000", "x"] * 50,
    "email": [" A@B.COM", "bad@", None, "ok@example.com", "x@y", "Z@Example.org"] * 50,
    "name": ["ANN LEE", "bob", "张 伟", None, "Mary Jones", "o'brien"] * 50,
    "date": ["2024/3/5", "31.04.2024", 45356, None, "03/05/2024", "soon"] * 50,
}
RULES = {"phone": lambda v: normalise_phone(v, "CN"), "email": normalise_email,
         "name": normalise_name, "date": normalise_date}


def jobs():
    return [ColumnJob(t, RULES[t], VALUES[t], frozenset({3, 9})) for t in VALUES]


def test_parallel_equals_sequential(monkeypatch):
    rows = list(range(300))
    monkeypatch.setattr(evaluate, "PARALLEL_FROM_CELLS", 10**9)
    sequential = evaluate.evaluate(jobs(), rows)
    monkeypatch.setattr(evaluate, "PARALLEL_FROM_CELLS", 10)
    assert forked.fork_pays(len(rows) * len(jobs()), evaluate.PARALLEL_FROM_CELLS)
    parallel = evaluate.evaluate(jobs(), rows)
    assert parallel == sequential
    assert any(r for r in sequential)                        # there was work to compare
    assert all(i not in (3, 9) for r in sequential for i, *_ in r)   # skipped cells stay skipped
