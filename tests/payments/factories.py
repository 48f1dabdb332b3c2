"""Small builders for payment test inputs: fixtures by name and one-transaction pacs.008 messages."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payments"
PACS008_NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def pacs008(
    *,
    msg_id: str = "MSG-1",
    creditor: str = "Praezisionsmechanik Hoffmann GmbH",
    creditor_country: str = "DE",
    creditor_iban: str = "DE89370400440532013000",
    creditor_bic: str = "COBADEFFXXX",
    debtor: str = "Lakeshore Instruments LLC",
    amount: str = "1000.00",
    currency: str = "USD",
    settlement: str = "2021-01-20",
    remittance: str = "Invoice 1",
    extra_tx: str = "",
    namespace: str = PACS008_NS,
) -> bytes:
    """A one-transaction pacs.008.001.08; change any field to build a variant."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{namespace}">
 <FIToFICstmrCdtTrf>
  <GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{settlement}T09:00:00</CreDtTm><NbOfTxs>1</NbOfTxs>
   <SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>
  <CdtTrfTxInf>
   <PmtId><EndToEndId>E2E-{msg_id}</EndToEndId></PmtId>
   <IntrBkSttlmAmt Ccy="{currency}">{amount}</IntrBkSttlmAmt>
   <IntrBkSttlmDt>{settlement}</IntrBkSttlmDt>
   <ChrgBr>SHAR</ChrgBr>
   <Dbtr><Nm>{debtor}</Nm><PstlAdr><TwnNm>Chicago</TwnNm><Ctry>US</Ctry></PstlAdr></Dbtr>
   <DbtrAcct><Id><Othr><Id>4410038291</Id></Othr></Id></DbtrAcct>
   <DbtrAgt><FinInstnId><BICFI>FNBCUS44XXX</BICFI></FinInstnId></DbtrAgt>
   <CdtrAgt><FinInstnId><BICFI>{creditor_bic}</BICFI></FinInstnId></CdtrAgt>
   <Cdtr><Nm>{creditor}</Nm><PstlAdr><Ctry>{creditor_country}</Ctry></PstlAdr></Cdtr>
   <CdtrAcct><Id><IBAN>{creditor_iban}</IBAN></Id></CdtrAcct>
   {extra_tx}
   <RmtInf><Ustrd>{remittance}</Ustrd></RmtInf>
  </CdtTrfTxInf>
 </FIToFICstmrCdtTrf>
</Document>""".encode()
