"""XLSX through calamine gives what openpyxl gave: same parts, texts, locations, contexts.

Each workbook is extracted twice in this process (no sandbox: the handler is what is compared),
once as the scanner does it and once with calamine refused, which is the openpyxl path the
scanner used before. Workbooks that calamine would read differently must take the openpyxl
path (checked by asserting calamine was not used)."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest

from scanner.extract import xlsx
from scanner.extract.handler import Blob
from scanner.extract.limits import ExtractionLimits
from scanner.extract.walker import Walker
from tests.extract import corpus


def _walk(data: bytes, limits: ExtractionLimits) -> tuple[list[tuple], list[tuple]]:
    walker = Walker(limits)
    walker.run(Blob(data=data), "lijst.xlsx")
    return ([(p.part, p.text, p.location, p.context) for p in walker.parts],
            [(e.code, e.part) for e in walker.errors])


def both(data: bytes, monkeypatch: pytest.MonkeyPatch, limits: ExtractionLimits | None = None,
         ) -> tuple[tuple, tuple, bool]:
    """(scanner's result, openpyxl's result, whether calamine read the workbook)."""
    limits = limits or ExtractionLimits()
    used: list[bool] = []
    real = xlsx.read_sheets

    def spy(*args, **kwargs):
        try:
            sheets = real(*args, **kwargs)
        except xlsx.Unsuitable:
            used.append(False)
            raise
        used.append(True)
        return sheets

    monkeypatch.setattr(xlsx, "read_sheets", spy)
    now = _walk(data, limits)

    def refuse(*args, **kwargs):
        raise xlsx.Unsuitable()

    monkeypatch.setattr(xlsx, "read_sheets", refuse)
    before = _walk(data, limits)
    monkeypatch.setattr(xlsx, "read_sheets", real)
    return now, before, used == [True]


def _workbook(build) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    build(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


FORMATS = ["d-m-yyyy", "dd/mm/yyyy", "[$-413]d mmmm yyyy", "d mmm yy", "dd-mm-yyyy hh:mm",
           "hh:mm", "mm:ss", "[h]:mm:ss", "yyyy", "mmmm", "0.00", "#,##0", "0%", "@", "General",
           "[Red]dd-mm-yy", '"dag "d', "0.00E+00", "# ?/?", "dddd"]


def test_types_formats_and_offsets_are_read_as_openpyxl_read_them(monkeypatch):
    def build(workbook):
        sheet = workbook.active
        sheet.title = "Klas 3B"
        sheet["C3"], sheet["D3"], sheet["E3"] = "Naam", "Geboren", "BSN"
        sheet["C4"], sheet["D4"], sheet["E4"] = "Jan\nde Vries", datetime.date(2012, 5, 3), 123456782
        sheet["D5"], sheet["E5"] = datetime.datetime(2012, 5, 3, 14, 5, 7), 0.1
        sheet["C6"], sheet["D6"], sheet["E6"] = True, datetime.time(8, 30), 4111111111111111
        sheet["C7"], sheet["D7"], sheet["E7"] = " ruimte ", datetime.timedelta(hours=30), -3
        sheet["C8"], sheet["D8"], sheet["E8"] = 1.5e20, -0.0, "=1/0"
        sheet["F4"] = "=E4*2"
        for row, value in enumerate([59, 60, 61, 0, 0.5, 1, 45000.25, 45000, 1e-7, 2.5], 10):
            sheet.cell(row=row, column=2, value=value).number_format = "yyyy-mm-dd h:mm:ss"
        for row, fmt in enumerate(FORMATS, 30):
            sheet.cell(row=row, column=3, value=45123.75).number_format = fmt
            sheet.cell(row=row, column=4, value=45123).number_format = fmt
            sheet.cell(row=row, column=5, value=0.3).number_format = fmt
        workbook.create_sheet("Leeg")
        far = workbook.create_sheet("Ver weg")
        far["A1"], far["A40"], far["AB40"] = "x", "onder", "rechts"
        hidden = workbook.create_sheet("Verborgen")
        hidden.sheet_state = "hidden"
        hidden["B2"] = "geheim"

    now, before, calamine = both(_workbook(build), monkeypatch)
    assert calamine
    assert now == before
    texts = "\n".join(p[1] for p in now[0])
    assert "2012-05-03 00:00:00" in texts and "4111111111111111" in texts and "geheim" in texts


def test_the_bench_and_fixture_workbooks_are_unchanged(monkeypatch):
    rows = [["Naam", "BSN", "Klas"]] + [[f"Leerling {i}", 123456782, "3B"] for i in range(450)]
    for data in (corpus.xlsx_bytes({"Klas 3B": rows, "Leeg": []}),
                 corpus.xlsx_bytes({"Blad": [["Naam", "BSN"], ["Jan", 123456782]]}),
                 corpus.xlsx_bytes({"A": [[None, None], ["Naam"], [], ["Noor", "1-2-2015"]],
                                    "B&amp;<\"'": [["é", "ü"]]})):
        now, before, calamine = both(data, monkeypatch)
        assert calamine and now == before


def test_error_cells_go_to_openpyxl(monkeypatch):
    def build(workbook):
        workbook.active["A1"], workbook.active["B1"] = "Naam", "#N/A"
        workbook.active["A2"], workbook.active["B2"] = "Noor", 123456782

    now, before, calamine = both(_workbook(build), monkeypatch)
    assert not calamine and now == before
    assert "#N/A" in now[0][0][1]


def test_long_sheets_stay_with_openpyxl_and_its_empty_row_limit(monkeypatch):
    limits = ExtractionLimits(max_empty_rows=50)

    def build(workbook):
        workbook.active["A1"], workbook.active["A2"] = "Naam", "Noor"
        workbook.active["A200"] = "Piet"  # after 197 empty rows: the sheet ends at row 52

    now, before, calamine = both(_workbook(build), monkeypatch, limits)
    assert not calamine and now == before
    assert now[1] == [("sheet_truncated", "body")] and "Piet" not in str(now[0])


def test_a_sparse_sheet_does_not_reach_calamine(monkeypatch):
    def build(workbook):
        workbook.active["A1"] = "Naam"
        workbook.active.cell(row=9000, column=16000, value="ver")

    now, before, calamine = both(_workbook(build), monkeypatch)
    assert not calamine and now == before


def _rewrite(data: bytes, member: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info, change(body) if info.filename == member else body)
    return out.getvalue()


def test_cells_without_a_reference_go_to_openpyxl(monkeypatch):
    data = corpus.xlsx_bytes({"Blad": [["Naam", "BSN"], ["Jan", 123456782]]})
    data = _rewrite(data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b' r="B2"', b""))
    now, before, calamine = both(data, monkeypatch)
    assert not calamine and now == before and "123456782" in str(now[0])


def test_a_damaged_sheet_gives_the_error_it_gave_before(monkeypatch):
    data = corpus.xlsx_bytes({"Blad": [["Naam", "BSN"], ["Jan", 123456782]]})
    broken = _rewrite(data, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    now, before, calamine = both(broken, monkeypatch)
    assert not calamine and now == before and now[1] == [("corrupt", "body")]
    no_workbook = _rewrite(data, "xl/workbook.xml", lambda xml: b"<niet")
    now, before, calamine = both(no_workbook, monkeypatch)
    assert not calamine and now == before and now[1] == [("corrupt", "body")]
