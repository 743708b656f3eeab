"""The year's report: the work report's numbers from the same analyses the commands run.

:func:`year_report` returns a Result (indicators with the previous year and the change,
tables per village, the paragraph); :func:`explain` lists the features behind one number;
:func:`write_report` writes .json, .xlsx, .docx or .html.
"""

from geo_township.report.build import for_terminal, values_of, year_report
from geo_township.report.explain import explain, write_explained
from geo_township.report.indicators import INDICATORS, Indicator, Missing
from geo_township.report.outputs import report_json, write_report

__all__ = ["INDICATORS", "Indicator", "Missing", "explain", "for_terminal", "report_json", "values_of",
           "write_explained", "write_report", "year_report"]
