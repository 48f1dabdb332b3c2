"""Generate a large synthetic sanctions-like list for benchmarks: people, companies and vessels.

Names are built from name-part tables sampled per locale with Faker (``pip install -e '.[bench]'``):
given names and family names from many countries, romanised (anyascii) for most non-Latin locales and left
in their own script for the rest, companies as family names or trade words plus business words and a legal
form, vessels as two-word names. About a third of the entities get aliases (other order, initials, a
dropped middle part). The output is a ``custom-csv`` list (``id,name,schema,aliases,birth_date,country``).

    python benchmarks/generate_names.py --entities 1000000 --out /tmp/synthetic.csv
    python benchmarks/generate_names.py --entities 1000 --queries 200 --out list.csv --queries-out q.jsonl

Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
from anyascii import anyascii

#: locale -> (weight, romanise): how often the locale is drawn and whether its names are romanised
LOCALES: dict[str, tuple[float, bool]] = {
    "en_US": (6, False),
    "en_GB": (3, False),
    "de_DE": (3, False),
    "fr_FR": (3, False),
    "es_ES": (3, False),
    "es_MX": (4, False),
    "it_IT": (2, False),
    "pt_BR": (3, False),
    "nl_NL": (1, False),
    "pl_PL": (1, False),
    "tr_TR": (3, False),
    "id_ID": (2, False),
    "vi_VN": (2, False),
    "ru_RU": (7, True),
    "uk_UA": (2, True),
    "ar_AA": (8, True),
    "fa_IR": (5, True),
    "zh_CN": (5, True),
    "ko_KR": (2, True),
    "ja_JP": (1, True),
    "hi_IN": (1, True),
}
#: share of entities from a non-Latin locale kept in their own script
NATIVE_SCRIPT_SHARE = 0.15

LEGAL_FORMS = (
    "LLC", "Ltd", "Limited", "Co.", "Company", "Corporation", "Corp.", "Inc.", "GmbH", "AG", "S.A.",
    "S.A. de C.V.", "S.R.L.", "SARL", "B.V.", "N.V.", "OOO", "OAO", "JSC", "PJSC", "ZAO", "FZE", "FZCO",
    "LLP", "PLC", "Pte. Ltd.", "Sdn. Bhd.", "A.S.", "Sp. z o.o.", "Group", "Holding",
)  # fmt: skip
BUSINESS_WORDS = (
    "Trading", "Shipping", "Import Export", "Industries", "Holding", "International", "Engineering",
    "Petroleum", "Logistics", "Investment", "General Trading", "Technology", "Construction", "Marine",
    "Electronics", "Chemical", "Energy", "Mining", "Exchange", "Commercial", "Development", "Services",
    "Metals", "Aviation", "Oil and Gas", "Pharmaceuticals", "Textiles", "Foodstuff", "Finance", "Bank",
)  # fmt: skip
TRADE_WORDS = (
    "Global", "United", "Northern", "Southern", "Eastern", "Western", "Golden", "Silver", "Star", "Ocean",
    "Pacific", "Atlantic", "Atlas", "Delta", "Alpha", "Sun", "Green", "Royal", "Crystal", "Falcon", "Eagle",
    "Phoenix", "Crescent", "Horizon", "Pearl", "Diamond", "Emerald", "Victory", "Unity", "Prime", "Orient",
    "Asia", "Euro", "Caspian", "Gulf", "Silk Road", "Dragon", "Lotus", "Cedar", "Nile", "Ural", "Baltic",
)  # fmt: skip
VESSEL_WORDS = (
    "Ocean", "Sea", "Star", "Pearl", "Glory", "Fortune", "Spirit", "Queen", "Princess", "Wind", "Wave",
    "Grace", "Hope", "Light", "Sky", "Dawn", "Breeze", "Harmony", "Legend", "Pride", "Voyager", "Trader",
)  # fmt: skip
COUNTRIES = (
    "us",
    "gb",
    "de",
    "fr",
    "es",
    "mx",
    "ru",
    "ir",
    "cn",
    "kp",
    "sy",
    "ve",
    "ae",
    "tr",
    "cu",
    "iq",
    "lb",
)

PARTS_PER_LOCALE = 1500

#: anyascii spells unvowelled Arabic script as consonant skeletons ("mhmd"), which no list uses: the
#: romanised parts of the Arabic-script locales come from this table instead (spelling variants included).
ARABIC_GIVEN = (
    "Mohammed", "Muhammad", "Mohamed", "Ahmad", "Ahmed", "Ali", "Hassan", "Hasan", "Hussein", "Husayn",
    "Abdullah", "Abdallah", "Abdul Rahman", "Abd al-Rahman", "Omar", "Umar", "Khalid", "Khaled", "Ibrahim",
    "Youssef", "Yusuf", "Mustafa", "Mostafa", "Hamid", "Hamed", "Saeed", "Said", "Karim", "Tariq", "Faisal",
    "Jamal", "Nasser", "Nasir", "Mahmoud", "Mahmud", "Reza", "Mehdi", "Mahdi", "Hossein", "Javad", "Majid",
    "Fatima", "Fatemeh", "Aisha", "Ayesha", "Maryam", "Zainab", "Zeinab", "Layla", "Leila", "Samira",
)  # fmt: skip
ARABIC_FAMILY = (
    "Al-Hashimi", "al-Hashemi", "Al-Rashid", "Al Rasheed", "Haddad", "Khoury", "Nasrallah", "Al-Masri",
    "Al-Tamimi", "Al Tamimi", "Qasim", "Kassem", "Rahimi", "Hosseini", "Husseini", "Karimi", "Ahmadi",
    "Mohammadi", "Rezaei", "Moradi", "Sadeghi", "Jafari", "Ja'fari", "Salehi", "Abbasi", "Al-Obeidi",
    "Al-Zubaidi", "Al-Jaburi", "al-Juburi", "Shahin", "Bakri", "Darwish", "Mansour", "Mansur", "Al-Khatib",
    "Hamdan", "Barakat", "Al-Asad", "Makhlouf", "Shalish", "Al-Shami", "Al-Saadi", "Saadi", "Zarif",
)  # fmt: skip
ROMANISED_TABLES = {"ar_AA": (ARABIC_GIVEN, ARABIC_FAMILY), "fa_IR": (ARABIC_GIVEN, ARABIC_FAMILY)}


@dataclass(slots=True)
class Parts:
    """Name parts of one locale."""

    given: list[str]
    family: list[str]
    companies: list[str]


def name_parts(seed: int) -> dict[str, list[Parts]]:
    """Per locale: [romanised parts, own-script parts] (the same parts when the locale is Latin)."""
    try:
        from faker import Faker
    except ImportError:
        sys.exit("generate_names needs Faker: pip install -e '.[bench]'")
    out: dict[str, list[Parts]] = {}
    for locale, (_, romanise) in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        given = sorted({fake.first_name() for _ in range(PARTS_PER_LOCALE)})
        family = sorted({fake.last_name() for _ in range(PARTS_PER_LOCALE)})
        companies = sorted({fake.company() for _ in range(PARTS_PER_LOCALE // 5)})
        native = Parts(given, family, companies)
        if locale in ROMANISED_TABLES:
            table_given, table_family = ROMANISED_TABLES[locale]
            out[locale] = [Parts(list(table_given), list(table_family), []), native]
        elif romanise:
            # anyascii runs CJK syllables together in long company names: build those from parts instead
            out[locale] = [Parts(_romanise(given), _romanise(family), []), native]
        else:
            out[locale] = [native, native]
    return out


def _romanise(names: list[str]) -> list[str]:
    return [r for r in (anyascii(x).strip() for x in names) if r]


def _person(rng: random.Random, p: Parts) -> tuple[str, list[str]]:
    given = rng.choice(p.given)
    family = rng.choice(p.family)
    middle = rng.choice(p.given) if rng.random() < 0.3 else None
    second = rng.choice(p.family) if rng.random() < 0.2 else None
    full = " ".join(x for x in (given, middle, family, second) if x)
    aliases = []
    if rng.random() < 0.35:
        aliases.append(f"{family.upper()}, {' '.join(x for x in (given, middle) if x)}")
    if middle and rng.random() < 0.3:
        aliases.append(f"{given} {family}")
    if rng.random() < 0.1:
        aliases.append(f"{given[0]}. {family}")
    return full, aliases


def _company(rng: random.Random, p: Parts) -> tuple[str, list[str]]:
    shape = rng.random()
    legal = rng.choice(LEGAL_FORMS)
    if shape < 0.25 and p.companies:
        name = rng.choice(p.companies)
    elif shape < 0.55:
        name = f"{rng.choice(p.family)} {rng.choice(BUSINESS_WORDS)} {legal}"
    elif shape < 0.85:
        name = f"{rng.choice(TRADE_WORDS)} {rng.choice(TRADE_WORDS)} {rng.choice(BUSINESS_WORDS)} {legal}"
    else:
        name = f"{rng.choice(p.family)} and {rng.choice(p.family)} {legal}"
    aliases = []
    if rng.random() < 0.3:
        words = [w for w in name.split() if w not in LEGAL_FORMS]
        if len(words) >= 2:
            aliases.append("".join(w[0] for w in words).upper())
    return name, aliases


def _vessel(rng: random.Random) -> tuple[str, list[str]]:
    return f"{rng.choice(VESSEL_WORDS)} {rng.choice(VESSEL_WORDS + TRADE_WORDS)}".upper(), []


def entities(n: int, seed: int = 1) -> Iterator[dict[str, str]]:
    """``n`` synthetic list rows (custom-csv columns)."""
    rng = random.Random(seed)
    parts = name_parts(seed)
    locales = list(LOCALES)
    weights = [LOCALES[loc][0] for loc in locales]
    for i in range(1, n + 1):
        locale = rng.choices(locales, weights)[0]
        romanised, native = parts[locale]
        p = native if LOCALES[locale][1] and rng.random() < NATIVE_SCRIPT_SHARE else romanised
        kind = rng.random()
        birth_date = country = ""
        if kind < 0.55:
            schema = "Person"
            name, aliases = _person(rng, p)
            if rng.random() < 0.6:
                birth_date = f"{rng.randint(1940, 2000)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif kind < 0.95:
            schema = "Organization"
            name, aliases = _company(rng, p)
        else:
            schema = "Vessel"
            name, aliases = _vessel(rng)
        if rng.random() < 0.5:
            country = rng.choice(COUNTRIES)
        yield {
            "id": str(i),
            "name": name,
            "schema": schema,
            "aliases": ";".join(a for a in aliases if a != name),
            "birth_date": birth_date,
            "country": country,
        }


def _perturb(rng: random.Random, name: str) -> str:
    """A listed name as a customer file might write it: reordered, a word dropped, a typo, lower case."""
    words = name.split()
    how = rng.random()
    if how < 0.25 and len(words) > 1:
        words = words[1:] + words[:1]
    elif how < 0.5 and len(words) > 2:
        del words[rng.randrange(1, len(words))]
    elif how < 0.75:
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    else:
        return name.lower().replace(",", "").replace(".", "")
    return " ".join(words)


def queries(rows: list[dict[str, str]], n: int, seed: int = 2) -> Iterator[dict[str, str]]:
    """``n`` queries: half perturbed listed names, half unlisted names drawn from the same tables."""
    rng = random.Random(seed)
    fresh = entities(n, seed=seed + 1000)
    for i in range(n):
        if i % 2 == 0:
            row = rng.choice(rows)
            yield {"id": f"q{i}", "name": _perturb(rng, row["name"]), "schema": row["schema"]}
        else:
            row = next(fresh)
            yield {"id": f"q{i}", "name": row["name"], "schema": row["schema"]}


def write_list(path: Path, n: int, seed: int = 1) -> list[dict[str, str]]:
    """Write ``n`` entities to ``path`` (custom-csv) and return a sample of them for making queries."""
    sample: list[dict[str, str]] = []
    stride = max(1, n // 5000)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "name", "schema", "aliases", "birth_date", "country"])
        writer.writeheader()
        for i, row in enumerate(entities(n, seed)):
            writer.writerow(row)
            if i % stride == 0:
                sample.append(row)
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True, help="custom-csv file to write")
    parser.add_argument("--queries", type=int, default=0, help="also write this many queries")
    parser.add_argument("--queries-out", type=Path, help="JSON-lines file for --queries")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sample = write_list(args.out, args.entities, args.seed)
    if args.queries:
        if args.queries_out is None:
            parser.error("--queries needs --queries-out")
        with args.queries_out.open("wb") as f:
            for q in queries(sample, args.queries, args.seed + 1):
                f.write(orjson.dumps(q) + b"\n")


if __name__ == "__main__":
    main()
