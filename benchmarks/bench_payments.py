"""Payment screening speed: pacs.008 messages parsed, screened and decided, per second and per message.

    python benchmarks/bench_payments.py                  # 5,000 messages, 2 worker processes
    python benchmarks/bench_payments.py --messages 20000 --workers 2

Lists: OFAC SDN 2019-01-15 and 2021-07-07 from ../shared (real entities, ~7,000-9,000 each) imported into
a temporary home; without ../shared a small built-in list is used and the figure says so. Messages:
generated one-transaction pacs.008.001.08 with debtor, creditor, ultimate creditor, three agents with BICs,
an IBAN, remittance text and instructions; 2% of them pay a listed name (CEIEC variants) and 1% pay to Iran.

Each worker process builds its screener (index, policy context, identifier tables) once before timing,
then screens its share; throughput is all messages over the wall time of the timed phase, and latency is
measured per message (parse + screen + decide). Target (issue): >= 500 messages/s on 2 cores, p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import LISTS, REAL_LISTS, machine

WORDS = [
    "Atlas",
    "Northern",
    "Blue",
    "River",
    "Summit",
    "Harbor",
    "Pacific",
    "Granite",
    "Cedar",
    "Orion",
    "Delta",
    "Vector",
    "Apex",
    "Nordic",
    "Meridian",
    "Lakeshore",
    "Pioneer",
    "Silver",
    "Crown",
    "Beacon",
    "Falcon",
    "Union",
    "Liberty",
    "Prairie",
    "Highland",
    "Coastal",
    "Evergreen",
]
FORMS = ["LLC", "Inc.", "GmbH", "Ltd", "S.A.", "Co.", "AG", "B.V.", "Trading Co.", "Holdings"]
PEOPLE = [
    "James",
    "Maria",
    "Chen",
    "Wei",
    "Ahmed",
    "Olga",
    "Pierre",
    "Sofia",
    "Hans",
    "Yuki",
    "Carlos",
    "Aisha",
]
SURNAMES = [
    "Smith",
    "Garcia",
    "Wang",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Novak",
    "Tanaka",
    "Silva",
    "Johnson",
    "Okafor",
    "Larsen",
]
CLEAN_CREDITORS = [
    ("DE", "COBADEFFXXX", "DE89370400440532013000"),
    ("FR", "BNPAFRPPXXX", "FR1420041010050500013M02606"),
    ("DE", "DEUTDEFFXXX", "DE44500105175407324931"),
]
LISTED = ["China Electronics Import-Export Co.", "CEIEC", "China National Electronics Import and Export Corp"]


def company(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(FORMS)}"


def person(rng: random.Random) -> str:
    return f"{rng.choice(PEOPLE)} {rng.choice(SURNAMES)}"


def message(i: int, rng: random.Random) -> bytes:
    roll = rng.random()
    country, bic, iban = rng.choice(CLEAN_CREDITORS)
    creditor = company(rng) if rng.random() < 0.7 else person(rng)
    account = f"<IBAN>{iban}</IBAN>"
    if roll < 0.02:
        creditor, country, bic, account = (
            rng.choice(LISTED),
            "CN",
            "BKCHCNBJ110",
            "<Othr><Id>7788123499</Id></Othr>",
        )
    elif roll < 0.03:
        creditor, country, bic, account = (
            company(rng),
            "IR",
            "DEUTDEFFXXX",
            "<IBAN>IR050170000000123456789012</IBAN>",
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>BENCH-{i:07d}</MsgId><CreDtTm>2021-01-20T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs>
<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>
<CdtTrfTxInf><PmtId><EndToEndId>E2E-{i}</EndToEndId><TxId>TX-{i}</TxId></PmtId>
<IntrBkSttlmAmt Ccy="USD">{rng.randint(100, 5_000_000)}.{rng.randint(0, 99):02d}</IntrBkSttlmAmt>
<IntrBkSttlmDt>2021-01-20</IntrBkSttlmDt><ChrgBr>SHAR</ChrgBr>
<InstgAgt><FinInstnId><BICFI>FNBCUS44XXX</BICFI></FinInstnId></InstgAgt>
<InstdAgt><FinInstnId><BICFI>CITIUS33XXX</BICFI></FinInstnId></InstdAgt>
<IntrmyAgt1><FinInstnId><BICFI>CITIUS33XXX</BICFI><Nm>Citibank N.A.</Nm></FinInstnId></IntrmyAgt1>
<Dbtr><Nm>{company(rng)}</Nm><PstlAdr><StrtNm>West Monroe Street</StrtNm><BldgNb>200</BldgNb>
<TwnNm>Chicago</TwnNm><Ctry>US</Ctry></PstlAdr></Dbtr>
<DbtrAcct><Id><Othr><Id>44100{i:05d}</Id></Othr></Id></DbtrAcct>
<DbtrAgt><FinInstnId><BICFI>FNBCUS44XXX</BICFI><Nm>First National Bank of Chicago</Nm></FinInstnId></DbtrAgt>
<CdtrAgt><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></CdtrAgt>
<Cdtr><Nm>{creditor}</Nm><PstlAdr><TwnNm>City</TwnNm><Ctry>{country}</Ctry></PstlAdr></Cdtr>
<CdtrAcct><Id>{account}</Id></CdtrAcct>
<UltmtCdtr><Nm>{company(rng)}</Nm></UltmtCdtr>
<InstrForCdtrAgt><InstrInf>Please advise beneficiary by phone</InstrInf></InstrForCdtrAgt>
<RmtInf><Ustrd>Invoice {rng.randint(1000, 99999)} {rng.choice(WORDS).lower()} parts</Ustrd></RmtInf>
</CdtTrfTxInf></FIToFICstmrCdtTrf></Document>""".encode()


def setup_home(home: Path) -> str:
    from clearance.settings import Settings
    from clearance.store import open_store

    store = open_store(Settings.load(home))
    if LISTS.exists():
        from clearance.lists.importer import import_list

        for label in ("sdn-2019", "sdn-2021"):
            list_name, folder, published = REAL_LISTS[label]
            import_list(store, list_name, [LISTS / folder], published=date.fromisoformat(published))
        return "OFAC SDN 2019-01-15 + 2021-07-07 (../shared)"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.payments.world import ENTITIES, add_version

    add_version(store, date(2020, 11, 30), ENTITIES)  # type: ignore[arg-type]
    return "built-in 4-entity list (../shared absent)"


def worker(args: tuple[str, list[bytes], Any]) -> tuple[list[float], dict[str, int], float]:
    home, messages, barrier = args
    from clearance.payments.screen import PaymentScreener
    from clearance.settings import Settings
    from clearance.store import open_store

    settings = Settings.load(home)
    screener = PaymentScreener.from_store(open_store(settings), settings)
    as_of = datetime(2021, 7, 8, 10)  # the 2021-07-07 SDN (CEIEC listed) in force
    screener.screen_bytes(messages[0], as_of=as_of)  # warm caches (list versions, entities)
    barrier.wait()
    started = time.perf_counter()
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    for data in messages:
        t0 = time.perf_counter()
        result = screener.screen_bytes(data, as_of=as_of)
        latencies.append(time.perf_counter() - t0)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return latencies, outcomes, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(20210120)
    messages = [message(i, rng) for i in range(args.messages)]
    with tempfile.TemporaryDirectory() as tmp:
        lists = setup_home(Path(tmp))
        from clearance.matching.screener import Screener
        from clearance.settings import Settings
        from clearance.store import open_store

        settings = Settings.load(tmp)
        Screener.from_store(open_store(settings), settings)  # build and save the index once
        ctx = mp.get_context("fork")
        barrier = ctx.Manager().Barrier(args.workers)
        shares = [messages[i :: args.workers] for i in range(args.workers)]
        with ctx.Pool(args.workers) as pool:
            results = pool.map(worker, [(tmp, share, barrier) for share in shares])
        wall = max(r[2] for r in results)
    latencies = sorted(x for r in results for x in r[0])
    outcomes: dict[str, int] = {}
    for r in results:
        for k, v in r[1].items():
            outcomes[k] = outcomes.get(k, 0) + v
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"machine: {machine()}")
    print(f"lists: {lists}")
    print(f"messages: {len(latencies)} pacs.008 on {args.workers} worker processes")
    print(f"throughput: {len(latencies) / wall:,.0f} messages/s (timed phase {wall:.2f} s)")
    print(
        f"latency per message: median {statistics.median(latencies) * 1000:.2f} ms, "
        f"p95 {p(0.95):.2f} ms, p99 {p(0.99):.2f} ms, max {latencies[-1] * 1000:.2f} ms"
    )
    print(f"outcomes: {dict(sorted(outcomes.items()))}")


if __name__ == "__main__":
    main()
