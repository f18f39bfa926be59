"""Reads a report workbook with openpyxl, a real XLSX reader, and prints what the test
checks as JSON: every sheet's cell values (dates as ISO text) and number formats, the
freeze panes, and the charts with their titles and series references."""
import json
import sys
import datetime

import openpyxl


def value(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


def chart_title(chart):
    try:
        return "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))
    except AttributeError:
        return None


def main(path):
    wb = openpyxl.load_workbook(path)
    out = {"sheets": wb.sheetnames, "title": wb.properties.title}
    for ws in wb.worksheets:
        out[ws.title] = {
            "values": [[value(c.value) for c in row] for row in ws.iter_rows()],
            "formats": [[c.number_format for c in row] for row in ws.iter_rows()],
            "freeze": ws.freeze_panes,
            "charts": [
                {
                    "title": chart_title(ch),
                    "type": ch.tagname,
                    "series": [s.val.numRef.f for s in ch.series],
                }
                for ch in ws._charts
            ],
        }
    json.dump(out, sys.stdout, ensure_ascii=False)


main(sys.argv[1])
