"""The after-action report draft: collected in one pass over an incident's log, then written as
Markdown or as one self-contained, print-ready HTML file."""
