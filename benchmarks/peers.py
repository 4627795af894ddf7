"""The peer the duplicate benchmark (benchmarks/dedupe.py) measures sheetkeeper against, in the
same run, on the same rows: Splink (probabilistic record linkage, Fellegi-Sunter with EM) on its
DuckDB backend.

Both start from the same cleaned values: the peer reads the rows as sheetkeeper's cell rules leave
them (`Plan.values_after()`: E.164 phones, real dates, trimmed emails), so what is compared is
the duplicate finding, not the parsing of phones and dates. On top of that the peer gets the
feature engineering a Splink user would write: lower case, punctuation out, the name's words in
sorted order (so a swapped name is the same key), hanzi names in pinyin (so 张伟 and Zhang Wei
can meet). Splink is a benchmark-only dependency (the `bench` extra).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any, Sequence

from pypinyin import lazy_pinyin

SPLINK_THRESHOLD = 0.9      # match probability at or above which Splink reports a pair
SPLINK_DESCRIPTION = (
    f"Splink {{version}} (DuckDB): dedupe_only; comparisons name (Jaro-Winkler, term "
    f"frequencies), birthday (date of birth), email, phone (exact, term frequencies), address, "
    f"company (Jaro-Winkler); blocking on phone / email / birthday / name / a name word and the "
    f"birth year / address; u by random sampling, m by EM (blocked on name, then birthday); "
    f"pairs at match probability >= {SPLINK_THRESHOLD}")

_NOT_WORD = re.compile(r"[\W_]+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def peer_records(values: Sequence[Sequence[Any]], index: dict[str, int | None]
                 ) -> list[dict[str, Any]]:
    """One record per row, from the rows as sheetkeeper's cell rules leave them; `index` gives
    each crm column key's position in a row."""
    def cell(row: Sequence[Any], key: str) -> Any:
        j = index.get(key)
        return None if j is None else row[j]

    records = []
    for i, row in enumerate(values):
        name = _name_words(cell(row, "name"))
        birthday = cell(row, "birthday")
        records.append({
            "unique_id": i,
            "name": " ".join(sorted(name)) or None,
            "name_tokens": sorted(set(name)),
            "birthday": birthday.isoformat()[:10] if hasattr(birthday, "isoformat") else None,
            "email": _lower(cell(row, "email")),
            "phone": _phone(cell(row, "phone")),
            "address": _lower(cell(row, "address")),
            "company": _lower(cell(row, "company")),
        })
    return records


def _lower(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(_NOT_WORD.sub(" ", unicodedata.normalize("NFKC", str(value))).split())
    return text.lower() or None


def _name_words(value: Any) -> list[str]:
    text = _lower(value) or ""
    if _HAN.search(text):
        # 张晓明 -> zhang xiaoming: the family name's syllable, then the given name's.
        han = text.replace(" ", "")
        return ["".join(lazy_pinyin(han[:1])), "".join(lazy_pinyin(han[1:]))]
    return text.split()


def _phone(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    if text.startswith("+"):
        return text
    digits = "".join(c for c in text if c.isdigit())
    return digits if len(digits) >= 7 else None


def splink_version() -> str:
    import splink
    return splink.__version__


def splink_pairs(records: list[dict[str, Any]], seed: int = 1) -> set[tuple[int, int]]:
    """The pairs of record ids Splink calls the same person."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("name"),
            cl.DateOfBirthComparison("birthday", input_is_string=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.85]),
            cl.JaroWinklerAtThresholds("company", [0.9]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("phone"),
            block_on("email"),
            block_on("birthday"),
            block_on("name"),
            block_on("name_tokens", "substr(birthday, 1, 4)", arrays_to_explode=["name_tokens"]),
            block_on("address"),
        ],
        retain_matching_columns=False,
    )
    db = DuckDBAPI()
    table = db.register({k: [r[k] for r in records] for k in records[0]})
    # Quiet: Splink warns of comparison levels a small list never shows (Jaro-Winkler on an
    # email's user name), which leave their defaults.
    linker = Linker(table, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("name", "birthday"), block_on("name", "phone")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birthday"))
    found = linker.inference.predict(threshold_match_probability=SPLINK_THRESHOLD,
                                     warning_mode="never")
    pairs = found.as_pyarrow_table().select(["unique_id_l", "unique_id_r"]).to_pydict()
    return {(min(a, b), max(a, b)) for a, b in zip(pairs["unique_id_l"], pairs["unique_id_r"])}
