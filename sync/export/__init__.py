"""Handing the list on: the table as it stands, to a CSV or xlsx file for people, or to the
import format of a CRM (HubSpot, Salesforce, Zoho CRM, 纷享销客).

    select.py     which columns and rows (pure: a SheetTable in, an ExportTable out)
    safe.py       cells a spreadsheet program opens as text (OWASP CSV injection)
    crm.py        each CRM's documented import columns, dates, separators and limits
    files.py      CSV bytes, and the files written (0600, never in the data folder)
    xlsx_file.py  an xlsx file of an ExportTable (openpyxl: imported there alone)
    vcard.py      vCards 3.0 / 4.0 for an address book
    run.py        export_table: read, select, write, and one record in the audit log

Light on purpose: the audit CSV imports `safe` from here.
"""
